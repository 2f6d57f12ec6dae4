package web_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/demo"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

// BenchmarkRoutes times the pages and API routes whose answers could grow
// with the years (lists, counts, the Secretariat's overview of
// communications, the log, a busy thread) on a full
// directory, and, with POCDIR_BENCH_SCALE=F, on top of it ten years of a
// busy directory at F times full size (demo --scale F: at 1, a million
// communications and about nine million log entries). It reports each
// route's p99 over 8 concurrent clients, for the README's comparison of
// the two sizes (issue 19 §4: at most twice).
//
//	go test -run '^$' -bench Routes -benchtime 200x ./internal/web/
//	POCDIR_BENCH_SCALE=0.1 go test -run '^$' -bench Routes -benchtime 200x -timeout 2h ./internal/web/
func BenchmarkRoutes(b *testing.B) {
	scale := 0.0
	if v := os.Getenv("POCDIR_BENCH_SCALE"); v != "" {
		var err error
		if scale, err = strconv.ParseFloat(v, 64); err != nil {
			b.Fatalf("POCDIR_BENCH_SCALE=%q: %v", v, err)
		}
	}
	for _, e := range testkit.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			sys := testkit.New(b, e, testkit.WithConfig(func(c *system.Config) { c.APIRateLimit = 1 << 30 }))
			fullDirectory(b, sys)
			ctx := context.Background()
			if scale > 0 {
				start := time.Now()
				now := sys.Clock.Now()
				if err := sys.Checks.History(app.WithActor(ctx, app.System), max(1, int(scale*demo.FullCampaigns)), now.AddDate(-10, 0, 0), now.AddDate(0, -1, 0), 1); err != nil {
					b.Fatal(err)
				}
				in := comms.HistoryInput{Count: int(scale * demo.FullScale), From: now.AddDate(-10, 0, 0), To: now.Add(-24 * time.Hour), Seed: 1}
				if err := sys.Comms.History(app.WithActor(ctx, app.System), in, nil); err != nil {
					b.Fatal(err)
				}
				b.Logf("%s: history of %d communications written in %v", e.Name, in.Count, time.Since(start).Round(time.Second))
			}
			sec := sys.User(b, "sec@un.example", app.RoleSecretariat, "")
			off := sys.User(b, "off@fra.example", app.RoleOfficer, "FRA")
			c, err := sys.Comms.Compose(off.Ctx(), comms.CommInput{Template: "notification", ToStates: []string{"DEU"}, Level: comms.LevelTechnical,
				Fields: map[string]string{"subject": "Scanning from AS64500", "urgency": "high", "tlp": comms.TLPAmber,
					"description": "Scanning of our networks from addresses announced in your space."}})
			if err != nil {
				b.Fatal(err)
			}
			campaign, err := sys.Checks.Create(sec.Ctx(), checks.Input{Title: "Q4", Scope: "all", Channel: "email", WindowHours: 72})
			if err != nil {
				b.Fatal(err)
			}
			srv := sys.Serve(b)
			secWeb, offWeb := sys.Login(b, srv, sec), sys.Login(b, srv, off)
			secTok, offTok := sys.Token(b, sec, "read"), sys.Token(b, off, "read")
			id, cid := strconv.FormatInt(c.ID, 10), strconv.FormatInt(campaign.ID, 10)
			routes := []struct {
				path   string
				client *http.Client
				token  string
			}{
				{"/inbox", offWeb, ""},
				{"/directory", offWeb, ""},
				{"/states/FRA", offWeb, ""},
				{"/states/FRA/history", offWeb, ""},
				{"/comms", offWeb, ""},
				{"/comms/" + id, offWeb, ""},
				{"/dashboard", secWeb, ""},
				{"/comms", secWeb, ""},
				{"/log", secWeb, ""},
				{"/log", offWeb, ""},
				{"/checks", secWeb, ""},
				{"/checks/" + cid, secWeb, ""},
				{"/users", secWeb, ""},
				{"/admin/outbox", secWeb, ""},
				{"/api/v1/status", nil, offTok},
				{"/api/v1/inbox", nil, offTok},
				{"/api/v1/states/FRA", nil, offTok},
				{"/api/v1/comms", nil, offTok},
				{"/api/v1/comms/" + id + "/thread", nil, offTok},
				{"/api/v1/checks", nil, secTok},
				{"/api/v1/checks/" + cid, nil, secTok},
				{"/api/v1/log/entries", nil, offTok},
				{"/api/v1/log/checkpoint", nil, offTok},
			}
			for _, rt := range routes {
				who := "off"
				if rt.client == secWeb || rt.token == secTok {
					who = "sec"
				}
				b.Run(strings.ReplaceAll(strings.TrimPrefix(rt.path, "/"), "/", "_")+"_"+who, func(b *testing.B) {
					client := rt.client
					if client == nil {
						client = &http.Client{Timeout: time.Minute}
					}
					var mu sync.Mutex
					var lat []time.Duration
					b.SetParallelism(max(1, 8/runtimeProcs()))
					b.ResetTimer()
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							req, _ := http.NewRequest("GET", srv.URL+rt.path, nil)
							req.Header.Set("Accept-Encoding", "gzip")
							if rt.token != "" {
								req.Header.Set("Authorization", "Bearer "+rt.token)
							}
							t0 := time.Now()
							resp, err := client.Do(req)
							if err != nil {
								b.Error(err)
								return
							}
							io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							d := time.Since(t0)
							if resp.StatusCode != http.StatusOK {
								b.Errorf("%s: status %d", rt.path, resp.StatusCode)
								return
							}
							mu.Lock()
							lat = append(lat, d)
							mu.Unlock()
						}
					})
					b.StopTimer()
					sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
					if len(lat) > 0 {
						b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
					}
				})
			}
		})
	}
}
