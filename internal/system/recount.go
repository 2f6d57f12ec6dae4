package system

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/notify"
)

// Recount counts again what the pages read from counters (each
// campaign's tally, the communications sent by month, the recipient lines
// by stage, the communications that wait for each State, the open requests
// to share by sender, the messages the outbox sent and failed, the 30-day
// rule's figures by State) and describes each counter that differs from
// the rows: a write that forgot its counter. `pocdir audit check` and the
// end of every test run it. Each count reads its counters and its rows in
// one snapshot, so that a pocdir that writes meanwhile is not taken for
// one that forgot a counter.
func Recount(ctx context.Context, d *db.DB) ([]string, error) {
	// The seven counts read different tables: at full size each takes
	// seconds, so they run at once, each on its own connection.
	var tallies []checks.TallyMismatch
	var volumes []comms.VolumeMismatch
	var stages []comms.StageMismatch
	var waiting []comms.WaitingMismatch
	var consent []comms.ConsentMismatch
	var outbox *notify.OutboxMismatch
	var rule30 []directory.Rule30Mismatch
	errs := make([]error, 7)
	var wg sync.WaitGroup
	count := func(i int, f func(q db.Queryer) error) {
		wg.Go(func() {
			q, release, err := d.Snapshot(ctx)
			if err != nil {
				errs[i] = err
				return
			}
			defer release()
			errs[i] = f(q)
		})
	}
	count(0, func(q db.Queryer) (err error) { tallies, err = checks.Recount(ctx, q); return err })
	count(1, func(q db.Queryer) (err error) { volumes, err = comms.RecountVolumes(ctx, q, d.Dialect); return err })
	count(2, func(q db.Queryer) (err error) { stages, err = comms.RecountStages(ctx, q); return err })
	count(3, func(q db.Queryer) (err error) { waiting, err = comms.RecountWaiting(ctx, q); return err })
	count(4, func(q db.Queryer) (err error) { consent, err = comms.RecountConsentOpen(ctx, q); return err })
	count(5, func(q db.Queryer) (err error) { outbox, err = notify.RecountOutbox(ctx, q); return err })
	count(6, func(q db.Queryer) (err error) { rule30, err = directory.RecountRule30(ctx, q); return err })
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out []string
	for _, m := range tallies {
		out = append(out, fmt.Sprintf("campaign %d, State %q: the tally kept is %+v, the targets count %+v", m.Campaign, m.State, m.Kept, m.Counted))
	}
	for _, m := range volumes {
		out = append(out, fmt.Sprintf("communications sent in %s by %s (template %d, exercise %t): %d kept, %d counted", m.Month, m.State, m.Template, m.Exercise, m.Kept, m.Counted))
	}
	for _, m := range stages {
		out = append(out, fmt.Sprintf("recipient lines of %s at stage %s: %d kept, %d counted", m.State, m.Stage, m.Kept, m.Counted))
	}
	for _, m := range waiting {
		out = append(out, fmt.Sprintf("communications waiting for %s: %d kept, %d counted", m.State, m.Kept, m.Counted))
	}
	for _, m := range consent {
		out = append(out, consentMismatch(m))
	}
	for _, m := range rule30 {
		out = append(out, fmt.Sprintf("the 30-day rule of %s: %d changes and %d late kept, %d and %d counted", m.State, m.Kept.Changes, m.Kept.Late, m.Counted.Changes, m.Counted.Late))
	}
	if outbox != nil {
		out = append(out, fmt.Sprintf("the outbox: %d sent and %d failed kept, %d and %d counted", outbox.KeptSent, outbox.KeptFailed, outbox.CountedSent, outbox.CountedFailed))
	}
	return out, nil
}

// consentMismatch describes a request to share kept open otherwise than
// its events say.
func consentMismatch(m comms.ConsentMismatch) string {
	if m.Kept {
		return fmt.Sprintf("request to share %d: kept open, but answered, gone or of another sender or communication", m.Request)
	}
	return fmt.Sprintf("request to share %d: open, but not kept so for its sender", m.Request)
}
