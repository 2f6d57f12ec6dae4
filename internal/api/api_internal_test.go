package api

import (
	"bytes"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
)

func TestPathNumbers(t *testing.T) {
	cases := []struct {
		name  string
		read  func(*http.Request) (int64, error)
		value string
		want  int64
		what  string // "" when the value is read
	}{
		{"an id is a positive integer", pathID, "7", 7, ""},
		{"an id of 0 names nothing", pathID, "0", 0, "object"},
		{"a word is no id", pathID, "seven", 0, "object"},
		{"a log index may be 0", func(r *http.Request) (int64, error) { return pathIndex(r, "id", "log entry") }, "0", 0, ""},
		{"a negative log index names nothing", func(r *http.Request) (int64, error) { return pathIndex(r, "id", "log entry") }, "-1", 0, "log entry"},
		{"any integer is read for the service to judge", func(r *http.Request) (int64, error) { return pathInt(r, "id", "attachment") }, "-3", -3, ""},
		{"a word is not an attachment", func(r *http.Request) (int64, error) { return pathInt(r, "id", "attachment") }, "x", 0, "attachment"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.SetPathValue("id", c.value)
			got, err := c.read(r)
			if got != c.want {
				t.Errorf("got %d, want %d", got, c.want)
			}
			switch e := app.AsError(err); {
			case c.what == "" && err != nil:
				t.Errorf("error %v", err)
			case c.what != "" && (e.Code != app.NotFound || e.Message != c.what+" not found"):
				t.Errorf("got %v, want %s not found", err, c.what)
			}
		})
	}
}

func TestInternalErrorsAreLoggedWhole(t *testing.T) {
	var buf bytes.Buffer
	a := &API{Log: slog.New(slog.NewTextHandler(&buf, nil))}
	const generic = `{"error":{"code":"internal","message":"internal error"}}` + "\n"
	t.Run("an internal error is logged with its chain, the method and the path, and answered without it", func(t *testing.T) {
		buf.Reset()
		err := fmt.Errorf("directory: unable to update PoC 3: %w", errors.New("no such column: person_nam"))
		w := httptest.NewRecorder()
		a.fail(w, httptest.NewRequest(http.MethodPut, "/api/v1/pocs/3", strings.NewReader(`{"person_name":"a secret name"}`)), err)
		if w.Code != http.StatusInternalServerError || w.Body.String() != generic {
			t.Errorf("status %d body %s", w.Code, w.Body)
		}
		line := buf.String()
		for _, want := range []string{"method=PUT", "path=/api/v1/pocs/3", `err="directory: unable to update PoC 3: no such column: person_nam"`} {
			if !strings.Contains(line, want) {
				t.Errorf("the log line lacks %s: %s", want, line)
			}
		}
		if strings.Contains(line, "secret") {
			t.Errorf("the log line carries the body: %s", line)
		}
	})
	t.Run("a database that is busy or does not answer is a 503, logged, with Retry-After", func(t *testing.T) {
		for _, cause := range []error{errors.New("database is locked (5) (SQLITE_BUSY)"), &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, driver.ErrBadConn} {
			buf.Reset()
			w := httptest.NewRecorder()
			a.fail(w, httptest.NewRequest(http.MethodGet, "/api/v1/states/FRA", nil), fmt.Errorf("directory: reading FRA: %w", cause))
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), `"code":"unavailable"`) {
				t.Errorf("%v: status %d body %s", cause, w.Code, w.Body)
			}
			if !strings.Contains(buf.String(), "directory: reading FRA") {
				t.Errorf("not logged: %s", buf.String())
			}
		}
	})
	t.Run("a response that does not encode is an internal error, logged", func(t *testing.T) {
		buf.Reset()
		w := httptest.NewRecorder()
		a.writeJSON(w, httptest.NewRequest(http.MethodGet, "/api/v1/checks/1", nil), http.StatusOK, map[string]float64{"rate": math.NaN()})
		if w.Code != http.StatusInternalServerError || w.Body.String() != generic {
			t.Errorf("status %d body %s", w.Code, w.Body)
		}
		if line := buf.String(); !strings.Contains(line, "path=/api/v1/checks/1") || !strings.Contains(line, "unable to encode the response: json: unsupported value: NaN") {
			t.Errorf("log line %s", line)
		}
	})
}
