package web

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
)

func logged(t *testing.T) (*Server, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	return &Server{Log: slog.New(slog.NewTextHandler(&buf, nil))}, &buf
}

func TestInternalErrorsAreLoggedWhole(t *testing.T) {
	disk := errors.New("disk I/O error")
	wrapped := fmt.Errorf("comms: unable to send communication 7: %w", fmt.Errorf("store: unable to insert recipient: %w", disk))
	t.Run("an internal error is logged with its chain, the method and the path, and answered 500", func(t *testing.T) {
		s, buf := logged(t)
		r := httptest.NewRequest(http.MethodPost, "/comms/7/send", strings.NewReader("note=a+secret+note"))
		if got := s.errorStatus(r, wrapped); got != http.StatusInternalServerError {
			t.Errorf("status %d", got)
		}
		line := buf.String()
		for _, want := range []string{"method=POST", "path=/comms/7/send",
			`err="comms: unable to send communication 7: store: unable to insert recipient: disk I/O error"`} {
			if !strings.Contains(line, want) {
				t.Errorf("the log line lacks %s: %s", want, line)
			}
		}
		if strings.Contains(line, "secret") {
			t.Errorf("the log line carries the body: %s", line)
		}
	})
	t.Run("the one-time token of an answer link is not logged", func(t *testing.T) {
		s, buf := logged(t)
		s.errorStatus(httptest.NewRequest(http.MethodPost, "/check/tok-123", nil), wrapped)
		if line := buf.String(); strings.Contains(line, "tok-123") || !strings.Contains(line, "path=/check/…") {
			t.Errorf("log line %s", line)
		}
	})
	t.Run("an application error is its status and is not logged", func(t *testing.T) {
		s, buf := logged(t)
		err := fmt.Errorf("web: %w", app.ErrNotFound("poc"))
		if got := s.errorStatus(httptest.NewRequest(http.MethodGet, "/pocs/9/edit", nil), err); got != http.StatusNotFound {
			t.Errorf("status %d", got)
		}
		if buf.Len() != 0 {
			t.Errorf("logged %s", buf.String())
		}
	})
}

func TestRecoverer(t *testing.T) {
	t.Run("a panic is logged with its error, the method and the path, and answered 500", func(t *testing.T) {
		s, buf := logged(t)
		h := s.recoverer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			panic(fmt.Errorf("render: %w", errors.New("nil map")))
		}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/directory", nil))
		if w.Code != http.StatusInternalServerError {
			t.Errorf("status %d", w.Code)
		}
		line := buf.String()
		for _, want := range []string{"method=GET", "path=/directory", `err="render: nil map"`} {
			if !strings.Contains(line, want) {
				t.Errorf("the log line lacks %s: %s", want, line)
			}
		}
	})
	t.Run("an aborted handler is passed on, even wrapped", func(t *testing.T) {
		s, buf := logged(t)
		h := s.recoverer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			panic(fmt.Errorf("stream: %w", http.ErrAbortHandler))
		}))
		defer func() {
			// Itself, not wrapped: net/http compares it with ==.
			if v := recover(); v != http.ErrAbortHandler {
				t.Errorf("recovered %v, want http.ErrAbortHandler as itself", v)
			}
			if buf.Len() != 0 {
				t.Errorf("logged %s", buf.String())
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	})
}
