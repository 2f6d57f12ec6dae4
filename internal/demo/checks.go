package demo

import (
	"context"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/notify"
)

// SeedChecks writes the history of communication checks: two quarterly
// campaigns that are over, and one running now, whose emails (with working
// answer links) wait in the outbox for the demo mailbox. Past campaigns run
// on a clock set back to their time; their emails are recorded as sent.
func SeedChecks(ctx context.Context, live *checks.Service) error {
	now := live.Now()
	sec := app.WithActor(ctx, &app.Actor{Email: Accounts[0].Email, Role: app.RoleSecretariat})
	for i, past := range []struct {
		title  string
		ago    int // days
		answer int // one in answer PoCs does not answer
	}{{"Quarterly check, Q2 (fictional)", 185, 4}, {"Quarterly check, Q3 (fictional)", 95, 6}} {
		at := now.AddDate(0, 0, -past.ago)
		svc := live.WithClock(func() time.Time { return at }, 10000)
		c, err := svc.Create(sec, checks.Input{Title: past.title, Scope: "all", Channel: checks.ChannelEmail, WindowHours: 72})
		if err != nil {
			return err
		}
		if _, err := svc.RunOnce(ctx); err != nil {
			return err
		}
		r, err := svc.Results(sec, c.ID)
		if err != nil {
			return err
		}
		begin := at
		for j, t := range r.Targets {
			if (j+i)%past.answer == 0 {
				continue
			}
			// Most answer within hours, a few after the window (late).
			at = begin.Add(time.Duration(15+(j*53)%2900) * time.Minute)
			if j%11 == 5 {
				at = begin.Add(80 * time.Hour)
			}
			officer := app.WithActor(ctx, &app.Actor{Email: "demo-data@pocdir.example", Role: app.RoleOfficer, State: t.State})
			if err := svc.AnswerInPortal(officer, t.ID); err != nil {
				return err
			}
		}
		at = now.AddDate(0, 0, -past.ago+4)
		if _, err := svc.RunOnce(ctx); err != nil {
			return err
		}
		if err := notify.RecordSent(ctx, live.DB, "check", "check-report"); err != nil {
			return err
		}
	}
	start := now.Add(-26 * time.Hour)
	svc := live.WithClock(func() time.Time { return start }, 10000)
	_, err := svc.Create(sec, checks.Input{Title: "Quarterly check, Q4 (fictional)", Message: "This is a demonstration: open the link to answer.",
		Scope: "all", Channel: checks.ChannelEmail, WindowHours: 72})
	if err != nil {
		return err
	}
	_, err = svc.RunOnce(ctx)
	return err
}
