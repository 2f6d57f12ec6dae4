package checks

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/pocdir/pocdir/internal/db"
)

// Each campaign's tally is kept, by State and in total (state ''), in
// check_tallies, and changed in the transaction that changes a target
// (issue 19 §4): the list of campaigns and the answer rates read a row per
// campaign, or per campaign and State, where they counted every target of
// ten years of campaigns. A transaction's changes are added up and written
// just before it commits, in the order of their keys, the total first: a
// row is held from then to the commit only, and two transactions on
// PostgreSQL wait for one another rather than deadlock. Silent is never
// kept: it is what the others leave of Targets.

type tallyKey struct {
	campaign int64
	state    string
}

// txTallies are a transaction's changes to the tallies, not yet written.
type txTallies struct {
	changes map[tallyKey]*Tally
}

type txTalliesKey struct{}

// addTally adds d to the tally of a campaign's targets of a State, and to
// the campaign's total, in tx.
func addTally(ctx context.Context, tx *sql.Tx, campaign int64, state string, d Tally) error {
	v, ok := db.TxValue(tx, txTalliesKey{}, func() any { return &txTallies{changes: map[tallyKey]*Tally{}} })
	if !ok {
		// A transaction that db.Tx does not run: written at once.
		return writeTallies(ctx, tx, map[tallyKey]*Tally{{campaign, ""}: &d, {campaign, state}: &d})
	}
	tt := v.(*txTallies)
	for _, k := range []tallyKey{{campaign, ""}, {campaign, state}} {
		t := tt.changes[k]
		if t == nil {
			t = &Tally{}
			tt.changes[k] = t
		}
		t.plus(d)
	}
	// Added to the batch's changes once this transaction's work is kept,
	// and written with them (db.Shared).
	db.WhenKept(tx, tt, func() {
		v, _ := db.Shared(tx, txTalliesKey{}, func() any { return &txTallies{changes: map[tallyKey]*Tally{}} })
		all := v.(*txTallies)
		for k, d := range tt.changes {
			t := all.changes[k]
			if t == nil {
				t = &Tally{}
				all.changes[k] = t
			}
			t.plus(*d)
		}
		db.BeforeSharedCommit(tx, all, func() error { return writeTallies(context.WithoutCancel(ctx), tx, all.changes) })
	})
	return nil
}

// writeTallies adds the changes to their rows, in the order of their keys.
func writeTallies(ctx context.Context, tx *sql.Tx, changes map[tallyKey]*Tally) error {
	keys := make([]tallyKey, 0, len(changes))
	for k := range changes {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y tallyKey) int {
		return cmp.Or(cmp.Compare(x.campaign, y.campaign), cmp.Compare(x.state, y.state))
	})
	for _, k := range keys {
		d := changes[k]
		if *d == (Tally{}) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO check_tallies (campaign_id, state_code, targets, queued, answered, late, bounced)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (campaign_id, state_code) DO UPDATE SET targets = check_tallies.targets + excluded.targets,
			queued = check_tallies.queued + excluded.queued, answered = check_tallies.answered + excluded.answered,
			late = check_tallies.late + excluded.late, bounced = check_tallies.bounced + excluded.bounced`,
			k.campaign, k.state, d.Targets, d.Queued, d.Answered, d.Late, d.Bounced); err != nil {
			return fmt.Errorf("checks store: counting a campaign's answers: %w", err)
		}
	}
	return nil
}

// tallyColumns are read from check_tallies under the alias k; scanTally
// reads them.
const tallyColumns = `k.targets, k.queued, k.answered, k.late, k.bounced`

func scanTally(n *Tally, dest ...any) []any {
	return append(dest, &n.Targets, &n.Queued, &n.Answered, &n.Late, &n.Bounced)
}

func (n *Tally) silent() {
	n.Silent = n.Targets - n.Answered - n.Late - n.Bounced
}

// TallyMismatch is a counter that differs from a count of the rows.
type TallyMismatch struct {
	Campaign int64
	State    string // '' for the campaign's total
	Kept     Tally
	Counted  Tally
}

// Recount counts every campaign's targets again, by State and in total,
// and returns the tallies kept that differ from the count: none, unless a
// write forgot its counter. `pocdir audit check` and the tests run it.
func Recount(ctx context.Context, q db.Queryer) ([]TallyMismatch, error) {
	counted := map[tallyKey]Tally{}
	rows, err := q.QueryContext(ctx, `SELECT t.campaign_id, t.state_code, COUNT(*),
		SUM(CASE WHEN t.queued_at IS NOT NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN t.answered_at IS NOT NULL AND t.answered_at <= c.window_end THEN 1 ELSE 0 END),
		SUM(CASE WHEN t.answered_at > c.window_end THEN 1 ELSE 0 END),
		SUM(CASE WHEN t.answered_at IS NULL AND t.bounced_at IS NOT NULL THEN 1 ELSE 0 END)
		FROM check_targets t JOIN check_campaigns c ON c.id = t.campaign_id
		GROUP BY t.campaign_id, t.state_code`)
	if err != nil {
		return nil, fmt.Errorf("checks store: counting the targets again: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k tallyKey
		var n Tally
		if err := rows.Scan(scanTally(&n, &k.campaign, &k.state)...); err != nil {
			return nil, fmt.Errorf("checks store: counting the targets again: %w", err)
		}
		counted[k] = n
		total := counted[tallyKey{k.campaign, ""}]
		total.plus(n)
		counted[tallyKey{k.campaign, ""}] = total
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checks store: counting the targets again: %w", err)
	}
	kept := map[tallyKey]Tally{}
	rows, err = q.QueryContext(ctx, `SELECT k.campaign_id, k.state_code, `+tallyColumns+` FROM check_tallies k`)
	if err != nil {
		return nil, fmt.Errorf("checks store: reading the tallies: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k tallyKey
		var n Tally
		if err := rows.Scan(scanTally(&n, &k.campaign, &k.state)...); err != nil {
			return nil, fmt.Errorf("checks store: reading the tallies: %w", err)
		}
		kept[k] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checks store: reading the tallies: %w", err)
	}
	var out []TallyMismatch
	for k, n := range counted {
		if kept[k] != n {
			out = append(out, TallyMismatch{Campaign: k.campaign, State: k.state, Kept: kept[k], Counted: n})
		}
	}
	for k, n := range kept {
		if _, ok := counted[k]; !ok && n != (Tally{}) {
			out = append(out, TallyMismatch{Campaign: k.campaign, State: k.state, Kept: n})
		}
	}
	slices.SortFunc(out, func(x, y TallyMismatch) int {
		return cmp.Or(cmp.Compare(x.Campaign, y.Campaign), cmp.Compare(x.State, y.State))
	})
	return out, nil
}
