package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
)

func TestPathID(t *testing.T) {
	cases := []struct {
		name, value string
		want        int64
		notFound    bool
	}{
		{"an integer is the id", "42", 42, false},
		{"a word names nothing", "abc", 0, true},
		{"an empty segment names nothing", "", 0, true},
		{"a number too large names nothing", "99999999999999999999", 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.SetPathValue("id", c.value)
			got, err := pathID(r, "id", "campaign")
			if got != c.want {
				t.Errorf("got %d, want %d", got, c.want)
			}
			if !c.notFound {
				if err != nil {
					t.Errorf("error %v", err)
				}
				return
			}
			if e := app.AsError(err); e.Code != app.NotFound || e.Message != "campaign not found" {
				t.Errorf("got %v (%s), want campaign not found", err, app.ErrorCode(err))
			}
		})
	}
}

func TestParseForm(t *testing.T) {
	post := func(body string) (*http.Request, http.ResponseWriter) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r, httptest.NewRecorder()
	}
	t.Run("a form within its limit is read", func(t *testing.T) {
		r, w := post("name=a&scope=read")
		if err := parseForm(w, r, 1<<10); err != nil {
			t.Fatal(err)
		}
		if got := r.PostForm.Get("scope"); got != "read" {
			t.Errorf("scope %q", got)
		}
	})
	for name, body := range map[string]string{
		"a form over its limit is the form error":       "name=" + strings.Repeat("a", 2<<10),
		"a form that does not decode is the form error": "name=%zz",
	} {
		t.Run(name, func(t *testing.T) {
			r, w := post(body)
			err := parseForm(w, r, 1<<10)
			if e := app.AsError(err); e.Code != app.Invalid || e.Key != "error.form" {
				t.Errorf("got %v, want the form error", err)
			}
		})
	}
}
