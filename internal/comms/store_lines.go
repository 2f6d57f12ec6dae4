package comms

// The recipient lines of communications: one per PoC a communication
// reached, read, written in batches at send time, and followed by the
// background job (delivery, bounce, reminder, hand-over to an alternate).

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/pocdir/pocdir/internal/db"
)

const recipientColumns = `id, state_code, poc_id, level, agency, address, time_zone, route, encrypted, notified_at, delivered_at, bounced_at, bounce_error,
	opened_at, opened_by, acked_at, acked_by, outcome, outcome_at, outcome_by, reminded_at, moved_at`

func scanRecipient(sc interface{ Scan(...any) error }) (*Recipient, error) {
	var r Recipient
	var poc sql.NullInt64
	var notified, delivered, bounced, opened, acked, outcome, reminded, moved sql.NullTime
	if err := sc.Scan(&r.ID, &r.State, &poc, &r.Level, &r.Agency, &r.Address, &r.TimeZone, &r.Route, &r.Encrypted, &notified, &delivered, &bounced, &r.BounceError,
		&opened, &r.OpenedBy, &acked, &r.AckedBy, &r.Outcome, &outcome, &r.OutcomeBy, &reminded, &moved); err != nil {
		return nil, err
	}
	r.PoCID = poc.Int64
	r.NotifiedAt, r.DeliveredAt, r.BouncedAt, r.OpenedAt = db.TimeOf(notified), db.TimeOf(delivered), db.TimeOf(bounced), db.TimeOf(opened)
	r.AckedAt, r.OutcomeAt, r.RemindedAt, r.MovedAt = db.TimeOf(acked), db.TimeOf(outcome), db.TimeOf(reminded), db.TimeOf(moved)
	return &r, nil
}

func recipientsOf(ctx context.Context, q db.Queryer, id int64) ([]*Recipient, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+recipientColumns+` FROM comm_recipients WHERE comm_id = $1 ORDER BY state_code, id`, id)
	if err != nil {
		return nil, fmt.Errorf("comms store: reading the recipient lines: %w", err)
	}
	defer rows.Close()
	out := []*Recipient{}
	for rows.Next() {
		r, err := scanRecipient(rows)
		if err != nil {
			return nil, fmt.Errorf("comms store: reading the recipient lines: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comms store: reading the recipient lines: %w", err)
	}
	return out, nil
}

// insertLine writes one recipient line.
const insertLine = `INSERT INTO comm_recipients (comm_id, state_code, poc_id, level, agency, address, time_zone, route, encrypted, notified_at, outbox_id,
		respond_by, urgency_rank, sent_at, comm_created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`

// recipientLines writes the recipient lines of the demonstration's history
// one by one, through the statement cache (parsing the SQL once per line
// was most of the cost on SQLite).
type recipientLines struct {
	tx *sql.Tx
	// pairs are the communications and States given a line: the first
	// line of each makes its communication wait for the State (the lines
	// are those of a communication being sent, which has none before).
	pairs map[linePair]bool
}

func newRecipientLines(tx *sql.Tx) *recipientLines {
	return &recipientLines{tx: tx, pairs: map[linePair]bool{}}
}

// add writes a line of the communication c (sent: its SentAt is set). The
// line carries what orders c in its State's inbox and lists (lineOrder).
func (l *recipientLines) add(ctx context.Context, c *Communication, t target, addr string, encrypted bool, now time.Time, outbox int64) error {
	comm := c.ID
	o := lineOrderOf(c)
	if _, err := db.ExecTx(ctx, l.tx, insertLine, comm, t.poc.State, t.poc.ID, string(t.poc.Level), t.poc.Agency, addr, t.poc.TimeZone, t.route, encrypted, now, outbox,
		o.respondBy, o.rank, o.sentAt, o.createdAt); err != nil {
		return fmt.Errorf("comms store: adding a recipient of %d: %w", comm, err)
	}
	if p := (linePair{comm, t.poc.State}); !l.pairs[p] {
		l.pairs[p] = true
		if err := addWaiting(ctx, l.tx, p.state, 1); err != nil {
			return err
		}
	}
	return addStage(ctx, l.tx, stageKey{t.poc.State, "notified"}, 1) // the column's default
}

// lineOrder is what a recipient line copies of its communication (all
// fixed once sent) so that a State's lines are read in the order of its
// inbox (comm_recipients_waiting: respond_by, the urgency's rank, sent_at)
// and of its list of communications (comm_recipients_list: created_at)
// from indexes of the lines alone, without sorting every line of ten
// years.
type lineOrder struct {
	respondBy, sentAt any
	rank              int
	createdAt         time.Time
}

func lineOrderOf(c *Communication) lineOrder {
	o := lineOrder{rank: urgencyRankOf(c.Urgency), createdAt: c.CreatedAt.UTC()}
	if c.RespondBy != nil {
		o.respondBy = c.RespondBy.UTC()
	}
	if c.SentAt != nil {
		o.sentAt = c.SentAt.UTC()
	}
	return o
}

// recipientRow is a recipient line to write with insertRecipients.
type recipientRow struct {
	t         target
	addr      string
	encrypted bool
	outbox    int64
}

// recipientRows is how many lines insertRecipients writes in one
// statement (15 values each).
const recipientRows = 200

// insertRecipients writes a communication's recipient lines (first: its
// first ones, as it is sent) with one multi-row INSERT per recipientRows
// lines: a round trip per line was, with the outbox's, most of the time of
// an inject to 193 States on PostgreSQL. It returns the lines' ids by the
// outbox message that notifies each.
func insertRecipients(ctx context.Context, d *db.DB, tx *sql.Tx, c *Communication, first bool, now time.Time, rs []recipientRow) (map[int64]int64, error) {
	// Each line carries what orders the communication in its State's inbox
	// and lists (lineOrder).
	o := lineOrderOf(c)
	comm := c.ID
	// A State given its first waiting line of the communication (each of
	// a send's: first; a hand-over's State has one already) makes it wait.
	already := map[string]bool{}
	if !first {
		var err error
		if already, err = waitingStates(ctx, tx, comm); err != nil {
			return nil, err
		}
	}
	for _, r := range rs {
		if st := r.t.poc.State; !already[st] {
			already[st] = true
			if err := addWaiting(ctx, tx, st, 1); err != nil {
				return nil, err
			}
		}
	}
	byOutbox := make(map[int64]int64, len(rs))
	for start := 0; start < len(rs); start += recipientRows {
		part := rs[start:min(start+recipientRows, len(rs))]
		args := make([]any, 0, 15*len(part))
		for _, r := range part {
			p := r.t.poc
			args = append(args, comm, p.State, p.ID, string(p.Level), p.Agency, r.addr, p.TimeZone, r.t.route, r.encrypted, now, r.outbox,
				o.respondBy, o.rank, o.sentAt, o.createdAt)
		}
		if err := insertLines(ctx, tx, `INSERT INTO comm_recipients (comm_id, state_code, poc_id, level, agency, address, time_zone, route, encrypted,
			notified_at, outbox_id, respond_by, urgency_rank, sent_at, comm_created_at) VALUES `+d.Values(len(part), 15)+` RETURNING id, outbox_id`, args, byOutbox); err != nil {
			return nil, fmt.Errorf("comms store: adding %d recipients of %d: %w", len(part), comm, err)
		}
	}
	for _, r := range rs {
		if err := addStage(ctx, tx, stageKey{r.t.poc.State, "notified"}, 1); err != nil { // the column's default
			return nil, err
		}
	}
	return byOutbox, nil
}

// insertLines runs a multi-row insert of lines and adds each line's id to
// byOutbox under the outbox message that notifies it: the insert's own
// answer, matched by the message (the order of RETURNING's rows is not
// promised), rather than a query for the lines once written.
func insertLines(ctx context.Context, tx *sql.Tx, query string, args []any, byOutbox map[int64]int64) error {
	rows, err := db.QueryTx(ctx, tx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, outbox int64
		if err := rows.Scan(&id, &outbox); err != nil {
			return err
		}
		byOutbox[outbox] = id
	}
	return rows.Err()
}

// The background job.

// undeliveredLine is a recipient line whose notification has neither been
// delivered nor bounced, with what the log names it by.
type undeliveredLine struct {
	id          int64
	state       string
	ref, sender string
}

// undeliveredLines returns, by outbox message, the recipient lines whose
// notification has neither been delivered nor bounced.
func undeliveredLines(ctx context.Context, q db.Queryer) (map[int64]undeliveredLine, error) {
	rows, err := q.QueryContext(ctx, `SELECT r.id, r.outbox_id, r.state_code, c.ref, c.sender_state FROM comm_recipients r JOIN comms c ON c.id = r.comm_id
		WHERE r.delivered_at IS NULL AND r.bounced_at IS NULL AND r.outbox_id IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("comms store: listing undelivered lines: %w", err)
	}
	defer rows.Close()
	out := map[int64]undeliveredLine{}
	for rows.Next() {
		var l undeliveredLine
		var outbox int64
		if err := rows.Scan(&l.id, &outbox, &l.state, &l.ref, &l.sender); err != nil {
			return nil, fmt.Errorf("comms store: listing undelivered lines: %w", err)
		}
		out[outbox] = l
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comms store: listing undelivered lines: %w", err)
	}
	return out, nil
}

// linesPerStatement is how many recipient lines one statement changes at
// most, when many change at once.
var linesPerStatement = 500

// setDelivered records that the notifications of lines reached the mail
// server at the time given, with a few statements for hundreds of lines:
// a burst's thousands are recorded in a few dozen, not a few per line.
func setDelivered(ctx context.Context, q db.Queryer, lines []int64, at time.Time) error {
	return db.InChunks(lines, linesPerStatement, 1, func(marks string, args []any) error {
		res, err := q.ExecContext(ctx, `UPDATE comm_recipients SET delivered_at = $`+strconv.Itoa(len(args)+1)+` WHERE id IN (`+marks+`) AND delivered_at IS NULL`,
			append(slices.Clip(args), at)...)
		_, err = changedStages(ctx, q, res, err, "recording deliveries", "id IN ("+marks+")", args...)
		return err
	})
}

func setBounced(ctx context.Context, q db.Queryer, line int64, at time.Time, why string) error {
	res, err := q.ExecContext(ctx, `UPDATE comm_recipients SET bounced_at = $1, bounce_error = $2 WHERE id = $3 AND bounced_at IS NULL`, at, why, line)
	_, err = changedStages(ctx, q, res, err, "recording a bounce", "id = $1", line)
	return err
}

// remindable returns the sent communications with a response time still
// ahead and a line not reminded, not answered and not moved.
func remindable(ctx context.Context, q db.Queryer, now time.Time) ([]*Communication, error) {
	return queryComms(ctx, q, `SELECT `+commColumns+` FROM comms c WHERE c.status = 'sent' AND c.respond_by > $1
		AND EXISTS (SELECT 1 FROM comm_recipients r WHERE r.comm_id = c.id AND r.reminded_at IS NULL AND r.outcome = '' AND r.moved_at IS NULL)`, now)
}

// markReminded records a reminder on a line not yet reminded nor answered;
// it reports whether it did.
func markReminded(ctx context.Context, q db.Queryer, line int64, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE comm_recipients SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL AND outcome = ''`, now, line)
	return affected(res, err, "recording a reminder")
}

// openLine is a recipient line still waiting for its PoC.
type openLine struct {
	id, comm     int64
	state, level string
}

// openLinesOf returns the lines of the PoCs that are still open: not
// acknowledged, answered or moved.
func openLinesOf(ctx context.Context, q db.Queryer, pocs []int64) ([]openLine, error) {
	var out []openLine
	err := db.InChunks(pocs, 200, 1, func(marks string, args []any) error {
		rows, err := q.QueryContext(ctx, `SELECT id, comm_id, state_code, level FROM comm_recipients
			WHERE moved_at IS NULL AND acked_at IS NULL AND outcome = '' AND poc_id IN (`+marks+`) ORDER BY id`, args...)
		if err != nil {
			return fmt.Errorf("comms store: listing the open lines of departed PoCs: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var l openLine
			if err := rows.Scan(&l.id, &l.comm, &l.state, &l.level); err != nil {
				return fmt.Errorf("comms store: listing the open lines of departed PoCs: %w", err)
			}
			out = append(out, l)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("comms store: listing the open lines of departed PoCs: %w", err)
		}
		return nil
	})
	return out, err
}

// markMoved records that a line was handed to another PoC; it reports
// whether it had not been yet.
func markMoved(ctx context.Context, q db.Queryer, line int64, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE comm_recipients SET moved_at = $1 WHERE id = $2 AND moved_at IS NULL`, now, line)
	return changedStages(ctx, q, res, err, "handing a line over", "id = $1", line)
}
