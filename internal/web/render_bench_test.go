package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

// BenchmarkDirectoryRender renders the directory page in-process, without
// the network, to separate rendering cost from transport.
func BenchmarkDirectoryRender(b *testing.B) {
	sys := testkit.New(b, testkit.Engines()[0])
	fullDirectory(b, sys)
	u := sys.User(b, "reader@fra.example", app.RoleOfficer, "FRA")
	srv := sys.Serve(b)
	c := sys.Login(b, srv, u)
	req0, _ := http.NewRequest("GET", srv.URL, nil)
	cookies := c.Jar.Cookies(req0.URL)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("GET", "/directory", nil)
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		w := httptest.NewRecorder()
		sys.Handler.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkAPIStateHandler runs the State read through the whole handler
// chain in-process, to show the server's own cost per request.
func BenchmarkAPIStateHandler(b *testing.B) {
	// The rate limit out of reach: the benchmark measures its counting.
	sys := testkit.New(b, testkit.Engines()[0], testkit.WithConfig(func(c *system.Config) { c.APIRateLimit = 1 << 30 }))
	fullDirectory(b, sys)
	u := sys.User(b, "reader@fra.example", app.RoleOfficer, "FRA")
	tok := sys.Token(b, u, "read")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("GET", "/api/v1/states/DEU", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			w := httptest.NewRecorder()
			sys.Handler.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatal(w.Code)
			}
		}
	})
}
