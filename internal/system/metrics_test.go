package system_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

const metricsToken = "0123456789abcdef0123456789abcdef-test"

// scrape reads /metrics with the token given ("" for none) and returns the
// status and the body.
func scrape(t *testing.T, base, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// value finds a sample in Prometheus's text format: series is the name with
// its labels as written ("pocdir_signin_failures_total{reason=\"lockout\"}").
func value(body, series string) (float64, bool) {
	for line := range strings.Lines(body) {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}

// TestMetrics drives requests, refused sign-ins and the background jobs,
// then reads the metrics as a scraper would on the public address: only
// with the metrics token, and with the names the README's alerts use.
func TestMetrics(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys, srv := testkit.NewServed(t, e, testkit.WithConfig(func(c *system.Config) { c.MetricsToken = metricsToken }))
		fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC()) // queues an email: there is no mail server

		t.Run("a scraper without the token, or with another, is refused", func(t *testing.T) {
			for _, token := range []string{"", "wrong", metricsToken + "x", strings.ToUpper(metricsToken)} {
				if code, body := scrape(t, srv.URL, token); code != http.StatusUnauthorized || strings.Contains(body, "pocdir_") {
					t.Errorf("token %q: status %d, metrics shown: %v", token, code, strings.Contains(body, "pocdir_"))
				}
			}
		})

		token := sys.Token(t, fp, "read")
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/states/FRA", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		for range 3 {
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		resp, err := http.Get(srv.URL + "/no/such/page/" + strconv.Itoa(12345))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// Five wrong passwords lock the account.
		c := testkit.Client(t)
		for range 5 {
			testkit.PostForm(t, c, srv.URL+"/login", url.Values{"email": {fp.Email}, "password": {"not the password"}}).Body.Close()
		}

		ctx, stop := context.WithCancel(context.Background())
		sys.Run(ctx)
		var body string
		deadline := time.Now().Add(20 * time.Second)
		for {
			var code int
			code, body = scrape(t, srv.URL, metricsToken)
			if code != http.StatusOK {
				t.Fatalf("with the token: status %d", code)
			}
			// A scrape reads each series on its own, so it can see a step
			// counted before its success: wait for the series checked below.
			_, succeeded := value(body, `pocdir_job_last_success_timestamp_seconds{job="comms"}`)
			if v, _ := value(body, `pocdir_job_runs_total{job="checkpoint"}`); succeeded && v >= 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the comms job did not succeed, or the checkpoint job did not run:\n%s", body)
			}
			time.Sleep(20 * time.Millisecond)
		}
		stop()

		for _, want := range []struct {
			series string
			min    float64
		}{
			{`pocdir_http_requests_total{code="200",route="GET /api/v1/states/{code}"}`, 3},
			{`pocdir_http_request_duration_seconds_count{route="GET /api/v1/states/{code}"}`, 3},
			{`pocdir_http_requests_total{code="404",route="unmatched"}`, 1},
			// A page, answered through the compressing writer (the client
			// accepts gzip): the pattern reaches the metrics through it.
			{`pocdir_http_requests_total{code="401",route="POST /login"}`, 5},
			{`pocdir_signin_failures_total{reason="password"}`, 5},
			{`pocdir_signin_failures_total{reason="lockout"}`, 1},
			{`pocdir_signin_failures_total{reason="throttled"}`, 0},
			{`pocdir_outbox_queued`, 1},
			{`pocdir_outbox_oldest_queued_age_seconds`, 0},
			{`pocdir_log_entries`, 1},
			{`pocdir_log_checkpoint_entries`, 1},
			{`pocdir_log_checkpoint_age_seconds`, 0},
			{`pocdir_database_up`, 1},
			{`pocdir_job_errors_total{job="comms"}`, 0},
			{`pocdir_job_last_success_timestamp_seconds{job="comms"}`, 1},
			{`pocdir_mail_sent_total{outcome="sent"}`, 0},
			{`go_sql_max_open_connections{db_name="pocdir"}`, 1},
			{`go_goroutines`, 1},
		} {
			got, ok := value(body, want.series)
			if !ok {
				t.Errorf("%s is missing from\n%s", want.series, body)
			} else if got < want.min {
				t.Errorf("%s = %v, want at least %v", want.series, got, want.min)
			}
		}
		if strings.Contains(body, "/no/such/page") || strings.Contains(body, "FRA") || strings.Contains(body, fp.Email) {
			t.Error("the metrics name a path, a State or a person: their labels must be route patterns only")
		}
		// The public address serves the metrics only where a token is set.
		_, plain := testkit.NewServed(t, e)
		if code, body := scrape(t, plain.URL, metricsToken); strings.Contains(body, "pocdir_") || code == http.StatusOK {
			t.Errorf("without a metrics token configured, /metrics answered %d with the metrics", code)
		}
	})
}

// TestMetricsTokenTooShort refuses to start with a guessable token.
func TestMetricsTokenTooShort(t *testing.T) {
	_, err := system.Open(context.Background(), system.Config{DB: "sqlite:" + t.TempDir() + "/p.db", MetricsToken: "short"})
	if err == nil || !strings.Contains(err.Error(), "32") {
		t.Fatalf("a 5-character metrics token: %v", err)
	}
}
