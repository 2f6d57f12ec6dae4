package comms

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
)

// The store of the acts received by email (bymail.go).

// lineByID returns a recipient line and its communication's id.
func lineByID(ctx context.Context, q db.Queryer, id int64) (*Recipient, int64, error) {
	var comm int64
	r, err := scanRecipient(rowWithComm{db.PreparedRow(ctx, q, `SELECT comm_id, `+recipientColumns+` FROM comm_recipients WHERE id = $1`, id), &comm})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, app.ErrNotFound("recipient")
	}
	if err != nil {
		return nil, 0, fmt.Errorf("comms store: reading recipient line %d: %w", id, err)
	}
	return r, comm, nil
}

// rowWithComm scans a line's communication id before its columns.
type rowWithComm struct {
	row  *sql.Row
	comm *int64
}

func (r rowWithComm) Scan(dest ...any) error { return r.row.Scan(append([]any{r.comm}, dest...)...) }

// lineByOutbox returns the line notified by an outbox message, with its
// communication's reference and the two States; id 0 when none was.
func lineByOutbox(ctx context.Context, q db.Queryer, outbox int64) (id int64, ref, sender, state string, err error) {
	err = q.QueryRowContext(ctx, `SELECT r.id, c.ref, c.sender_state, r.state_code FROM comm_recipients r JOIN comms c ON c.id = r.comm_id WHERE r.outbox_id = $1`, outbox).
		Scan(&id, &ref, &sender, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", "", "", nil
	}
	if err != nil {
		return 0, "", "", "", fmt.Errorf("comms store: finding the line of message %d: %w", outbox, err)
	}
	return id, ref, sender, state, nil
}

// setLateBounce marks a line bounced though it was delivered to the relay.
func setLateBounce(ctx context.Context, q db.Queryer, line int64, at time.Time, why string) error {
	res, err := q.ExecContext(ctx, `UPDATE comm_recipients SET bounced_at = $1, bounce_error = $2 WHERE id = $3 AND bounced_at IS NULL`, at, why, line)
	_, err = changedStages(ctx, q, res, err, "recording a late bounce", "id = $1", line)
	return err
}

// mailEvent reads an event of a communication, locked for its review.
func mailEvent(ctx context.Context, q db.Queryer, dialect db.Dialect, comm, id int64) (*Event, error) {
	var e Event
	err := q.QueryRowContext(ctx, `SELECT id, kind, state_code, actor, at, via, verification FROM comm_events WHERE id = $1 AND comm_id = $2 AND via = 'email'`+forUpdate(dialect), id, comm).
		Scan(&e.ID, &e.Kind, &e.State, &e.Actor, &e.At, &e.Via, &e.Verification)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("comms store: reading event %d: %w", id, err)
	}
	e.At = e.At.UTC()
	return &e, nil
}

func setVerification(ctx context.Context, q db.Queryer, id int64, to, by string) error {
	return exec(ctx, q, "recording a review", `UPDATE comm_events SET verification = $1, verified_by = $2 WHERE id = $3`, to, by, id)
}

// undoMailAct takes back, on a State's lines, what a rejected act set: the
// acknowledgement or the answer it recorded, if no later act replaced it.
func undoMailAct(ctx context.Context, q db.Queryer, comm int64, state string, e *Event) error {
	switch e.Kind {
	case EvAcknowledged:
		if err := exec(ctx, q, "undoing an acknowledgement", `UPDATE comm_recipients SET acked_at = NULL, acked_by = '' WHERE comm_id = $1 AND state_code = $2 AND acked_at = $3 AND acked_by = $4`,
			comm, state, e.At, e.Actor); err != nil {
			return err
		}
	case EvResponded, EvDeclined, EvDisputed, EvMoreInfo:
		if err := exec(ctx, q, "undoing an answer", `UPDATE comm_recipients SET outcome = '', outcome_at = NULL, outcome_by = '' WHERE comm_id = $1 AND state_code = $2 AND outcome_at = $3 AND outcome_by = $4`,
			comm, state, e.At, e.Actor); err != nil {
			return err
		}
	default:
		return nil
	}
	return syncStages(ctx, q, "comm_id = $1 AND state_code = $2", comm, state)
}
