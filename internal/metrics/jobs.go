package metrics

import "time"

// JobStep records one step of a background job: how long it took, how many
// items it handled, and whether it ended in an error.
//
// The run is counted last, so that a reader who sees it counted also sees
// its success or its error (each series is read on its own: a scrape that
// reads them during a step may still see one without the other).
func (m *Metrics) JobStep(job string, took time.Duration, items int, err error) {
	m.jobDuration.WithLabelValues(job).Observe(took.Seconds())
	m.jobItems.WithLabelValues(job).Add(float64(items))
	if err != nil {
		m.jobErrors.WithLabelValues(job).Inc()
	} else {
		m.jobSuccess.WithLabelValues(job).SetToCurrentTime()
	}
	m.jobRuns.WithLabelValues(job).Inc()
}

// Job makes a job's series appear at zero before its first step.
func (m *Metrics) Job(job string) {
	m.jobRuns.WithLabelValues(job)
	m.jobErrors.WithLabelValues(job)
	m.jobItems.WithLabelValues(job)
}
