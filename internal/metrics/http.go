package metrics

import (
	"cmp"
	"net/http"
	"strconv"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/prometheus/client_golang/prometheus"
)

// Routes records, for the metrics, which pattern of mux answered the
// request. Wrapping each ServeMux (the pages', then the API's inside it)
// keeps the innermost, most precise pattern.
func Routes(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The pattern an outer mux matched, which this one overwrites
		// (with "" when it matches nothing).
		outer := r.Pattern
		mux.ServeHTTP(w, r)
		// The pattern travels on the outermost writer (HTTP's), which the
		// layers between pass down wrapped: the requests they pass on are
		// copies, and a context value would cost each request a copy more.
		if sw := app.FindStatusWriter(w); sw != nil && sw.Pattern == "" {
			sw.Pattern = cmp.Or(r.Pattern, outer)
		}
	})
}

// HTTP counts the requests by route and status, and times them. It wraps
// the whole handler; requests no pattern matched count as "unmatched", so
// that scanners' made-up paths do not each make a new series.
func (m *Metrics) HTTP(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		sw := &app.StatusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		pattern := sw.Pattern
		if pattern == "" {
			pattern = "unmatched"
		}
		code := sw.Status
		if code == 0 {
			code = http.StatusOK
		}
		m.series(pattern, code).observe(time.Since(start))
	})
}

// routeSeries are the counter and histogram of one route and status, kept
// so that a request does not hash its labels twice.
type routeSeries struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

func (rs *routeSeries) observe(d time.Duration) {
	rs.count.Inc()
	rs.latency.Observe(d.Seconds())
}

type seriesKey struct {
	route string
	code  int
}

func (m *Metrics) series(route string, code int) *routeSeries {
	k := seriesKey{route, code}
	if rs, ok := m.routes.Load(k); ok {
		return rs.(*routeSeries)
	}
	rs := &routeSeries{count: m.requests.WithLabelValues(route, strconv.Itoa(code)), latency: m.latency.WithLabelValues(route)}
	m.routes.Store(k, rs)
	return rs
}
