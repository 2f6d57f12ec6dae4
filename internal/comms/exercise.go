package comms

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
)

// SecretariatSender stands for the Secretariat as the sender of a
// communication: it sends the injects of the exercises it runs. It is no
// State's code, so no State's user is ever its sender.
const SecretariatSender = "UN"

// ExerciseInject is an exercise's inject to send: a communication from a
// template, on behalf of the Secretariat, to the participants at one level.
type ExerciseInject struct {
	Exercise int64
	Template string
	ToStates []string
	Level    string
	Fields   map[string]string
}

// PreparedInject is an inject checked and routed, to send in the caller's
// transaction (SendExercise). Routing reads the directory, and the
// notifications to every PoC are written, before the transaction, as for
// every communication.
type PreparedInject struct {
	a  *app.Actor
	in ExerciseInject
	p  *prepared
	pl *plan
	c  *Communication // to be sent
	// Unreached are the States with no PoC who can be reached: they are
	// not addressed, and the exercise's report says so.
	Unreached []string
}

// PrepareExercise checks an exercise inject against its template and
// routes it, for the Secretariat only (a user of the Secretariat, or the
// job that releases injects at their time). It goes through the rules of
// every communication; the States without a PoC are left out and listed.
func (s *Service) PrepareExercise(ctx context.Context, in ExerciseInject) (*PreparedInject, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() {
		return nil, app.ErrForbidden()
	}
	if in.Exercise == 0 {
		return nil, app.FieldError("exercise", "error.required", "required", nil)
	}
	ci := CommInput{Template: in.Template, ToStates: in.ToStates, Level: in.Level, Fields: in.Fields}
	p, err := s.prepare(ctx, a, &ci)
	if err != nil {
		return nil, err
	}
	pl, err := s.plan(ctx, SecretariatSender, p.toStates, p.level)
	if err != nil {
		return nil, err
	}
	out := &PreparedInject{a: a, in: in, p: p, pl: pl}
	reached := p.toStates[:0:0]
	for _, st := range p.toStates {
		if len(pl.targets[st]) == 0 {
			out.Unreached = append(out.Unreached, st)
			continue
		}
		reached = append(reached, st)
	}
	p.toStates = reached
	now := s.Now()
	out.c = &Communication{Ref: newRef(now), TemplateID: p.tpl.ID, TemplateSlug: p.tpl.Slug, TemplateVersion: p.tpl.Version,
		SenderState: SecretariatSender, SenderEmail: a.Email, senderUser: a.UserID, ToStates: p.toStates, Level: p.level,
		Urgency: p.urgency, TLP: p.tlp, RespondBy: p.respondBy, OnwardConsent: true, Status: StatusDraft, CreatedAt: now, UpdatedAt: now,
		Content: &p.content, ExerciseID: in.Exercise, Exercise: true}
	s.prewrite(ctx, out.c, pl)
	return out, nil
}

// CheckInject checks an exercise inject against its template as
// PrepareExercise does, without routing it: when the Secretariat adds it to
// the scenario, so that it does not fail at its time.
func (s *Service) CheckInject(ctx context.Context, in ExerciseInject) error {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return err
	}
	if !a.IsSecretariat() {
		return app.ErrForbidden()
	}
	ci := CommInput{Template: in.Template, ToStates: in.ToStates, Level: in.Level, Fields: in.Fields}
	_, err = s.prepare(ctx, a, &ci)
	return err
}

// SendExercise sends a prepared inject in the caller's transaction: the
// communication is marked as the exercise's (EXERCISE in its emails, its
// pages, its STIX export and its log entry), routed, sealed, notified
// through the outbox and tracked like any other, reminders included.
func (s *Service) SendExercise(ctx context.Context, tx *sql.Tx, pi *PreparedInject, now time.Time) (*Communication, error) {
	c := new(Communication)
	*c = *pi.c
	c.CreatedAt, c.UpdatedAt = now, now
	if err := s.insert(ctx, tx, c); err != nil {
		return nil, err
	}
	if err := s.send(ctx, tx, pi.a, c, nil, pi.pl, now); err != nil {
		return nil, err
	}
	return c, nil
}

// Timing is a recipient line of an exercise inject, in times only: when
// the inject was sent, and when the line was delivered, bounced, opened,
// acknowledged and answered. It holds nothing of what anyone wrote.
type Timing struct {
	CommID      int64
	State       string
	PoCID       int64
	Level       string
	Agency      string
	Route       string
	SentAt      time.Time
	DeliveredAt *time.Time
	BouncedAt   *time.Time
	OpenedAt    *time.Time
	AckedAt     *time.Time
	AnsweredAt  *time.Time
}

// ExerciseTimings returns the times of every recipient line of an
// exercise's injects, for the Secretariat (the exercises service asks as
// the system, once it has decided what its reader may see): counts and
// times, never content.
func (s *Service) ExerciseTimings(ctx context.Context, exercise int64) ([]Timing, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() {
		return nil, app.ErrForbidden()
	}
	return exerciseTimings(ctx, s.DB, exercise)
}

func exerciseTimings(ctx context.Context, q db.Queryer, exercise int64) ([]Timing, error) {
	rows, err := q.QueryContext(ctx, `SELECT r.comm_id, r.state_code, r.poc_id, r.level, r.agency, r.route, c.sent_at,
		r.delivered_at, r.bounced_at, r.opened_at, r.acked_at, r.outcome_at
		FROM comm_recipients r JOIN comms c ON c.id = r.comm_id
		WHERE c.exercise_id = $1 AND c.sender_state = $2 AND c.status = 'sent' AND r.moved_at IS NULL
		ORDER BY r.comm_id, r.state_code, r.id`, exercise, SecretariatSender)
	if err != nil {
		return nil, fmt.Errorf("comms store: reading an exercise's times: %w", err)
	}
	defer rows.Close()
	var out []Timing
	for rows.Next() {
		var t Timing
		var poc sql.NullInt64
		var sent, delivered, bounced, opened, acked, answered sql.NullTime
		if err := rows.Scan(&t.CommID, &t.State, &poc, &t.Level, &t.Agency, &t.Route, &sent, &delivered, &bounced, &opened, &acked, &answered); err != nil {
			return nil, fmt.Errorf("comms store: reading an exercise's times: %w", err)
		}
		t.PoCID = poc.Int64
		if sent.Valid {
			t.SentAt = sent.Time.UTC()
		}
		t.DeliveredAt, t.BouncedAt, t.OpenedAt = db.TimeOf(delivered), db.TimeOf(bounced), db.TimeOf(opened)
		t.AckedAt, t.AnsweredAt = db.TimeOf(acked), db.TimeOf(answered)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comms store: reading an exercise's times: %w", err)
	}
	return out, nil
}
