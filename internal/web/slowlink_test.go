package web_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/pocdir/pocdir/internal/app"
)

// Many focal points work over slow or metered links. This test loads the
// main pages as over a 256 kbit/s link with 300 ms of latency, with nothing
// cached, and reports how long each takes to its load event and how many
// bytes crossed the wire. It asserts no time (a loaded machine is slow, not
// wrong); it does fail on any request to another host.

// slowLink is the emulated link: 256 kbit/s each way, 300 ms latency.
var slowLink = network.Conditions{Latency: 300, DownloadThroughput: 256_000 / 8, UploadThroughput: 256_000 / 8}

// wire counts what the pages of one browser ask for.
type wire struct {
	mu       sync.Mutex
	base     string
	requests []string
	bytes    float64
	foreign  []string
}

func (w *wire) listen(ev any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		u := ev.Request.URL
		// data: URLs never leave the browser.
		if !strings.HasPrefix(u, w.base+"/") && !strings.HasPrefix(u, "data:") {
			w.foreign = append(w.foreign, u)
		}
		if i := strings.IndexAny(u, ";,"); strings.HasPrefix(u, "data:") && i > 0 {
			u = u[:i] + "…"
		}
		w.requests = append(w.requests, strings.TrimPrefix(u, w.base))
	case *network.EventLoadingFinished:
		w.bytes += ev.EncodedDataLength
	}
}

func (w *wire) reset() {
	w.mu.Lock()
	w.requests, w.bytes = nil, 0
	w.mu.Unlock()
}

func (w *wire) read() (requests []string, bytes float64, foreign []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.requests...), w.bytes, append([]string(nil), w.foreign...)
}

// navTiming is the page's own account of its load (Navigation Timing 2).
type navTiming struct {
	Load     float64 `json:"load"`
	DOMReady float64 `json:"domReady"`
	Transfer float64 `json:"transfer"`
	Encoded  float64 `json:"encoded"`
	Decoded  float64 `json:"decoded"`
}

const navTimingJS = `(() => { const n = performance.getEntriesByType('navigation')[0];
  return {load: n.loadEventEnd - n.startTime, domReady: n.domContentLoadedEventEnd - n.startTime,
    transfer: n.transferSize, encoded: n.encodedBodySize, decoded: n.decodedBodySize}; })()`

func TestBrowserSlowLink(t *testing.T) {
	t.Run("the main pages load over 256 kbit/s with 300 ms latency, from no other host", func(t *testing.T) {
		sys := sqlite(t)
		srv := sys.Serve(t)
		a11yFixture(t, sys)
		fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		b := newBrowser(t, srv.URL)

		w := &wire{base: srv.URL}
		if err := chromedp.Listen(b.ctx, w.listen); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(b.ctx, network.Enable, network.EnableParams{}); err != nil {
			t.Fatal(err)
		}
		// A cold cache for every page: nothing comes from the disk cache,
		// the stylesheet included.
		if _, err := chromedp.Call(b.ctx, network.ClearBrowserCache, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(b.ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
			t.Fatal(err)
		}
		throttle := func(on bool) {
			t.Helper()
			var rules []*network.Conditions
			if on {
				c := slowLink
				rules = []*network.Conditions{&c}
			} else {
				// No conditions: the link is not throttled.
				rules = []*network.Conditions{{DownloadThroughput: -1, UploadThroughput: -1}}
			}
			if _, err := chromedp.Call(b.ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: rules}); err != nil {
				t.Fatal(err)
			}
		}
		measure := func(path string) {
			t.Helper()
			w.reset()
			if st := b.open(path); st != 200 {
				t.Errorf("GET %s: status %d", path, st)
			}
			b.wantPath(path)
			nt, err := chromedp.Run(b.ctx, chromedp.Evaluate[navTiming](navTimingJS))
			if err != nil {
				t.Fatalf("navigation timing of %s: %v", path, err)
			}
			n, bytes, _ := w.read()
			t.Logf("%-22s load event at %5.0f ms (DOM ready %5.0f ms); %6.0f bytes on the wire for %s; HTML %5.0f bytes compressed, %6.0f bytes decoded",
				path, nt.Load, nt.DOMReady, bytes, strings.Join(n, " "), nt.Encoded, nt.Decoded)
		}

		throttle(true)
		measure("/login")
		throttle(false)
		b.signIn(sys, fp)
		throttle(true)
		for _, p := range []string{"/directory", "/states/FRA", "/states/FRA/pocs/new"} {
			measure(p)
		}
		throttle(false)

		if _, _, foreign := w.read(); len(foreign) > 0 {
			t.Errorf("requests to other hosts than %s:\n%s", srv.URL, strings.Join(foreign, "\n"))
		}
	})
}
