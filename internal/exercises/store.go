package exercises

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
)

const exerciseColumns = `id, name, objectives, starts_at, ends_at, target_ack_min, target_answer_min, note, note_at, created_by, created_at, updated_at,
	status, proposed_by_state, agreed_by, agreed_at, first_agreed_by, first_agreed_by_id, first_agreed_at, withdrawn_by, withdrawn_at,
	declined_by, declined_at, declined_reason`

func scanExercise(sc interface{ Scan(...any) error }) (*Exercise, error) {
	var e Exercise
	var noteAt, agreedAt, firstAt, withdrawnAt, declinedAt sql.NullTime
	var firstID sql.NullInt64
	if err := sc.Scan(&e.ID, &e.Name, &e.Objectives, &e.StartsAt, &e.EndsAt, &e.TargetAck, &e.TargetAnswer, &e.Note, &noteAt,
		&e.CreatedBy, &e.CreatedAt, &e.UpdatedAt, &e.Status, &e.ProposedBy, &e.AgreedBy, &agreedAt,
		&e.FirstAgreedBy, &firstID, &firstAt, &e.WithdrawnBy, &withdrawnAt,
		&e.DeclinedBy, &declinedAt, &e.DeclineReason); err != nil {
		return nil, err
	}
	e.AgreedAt, e.FirstAgreedAt, e.WithdrawnAt, e.firstAgreedByID = db.TimeOf(agreedAt), db.TimeOf(firstAt), db.TimeOf(withdrawnAt), firstID.Int64
	e.StartsAt, e.EndsAt, e.CreatedAt, e.UpdatedAt = e.StartsAt.UTC(), e.EndsAt.UTC(), e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	e.NoteAt, e.DeclinedAt = db.TimeOf(noteAt), db.TimeOf(declinedAt)
	e.Participants, e.Injects = []Participant{}, []*Inject{}
	return &e, nil
}

// insertExercise writes a new exercise and its participants.
func insertExercise(ctx context.Context, tx *sql.Tx, e *Exercise) error {
	err := tx.QueryRowContext(ctx, `INSERT INTO exercises (name, objectives, starts_at, ends_at, target_ack_min, target_answer_min, created_by, created_at, updated_at,
		status, proposed_by_state, agreed_by, agreed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11, $12) RETURNING id`,
		e.Name, e.Objectives, e.StartsAt, e.EndsAt, e.TargetAck, e.TargetAnswer, e.CreatedBy, e.CreatedAt,
		e.Status, e.ProposedBy, e.AgreedBy, timeArg(e.AgreedAt)).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("exercises: unable to save an exercise: %w", err)
	}
	for _, p := range e.Participants {
		if _, err := tx.ExecContext(ctx, `INSERT INTO exercise_states (exercise_id, state_code, level) VALUES ($1, $2, $3)`, e.ID, p.State, p.Level); err != nil {
			return fmt.Errorf("exercises: unable to save a participant: %w", err)
		}
	}
	return nil
}

func timeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

// firstAgree records a Secretariat officer's agreement to a draft, which
// then waits for a second officer's confirmation; it reports whether it
// was still a draft.
func firstAgree(ctx context.Context, tx *sql.Tx, id, byID int64, by string, now time.Time) (bool, error) {
	return db.Exec1(ctx, tx, "exercises: unable to agree to an exercise", `UPDATE exercises SET status = $1, first_agreed_by = $2, first_agreed_by_id = $3,
		first_agreed_at = $4, updated_at = $4 WHERE id = $5 AND status = $6`, Agreeing, by, byID, now, id, Draft)
}

// confirmAgreement turns an exercise that one officer agreed to into an
// agreed one, by a second officer; it reports whether it still waited for
// the confirmation and the first agreement was not byID's (the service has
// checked; the statement checks again, in the transaction).
func confirmAgreement(ctx context.Context, tx *sql.Tx, id, byID int64, by string, now time.Time) (bool, error) {
	return db.Exec1(ctx, tx, "exercises: unable to confirm the agreement to an exercise", `UPDATE exercises SET status = $1, agreed_by = $2, agreed_at = $3,
		updated_at = $3 WHERE id = $4 AND status = $5 AND first_agreed_by_id <> $6 AND LOWER(first_agreed_by) <> LOWER($2)`, Agreed, by, now, id, Agreeing, byID)
}

// withdrawProposal marks a proposal withdrawn; it reports whether it was
// still waiting for the Secretariat.
func withdrawProposal(ctx context.Context, tx *sql.Tx, id int64, by string, now time.Time) (bool, error) {
	return db.Exec1(ctx, tx, "exercises: unable to withdraw a proposed exercise", `UPDATE exercises SET status = $1, withdrawn_by = $2, withdrawn_at = $3,
		updated_at = $3 WHERE id = $4 AND status IN ($5, $6)`, Withdrawn, by, now, id, Draft, Agreeing)
}

// declineProposal marks a proposal declined, with the reason; it reports
// whether it was still waiting for the Secretariat.
func declineProposal(ctx context.Context, tx *sql.Tx, id int64, by, reason string, now time.Time) (bool, error) {
	return db.Exec1(ctx, tx, "exercises: unable to decline a proposed exercise", `UPDATE exercises SET status = $1, declined_by = $2, declined_at = $3,
		declined_reason = $4, updated_at = $3 WHERE id = $5 AND status IN ($6, $7)`, Declined, by, now, reason, id, Draft, Agreeing)
}

// awaitingAgreement reads the exercises that wait for the Secretariat: a
// draft to agree, or an agreement to confirm, oldest first.
func awaitingAgreement(ctx context.Context, q db.Queryer) ([]*Exercise, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+exerciseColumns+` FROM exercises WHERE status IN ($1, $2) ORDER BY updated_at, id LIMIT $3`, Draft, Agreeing, MaxListed)
	if err != nil {
		return nil, fmt.Errorf("exercises: unable to list the exercises awaiting agreement: %w", err)
	}
	defer rows.Close()
	var out []*Exercise
	for rows.Next() {
		e, err := scanExercise(rows)
		if err != nil {
			return nil, fmt.Errorf("exercises: unable to list the exercises awaiting agreement: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("exercises: unable to list the exercises awaiting agreement: %w", err)
	}
	return out, nil
}

// exerciseByID reads an exercise, not found when there is none.
func exerciseByID(ctx context.Context, q db.Queryer, id int64) (*Exercise, error) {
	e, err := scanExercise(q.QueryRowContext(ctx, `SELECT `+exerciseColumns+` FROM exercises WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.ErrNotFound("exercise")
	}
	if err != nil {
		return nil, fmt.Errorf("exercises: unable to read exercise %d: %w", id, err)
	}
	return e, nil
}

// listExercises reads the newest exercises, those a State takes part in
// when state is set.
func listExercises(ctx context.Context, q db.Queryer, state string, limit int) ([]*Exercise, error) {
	query := `SELECT ` + exerciseColumns + ` FROM exercises ORDER BY starts_at DESC, id DESC LIMIT $1`
	args := []any{limit}
	if state != "" {
		query = `SELECT ` + exerciseColumns + ` FROM exercises WHERE id IN (SELECT exercise_id FROM exercise_states WHERE state_code = $2)
			ORDER BY starts_at DESC, id DESC LIMIT $1`
		args = append(args, state)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("exercises: unable to list exercises: %w", err)
	}
	defer rows.Close()
	var out []*Exercise
	for rows.Next() {
		e, err := scanExercise(rows)
		if err != nil {
			return nil, fmt.Errorf("exercises: unable to list exercises: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("exercises: unable to list exercises: %w", err)
	}
	return out, nil
}

// fillParticipants reads an exercise's participants.
func fillParticipants(ctx context.Context, q db.Queryer, e *Exercise) error {
	return fillParticipantsOf(ctx, q, []*Exercise{e})
}

// fillParticipantsOf reads the participants of several exercises (a list
// of up to MaxListed) with a query for each 500 of them, not one each.
func fillParticipantsOf(ctx context.Context, q db.Queryer, list []*Exercise) error {
	byID := make(map[int64]*Exercise, len(list))
	ids := make([]int64, len(list))
	for i, e := range list {
		e.Participants = []Participant{}
		byID[e.ID], ids[i] = e, e.ID
	}
	return db.InChunks(ids, 500, 1, func(marks string, args []any) error {
		rows, err := q.QueryContext(ctx, `SELECT exercise_id, state_code, level FROM exercise_states WHERE exercise_id IN (`+marks+`)
			ORDER BY exercise_id, state_code`, args...)
		if err != nil {
			return fmt.Errorf("exercises: unable to read participants: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var p Participant
			if err := rows.Scan(&id, &p.State, &p.Level); err != nil {
				return fmt.Errorf("exercises: unable to read participants: %w", err)
			}
			if e := byID[id]; e != nil {
				e.Participants = append(e.Participants, p)
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("exercises: unable to read participants: %w", err)
		}
		return nil
	})
}

// fillExercise reads an exercise's participants and injects with the
// communications they became.
func fillExercise(ctx context.Context, q db.Queryer, e *Exercise) error {
	if err := fillParticipants(ctx, q, e); err != nil {
		return err
	}
	list, err := queryInjects(ctx, q, `WHERE exercise_id = $1 ORDER BY id`, e.ID)
	if err != nil {
		return err
	}
	e.Injects = list
	byID := map[int64]*Inject{}
	for _, i := range list {
		byID[i.ID] = i
	}
	rows, err := q.QueryContext(ctx, `SELECT ic.inject_id, ic.comm_id, ic.level FROM exercise_inject_comms ic
		JOIN exercise_injects i ON i.id = ic.inject_id WHERE i.exercise_id = $1 ORDER BY ic.inject_id, ic.level`, e.ID)
	if err != nil {
		return fmt.Errorf("exercises: unable to read the injects' communications: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var c InjectComm
		if err := rows.Scan(&id, &c.CommID, &c.Level); err != nil {
			return fmt.Errorf("exercises: unable to read the injects' communications: %w", err)
		}
		if i := byID[id]; i != nil {
			i.Comms = append(i.Comms, c)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("exercises: unable to read the injects' communications: %w", err)
	}
	return nil
}

const injectColumns = `id, exercise_id, template, fields, send_at, status, released_at, created_at`

// queryInjects reads the injects a clause selects.
func queryInjects(ctx context.Context, q db.Queryer, where string, args ...any) ([]*Inject, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+injectColumns+` FROM exercise_injects `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("exercises: unable to read injects: %w", err)
	}
	defer rows.Close()
	out := []*Inject{}
	for rows.Next() {
		var i Inject
		var fields string
		var sendAt, released sql.NullTime
		if err := rows.Scan(&i.ID, &i.exerciseID, &i.Template, &fields, &sendAt, &i.Status, &released, &i.CreatedAt); err != nil {
			return nil, fmt.Errorf("exercises: unable to read injects: %w", err)
		}
		if err := json.Unmarshal([]byte(fields), &i.Fields); err != nil {
			return nil, fmt.Errorf("exercises: unable to read inject %d's fields: %w", i.ID, err)
		}
		i.SendAt, i.ReleasedAt, i.CreatedAt = db.TimeOf(sendAt), db.TimeOf(released), i.CreatedAt.UTC()
		out = append(out, &i)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("exercises: unable to read injects: %w", err)
	}
	return out, nil
}

// insertInject writes a new inject.
func insertInject(ctx context.Context, tx *sql.Tx, i *Inject) error {
	fields, err := json.Marshal(i.Fields)
	if err != nil {
		return fmt.Errorf("exercises: unable to save an inject: %w", err)
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO exercise_injects (exercise_id, template, fields, send_at, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, i.exerciseID, i.Template, string(fields), i.SendAt, i.Status, i.CreatedAt).Scan(&i.ID)
	if err != nil {
		return fmt.Errorf("exercises: unable to save an inject: %w", err)
	}
	return tx.QueryRowContext(ctx, `UPDATE exercises SET updated_at = $1 WHERE id = $2 RETURNING id`, i.CreatedAt, i.exerciseID).Scan(new(int64))
}

// dueInjects reads the planned injects whose time has come.
func dueInjects(ctx context.Context, q db.Queryer, now time.Time) ([]*Inject, error) {
	// A draft's injects wait for the Secretariat's agreement.
	return queryInjects(ctx, q, `WHERE status = $1 AND send_at IS NOT NULL AND send_at <= $2
		AND exercise_id IN (SELECT id FROM exercises WHERE status = $3) ORDER BY send_at, id LIMIT 100`, InjectPlanned, now, Agreed)
}

// claimInject marks a planned inject released; it reports whether it was
// still planned (two instances release it once).
func claimInject(ctx context.Context, tx *sql.Tx, id int64, by string, now time.Time) (bool, error) {
	return db.Exec1(ctx, tx, "exercises: unable to release an inject", `UPDATE exercise_injects SET status = $1, released_at = $2, released_by = $3
		WHERE id = $4 AND status = $5`, InjectReleased, now, by, id, InjectPlanned)
}

// insertInjectComm records the communication an inject became at a level.
func insertInjectComm(ctx context.Context, tx *sql.Tx, inject, comm int64, level string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO exercise_inject_comms (inject_id, comm_id, level) VALUES ($1, $2, $3)`, inject, comm, level); err != nil {
		return fmt.Errorf("exercises: unable to record an inject's communication: %w", err)
	}
	return nil
}

// setNote writes an exercise's after-action note.
func setNote(ctx context.Context, tx *sql.Tx, id int64, note string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE exercises SET note = $1, note_at = $2, updated_at = $2 WHERE id = $3`, note, now, id); err != nil {
		return fmt.Errorf("exercises: unable to save the after-action note: %w", err)
	}
	return nil
}

// previousOf reads the exercises a State took part in that started before
// t, newest first.
func previousOf(ctx context.Context, q db.Queryer, state string, before time.Time, limit int) ([]*Exercise, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+exerciseColumns+` FROM exercises
		WHERE starts_at < $1 AND id IN (SELECT exercise_id FROM exercise_states WHERE state_code = $2)
		ORDER BY starts_at DESC, id DESC LIMIT $3`, before, state, limit)
	if err != nil {
		return nil, fmt.Errorf("exercises: unable to read previous exercises: %w", err)
	}
	defer rows.Close()
	var out []*Exercise
	for rows.Next() {
		e, err := scanExercise(rows)
		if err != nil {
			return nil, fmt.Errorf("exercises: unable to read previous exercises: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("exercises: unable to read previous exercises: %w", err)
	}
	return out, nil
}
