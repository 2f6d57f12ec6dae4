package api_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestRateLimitPerToken: a token's requests are counted per minute in the
// database, so that two instances together hold the limit; beyond it the
// answer is 429 with Retry-After, and other tokens are not affected.
func TestRateLimitPerToken(t *testing.T) {
	const limit = 40 // batches of 2 requests
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e, testkit.WithConfig(func(c *system.Config) { c.APIRateLimit = limit }))
		// A minute that has just begun, so that the test stays in it.
		sys.Clock.Advance(time.Duration(60-sys.Clock.Now().Unix()%60) * time.Second)
		other := sys.Instance(t)
		srv1, srv2 := sys.Serve(t), other.Serve(t)
		u := sys.User(t, "focal@fra.test", app.RoleFocalPoint, "FRA")
		tok, tok2 := sys.Token(t, u, "read"), sys.Token(t, u, "read")
		get := func(srv string, tok string) *response {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, srv+"/api/v1/me", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return &response{Status: resp.StatusCode, Header: resp.Header, Body: b}
		}
		served := 0
		var refused *response
		for i := 0; i < 3*limit && refused == nil; i++ {
			srv := srv1.URL
			if i%2 == 1 {
				srv = srv2.URL
			}
			switch resp := get(srv, tok); resp.Status {
			case http.StatusOK:
				served++
			case http.StatusTooManyRequests:
				refused = resp
			default:
				t.Fatalf("request %d: %d", i, resp.Status)
			}
		}
		// Each instance may go over by at most one batch.
		if refused == nil || served < limit || served > limit+2*2 {
			t.Fatalf("%d requests served before a refusal (limit %d, two instances)", served, limit)
		}
		if err := newValidator(t).check(http.MethodGet, "/api/v1/me", nil, nil, true, refused); err != nil {
			t.Error(err)
		}
		if s, err := strconv.Atoi(refused.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
			t.Errorf("Retry-After %q", refused.Header.Get("Retry-After"))
		}
		if e := checkError(t, refused); !strings.Contains(e.Error.Message, "more than 40 requests") {
			t.Errorf("the refusal says %q", e.Error.Message)
		}
		for _, srv := range []string{srv1.URL, srv2.URL} {
			if resp := get(srv, tok); resp.Status != http.StatusTooManyRequests {
				t.Errorf("%s serves the token over its limit: %d", srv, resp.Status)
			}
		}
		t.Run("another token is not limited", func(t *testing.T) {
			if resp := get(srv2.URL, tok2); resp.Status != http.StatusOK {
				t.Errorf("%d", resp.Status)
			}
		})
		t.Run("the next minute the token is served again, on both instances", func(t *testing.T) {
			sys.Clock.Advance(time.Minute)
			for _, srv := range []string{srv1.URL, srv2.URL} {
				if resp := get(srv, tok); resp.Status != http.StatusOK {
					t.Errorf("%s: %d", srv, resp.Status)
				}
			}
		})
	})
}
