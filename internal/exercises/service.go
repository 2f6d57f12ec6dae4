// Package exercises owns the exercises the Secretariat runs through the
// directory (capability C9): an exercise's plan (name, dates, objectives,
// participating States and levels, targets), its scenario of injects, the
// release of each inject as a real communication marked EXERCISE (comms
// routes, seals, notifies and tracks it), the report of how fast each
// participant was reached and answered, and the after-action note.
//
// The report is made of times only: comms tells the times of the injects'
// recipient lines (ExerciseTimings), never what anyone wrote. The
// Secretariat sees every participant's figures; a participant its own
// and the distribution of all, unnamed.
package exercises

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/notify"
)

// The exercise events of the log. Every one is named "exercise": the log
// says that what it records was an exercise.
var _ = auditlog.Register(
	"exercises.planned", "exercises.inject_added", "exercises.inject_released", "exercises.note_written",
)

// Config is what the exercises service is built from.
type Config struct {
	DB  *db.DB
	Now app.Clock
	// Comms sends the injects and tells their times.
	Comms *comms.Service
	// Mail writes the e-mails about proposals that wait for the
	// Secretariat (none when nil).
	Mail *notify.Writer
}

// Service is the rules and authorization of exercises.
type Service struct {
	// DB and Now are set by New and never changed.
	DB  *db.DB
	Now app.Clock

	comms *comms.Service
	mail  *notify.Writer
}

// New returns the exercises service; it needs comms to send injects.
func New(c Config) *Service {
	if c.Comms == nil {
		panic("exercises: New needs the communications service")
	}
	return &Service{DB: c.DB, Now: c.Now, comms: c.Comms, mail: c.Mail}
}

// requireSecretariat returns the actor if it is the Secretariat and may
// write: the Secretariat plans and runs exercises.
func requireSecretariat(ctx context.Context) (*app.Actor, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() {
		return nil, app.ErrForbidden()
	}
	return a, nil
}

// Plan records a new exercise.
func (s *Service) Plan(ctx context.Context, in Input) (*Exercise, error) {
	a, err := requireSecretariat(ctx)
	if err != nil {
		return nil, err
	}
	if err := validate(&in); err != nil {
		return nil, err
	}
	now := s.Now()
	e := &Exercise{Name: in.Name, Objectives: in.Objectives, StartsAt: in.StartsAt.UTC(), EndsAt: in.EndsAt.UTC(),
		TargetAck: in.TargetAckMinutes, TargetAnswer: in.TargetAnswerMinutes, Participants: in.Participants,
		Status: Agreed, AgreedBy: a.Email, AgreedAt: &now, CreatedBy: a.Email, CreatedAt: now, UpdatedAt: now}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := insertExercise(ctx, tx, e); err != nil {
			return err
		}
		return logEvent(ctx, tx, a, "planned", e, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Exercise(ctx, e.ID)
}

// validate checks a plan, reporting every problem at once.
func validate(in *Input) error {
	var v app.Validation
	in.Name, in.Objectives = strings.TrimSpace(in.Name), strings.TrimSpace(in.Objectives)
	text := func(field, s string, max int, required bool) {
		switch {
		case s == "" && required:
			v.Add(field, "error.required", "required", nil)
		case utf8.RuneCountInString(s) > max:
			v.Add(field, "error.too_long", "too long", map[string]any{"Max": max})
		default:
			if err := app.CheckText(field, s); err != nil {
				v.Add(field, err.Key, err.Message, err.Args)
			}
		}
	}
	text("name", in.Name, MaxNameRunes, true)
	if strings.ContainsAny(in.Name, "\r\n") {
		v.Add("name", "error.exercise_one_line", "one line only", nil)
	}
	text("objectives", in.Objectives, MaxObjectivesRunes, false)
	if in.StartsAt.IsZero() {
		v.Add("starts_at", "error.required", "required", nil)
	}
	if in.EndsAt.IsZero() {
		v.Add("ends_at", "error.required", "required", nil)
	} else if !in.EndsAt.After(in.StartsAt) {
		v.Add("ends_at", "error.exercise_ends_before", "the exercise ends after it starts", nil)
	}
	for field, m := range map[string]int{"target_ack_minutes": in.TargetAckMinutes, "target_answer_minutes": in.TargetAnswerMinutes} {
		if m < 1 || m > MaxTargetMinutes {
			v.Add(field, "error.exercise_target", "give a target from 1 minute to 30 days (43,200 minutes)", nil)
		}
	}
	seen := map[string]bool{}
	var ps []Participant
	for _, p := range in.Participants {
		p.State = strings.ToUpper(strings.TrimSpace(p.State))
		if p.State == "" || seen[p.State] {
			continue
		}
		seen[p.State] = true
		if !directory.KnownState(p.State) {
			v.Add("participants", "error.comms_unknown_state", "unknown State code: {{.Code}}", map[string]any{"Code": p.State})
			continue
		}
		if p.Level == "" {
			p.Level = comms.LevelTechnical
		}
		if p.Level != comms.LevelTechnical && p.Level != comms.LevelDiplomatic {
			v.Add("participants", "error.comms_level", "choose the technical or the diplomatic level", nil)
			continue
		}
		ps = append(ps, p)
	}
	if len(ps) == 0 {
		v.Add("participants", "error.exercise_no_participant", "choose at least one participating State", nil)
	}
	if len(ps) > MaxParticipants {
		v.Add("participants", "error.comms_to_many", "too many States", nil)
	}
	slices.SortFunc(ps, func(a, b Participant) int { return strings.Compare(a.State, b.State) })
	in.Participants = ps
	return v.Err()
}

// AddInject adds an inject to an exercise's scenario, before the exercise
// ends. Its fields are checked against the template when it is released,
// as for any communication; here, their number and length.
func (s *Service) AddInject(ctx context.Context, id int64, in InjectInput) (*Inject, error) {
	a, e, err := s.controller(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	var v app.Validation
	in.Template = strings.TrimSpace(in.Template)
	if in.Template == "" {
		v.Add("template", "error.required", "required", nil)
	} else if utf8.RuneCountInString(in.Template) > MaxTemplateRunes {
		v.Add("template", "error.too_long", "too long", map[string]any{"Max": MaxTemplateRunes})
	} else if _, err := s.comms.TemplateBySlug(ctx, in.Template); err != nil {
		v.Add("template", "error.exercise_template", "choose a template", nil)
	}
	if len(in.Fields) > MaxFields {
		v.Add("fields", "error.too_many", "too many", map[string]any{"Max": MaxFields})
	}
	for k, val := range in.Fields {
		if utf8.RuneCountInString(k) > MaxFieldKeyRunes || utf8.RuneCountInString(val) > MaxFieldRunes {
			v.Add("fields", "error.too_long", "too long", map[string]any{"Max": MaxFieldRunes})
			break
		}
		if err := app.CheckText("fields", val); err != nil {
			v.Add("fields", err.Key, err.Message, err.Args)
			break
		}
	}
	if in.SendAt != nil {
		t := in.SendAt.UTC()
		in.SendAt = &t
		if t.Before(now) || t.After(e.EndsAt) {
			v.Add("send_at", "error.exercise_send_at", "choose a time from now to the exercise's end", nil)
		}
	}
	if len(e.Injects) >= MaxInjects {
		v.Add("template", "error.too_many", "too many", map[string]any{"Max": MaxInjects})
	}
	if !now.Before(e.EndsAt) {
		return nil, errEnded()
	}
	if closed(e) {
		return nil, errNotDraft(e)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	// The inject is checked against its template now, as it will be sent,
	// so that it does not fail at its time.
	at := now
	if in.SendAt != nil {
		at = *in.SendAt
	}
	if len(e.Participants) > 0 {
		p := e.Participants[0]
		if err := s.comms.CheckInject(app.WithActor(ctx, sender(a)), comms.ExerciseInject{Exercise: e.ID, Template: in.Template, ToStates: []string{p.State}, Level: p.Level,
			Fields: s.injectFields(ctx, e, in.Template, in.Fields, at)}); err != nil {
			return nil, err
		}
	}
	if in.Fields == nil {
		in.Fields = map[string]string{}
	}
	inj := &Inject{Template: in.Template, Fields: in.Fields, SendAt: in.SendAt, Status: InjectPlanned, CreatedAt: now, exerciseID: id}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := insertInject(ctx, tx, inj); err != nil {
			return err
		}
		return logEvent(ctx, tx, a, "inject_added", e, now)
	})
	if err != nil {
		return nil, err
	}
	return inj, nil
}

func errEnded() error {
	return app.Errorf(app.Conflict, "error.exercise_ended", "this exercise has ended")
}

// Release sends an inject now: the controller's release by hand (an
// inject with a time may also be released early).
func (s *Service) Release(ctx context.Context, id, inject int64) (*Inject, error) {
	a, e, err := s.controller(ctx, id)
	if err != nil {
		return nil, err
	}
	if closed(e) {
		return nil, errNotDraft(e)
	}
	if e.Status != Agreed {
		return nil, errDraft()
	}
	var inj *Inject
	for _, i := range e.Injects {
		if i.ID == inject {
			inj = i
		}
	}
	if inj == nil {
		return nil, app.ErrNotFound("inject")
	}
	if inj.Status != InjectPlanned {
		return nil, errReleased()
	}
	if err := s.release(ctx, a, e, inj); err != nil {
		return nil, err
	}
	e, err = s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, i := range e.Injects {
		if i.ID == inject {
			return i, nil
		}
	}
	return nil, app.ErrNotFound("inject")
}

func errReleased() error {
	return app.Errorf(app.Conflict, "error.exercise_released", "this inject has already been released")
}

// RunOnce releases the injects whose time has come, as the Secretariat:
// the background job. An inject is released once, whatever the number of
// instances: the release claims it in the transaction that sends it.
func (s *Service) RunOnce(ctx context.Context) (int, error) {
	ctx = app.WithActor(ctx, app.System)
	due, err := dueInjects(ctx, s.DB, s.Now())
	if err != nil || len(due) == 0 {
		return 0, err
	}
	n := 0
	for _, d := range due {
		e, err := s.load(ctx, d.exerciseID)
		if err != nil {
			return n, err
		}
		err = s.release(ctx, app.System, e, d)
		if app.ErrorCode(err) == app.Conflict {
			continue // another instance released it
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// release sends an inject to the participants, one communication per
// level, and records it, in one transaction: the inject is claimed there,
// so it is sent once. Routing is read before, as for every communication.
func (s *Service) release(ctx context.Context, a *app.Actor, e *Exercise, inj *Inject) error {
	now := s.Now()
	byLevel := map[string][]string{}
	for _, p := range e.Participants {
		byLevel[p.Level] = append(byLevel[p.Level], p.State)
	}
	var prepared []*comms.PreparedInject
	for _, level := range []string{comms.LevelTechnical, comms.LevelDiplomatic} {
		states := byLevel[level]
		if len(states) == 0 {
			continue
		}
		p, err := s.comms.PrepareExercise(app.WithActor(ctx, sender(a)), comms.ExerciseInject{Exercise: e.ID, Template: inj.Template,
			ToStates: states, Level: level, Fields: s.injectFields(ctx, e, inj.Template, inj.Fields, now)})
		if err != nil {
			return err
		}
		prepared = append(prepared, p)
	}
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := claimInject(ctx, tx, inj.ID, a.Email, now)
		if err != nil {
			return err
		}
		if !ok {
			return errReleased()
		}
		for _, p := range prepared {
			c, err := s.comms.SendExercise(ctx, tx, p, now)
			if err != nil {
				return err
			}
			if err := insertInjectComm(ctx, tx, inj.ID, c.ID, c.Level); err != nil {
				return err
			}
		}
		return logEvent(ctx, tx, a, "inject_released", e, now)
	})
}

// injectFields are an inject's fields as it is sent at a time: the answer
// target is the response time the communication asks for (the recipients
// are reminded before it, as for any), and the exercise names itself
// where the template has a field for it.
func (s *Service) injectFields(ctx context.Context, e *Exercise, template string, in map[string]string, at time.Time) map[string]string {
	fields := map[string]string{}
	for k, v := range in {
		fields[k] = v
	}
	if fields["respond_by"] == "" && s.hasField(ctx, template, "respond_by") {
		fields["respond_by"] = at.Add(time.Duration(e.TargetAnswer) * time.Minute).Format(time.RFC3339)
	}
	if fields["exercise_name"] == "" && s.hasField(ctx, template, "exercise_name") {
		fields["exercise_name"] = e.Name
	}
	return fields
}

// hasField reports whether a template has a field.
func (s *Service) hasField(ctx context.Context, slug, key string) bool {
	t, err := s.comms.TemplateBySlug(ctx, slug)
	if err != nil {
		return false
	}
	for _, f := range t.Fields {
		if f.Key == key {
			return true
		}
	}
	return false
}

// canSee reports whether the actor may see an exercise: the Secretariat,
// the users of the proposing State, and those of the participating States
// once it is agreed.
func canSee(a *app.Actor, e *Exercise) bool {
	if seesAll(a, e) {
		return true
	}
	return a.State != "" && e.Status == Agreed && e.participates(a.State)
}

func (e *Exercise) participates(state string) bool {
	for _, p := range e.Participants {
		if p.State == state {
			return true
		}
	}
	return false
}

// view trims an exercise to what the actor may see: a participant never
// sees what a planned inject will say, who planned the exercise, nor
// which other States take part.
func view(a *app.Actor, e *Exercise) *Exercise {
	if seesAll(a, e) {
		e.Manage = canControl(a, e) && !closed(e)
		e.Agree = e.Status == Draft && a.IsSecretariat() && !a.ReadOnly
		e.Confirm = CanConfirm(a, e)
		e.Withdraw = (e.Status == Draft || e.Status == Agreeing) && canWithdraw(a, e)
		e.Decline = CanDecline(a, e)
		return e
	}
	// Nor who agreed, nor which State proposed it (that names another
	// participant).
	e.CreatedBy, e.AgreedBy, e.ProposedBy, e.FirstAgreedBy, e.FirstAgreedAt = "", "", "", "", nil
	own := []Participant{}
	for _, p := range e.Participants {
		if p.State == a.State {
			own = append(own, p)
		}
	}
	e.Participants = own
	for _, i := range e.Injects {
		i.Fields = nil
		if i.Status == InjectPlanned {
			i.Template, i.SendAt = "", nil
		}
	}
	return e
}

// Exercise returns an exercise, for the Secretariat and the participants;
// not found for anyone else.
func (s *Service) Exercise(ctx context.Context, id int64) (*Exercise, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canSee(a, e) {
		return nil, app.ErrNotFound("exercise")
	}
	return view(a, e), nil
}

// load reads an exercise with its participants and injects.
func (s *Service) load(ctx context.Context, id int64) (*Exercise, error) {
	e, err := exerciseByID(ctx, s.DB, id)
	if err != nil {
		return nil, err
	}
	if err := fillExercise(ctx, s.DB, e); err != nil {
		return nil, err
	}
	return e, nil
}

// Exercises lists the exercises the actor may see, newest first: all for
// the Secretariat, its State's for a participant's user.
func (s *Service) Exercises(ctx context.Context) ([]*Exercise, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() && a.State == "" {
		return nil, app.ErrForbidden()
	}
	state := a.State
	if a.IsSecretariat() {
		state = ""
	}
	list, err := listExercises(ctx, s.DB, state, MaxListed)
	if err != nil {
		return nil, err
	}
	if err := fillParticipantsOf(ctx, s.DB, list); err != nil {
		return nil, err
	}
	out := list[:0]
	for _, e := range list {
		if !canSee(a, e) {
			continue // another State's draft
		}
		out = append(out, view(a, e))
	}
	return out, nil
}

// SetNote writes the after-action note of an exercise (its controller:
// the Secretariat, or the proposing State's focal point); the
// participants read it.
func (s *Service) SetNote(ctx context.Context, id int64, note string) (*Exercise, error) {
	a, e, err := s.controller(ctx, id)
	if err != nil {
		return nil, err
	}
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > MaxNoteRunes {
		return nil, app.FieldError("note", "error.too_long", "too long", map[string]any{"Max": MaxNoteRunes})
	}
	if err := app.CheckText("note", note); err != nil {
		return nil, err
	}
	now := s.Now()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := setNote(ctx, tx, id, note, now); err != nil {
			return err
		}
		return logEvent(ctx, tx, a, "note_written", e, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Exercise(ctx, id)
}

// logEvent records a step of an exercise in the log, for its participants
// (for the proposing State only while it is a draft).
func logEvent(ctx context.Context, tx *sql.Tx, a *app.Actor, typ string, e *Exercise, at time.Time) error {
	states := make([]string, 0, len(e.Participants))
	for _, p := range e.Participants {
		states = append(states, p.State)
	}
	if e.Status != Agreed {
		// A proposal not (yet) agreed is the proposing State's and the
		// Secretariat's.
		states = []string{e.ProposedBy}
	}
	ev := auditlog.Event{Type: "exercises." + typ, Object: "exercise:" + strconv.FormatInt(e.ID, 10), States: states, At: at}
	if a.State != "" {
		// A proposing State's focal point controls the exercise: like
		// every act between States, the entry names the State that acted,
		// not the person.
		ev = ev.ByState(a)
	} else {
		ev = ev.By(a)
	}
	err := auditlog.Append(ctx, tx, ev)
	return err
}
