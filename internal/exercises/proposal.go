package exercises

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/notify"
)

// A group of States may plan an exercise with the Secretariat's agreement:
// a State's focal point proposes one for its State and others; it stays a
// draft, seen by the proposing State and the Secretariat only, whose
// injects are not sent, until the Secretariat agrees. The proposing
// State's focal points then control it as the Secretariat does: they add
// and release injects, and read the report of every participant (times,
// never what anyone wrote). The injects still go out in the Secretariat's
// name, through the same path.
//
// Four eyes: since the agreement lets a State's focal points act in the
// Secretariat's name, no one officer gives it alone. One agrees (Agree),
// and the exercise waits for a second officer's confirmation (Confirm);
// the first may not confirm their own. Until then the proposal waits in
// the inbox of the Secretariat's officers who may act on it, and the
// proposing State's focal point may withdraw it (Withdraw), and any
// Secretariat officer may decline it, with a reason its State reads
// (Decline): one officer is enough, since declining stops the proposal and
// gives no one the power to act for a State.

var _ = auditlog.Register("exercises.proposed", "exercises.agreement_proposed", "exercises.agreed", "exercises.withdrawn", "exercises.declined")

// seesAll reports whether the actor reads an exercise as its controller
// does: the Secretariat, and the users of the State that proposed it.
func seesAll(a *app.Actor, e *Exercise) bool {
	return a.IsSecretariat() || (a.State != "" && a.State == e.ProposedBy)
}

// canControl reports whether the actor may add and release injects: the
// Secretariat, and the proposing State's focal points.
func canControl(a *app.Actor, e *Exercise) bool {
	if a.ReadOnly {
		return false
	}
	return a.IsSecretariat() || (e.ProposedBy != "" && a.IsFocalPointOf(e.ProposedBy))
}

// controller loads an exercise for one who controls it; not found for
// whoever may not see it.
func (s *Service) controller(ctx context.Context, id int64) (*app.Actor, *Exercise, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, nil, err
	}
	e, err := s.load(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if !canSee(a, e) {
		return nil, nil, app.ErrNotFound("exercise")
	}
	if !canControl(a, e) {
		return nil, nil, app.ErrForbidden()
	}
	return a, e, nil
}

// sender is who sends an inject through comms: the Secretariat, also when
// a proposing State's focal point releases it (the exercises service has
// checked that it may).
func sender(a *app.Actor) *app.Actor {
	if a.IsSecretariat() {
		return a
	}
	return app.System
}

func errDraft() error {
	return app.Errorf(app.Conflict, "error.exercise_draft", "the Secretariat has not yet agreed to this exercise")
}

// Propose records an exercise that a State's focal point proposes for a
// group of States, its own among them: a draft until the Secretariat
// agrees.
func (s *Service) Propose(ctx context.Context, in Input) (*Exercise, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	if a.State == "" || !a.IsFocalPointOf(a.State) {
		return nil, app.ErrForbidden()
	}
	verr := validate(&in)
	own := false
	for _, p := range in.Participants {
		own = own || p.State == a.State
	}
	if !own {
		var v app.Validation
		if verr != nil {
			return nil, verr
		}
		v.Add("participants", "error.exercise_own_state", "your own State takes part in the exercise it proposes", nil)
		return nil, v.Err()
	}
	if verr != nil {
		return nil, verr
	}
	now := s.Now()
	e := &Exercise{Name: in.Name, Objectives: in.Objectives, StartsAt: in.StartsAt.UTC(), EndsAt: in.EndsAt.UTC(),
		TargetAck: in.TargetAckMinutes, TargetAnswer: in.TargetAnswerMinutes, Participants: in.Participants,
		Status: Draft, ProposedBy: a.State, CreatedBy: a.Email, CreatedAt: now, UpdatedAt: now}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := insertExercise(ctx, tx, e); err != nil {
			return err
		}
		if err := logEvent(ctx, tx, a, "proposed", e, now); err != nil {
			return err
		}
		return s.tellSecretariat(ctx, tx, e, 0, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Exercise(ctx, e.ID)
}

// Agree is a first Secretariat officer's agreement to a proposed exercise:
// it then waits for a second officer's confirmation (Confirm).
func (s *Service) Agree(ctx context.Context, id int64) (*Exercise, error) {
	a, err := requireSecretariat(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if e.Status != Draft {
		return nil, errNotDraft(e)
	}
	return s.step(ctx, a, e, Agreeing, "agreement_proposed", errNotDraft(e),
		func(tx *sql.Tx, now time.Time) (bool, error) { return firstAgree(ctx, tx, id, a.UserID, a.Email, now) },
		func(tx *sql.Tx, now time.Time) error { return s.tellSecretariat(ctx, tx, e, a.UserID, now) })
}

// step moves a proposal to status in one transaction: update makes the
// change in the database, refusing (false) when another step came first,
// which is then the conflict; the step is logged as typ, and then runs,
// when given. It returns the exercise as the actor now sees it.
func (s *Service) step(ctx context.Context, a *app.Actor, e *Exercise, status, typ string, conflict error,
	update func(*sql.Tx, time.Time) (bool, error), then func(*sql.Tx, time.Time) error) (*Exercise, error) {
	now := s.Now()
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := update(tx, now)
		if err != nil {
			return err
		}
		if !ok {
			return conflict
		}
		e.Status = status
		if err := logEvent(ctx, tx, a, typ, e, now); err != nil {
			return err
		}
		if then == nil {
			return nil
		}
		return then(tx, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Exercise(ctx, e.ID)
}

// errNotDraft says why a proposal cannot be agreed to: it was already, or
// it was withdrawn or declined.
func errNotDraft(e *Exercise) error {
	switch e.Status {
	case Withdrawn:
		return errWithdrawn()
	case Declined:
		return errDeclined()
	}
	return errAgreed()
}

func errAgreed() error {
	return app.Errorf(app.Conflict, "error.exercise_agreed", "this exercise is already agreed")
}

func errWithdrawn() error {
	return app.Errorf(app.Conflict, "error.exercise_withdrawn", "this proposed exercise was withdrawn")
}

func errDeclined() error {
	return app.Errorf(app.Conflict, "error.exercise_declined", "the Secretariat declined this proposed exercise")
}

// closed reports whether a proposal was stopped, withdrawn or declined:
// nothing more happens to it.
func closed(e *Exercise) bool {
	return e.Status == Withdrawn || e.Status == Declined
}

// CanConfirm reports whether the actor may confirm the agreement to an
// exercise: a Secretariat officer who may write, never the one who agreed
// first.
func CanConfirm(a *app.Actor, e *Exercise) bool {
	return a.IsSecretariat() && !a.ReadOnly && e.Status == Agreeing && a.UserID != e.firstAgreedByID &&
		!strings.EqualFold(a.Email, e.FirstAgreedBy)
}

// Confirm is the second Secretariat officer's confirmation of another's
// agreement: from now on the participants see the exercise, its injects
// may be sent, and the proposing State controls it.
func (s *Service) Confirm(ctx context.Context, id int64) (*Exercise, error) {
	a, err := requireSecretariat(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case closed(e) || e.Status == Agreed:
		return nil, errNotDraft(e)
	case e.Status != Agreeing:
		return nil, errNotAgreeing()
	case !CanConfirm(a, e):
		return nil, errOwnAgreement()
	}
	return s.step(ctx, a, e, Agreed, "agreed", errNotAgreeing(),
		func(tx *sql.Tx, now time.Time) (bool, error) {
			return confirmAgreement(ctx, tx, id, a.UserID, a.Email, now)
		},
		func(tx *sql.Tx, now time.Time) error {
			return s.tellProposer(ctx, tx, e, "mail.exercise_agreed.body", now)
		})
}

func errNotAgreeing() error {
	return app.Errorf(app.Conflict, "error.exercise_not_agreeing", "no officer has agreed to this exercise yet: agree to it first")
}

func errOwnAgreement() error {
	return app.Errorf(app.Forbidden, "error.exercise_agree_own", "a second officer confirms the agreement: you agreed to this exercise")
}

// Withdraw is the proposing State's withdrawal of its proposal, by one of
// its focal points, until the Secretariat has agreed to it: it no longer
// waits for the Secretariat, and its injects are never sent.
func (s *Service) Withdraw(ctx context.Context, id int64) (*Exercise, error) {
	a, err := app.RequireWrite(ctx)
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
	if !canWithdraw(a, e) {
		return nil, app.ErrForbidden()
	}
	if e.Status != Draft && e.Status != Agreeing {
		return nil, errNotDraft(e)
	}
	return s.step(ctx, a, e, Withdrawn, "withdrawn", errAgreed(),
		func(tx *sql.Tx, now time.Time) (bool, error) { return withdrawProposal(ctx, tx, id, a.Email, now) }, nil)
}

// Decline is a Secretariat officer's refusal of a proposal, draft or
// agreed once but not confirmed, with a reason the proposing State reads:
// it no longer waits for the Secretariat, and its injects are never sent.
// One officer declines: it stops the proposal, and gives no State the
// power to act in the Secretariat's name.
func (s *Service) Decline(ctx context.Context, id int64, reason string) (*Exercise, error) {
	a, err := requireSecretariat(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if e.Status != Draft && e.Status != Agreeing {
		return nil, errNotDraft(e)
	}
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return nil, app.FieldError("reason", "error.required", "required", nil)
	case utf8.RuneCountInString(reason) > MaxReasonRunes:
		return nil, app.FieldError("reason", "error.too_long", "too long", map[string]any{"Max": MaxReasonRunes})
	}
	if err := app.CheckText("reason", reason); err != nil {
		return nil, err
	}
	return s.step(ctx, a, e, Declined, "declined", errAgreed(),
		func(tx *sql.Tx, now time.Time) (bool, error) {
			return declineProposal(ctx, tx, id, a.Email, reason, now)
		},
		func(tx *sql.Tx, now time.Time) error {
			return s.tellProposer(ctx, tx, e, "mail.exercise_declined.body", now)
		})
}

// CanDecline reports whether the actor may decline a proposal: a
// Secretariat officer who may write, while it waits for the Secretariat.
func CanDecline(a *app.Actor, e *Exercise) bool {
	return a.IsSecretariat() && !a.ReadOnly && (e.Status == Draft || e.Status == Agreeing)
}

// canWithdraw reports whether the actor may withdraw a proposal: a focal
// point of the proposing State.
func canWithdraw(a *app.Actor, e *Exercise) bool {
	return !a.ReadOnly && e.ProposedBy != "" && a.IsFocalPointOf(e.ProposedBy)
}

// Awaiting lists the proposed exercises that wait for the actor: for a
// Secretariat officer who may write, the drafts to agree to and the
// agreements of another officer to confirm, oldest first. The inbox shows
// them.
func (s *Service) Awaiting(ctx context.Context) ([]*Exercise, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() || a.ReadOnly {
		return nil, nil
	}
	list, err := awaitingAgreement(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	var out []*Exercise
	for _, e := range list {
		if e.Status == Draft || CanConfirm(a, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// tellSecretariat writes, in the caller's transaction, to the Secretariat's
// officers who chose an e-mail for each new item (in place of one who is
// away, their delegate), when a proposal starts to wait for them: to be
// agreed to, or the agreement confirmed; except the officer who agreed.
// The e-mail names the exercise by its number only.
func (s *Service) tellSecretariat(ctx context.Context, tx *sql.Tx, e *Exercise, except int64, now time.Time) error {
	what := "mail.exercise_agree.body"
	if e.Status == Agreeing {
		what = "mail.exercise_confirm.body"
	}
	return s.tell(ctx, tx, e, "", except, "mail.exercise_agree.subject", what, now)
}

// tellProposer writes, in the caller's transaction, to the focal points of
// the State that proposed an exercise who chose an e-mail for each new item
// (in place of one who is away, their delegate), when the Secretariat has
// answered the proposal: agreed (confirmed by a second officer) or
// declined. The e-mail names the exercise by its number only; the
// decline's reason is on the exercise's page, behind a sign-in.
func (s *Service) tellProposer(ctx context.Context, tx *sql.Tx, e *Exercise, what string, now time.Time) error {
	if e.ProposedBy == "" {
		return nil
	}
	return s.tell(ctx, tx, e, e.ProposedBy, 0, "mail.exercise_answered.subject", what, now)
}

// tell writes the e-mail subject and what about exercise e to those who
// answer for state (the Secretariat for ""), by the rule of
// account.AnswerWatchers, leaving out the user except.
func (s *Service) tell(ctx context.Context, tx *sql.Tx, e *Exercise, state string, except int64, subject, what string, now time.Time) error {
	if s.mail == nil {
		return nil
	}
	to, err := account.AnswerWatchers(ctx, tx, state, except, now)
	if err != nil {
		return err
	}
	link := s.mail.Link("/exercises/" + strconv.FormatInt(e.ID, 10))
	for _, w := range to {
		l := notify.Letter{Kind: "exercise", To: w.Reader, Subject: notify.T(subject, "ID", e.ID),
			Body: []notify.Text{notify.T(what, "ID", e.ID, "State", notify.State(e.ProposedBy), "Link", link),
				w.Why(notify.T("mail.new_item.why", "Link", s.mail.Link("/account#notifications")))}}
		if err := notify.Enqueue(ctx, tx, now, s.mail.Write(l)); err != nil {
			return err
		}
	}
	return nil
}
