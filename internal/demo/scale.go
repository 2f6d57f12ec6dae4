package demo

import (
	"context"
	"log/slog"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/comms"
)

// FullScale is the number of communications of ten years of a busy
// directory (issue 19 §4): with their recipients' steps, about ten log
// entries each. FullCampaigns is its number of check campaigns of every
// PoC.
const (
	FullScale     = 1_000_000
	FullCampaigns = 100
)

// SeedScale adds ten years of a busy directory at factor times FullScale:
// notifications between the States with technical PoCs (Seed with full
// gives each Member State some), delivered, and most opened and
// acknowledged, each step in the log; and check campaigns of every PoC,
// closed, most targets answered. It logs its progress as it goes.
func SeedScale(ctx context.Context, c *comms.Service, ch *checks.Service, factor float64) error {
	n := int(factor * FullScale)
	if n <= 0 {
		return nil
	}
	now := c.Now()
	slog.Info("scale data set: check campaigns", "campaigns", max(1, int(factor*FullCampaigns)))
	if err := ch.History(app.WithActor(ctx, app.System), max(1, int(factor*FullCampaigns)), now.AddDate(-10, 0, 0), now.AddDate(0, -1, 0), 1); err != nil {
		return err
	}
	start, last := time.Now(), time.Now()
	// The planner's statistics are gathered each time the history doubles:
	// where autovacuum is off, or behind, PostgreSQL otherwise plans the
	// writer's own reads on the figures of empty tables, and the history
	// slows as it grows (a million took hours; 14 times faster once
	// analyzed, 2026-12-07).
	nextAnalyze := 1000
	return c.History(app.WithActor(ctx, app.System), comms.HistoryInput{Count: n, From: now.AddDate(-10, 0, 0), To: now.Add(-24 * time.Hour), Seed: 1},
		func(done int) {
			if done >= nextAnalyze && done < n {
				nextAnalyze *= 2
				if err := c.DB.Analyze(ctx); err != nil {
					slog.Warn("scale data set: the planner's statistics", "err", err)
				}
			}
			if time.Since(last) >= 5*time.Second || done == n {
				last = time.Now()
				elapsed := time.Since(start)
				slog.Info("scale data set", "communications", done, "of", n, "percent", done*100/n,
					"elapsed", elapsed.Round(time.Second), "left", (time.Duration(float64(elapsed) / float64(done) * float64(n-done))).Round(time.Second))
			}
		})
}
