package comms

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/pocdir/pocdir/internal/db"
)

// The communications that wait for each State (at least one of its lines
// waits: waitingLine) are counted in comm_waiting, in the transactions
// that change the lines, as the stages are: the inbox's count, which every
// page shows, read every waiting line of the State, thousands for a State
// that never acknowledges. A line's waiting follows from the stage it is
// counted at (counted_stage) and its deadline, so syncStages, which moves
// the stages, moves this count too, and the writers of new lines add
// theirs. `pocdir audit check` and the tests count again (RecountWaiting).

// waitingAt is, in SQL, whether a line at the stage st (a column or an
// expression of comm_recipients) waits for its State, as waitingLine says
// it of the line's own columns.
func waitingAt(st string) string {
	return `(` + st + ` IN ('notified', 'delivered', 'bounced', 'opened') OR (` + st + ` = 'acknowledged' AND respond_by IS NOT NULL))`
}

// waits is waitingAt in Go.
func waits(stage string, respondBy bool) bool {
	switch stage {
	case "notified", "delivered", "bounced", "opened":
		return true
	case "acknowledged":
		return respondBy
	}
	return false
}

type txWaitingKey struct{}

// addWaiting adds n to the communications that wait for a State, in q's
// transaction.
func addWaiting(ctx context.Context, q db.Queryer, state string, n int) error {
	if n == 0 {
		return nil
	}
	return addCount(ctx, q, txWaitingKey{}, state, n, writeWaiting)
}

func writeWaiting(ctx context.Context, q db.Queryer, changes map[string]int) error {
	states := make([]string, 0, len(changes))
	for st, n := range changes {
		if n != 0 {
			states = append(states, st)
		}
	}
	if len(states) == 0 {
		return nil
	}
	slices.Sort(states)
	var values strings.Builder
	args := make([]any, 0, 2*len(states))
	for i, st := range states {
		if i > 0 {
			values.WriteString(", ")
		}
		fmt.Fprintf(&values, "($%d, $%d)", 2*i+1, 2*i+2)
		args = append(args, st, changes[st])
	}
	if _, err := db.PreparedExec(ctx, q, `INSERT INTO comm_waiting (state_code, n) VALUES `+values.String()+`
		ON CONFLICT (state_code) DO UPDATE SET n = comm_waiting.n + excluded.n`, args...); err != nil {
		return fmt.Errorf("comms store: counting the communications that wait: %w", err)
	}
	return nil
}

// waitingStates are the States that have a line of the communication that
// waits, as counted: what a send's new lines find before they are added.
func waitingStates(ctx context.Context, q db.Queryer, comm int64) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT state_code FROM comm_recipients WHERE comm_id = $1 AND `+waitingAt("counted_stage"), comm)
	if err != nil {
		return nil, fmt.Errorf("comms store: counting the communications that wait: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var st string
		if err := rows.Scan(&st); err != nil {
			return nil, fmt.Errorf("comms store: counting the communications that wait: %w", err)
		}
		out[st] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comms store: counting the communications that wait: %w", err)
	}
	return out, nil
}

// linePair is a communication and one of its recipient States.
type linePair struct {
	comm  int64
	state string
}

// syncWaiting moves the count of the pairs one of whose lines stopped or
// started waiting, from the lines' counted stages (what was counted) to
// their stages (what is): run by syncStages before it moves the counted
// stages.
func syncWaiting(ctx context.Context, q db.Queryer, pairs []linePair) error {
	slices.SortFunc(pairs, func(x, y linePair) int { return cmp.Or(cmp.Compare(x.comm, y.comm), cmp.Compare(x.state, y.state)) })
	pairs = slices.Compact(pairs)
	for _, p := range pairs {
		var was, is int
		if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(CASE WHEN `+waitingAt("counted_stage")+` THEN 1 ELSE 0 END), 0),
			COALESCE(MAX(CASE WHEN `+waitingAt(stageCase)+` THEN 1 ELSE 0 END), 0)
			FROM comm_recipients WHERE comm_id = $1 AND state_code = $2`, p.comm, p.state).Scan(&was, &is); err != nil {
			return fmt.Errorf("comms store: counting the communications that wait: %w", err)
		}
		if err := addWaiting(ctx, q, p.state, is-was); err != nil {
			return err
		}
	}
	return nil
}

// WaitingMismatch is a count of the communications that wait for a State
// that differs from a count of the lines.
type WaitingMismatch struct {
	State         string
	Kept, Counted int
}

// RecountWaiting counts again the communications that wait for each State
// and returns the counts kept that differ.
func RecountWaiting(ctx context.Context, q db.Queryer) ([]WaitingMismatch, error) {
	const what = "counting the communications that wait again"
	counted, err := readCounts(ctx, q, what, `SELECT state_code, COUNT(*) FROM (SELECT DISTINCT r.state_code, r.comm_id FROM comm_recipients r WHERE `+waitingLine+`) w GROUP BY state_code`)
	if err != nil {
		return nil, err
	}
	kept, err := readCounts(ctx, q, what, `SELECT state_code, n FROM comm_waiting`)
	if err != nil {
		return nil, err
	}
	var out []WaitingMismatch
	for st, n := range counted {
		if kept[st] != n {
			out = append(out, WaitingMismatch{State: st, Kept: kept[st], Counted: n})
		}
	}
	for st, n := range kept {
		if _, ok := counted[st]; !ok && n != 0 {
			out = append(out, WaitingMismatch{State: st, Kept: n})
		}
	}
	slices.SortFunc(out, func(x, y WaitingMismatch) int { return cmp.Compare(x.State, y.State) })
	return out, nil
}

// The requests to share that their sender has not answered are kept by
// sender in comm_consent_open (migration 00037), so that what waits for a
// State on what it sent reads its open requests, not every communication
// it ever sent: a request's event adds its row, its answer's removes it,
// in the same transaction (Service.event). `pocdir audit check` and the
// tests list them again (RecountConsentOpen).

// keepConsentOpen keeps comm_consent_open as e, just written, changes it:
// a request opens one, an answer to request ref closes it.
func keepConsentOpen(ctx context.Context, q db.Queryer, e *Event, ref int64) error {
	switch e.Kind {
	case EvConsentRequested:
		if _, err := q.ExecContext(ctx, `INSERT INTO comm_consent_open (request_id, sender_state, comm_id)
			SELECT $1, sender_state, id FROM comms WHERE id = $2`, e.ID, e.CommID); err != nil {
			return fmt.Errorf("comms store: keeping a request to share open: %w", err)
		}
	case EvConsentGranted, EvConsentRefused:
		if _, err := q.ExecContext(ctx, `DELETE FROM comm_consent_open WHERE request_id = $1`, ref); err != nil {
			return fmt.Errorf("comms store: closing a request to share: %w", err)
		}
	}
	return nil
}

// ConsentMismatch is a request to share that is open and not kept as
// such in comm_consent_open, or kept there and answered (or gone).
type ConsentMismatch struct {
	Request int64
	// Kept says it is kept open; the events say otherwise.
	Kept bool
}

// RecountConsentOpen lists again, from the events, the requests to share
// that their sender has not answered, and returns those that
// comm_consent_open keeps otherwise: open and not kept, or kept and not
// open (kept with another sender or communication: both), in the
// request's order.
func RecountConsentOpen(ctx context.Context, q db.Queryer) ([]ConsentMismatch, error) {
	const open = `SELECT e.id, c.sender_state, e.comm_id FROM comm_events e JOIN comms c ON c.id = e.comm_id WHERE e.kind = 'consent-requested'
		AND NOT EXISTS (SELECT 1 FROM comm_events x WHERE x.ref_id = e.id AND x.kind IN ('consent-granted', 'consent-refused'))`
	const kept = `SELECT request_id, sender_state, comm_id FROM comm_consent_open`
	rows, err := q.QueryContext(ctx, `SELECT id, 0 AS kept FROM (`+open+` EXCEPT `+kept+`) a
		UNION ALL SELECT request_id, 1 FROM (`+kept+` EXCEPT `+open+`) b ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("comms store: listing the open requests to share again: %w", err)
	}
	defer rows.Close()
	var out []ConsentMismatch
	for rows.Next() {
		var m ConsentMismatch
		if err := rows.Scan(&m.Request, &m.Kept); err != nil {
			return nil, fmt.Errorf("comms store: listing the open requests to share again: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comms store: listing the open requests to share again: %w", err)
	}
	return out, nil
}
