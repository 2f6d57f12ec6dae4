package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type otherKey struct{}

func gather(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// TestRoutesKeepTheInnermostPattern nests a mux in another, as the API's is
// in the pages': the request is counted under the API's own pattern.
func TestRoutesKeepTheInnermostPattern(t *testing.T) {
	m := New(Sources{})
	inner := http.NewServeMux()
	inner.HandleFunc("GET /api/v1/states/{code}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	outer := http.NewServeMux()
	outer.Handle("/api/", Routes(inner))
	// A middleware between them passes the request on with a new context.
	wrapped := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Routes(outer).ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), otherKey{}, 1)))
	})
	h := m.HTTP(wrapped)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/v1/states/FRA", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/v2/anything", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/elsewhere", nil))
	body := gather(t, m)
	for _, want := range []string{
		`pocdir_http_requests_total{code="418",route="GET /api/v1/states/{code}"} 1`,
		`pocdir_http_requests_total{code="404",route="/api/"} 1`,
		`pocdir_http_requests_total{code="404",route="unmatched"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s in\n%s", want, body)
		}
	}
	if strings.Contains(body, "FRA") || strings.Contains(body, "anything") {
		t.Error("a path reached the labels")
	}
}

// TestDatabaseDown says so in pocdir_database_up, and gives no figure it
// could not read.
func TestDatabaseDown(t *testing.T) {
	down := errors.New("connection refused")
	m := New(Sources{
		Queue: func(context.Context) (int64, *time.Time, error) { return 0, nil, down },
		Log:   func(context.Context) (LogState, error) { return LogState{}, down },
	})
	body := gather(t, m)
	if !strings.Contains(body, "pocdir_database_up 0") || strings.Contains(body, "pocdir_outbox_queued ") || strings.Contains(body, "pocdir_log_entries ") {
		t.Errorf("with the database down:\n%s", body)
	}
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := old.Add(90 * time.Second)
	m = New(Sources{Now: func() time.Time { return now },
		Queue: func(context.Context) (int64, *time.Time, error) { return 4, &old, nil },
		Log: func(context.Context) (LogState, error) {
			return LogState{Size: 10, CheckpointSize: 8, CheckpointAt: &old, Pending: 3, PendingSince: &old}, nil
		},
	})
	body = gather(t, m)
	for _, want := range []string{"pocdir_database_up 1", "pocdir_outbox_queued 4", "pocdir_outbox_oldest_queued_age_seconds 90",
		"pocdir_log_entries 10", "pocdir_log_checkpoint_entries 8", "pocdir_log_checkpoint_age_seconds 90",
		"pocdir_log_pending 3", "pocdir_log_pending_oldest_age_seconds 90"} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
}

// TestJobStep counts runs, errors and items, and the last success only on
// success.
func TestJobStep(t *testing.T) {
	m := New(Sources{})
	m.Job("outbox")
	if body := gather(t, m); !strings.Contains(body, `pocdir_job_runs_total{job="outbox"} 0`) || strings.Contains(body, `pocdir_job_last_success_timestamp_seconds{job="outbox"}`) {
		t.Errorf("before the first step:\n%s", body)
	}
	m.JobStep("outbox", time.Millisecond, 7, nil)
	m.JobStep("outbox", time.Millisecond, 0, errors.New("smtp down"))
	body := gather(t, m)
	for _, want := range []string{`pocdir_job_runs_total{job="outbox"} 2`, `pocdir_job_errors_total{job="outbox"} 1`, `pocdir_job_items_total{job="outbox"} 7`,
		`pocdir_job_last_success_timestamp_seconds{job="outbox"} `} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s", want)
		}
	}
}
