package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

// relay passes TCP connections to a server until it is cut, as a network
// or a database server that goes away.
type relay struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newRelay(t *testing.T, target string) *relay {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, c, s)
			r.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	t.Cleanup(r.cut)
	return r
}

func (r *relay) cut() {
	r.ln.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		c.Close()
	}
}

// TestDatabaseDownIs503: when the database does not answer, pages and the
// API say so (503), never that the visitor is not signed in, and the
// session survives it.
func TestDatabaseDownIs503(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		tok := sys.Token(t, fp, "read")
		// An instance whose database can be taken away.
		dbURL := sys.Config.DB
		var cut func()
		if e.Name == "postgres" {
			u, err := url.Parse(dbURL)
			if err != nil {
				t.Fatal(err)
			}
			r := newRelay(t, u.Host)
			u.Host = r.ln.Addr().String()
			dbURL, cut = u.String(), r.cut
		}
		d, err := system.OpenDB(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		if cut == nil {
			cut = func() { d.Close() }
		}
		inst, err := system.New(context.Background(), d, sys.Config)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(inst.Handler)
		t.Cleanup(srv.Close)
		c := sys.Login(t, srv, fp)
		if resp, body := get(t, c, srv.URL+"/directory"); resp.StatusCode != http.StatusOK {
			t.Fatalf("before: %d %s", resp.StatusCode, body)
		}
		cut()

		t.Run("a page says the database does not answer, and keeps the session", func(t *testing.T) {
			resp, body := get(t, c, srv.URL+"/directory")
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "cannot reach its database") {
				t.Errorf("%d\n%s", resp.StatusCode, body)
			}
			for _, ck := range resp.Cookies() {
				if strings.Contains(ck.Name, "session") {
					t.Errorf("the session cookie was cleared: %v", ck)
				}
			}
		})
		t.Run("signing in is not refused as a wrong password", func(t *testing.T) {
			resp := testkit.PostForm(t, testkit.Client(t), srv.URL+"/login", url.Values{"email": {fp.Email}, "password": {testkit.Password}})
			body := readBody(t, resp)
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "cannot reach its database") {
				t.Errorf("%d\n%s", resp.StatusCode, body)
			}
		})
		t.Run("the API answers 503 with Retry-After", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/states/FRA", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var eb struct {
				Error struct{ Code, Message string }
			}
			json.NewDecoder(resp.Body).Decode(&eb)
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || eb.Error.Code != "unavailable" || resp.Header.Get("Retry-After") == "" {
				t.Errorf("%d %+v Retry-After %q", resp.StatusCode, eb, resp.Header.Get("Retry-After"))
			}
		})
		t.Run("readiness says so", func(t *testing.T) {
			resp, err := http.Get(srv.URL + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("%d", resp.StatusCode)
			}
		})
	})
}
