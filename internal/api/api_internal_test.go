package api

import (
	"net/http"
	"net/http/httptest"
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
