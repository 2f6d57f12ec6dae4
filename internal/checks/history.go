package checks

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/db"
)

// History writes n closed Secretariat campaigns of every PoC by e-mail,
// started at even intervals from from to to, as the real path leaves them
// once closed: each target queued, most answered by link within hours,
// some bounced, each answer in the log. The data set of the scale
// demonstration (pocdir demo --scale). Only pocdir itself runs it.
func (s *Service) History(ctx context.Context, n int, from, to time.Time, seed uint64) error {
	if app.ActorFrom(ctx) != app.System {
		return app.ErrForbidden()
	}
	if n <= 0 || !to.After(from) {
		return app.Errorf(app.Invalid, "error.history", "a history needs a number of items, a period and two States with technical PoCs")
	}
	rng := rand.New(rand.NewPCG(seed, 0x636b73))
	step := to.Sub(from) / time.Duration(n)
	for i := range n {
		start := from.Add(time.Duration(i) * step)
		c := &Campaign{Kind: KindSecretariat, Title: "Communication check " + strconv.Itoa(start.Year()) + "-" + strconv.Itoa(i+1), Scope: "all",
			Channel: "email", WindowHours: 72, Status: StatusScheduled, StartAt: start, WindowEnd: start.Add(72 * time.Hour),
			CreatedBy: "secretariat@history.pocdir.example", CreatedAt: start}
		targets, err := s.selectTargets(ctx, c)
		if err != nil {
			return err
		}
		err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
			c.Status = StatusClosed
			if err := insertCampaign(ctx, tx, c); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE check_campaigns SET closed_at = $1 WHERE id = $2`, c.WindowEnd, c.ID); err != nil {
				return fmt.Errorf("checks store: closing a campaign of the history: %w", err)
			}
			evs := []auditlog.Event{auditlog.Event{Type: "checks.campaign_created", Object: "check:" + itoa(c.ID), States: c.states(), At: start,
				ActorEmail: c.CreatedBy}.By(app.System)}
			for _, t := range targets {
				if err := insertTarget(ctx, tx, c.ID, t); err != nil {
					return err
				}
			}
			ls, err := db.IDCodes(ctx, tx, "the targets of the history", `SELECT id, state_code FROM check_targets WHERE campaign_id = $1 ORDER BY id`, c.ID)
			if err != nil {
				return fmt.Errorf("checks store: %w", err)
			}
			for _, l := range ls {
				queued := start.Add(time.Duration(rng.IntN(600)) * time.Second)
				// Each target's outcome counts in the campaign's tally too.
				d := Tally{Queued: 1}
				switch r := rng.IntN(20); {
				case r == 0:
					_, err = tx.ExecContext(ctx, `UPDATE check_targets SET queued_at = $1, bounced_at = $2, bounce_error = '550 5.1.1 user unknown' WHERE id = $3`,
						queued, queued.Add(time.Minute), l.ID)
					d.Bounced = 1
				case r < 3:
					_, err = tx.ExecContext(ctx, `UPDATE check_targets SET queued_at = $1 WHERE id = $2`, queued, l.ID) // no answer
				default:
					answered := queued.Add(time.Duration(60+rng.IntN(48*3600)) * time.Second)
					_, err = tx.ExecContext(ctx, `UPDATE check_targets SET queued_at = $1, answered_at = $2, answered_via = 'link' WHERE id = $3`,
						queued, answered, l.ID)
					d.plus(answerTally(answered, c.WindowEnd, false))
					evs = append(evs, auditlog.Event{Type: "checks.answered", Object: "check_target:" + itoa(l.ID), States: []string{l.Code},
						At: answered, ActorEmail: "answer-link"})
				}
				if err != nil {
					return fmt.Errorf("checks store: the targets of the history: %w", err)
				}
				if err := addTally(ctx, tx, c.ID, l.Code, d); err != nil {
					return err
				}
			}
			_, err = auditlog.AppendBatch(ctx, tx, evs)
			return err
		})
		if err != nil {
			return fmt.Errorf("checks: writing campaign %d of the history: %w", i+1, err)
		}
	}
	return nil
}
