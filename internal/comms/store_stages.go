package comms

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pocdir/pocdir/internal/db"
)

// The recipient lines are counted by State and stage in comm_stages, in
// the transaction that changes a line (issue 19 §4): the Secretariat's
// overview of communications reads a few rows where it counted every line
// of ten years. Each line keeps the stage it is counted at
// (counted_stage): after a statement that may change lines, syncStages
// finds those whose stage is no longer the one counted, moves their count
// and their counted stage, in the same transaction. A new line counts as
// notified, its column's default. The counts are added up and written
// just before the transaction commits, in the order of their keys, as the
// volumes are.

// stageWhens are the furthest step a recipient line reached, in SQL, as
// Recipient.Stage says it, short of notified.
const stageWhens = `CASE WHEN moved_at IS NOT NULL THEN 'moved' WHEN outcome <> '' THEN outcome WHEN acked_at IS NOT NULL THEN 'acknowledged'
	WHEN opened_at IS NOT NULL THEN 'opened' WHEN bounced_at IS NOT NULL THEN 'bounced' WHEN delivered_at IS NOT NULL THEN 'delivered'`

// stageCase is the stage a line is counted at: a line not notified yet
// counts as notified (its column's default).
const stageCase = stageWhens + ` ELSE 'notified' END`

// lineStageCase is a line's stage exactly as Recipient.Stage says it.
const lineStageCase = stageWhens + ` WHEN notified_at IS NOT NULL THEN 'notified' ELSE 'pending' END`

type stageKey struct{ state, stage string }

type txStagesKey struct{}

// addStage adds n to the lines of a State at a stage, in q's transaction.
func addStage(ctx context.Context, q db.Queryer, k stageKey, n int) error {
	return addCount(ctx, q, txStagesKey{}, k, n, writeStages)
}

func writeStages(ctx context.Context, q db.Queryer, changes map[stageKey]int) error {
	keys := make([]stageKey, 0, len(changes))
	for k := range changes {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y stageKey) int { return cmp.Or(cmp.Compare(x.state, y.state), cmp.Compare(x.stage, y.stage)) })
	// One statement for all the rows (a send to five States changes five),
	// which takes their locks in the order of the keys.
	var values strings.Builder
	var args []any
	for _, k := range keys {
		if changes[k] == 0 {
			continue
		}
		if len(args) > 0 {
			values.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&values, "($%d, $%d, $%d)", n+1, n+2, n+3)
		args = append(args, k.state, k.stage, changes[k])
	}
	if len(args) == 0 {
		return nil
	}
	if _, err := db.PreparedExec(ctx, q, `INSERT INTO comm_stages (state_code, stage, n) VALUES `+values.String()+`
		ON CONFLICT (state_code, stage) DO UPDATE SET n = comm_stages.n + excluded.n`, args...); err != nil {
		return fmt.Errorf("comms store: counting the recipient lines: %w", err)
	}
	return nil
}

// syncStages moves the count of the lines that where selects (with args)
// whose stage changed: run after each statement that may change a line's
// stage, in its transaction (on PostgreSQL, the lines it changed are
// locked by it until the commit).
func syncStages(ctx context.Context, q db.Queryer, where string, args ...any) error {
	rows, err := q.QueryContext(ctx, `SELECT id, comm_id, state_code, counted_stage, `+stageCase+`, respond_by IS NOT NULL FROM comm_recipients
		WHERE (`+where+`) AND counted_stage <> `+stageCase, args...)
	if err != nil {
		return fmt.Errorf("comms store: counting the recipient lines: %w", err)
	}
	type moved struct {
		id, comm        int64
		state, from, to string
		due             bool
	}
	var ms []moved
	var pairs []linePair
	for rows.Next() {
		var m moved
		if err := rows.Scan(&m.id, &m.comm, &m.state, &m.from, &m.to, &m.due); err != nil {
			rows.Close()
			return fmt.Errorf("comms store: counting the recipient lines: %w", err)
		}
		ms = append(ms, m)
		if waits(m.from, m.due) != waits(m.to, m.due) {
			pairs = append(pairs, linePair{m.comm, m.state})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("comms store: counting the recipient lines: %w", err)
	}
	// The communications that wait, before the counted stages move.
	if err := syncWaiting(ctx, q, pairs); err != nil {
		return err
	}
	// The lines that reached one stage move with one statement (a burst's
	// deliveries: hundreds of lines at once).
	byStage := map[string][]int64{}
	for _, m := range ms {
		byStage[m.to] = append(byStage[m.to], m.id)
		if err := addStage(ctx, q, stageKey{m.state, m.from}, -1); err != nil {
			return err
		}
		if err := addStage(ctx, q, stageKey{m.state, m.to}, 1); err != nil {
			return err
		}
	}
	for _, to := range slices.Sorted(maps.Keys(byStage)) {
		if err := db.InChunks(byStage[to], linesPerStatement, 2, func(marks string, args []any) error {
			_, err := q.ExecContext(ctx, `UPDATE comm_recipients SET counted_stage = $1 WHERE id IN (`+marks+`)`, append([]any{to}, args...)...)
			return err
		}); err != nil {
			return fmt.Errorf("comms store: counting the recipient lines: %w", err)
		}
	}
	return nil
}

// countStages counts the recipient lines at each stage, from the counts
// kept.
func countStages(ctx context.Context, q db.Queryer) (map[string]int, error) {
	return readCounts(ctx, q, "counting recipient lines", `SELECT stage, SUM(n) FROM comm_stages GROUP BY stage`)
}

// readCounts reads the rows of a name and a count that query selects,
// without the zeros; what says what it counts, for its errors.
func readCounts(ctx context.Context, q db.Queryer, what, query string) (map[string]int, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("comms store: %s: %w", what, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("comms store: %s: %w", what, err)
		}
		if n != 0 {
			out[k] += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comms store: %s: %w", what, err)
	}
	return out, nil
}

// StageMismatch is a count of recipient lines kept that differs from a
// count of the lines.
type StageMismatch struct {
	State, Stage  string
	Kept, Counted int
}

// RecountStages counts every recipient line again by State and stage and
// returns the counts kept that differ: none, unless a write forgot to
// move its lines' count. `pocdir audit check` and the tests run it.
func RecountStages(ctx context.Context, q db.Queryer) ([]StageMismatch, error) {
	counted, err := readStages(ctx, q, `SELECT state_code, `+stageCase+`, COUNT(*) FROM comm_recipients GROUP BY 1, 2`)
	if err != nil {
		return nil, err
	}
	kept, err := readStages(ctx, q, `SELECT state_code, stage, n FROM comm_stages`)
	if err != nil {
		return nil, err
	}
	var out []StageMismatch
	for k, n := range counted {
		if kept[k] != n {
			out = append(out, StageMismatch{State: k.state, Stage: k.stage, Kept: kept[k], Counted: n})
		}
	}
	for k, n := range kept {
		if _, ok := counted[k]; !ok && n != 0 {
			out = append(out, StageMismatch{State: k.state, Stage: k.stage, Kept: n})
		}
	}
	slices.SortFunc(out, func(x, y StageMismatch) int {
		return cmp.Or(cmp.Compare(x.State, y.State), cmp.Compare(x.Stage, y.Stage))
	})
	return out, nil
}

func readStages(ctx context.Context, q db.Queryer, query string) (map[stageKey]int, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("comms store: counting the recipient lines again: %w", err)
	}
	defer rows.Close()
	out := map[stageKey]int{}
	for rows.Next() {
		var k stageKey
		var n int
		if err := rows.Scan(&k.state, &k.stage, &n); err != nil {
			return nil, fmt.Errorf("comms store: counting the recipient lines again: %w", err)
		}
		out[k] += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comms store: counting the recipient lines again: %w", err)
	}
	return out, nil
}
