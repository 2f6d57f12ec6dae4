package comms

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
)

const commColumns = `c.id, c.ref, c.thread_id, c.parent_id, c.forwarded_from, c.template_id, c.template_version, c.sender_state, c.sender_user,
	c.sender_email, c.sender_tz, c.to_states, c.level, c.urgency, c.tlp, c.respond_by, c.onward_consent, c.status, c.content, c.log_index,
	c.escalated_at, c.created_at, c.updated_at, c.sent_at, c.commit_salt, c.exercise_id, c.exercise`

func scanComm(sc interface{ Scan(...any) error }) (*Communication, error) {
	var c Communication
	var parent, fwd, logIdx, user, exercise sql.NullInt64
	var to string
	var salt sql.NullString
	var respondBy, escalated, sent sql.NullTime
	if err := sc.Scan(&c.ID, &c.Ref, &c.ThreadID, &parent, &fwd, &c.TemplateID, &c.TemplateVersion, &c.SenderState, &user,
		&c.SenderEmail, &c.SenderTZ, &to, &c.Level, &c.Urgency, &c.TLP, &respondBy, &c.OnwardConsent, &c.Status, &c.sealed, &logIdx,
		&escalated, &c.CreatedAt, &c.UpdatedAt, &sent, &salt, &exercise, &c.Exercise); err != nil {
		return nil, err
	}
	c.ParentID, c.ForwardedFrom, c.CommitSalt, c.senderUser, c.ExerciseID = parent.Int64, fwd.Int64, salt.String, user.Int64, exercise.Int64
	if logIdx.Valid {
		c.LogIndex = &logIdx.Int64
	}
	c.ToStates = []string{}
	if to != "" {
		c.ToStates = strings.Split(to, ",")
	}
	c.RespondBy, c.EscalatedAt, c.SentAt = db.TimeOf(respondBy), db.TimeOf(escalated), db.TimeOf(sent)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, nil
}

// load reads a communication, not found when there is none.
func (s *Service) load(ctx context.Context, id int64) (*Communication, error) {
	return loadComm(ctx, s.DB, id)
}

func loadComm(ctx context.Context, q db.Queryer, id int64) (*Communication, error) {
	c, err := scanComm(db.PreparedRow(ctx, q, `SELECT `+commColumns+` FROM comms c WHERE c.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.ErrNotFound("communication")
	}
	if err != nil {
		return nil, fmt.Errorf("comms store: reading communication %d: %w", id, err)
	}
	return c, nil
}

// commsByRef reads the id, reference, sender State and status of the
// communications with the references given (those that exist).
func commsByRef(ctx context.Context, q db.Queryer, refs []string) ([]*Communication, error) {
	var out []*Communication
	for len(refs) > 0 {
		k := min(len(refs), 200)
		args := make([]any, k)
		marks := make([]string, k)
		for i, r := range refs[:k] {
			args[i], marks[i] = r, "$"+strconv.Itoa(i+1)
		}
		refs = refs[k:]
		rows, err := q.QueryContext(ctx, `SELECT id, ref, sender_state, status FROM comms WHERE ref IN (`+strings.Join(marks, ",")+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("comms store: finding communications by reference: %w", err)
		}
		for rows.Next() {
			c := &Communication{}
			if err := rows.Scan(&c.ID, &c.Ref, &c.SenderState, &c.Status); err != nil {
				rows.Close()
				return nil, fmt.Errorf("comms store: finding communications by reference: %w", err)
			}
			out = append(out, c)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("comms store: finding communications by reference: %w", err)
		}
	}
	return out, nil
}

// queryComms reads the communications a query selects (commColumns under
// the alias c).
func queryComms(ctx context.Context, q db.Queryer, query string, args ...any) ([]*Communication, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("comms store: listing communications: %w", err)
	}
	defer rows.Close()
	var out []*Communication
	for rows.Next() {
		c, err := scanComm(rows)
		if err != nil {
			return nil, fmt.Errorf("comms store: listing communications: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comms store: listing communications: %w", err)
	}
	return out, nil
}

// insertComm writes a new communication with its sealed content.
func insertComm(ctx context.Context, tx *sql.Tx, c *Communication, sealed string) error {
	var parent, fwd any
	if c.ParentID != 0 {
		parent = c.ParentID
	}
	if c.ForwardedFrom != 0 {
		fwd = c.ForwardedFrom
	}
	var exercise any
	if c.ExerciseID != 0 {
		exercise = c.ExerciseID
	}
	var user any // none for a response received by email
	if c.senderUser != 0 {
		user = c.senderUser
	}
	if err := db.QueryRowTx(ctx, tx, `INSERT INTO comms (ref, thread_id, parent_id, forwarded_from, template_id, template_version, sender_state, sender_user,
		sender_email, to_states, level, urgency, tlp, respond_by, onward_consent, status, content, idem_key, created_at, updated_at, exercise_id, exercise)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, $20, $21) RETURNING id`,
		c.Ref, c.ThreadID, parent, fwd, c.TemplateID, c.TemplateVersion, c.SenderState, user, c.SenderEmail,
		strings.Join(c.ToStates, ","), c.Level, c.Urgency, c.TLP, c.RespondBy, c.OnwardConsent, c.Status, sealed, c.idemKey, c.CreatedAt, exercise, c.IsExercise()).Scan(&c.ID); err != nil {
		return fmt.Errorf("comms store: saving a communication: %w", err)
	}
	return nil
}

// updateDraft writes a draft's fields and sealed content.
func updateDraft(ctx context.Context, q db.Queryer, c *Communication, sealed string) error {
	return exec(ctx, q, "saving a draft", `UPDATE comms SET template_id = $1, template_version = $2, to_states = $3, level = $4, urgency = $5, tlp = $6,
		respond_by = $7, onward_consent = $8, content = $9, updated_at = $10, exercise = $12 WHERE id = $11`,
		c.TemplateID, c.TemplateVersion, strings.Join(c.ToStates, ","), c.Level, c.Urgency, c.TLP, c.RespondBy, c.OnwardConsent, sealed, c.UpdatedAt, c.ID,
		c.IsExercise())
}

// lockComm locks a communication's row for the transaction (on SQLite the
// transaction holds the one write lock) and returns its status.
func lockComm(ctx context.Context, tx *sql.Tx, dialect db.Dialect, id int64) (string, error) {
	var status string
	err := tx.QueryRowContext(ctx, `SELECT status FROM comms WHERE id = $1`+forUpdate(dialect), id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", app.ErrNotFound("communication")
	}
	if err != nil {
		return "", fmt.Errorf("comms store: locking communication %d: %w", id, err)
	}
	return status, nil
}

// markSent marks a draft sent, starts its thread when it opens one, and
// keeps the sender's time zone and the salt of its commitment, in one
// statement; it reports whether the communication was still a draft.
func markSent(ctx context.Context, tx *sql.Tx, id int64, now time.Time, zone, salt string) (bool, error) {
	res, err := db.ExecTx(ctx, tx, `UPDATE comms SET status = 'sent', sent_at = $1, updated_at = $1, sender_tz = $3, commit_salt = $4,
		thread_id = CASE WHEN thread_id = 0 THEN id ELSE thread_id END WHERE id = $2 AND status = 'draft'`, now, id, zone, salt)
	if err != nil {
		return false, fmt.Errorf("comms store: sending communication %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("comms store: sending communication %d: %w", id, err)
	}
	return n == 1, nil
}

// commByIdemKey returns the communication a user created with an
// idempotency key (0 when none).
func commByIdemKey(ctx context.Context, q db.Queryer, userID int64, key string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM comms WHERE sender_user = $1 AND idem_key = $2`, userID, key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("comms store: finding an idempotency key: %w", err)
	}
	return id, nil
}

func isUnique(err error) bool { return db.IsUniqueViolation(err) }

func forUpdate(dialect db.Dialect) string {
	if dialect == db.Postgres {
		return ` FOR UPDATE`
	}
	return ``
}

// isRecipient reports whether a State is among a communication's
// recipients, in or out of a transaction.
func isRecipient(ctx context.Context, q db.Queryer, id int64, state string) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM comm_recipients WHERE comm_id = $1 AND state_code = $2`, id, state).Scan(&n); err != nil {
		return false, fmt.Errorf("comms store: reading the recipients of %d: %w", id, err)
	}
	return n > 0, nil
}

// threadIDs lists the sent communications of a thread, in order; with a
// State, only those it sent or received (the others, which Thread would
// read one by one to find it may not see them, are not read at all: an
// exercise's inject to every State has each State's answer in its thread).
func threadIDs(ctx context.Context, q db.Queryer, thread int64, state string) ([]int64, error) {
	query, args := `SELECT id FROM comms WHERE thread_id = $1 AND status = 'sent' ORDER BY id`, []any{thread}
	if state != "" {
		query, args = `SELECT c.id FROM comms c WHERE c.thread_id = $1 AND c.status = 'sent'
			AND (c.sender_state = $2 OR EXISTS (SELECT 1 FROM comm_recipients r WHERE r.comm_id = c.id AND r.state_code = $2)) ORDER BY c.id`, []any{thread, state}
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("comms store: reading a thread: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("comms store: reading a thread: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comms store: reading a thread: %w", err)
	}
	return out, nil
}

func threadEvents(ctx context.Context, q db.Queryer, thread int64) ([]*Event, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, comm_id, kind, state_code, actor, target, note, ref_id, log_index, at, via, verification FROM comm_events WHERE thread_id = $1 ORDER BY id`, thread)
	if err != nil {
		return nil, fmt.Errorf("comms store: reading the events of a thread: %w", err)
	}
	defer rows.Close()
	var out []*Event
	for rows.Next() {
		var e Event
		var ref, idx sql.NullInt64
		if err := rows.Scan(&e.ID, &e.CommID, &e.Kind, &e.State, &e.Actor, &e.Target, &e.sealed, &ref, &idx, &e.At, &e.Via, &e.Verification); err != nil {
			return nil, fmt.Errorf("comms store: reading the events of a thread: %w", err)
		}
		e.RefID, e.At = ref.Int64, e.At.UTC()
		if idx.Valid {
			e.LogIndex = &idx.Int64
		}
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comms store: reading the events of a thread: %w", err)
	}
	return out, nil
}

// exec1 runs a conditional statement and reports whether it changed one
// row; what says what it does, for the error.
func exec1(ctx context.Context, q db.Queryer, what, query string, args ...any) (bool, error) {
	return db.Exec1(ctx, q, "comms store: "+what, query, args...)
}

func exec(ctx context.Context, q db.Queryer, what, query string, args ...any) error {
	return db.Exec(ctx, q, "comms store: "+what, query, args...)
}

// Routing preferences.

// tensionsAround returns the declared tensions that involve a State, as
// (declaring State, counterpart) pairs.
func tensionsAround(ctx context.Context, q db.Queryer, state string) (map[[2]string]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT state_code, counterpart FROM comm_tensions WHERE state_code = $1 OR counterpart = $1`, state)
	if err != nil {
		return nil, fmt.Errorf("comms store: reading declared tensions: %w", err)
	}
	defer rows.Close()
	out := map[[2]string]bool{}
	for rows.Next() {
		var a, b string
		if err := rows.Scan(&a, &b); err != nil {
			return nil, fmt.Errorf("comms store: reading declared tensions: %w", err)
		}
		out[[2]string{a, b}] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comms store: reading declared tensions: %w", err)
	}
	return out, nil
}

// declaredTensions returns the States with which a State declares tension.
func declaredTensions(ctx context.Context, q db.Queryer, state string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT counterpart FROM comm_tensions WHERE state_code = $1 ORDER BY counterpart`, state)
	if err != nil {
		return nil, fmt.Errorf("comms store: reading declared tensions: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("comms store: reading declared tensions: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comms store: reading declared tensions: %w", err)
	}
	return out, nil
}

func setTension(ctx context.Context, q db.Queryer, state, counterpart, by string, now time.Time, on bool) error {
	if on {
		return exec(ctx, q, "declaring tension", `INSERT INTO comm_tensions (state_code, counterpart, declared_by, declared_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			state, counterpart, by, now)
	}
	return exec(ctx, q, "ending a declared tension", `DELETE FROM comm_tensions WHERE state_code = $1 AND counterpart = $2`, state, counterpart)
}

// Recipients' lines.

// markOpened records the first opening of a communication by a recipient
// State, on its lines not yet opened; it reports whether any was.
func markOpened(ctx context.Context, q db.Queryer, comm int64, state, by string, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE comm_recipients SET opened_at = $1, opened_by = $2 WHERE comm_id = $3 AND state_code = $4 AND opened_at IS NULL AND moved_at IS NULL`,
		now, by, comm, state)
	return changedStages(ctx, q, res, err, "recording an opening", "comm_id = $1 AND state_code = $2", comm, state)
}

// markAcknowledged records a recipient State's acknowledgement (and the
// opening it implies); it reports whether the State had not acknowledged.
func markAcknowledged(ctx context.Context, q db.Queryer, comm int64, state, by string, now time.Time) (bool, error) {
	res, err := db.PreparedExec(ctx, q, `UPDATE comm_recipients SET acked_at = $1, acked_by = $2, opened_at = COALESCE(opened_at, $1),
		opened_by = CASE WHEN opened_by = '' THEN $2 ELSE opened_by END WHERE comm_id = $3 AND state_code = $4 AND acked_at IS NULL AND moved_at IS NULL`,
		now, by, comm, state)
	return changedStages(ctx, q, res, err, "recording an acknowledgement", "comm_id = $1 AND state_code = $2", comm, state)
}

// setOutcome records a recipient State's answer on its current lines.
func setOutcome(ctx context.Context, q db.Queryer, comm int64, state, outcome, by string, now time.Time) error {
	if err := exec(ctx, q, "recording an answer", `UPDATE comm_recipients SET outcome = $1, outcome_at = $2, outcome_by = $3, opened_at = COALESCE(opened_at, $2),
		opened_by = CASE WHEN opened_by = '' THEN $3 ELSE opened_by END WHERE comm_id = $4 AND state_code = $5 AND moved_at IS NULL`,
		outcome, now, by, comm, state); err != nil {
		return err
	}
	return syncStages(ctx, q, "comm_id = $1 AND state_code = $2", comm, state)
}

// escalate moves a technical communication to the diplomatic level; it
// reports whether it was still technical.
func escalate(ctx context.Context, q db.Queryer, id int64, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE comms SET level = 'diplomatic', escalated_at = $1, updated_at = $1 WHERE id = $2 AND level = 'technical'`, now, id)
	return affected(res, err, "escalating")
}

// Sharing with a third State.

func sharedWith(ctx context.Context, q db.Queryer, comm int64, third string) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM comm_events WHERE comm_id = $1 AND kind = 'forwarded' AND target = $2`, comm, third).Scan(&n); err != nil {
		return false, fmt.Errorf("comms store: reading the shares of %d: %w", comm, err)
	}
	return n > 0, nil
}

// consentPending reports whether a State asked to share a communication
// with a third State and has no answer yet.
func consentPending(ctx context.Context, q db.Queryer, comm int64, state, third string) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM comm_events r WHERE r.comm_id = $1 AND r.kind = 'consent-requested' AND r.state_code = $2 AND r.target = $3
		AND NOT EXISTS (SELECT 1 FROM comm_events x WHERE x.ref_id = r.id AND x.kind IN ('consent-granted', 'consent-refused'))`, comm, state, third).Scan(&n); err != nil {
		return false, fmt.Errorf("comms store: reading the requests to share %d: %w", comm, err)
	}
	return n > 0, nil
}

// consentRequest is a request to share a communication with a third State.
type consentRequest struct {
	state, third, actor string
	actorID             int64
}

// getConsentRequest reads a request to share (locking it, in a
// transaction on PostgreSQL); not found when there is none.
func getConsentRequest(ctx context.Context, q db.Queryer, dialect db.Dialect, comm, id int64) (*consentRequest, error) {
	var r consentRequest
	var actorID sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT state_code, target, actor, actor_id FROM comm_events WHERE id = $1 AND comm_id = $2 AND kind = 'consent-requested'`+forUpdate(dialect),
		id, comm).Scan(&r.state, &r.third, &r.actor, &actorID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.ErrNotFound("consent request")
	}
	if err != nil {
		return nil, fmt.Errorf("comms store: reading a request to share: %w", err)
	}
	r.actorID = actorID.Int64
	return &r, nil
}

func consentAnswered(ctx context.Context, q db.Queryer, request int64) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM comm_events WHERE ref_id = $1 AND kind IN ('consent-granted', 'consent-refused')`, request).Scan(&n); err != nil {
		return false, fmt.Errorf("comms store: reading the answer to a request to share: %w", err)
	}
	return n > 0, nil
}

// Threads.

// insertEvent appends an act to a thread and returns its id.
func insertEvent(ctx context.Context, tx *sql.Tx, e *Event, actorID, refID, idx any) error {
	if err := db.QueryRowTx(ctx, tx, `INSERT INTO comm_events (thread_id, comm_id, kind, state_code, actor, actor_id, target, ref_id, log_index, at, via, verification)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`, e.threadID, e.CommID, e.Kind, e.State, e.Actor, actorID, e.Target, refID, idx, e.At, e.Via, e.Verification).Scan(&e.ID); err != nil {
		return fmt.Errorf("comms store: recording an act: %w", err)
	}
	return nil
}

func setEventNote(ctx context.Context, q db.Queryer, id int64, sealed string) error {
	return exec(ctx, q, "recording a note", `UPDATE comm_events SET note = $1 WHERE id = $2`, sealed, id)
}

// recipientsOfMany reads the recipient lines of several communications in
// a few queries, calling add for each; only those of the State when one
// is given.
func recipientsOfMany(ctx context.Context, q db.Queryer, state string, ids []int64, add func(comm int64, r *Recipient)) error {
	return linesOfMany(ctx, q, state, ids, recipientColumns, func(sc scanner) (*Recipient, string, int64, error) {
		r, err := scanRecipient(sc)
		if err != nil {
			return nil, "", 0, err
		}
		return r, r.State, r.ID, nil
	}, add)
}

// stagesOfMany is recipientsOfMany for a list's page: of each line, its
// State and stage only.
func stagesOfMany(ctx context.Context, q db.Queryer, state string, ids []int64, add func(comm int64, l LineStage)) error {
	return linesOfMany(ctx, q, state, ids, `id, state_code, `+lineStageCase, func(sc scanner) (LineStage, string, int64, error) {
		var l LineStage
		var id int64
		err := sc.Scan(&id, &l.State, &l.Stage)
		return l, l.State, id, err
	}, add)
}

type scanner interface{ Scan(...any) error }

// linesOfMany reads columns of the recipient lines of several
// communications in a few queries, each line by scan (which says its State
// and id), calling add for each, by State then id; only those of the State
// when one is given.
func linesOfMany[T any](ctx context.Context, q db.Queryer, state string, ids []int64, columns string, scan func(scanner) (T, string, int64, error), add func(comm int64, line T)) error {
	if len(ids) == 0 {
		return nil
	}
	where, first := ``, 1
	if state != "" {
		where, first = `state_code = $1 AND `, 2
	}
	return db.InChunks(ids, 200, first, func(marks string, args []any) error {
		if state != "" {
			args = append([]any{state}, args...)
		}
		// Ordered here, by State then id (a communication's lines are all
		// in one chunk), rather than sorted whole by SQLite.
		rows, err := q.QueryContext(ctx, `SELECT comm_id, `+columns+` FROM comm_recipients WHERE `+where+`comm_id IN (`+marks+`)`, args...)
		if err != nil {
			return fmt.Errorf("comms store: reading recipient lines: %w", err)
		}
		defer rows.Close()
		type line struct {
			comm  int64
			state string
			id    int64
			l     T
		}
		var lines []line
		for rows.Next() {
			var x line
			if x.l, x.state, x.id, err = scan(prefixed{rows, &x.comm}); err != nil {
				return fmt.Errorf("comms store: reading recipient lines: %w", err)
			}
			lines = append(lines, x)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("comms store: reading recipient lines: %w", err)
		}
		slices.SortFunc(lines, func(x, y line) int { return cmp.Or(cmp.Compare(x.state, y.state), cmp.Compare(x.id, y.id)) })
		for _, x := range lines {
			add(x.comm, x.l)
		}
		return nil
	})
}

// prefixed scans a leading column into first, then the rest as sc would.
type prefixed struct {
	sc    interface{ Scan(...any) error }
	first *int64
}

func (p prefixed) Scan(dest ...any) error { return p.sc.Scan(append([]any{p.first}, dest...)...) }

// countSent counts the sent communications, from their volumes.
func countSent(ctx context.Context, q db.Queryer) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM comm_volumes`).Scan(&n); err != nil {
		return 0, fmt.Errorf("comms store: counting communications: %w", err)
	}
	return n, nil
}

// changedStages is affected for a statement on recipient lines: when it
// changed some, their count by stage follows (syncStages of where).
func changedStages(ctx context.Context, q db.Queryer, res sql.Result, err error, what, where string, args ...any) (bool, error) {
	ok, err := affected(res, err, what)
	if err != nil || !ok {
		return ok, err
	}
	return true, syncStages(ctx, q, where, args...)
}

// affected reports whether a statement changed a row.
func affected(res sql.Result, err error, what string) (bool, error) {
	if err != nil {
		return false, fmt.Errorf("comms store: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("comms store: %s: %w", what, err)
	}
	return n > 0, nil
}

// listComms reads one page of a box: a State's "out" (sent by it),
// "drafts", "in" (received) or, by default, sent and received; "all-sent"
// is every sent communication (the Secretariat's metadata). from and to,
// when set, bound the creation time. The page is newest first, by keyset
// on (created_at, id): at most limit of those older than the cursor, or,
// with k.After, of those newer than it (then oldest first: the rows come
// in the order of the walk). Each walk follows an index, so that a page
// costs the same after ten years: the sent ones along comms_sent_list or
// comms_sender_list, the received ones along the State's lines in their
// communications' order (comm_recipients_list) rather than every sent
// communication asked whether the State received it.
func listComms(ctx context.Context, q db.Queryer, state, box string, from, to time.Time, k app.Cursor, limit int) ([]*Communication, error) {
	args := []any{}
	arg := func(v any) string {
		args = append(args, v)
		return `$` + strconv.Itoa(len(args))
	}
	var st string
	if box != "all-sent" {
		st = arg(state)
	}
	var fromArg, toArg, atArg, idArg string
	if !from.IsZero() {
		fromArg = arg(from.UTC())
	}
	if !to.IsZero() {
		toArg = arg(to.UTC())
	}
	if !k.At.IsZero() {
		atArg, idArg = arg(k.At.UTC()), arg(k.ID)
	}
	lim := arg(limit)
	// bounds are the conditions of the dates and the cursor on a walk's
	// columns of creation time and id; order is its order.
	bounds := func(t, id string) string {
		w := ``
		if fromArg != "" {
			w += ` AND ` + t + ` >= ` + fromArg
		}
		if toArg != "" {
			w += ` AND ` + t + ` < ` + toArg
		}
		if atArg != "" {
			cmp := `<`
			if k.After {
				cmp = `>`
			}
			w += ` AND (` + t + ` ` + cmp + ` ` + atArg + ` OR (` + t + ` = ` + atArg + ` AND ` + id + ` ` + cmp + ` ` + idArg + `))`
		}
		return w
	}
	order := func(t, id string) string {
		if k.After {
			return ` ORDER BY ` + t + `, ` + id
		}
		return ` ORDER BY ` + t + ` DESC, ` + id + ` DESC`
	}
	// Each walk gives the creation time and the id of at most limit rows,
	// in its order; the page's rows are then read by id and ordered here,
	// so that SQLite sorts pairs of keys, not whole rows with their
	// content.
	sent := func(status string) string {
		return `SELECT c.created_at AS t, c.id FROM comms c WHERE c.sender_state = ` + st + ` AND c.status = '` + status + `'` + bounds("c.created_at", "c.id") +
			order("c.created_at", "c.id") + ` LIMIT ` + lim
	}
	// The State's lines (one or more a communication: one each of its PoCs
	// reached) are lines of sent communications.
	received := `SELECT r.comm_created_at AS t, r.comm_id AS id FROM comm_recipients r WHERE r.state_code = ` + st + bounds("r.comm_created_at", "r.comm_id") +
		` GROUP BY r.comm_created_at, r.comm_id` + order("r.comm_created_at", "r.comm_id") + ` LIMIT ` + lim
	var ids string
	switch box {
	case "all-sent":
		// One walk along comms_sent_list, in its order: nothing to sort.
		return queryComms(ctx, q, `SELECT `+commColumns+` FROM comms c WHERE c.status = 'sent'`+bounds("c.created_at", "c.id")+
			order("c.created_at", "c.id")+` LIMIT `+lim, args...)
	case "out":
		ids = sent("sent")
	case "drafts":
		ids = sent("draft")
	case "in":
		ids = received
	default:
		// The two walks, merged: a State never receives what it sent, and
		// UNION would show such a one once.
		ids = `SELECT t, id FROM (` + sent("sent") + `) s UNION SELECT t, id FROM (` + received + `) r` + order("t", "id") + ` LIMIT ` + lim
	}
	list, err := queryComms(ctx, q, `SELECT `+commColumns+` FROM comms c WHERE c.id IN (SELECT id FROM (`+ids+`) w)`, args...)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(list, func(x, y *Communication) int {
		c := cmp.Or(x.CreatedAt.Compare(y.CreatedAt), cmp.Compare(x.ID, y.ID))
		if !k.After {
			c = -c
		}
		return c
	})
	return list, nil
}

// eachLoggedComm calls fn with every communication that has a log entry,
// in order, one row at a time.
func eachLoggedComm(ctx context.Context, q db.Queryer, fn func(*Communication)) error {
	rows, err := q.QueryContext(ctx, `SELECT `+commColumns+` FROM comms c WHERE c.log_index IS NOT NULL ORDER BY c.id`)
	if err != nil {
		return fmt.Errorf("comms store: reading the logged communications: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanComm(rows)
		if err != nil {
			return fmt.Errorf("comms store: reading the logged communications: %w", err)
		}
		fn(c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("comms store: reading the logged communications: %w", err)
	}
	return nil
}
