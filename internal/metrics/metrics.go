// Package metrics is what an operator watches: Prometheus metrics of a
// running pocdir. It counts the requests by route and status with their
// latency, the background jobs' runs, errors and last success, the mail
// sent and received, sign-in failures and lockouts; it reads at each scrape
// the outbox's queue, the accountability log's size and latest checkpoint,
// and the database pool; and Go's runtime and the process. The metrics
// carry no personal data and nothing of any communication: routes are
// patterns ("GET /api/v1/states/{code}"), never paths.
//
// They are served on their own address (--metrics-addr), or on the public
// one to a scraper that shows the metrics token (Handler, Guard).
package metrics

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds one instance's metrics in its own registry, so that
// several instances in one process (the tests) do not mix theirs.
type Metrics struct {
	reg *prometheus.Registry

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inFlight prometheus.Gauge
	routes   sync.Map // seriesKey → *routeSeries

	jobRuns     *prometheus.CounterVec
	jobErrors   *prometheus.CounterVec
	jobItems    *prometheus.CounterVec
	jobSuccess  *prometheus.GaugeVec
	jobDuration *prometheus.HistogramVec

	mailOut *prometheus.CounterVec
	mailIn  *prometheus.CounterVec

	signIns *prometheus.CounterVec
}

// Sources are what the metrics read at each scrape. Each may be nil.
type Sources struct {
	// DB is the database pool, whose connections are counted.
	DB *sql.DB
	// Queue reads the outbox's queue: how many wait, since when the
	// oldest.
	Queue func(context.Context) (queued int64, oldest *time.Time, err error)
	// Log reads the accountability log's state.
	Log func(context.Context) (LogState, error)
	// Now is the clock that ages are measured by (time.Now when nil).
	Now func() time.Time
}

// LogState is what the metrics say of the accountability log: its size,
// the latest checkpoint's size and time, and the entries recorded with
// their changes that wait to be integrated into the tree, the oldest
// since when.
type LogState struct {
	Size, CheckpointSize int64
	CheckpointAt         *time.Time
	Pending              int64
	PendingSince         *time.Time
}

// New makes the metrics of one instance.
func New(src Sources) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pocdir_http_requests_total",
		Help: "HTTP requests answered, by route pattern and status code."}, []string{"route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "pocdir_http_request_duration_seconds",
		Help: "Time to answer HTTP requests, by route pattern.", Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}},
		[]string{"route"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "pocdir_http_requests_in_flight", Help: "HTTP requests being answered."})
	m.jobRuns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pocdir_job_runs_total",
		Help: "Steps run by each background job."}, []string{"job"})
	m.jobErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pocdir_job_errors_total",
		Help: "Steps of each background job that ended in an error."}, []string{"job"})
	m.jobItems = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pocdir_job_items_total",
		Help: "Items each background job handled (messages sent or queued, lines updated, replies collected)."}, []string{"job"})
	m.jobSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pocdir_job_last_success_timestamp_seconds",
		Help: "When each background job last finished a step without error (Unix time): its lag is time() minus this."}, []string{"job"})
	m.jobDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "pocdir_job_step_duration_seconds",
		Help: "Time each background job's steps take.", Buckets: []float64{.01, .05, .1, .5, 1, 5, 10, 30, 60}}, []string{"job"})
	m.mailOut = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pocdir_mail_sent_total",
		Help: "Messages handed to the mail server by this instance, by outcome: sent, deferred (to try again), failed (refused for good)."},
		[]string{"outcome"})
	m.mailIn = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pocdir_mail_received_total",
		Help: "Messages received by email (replies, bounces, auto-replies), by what became of them."}, []string{"result"})
	m.signIns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pocdir_signin_failures_total",
		Help: "Refused sign-ins, by reason: password, second_factor, throttled (too many from one address), lockout (an account locked)."},
		[]string{"reason"})
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.inFlight, m.jobRuns, m.jobErrors, m.jobItems, m.jobSuccess, m.jobDuration,
		m.mailOut, m.mailIn, m.signIns} {
		f(c)
	}
	// The labels known in advance are shown at zero from the start, so
	// that rate() and alerts see them before the first event.
	for _, o := range []string{"sent", "deferred", "failed"} {
		m.mailOut.WithLabelValues(o)
	}
	for _, r := range []string{"password", "second_factor", "throttled", "lockout"} {
		m.signIns.WithLabelValues(r)
	}
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if src.DB != nil {
		f(collectors.NewDBStatsCollector(src.DB, "pocdir"))
	}
	if src.Now == nil {
		src.Now = time.Now
	}
	f(&scraped{src: src})
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, Timeout: 10 * time.Second})
}

// MailSent counts messages handed to the mail server: sent, deferred
// (to try again later) or failed (refused for good).
func (m *Metrics) MailSent(sent, deferred, failed int) {
	m.mailOut.WithLabelValues("sent").Add(float64(sent))
	m.mailOut.WithLabelValues("deferred").Add(float64(deferred))
	m.mailOut.WithLabelValues("failed").Add(float64(failed))
}

// MailReceived counts one message received by email, by its result.
func (m *Metrics) MailReceived(result string) { m.mailIn.WithLabelValues(result).Inc() }

// SignInRefused counts one refused sign-in, by reason (see New).
func (m *Metrics) SignInRefused(reason string) { m.signIns.WithLabelValues(reason).Inc() }

// Guard serves the metrics on the public address to callers that show the
// token (Authorization: Bearer TOKEN), and answers 401 to anyone else.
func Guard(h http.Handler, token string) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pocdir metrics"`)
			http.Error(w, "the metrics need the metrics token", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// MinTokenLength is the shortest metrics token accepted: 32 characters,
// which the README's "openssl rand -hex 32" exceeds.
const MinTokenLength = 32

// ReadToken reads the metrics token from a file (its first line), so that
// it is not seen in the process list.
func ReadToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("metrics token: %w", err)
	}
	token, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	token = strings.TrimSpace(token)
	if len(token) < MinTokenLength {
		return "", fmt.Errorf("metrics token in %s: %d characters, at least %d are needed (openssl rand -hex 32)", path, len(token), MinTokenLength)
	}
	return token, nil
}
