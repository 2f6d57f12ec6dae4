package system

import (
	"context"
	"time"
)

// A job is one of pocdir's background jobs: a step run at each interval.
// Every step is safe on several instances at once.
type job struct {
	name  string
	every time.Duration
	// step does one round and says how many items it handled.
	step func(context.Context) (int, error)
	// drain runs the next step at once while a step finds work (the
	// outbox: a campaign to every PoC goes out in one go, not one batch
	// per interval).
	drain bool
	// wake, when set, starts a step at once, without waiting for the
	// interval (the outbox: mail that a commit queued).
	wake <-chan struct{}
}

// start runs j until Run's context ends. A step started finishes, even
// when pocdir is stopping: the loop stops between steps, and Close waits.
// Each step is logged when it fails and counted in the metrics.
func (s *System) start(ctx context.Context, j job) {
	s.Metrics.Job(j.name)
	s.jobs.Add(1)
	go func() {
		defer s.jobs.Done()
		t := time.NewTicker(j.every)
		defer t.Stop()
		for {
			for ctx.Err() == nil {
				began := time.Now()
				n, err := j.step(context.WithoutCancel(ctx))
				s.Metrics.JobStep(j.name, time.Since(began), n, err)
				if err != nil {
					s.Config.Log.Error("background job", "job", j.name, "err", err)
				}
				if !j.drain || n == 0 || err != nil {
					break
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-j.wake: // nil: never
			}
		}
	}()
}
