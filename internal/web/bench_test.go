package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

// fullDirectory fills the directory as it will be in service: every UN
// Member State with four PoCs.
func fullDirectory(b *testing.B, sys *testkit.System) {
	b.Helper()
	states, err := directory.ReferenceStates()
	if err != nil {
		b.Fatal(err)
	}
	levels := []directory.Level{directory.LevelTechnical, directory.LevelDiplomatic, directory.LevelTechnical, directory.LevelPolicy}
	for _, s := range states {
		if s.Status != "member" {
			continue
		}
		ctx := app.WithActor(context.Background(), &app.Actor{Email: "bench@example.org", Role: app.RoleFocalPoint, State: s.Code})
		for i, l := range levels {
			in := testkit.ValidPoC()
			in.Level, in.Alternate = l, i == 2
			in.Agency = fmt.Sprintf("%s agency %d", s.Name, i)
			sys.AddPoC(b, ctx, s.Code, in)
		}
	}
}

// benchHTTP runs GET path from 32 concurrent clients over loopback and
// reports requests per second and the 99th percentile latency.
func benchHTTP(b *testing.B, sys *testkit.System, path string, auth func(*http.Request)) {
	srv := sys.Serve(b)
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	client := &http.Client{Transport: tr}
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(32 / max(1, runtimeProcs()))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			req.Header.Set("Accept-Encoding", "gzip")
			auth(req)
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			local = append(local, time.Since(t0))
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
		mu.Lock()
		lat = append(lat, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
	}
}

// BenchmarkAPIState measures GET /api/v1/states/{code} with a bearer token
// on a full directory: the hottest read of national systems. Its first row
// is a bare handler that answers the same bytes (DEU's entry, gzipped) with
// no checks at all, measured in the same run, so that the ratio between
// the rows holds on a machine busy with other work.
//
//	go test -run '^$' -bench 'APIState$' -benchtime 5s ./internal/web/
func BenchmarkAPIState(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		sys := testkit.New(b, testkit.Engines()[0])
		fullDirectory(b, sys)
		u := sys.User(b, "reader@fra.example", app.RoleOfficer, "FRA")
		enc, err := sys.Directory.GetJSON(u.Ctx(), "DEU")
		if err != nil {
			b.Fatal(err)
		}
		sys.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Type", "application/json")
			h.Set("Content-Encoding", "gzip")
			w.Write(enc.Gzip)
		})
		benchHTTP(b, sys, "/api/v1/states/DEU", func(*http.Request) {})
	})
	for _, e := range testkit.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			// The limit is out of reach, so that the benchmark measures the
			// cost of counting (a write every 100 requests), not refusals.
			sys := testkit.New(b, e, testkit.WithConfig(func(c *system.Config) { c.APIRateLimit = 1 << 30 }))
			fullDirectory(b, sys)
			u := sys.User(b, "reader@fra.example", app.RoleOfficer, "FRA")
			tok := sys.Token(b, u, "read")
			benchHTTP(b, sys, "/api/v1/states/DEU", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) })
		})
	}
}

// BenchmarkDirectoryPage measures the signed-in directory page (all 195
// States) on a full directory.
func BenchmarkDirectoryPage(b *testing.B) {
	for _, e := range testkit.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			// The limit is out of reach, so that the benchmark measures the
			// cost of counting (a write every 100 requests), not refusals.
			sys := testkit.New(b, e, testkit.WithConfig(func(c *system.Config) { c.APIRateLimit = 1 << 30 }))
			fullDirectory(b, sys)
			u := sys.User(b, "reader@fra.example", app.RoleOfficer, "FRA")
			srv := sys.Serve(b)
			c := sys.Login(b, srv, u)
			u0, _ := http.NewRequest("GET", srv.URL, nil)
			cookies := c.Jar.Cookies(u0.URL)
			benchHTTP(b, sys, "/directory", func(r *http.Request) {
				for _, ck := range cookies {
					r.AddCookie(ck)
				}
			})
		})
	}
}
