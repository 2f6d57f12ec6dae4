package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// scraped reads what the database holds at each scrape: the outbox's queue
// and the log's size and latest checkpoint. They are the same for every
// instance on one database. When the database does not answer, only
// pocdir_database_up (0) is given, which is what an alert should watch.
type scraped struct{ src Sources }

var (
	dbUp = prometheus.NewDesc("pocdir_database_up",
		"Whether the database answered the scrape's queries (1) or not (0).", nil, nil)
	queued = prometheus.NewDesc("pocdir_outbox_queued",
		"Messages in the outbox waiting to be handed to the mail server.", nil, nil)
	oldestQueued = prometheus.NewDesc("pocdir_outbox_oldest_queued_age_seconds",
		"Age of the oldest message waiting in the outbox (0 when none waits).", nil, nil)
	logSize = prometheus.NewDesc("pocdir_log_entries",
		"Entries in the accountability log.", nil, nil)
	logSigned = prometheus.NewDesc("pocdir_log_checkpoint_entries",
		"Entries covered by the latest signed checkpoint of the log.", nil, nil)
	logAge = prometheus.NewDesc("pocdir_log_checkpoint_age_seconds",
		"Age of the latest signed checkpoint of the log (absent before the first).", nil, nil)
	logPending = prometheus.NewDesc("pocdir_log_pending",
		"Entries recorded with their changes that wait to be integrated into the log's tree.", nil, nil)
	logPendingAge = prometheus.NewDesc("pocdir_log_pending_oldest_age_seconds",
		"Age of the oldest entry waiting to be integrated into the log's tree (0 when none waits).", nil, nil)
)

func (s *scraped) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dbUp, queued, oldestQueued, logSize, logSigned, logAge, logPending, logPendingAge} {
		ch <- d
	}
}

func (s *scraped) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	now := s.src.Now()
	up := 1.0
	if s.src.Queue != nil {
		n, oldest, err := s.src.Queue(ctx)
		if err != nil {
			up = 0
		} else {
			ch <- prometheus.MustNewConstMetric(queued, prometheus.GaugeValue, float64(n))
			age := 0.0
			if oldest != nil {
				age = max(now.Sub(*oldest).Seconds(), 0)
			}
			ch <- prometheus.MustNewConstMetric(oldestQueued, prometheus.GaugeValue, age)
		}
	}
	if s.src.Log != nil && up == 1 {
		l, err := s.src.Log(ctx)
		if err != nil {
			up = 0
		} else {
			ch <- prometheus.MustNewConstMetric(logSize, prometheus.GaugeValue, float64(l.Size))
			ch <- prometheus.MustNewConstMetric(logSigned, prometheus.GaugeValue, float64(l.CheckpointSize))
			if l.CheckpointAt != nil {
				ch <- prometheus.MustNewConstMetric(logAge, prometheus.GaugeValue, max(now.Sub(*l.CheckpointAt).Seconds(), 0))
			}
			ch <- prometheus.MustNewConstMetric(logPending, prometheus.GaugeValue, float64(l.Pending))
			age := 0.0
			if l.PendingSince != nil {
				age = max(now.Sub(*l.PendingSince).Seconds(), 0)
			}
			ch <- prometheus.MustNewConstMetric(logPendingAge, prometheus.GaugeValue, age)
		}
	}
	ch <- prometheus.MustNewConstMetric(dbUp, prometheus.GaugeValue, up)
}
