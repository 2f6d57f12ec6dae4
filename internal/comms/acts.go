package comms

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/directory"
)

// The communication events of the log: the steps of a communication
// (logAct, logStep, logComm), its deliveries, templates (logTemplate) and
// routing preferences.
var _ = auditlog.Register(
	"comms.sent", "comms.delivered", "comms.bounced", "comms.opened", "comms.acknowledged",
	"comms.responded", "comms.declined", "comms.disputed", "comms.more-info",
	"comms.escalated", "comms.forwarded", "comms.consent_requested", "comms.consent_granted", "comms.consent_refused",
	"comms.exported", "comms.attachment_downloaded", "comms.email_act_confirmed", "comms.email_act_rejected",
	"comms.routing_set", "comms.routing_cleared", "comms.exercise_sent",
	"comms.template_created", "comms.template_revised", "comms.template_retired", "comms.template_reinstated",
)

// logAct records an act on a communication by a State in the log, for the
// sender State and the acting one.
func (s *Service) logAct(ctx context.Context, tx *sql.Tx, a *app.Actor, c *Communication, typ string, now time.Time) error {
	return auditlog.Append(ctx, tx, actEntry(a, typ, c, now, c.SenderState, a.State).Event)
}

// actOf is the log entry of an act on a communication by a State, for the
// sender State and the acting one: the thread's event keeps its index (see
// event).
func actOf(a *app.Actor, c *Communication, typ string, now time.Time) *entry {
	return actEntry(a, typ, c, now, c.SenderState, a.State)
}

// actEntry is the log entry of a step of a communication, for the States
// named. It names the acting State, not the person (see auditlog's
// ByState): communications between States name no person in the log.
func actEntry(a *app.Actor, typ string, c *Communication, now time.Time, states ...string) *entry {
	return &entry{Event: auditlog.Event{Type: typ, Object: "comm:" + c.Ref, States: states, At: now}.ByState(a)}
}

// A communication and the events of its thread keep the index of their
// log entry.
var _ = auditlog.RegisterOwner("comms", "comm_events")

// entry is the log entry of a thread's event, which keeps its index, as
// do owners; set is given the index too (see auditlog.AppendFor).
type entry struct {
	auditlog.Event
	owners []auditlog.Owner
	set    func(int64)
}

// Acknowledge records that the actor's State received the communication.
// Acknowledging does not mean agreeing with its content (principle 3); the
// record and the screen say so.
func (s *Service) Acknowledge(ctx context.Context, id int64) (*Communication, error) {
	a, c, err := s.recipientComm(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.acknowledge(ctx, a, c); err != nil {
		return nil, err
	}
	return s.Communication(ctx, id)
}

// acknowledge records the acknowledgement of a recipient State's actor.
func (s *Service) acknowledge(ctx context.Context, a *app.Actor, c *Communication) error {
	now := s.Now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := markAcknowledged(ctx, tx, c.ID, a.State, a.Email, now)
		if err != nil {
			return err
		}
		if !ok {
			return app.Errorf(app.Conflict, "error.comms_already_acked", "your State has already acknowledged this communication")
		}
		if err := s.event(ctx, tx, a, c.ThreadID, c.ID, EvAcknowledged, "", "", 0, actOf(a, c, "comms.acknowledged", now), now); err != nil {
			return err
		}
		return s.tellSender(ctx, tx, c, a.State, EvAcknowledged, now)
	})
}

// Reply records a recipient State's answer other than a response
// communication: it declines, disputes the facts, or asks for more
// information, with a note that says why or what (sealed, as content).
// Every answer is voluntary and none implies concurrence.
func (s *Service) Reply(ctx context.Context, id int64, outcome, note string) (*Communication, error) {
	a, c, err := s.recipientComm(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.reply(ctx, a, c, outcome, note); err != nil {
		return nil, err
	}
	return s.Communication(ctx, id)
}

// reply records a recipient State's answer; c.Recipients must be loaded.
func (s *Service) reply(ctx context.Context, a *app.Actor, c *Communication, outcome, note string) error {
	if !inList(Outcomes, outcome) {
		return app.FieldError("outcome", "error.comms_outcome", "choose decline, dispute or ask for more information", nil)
	}
	note = strings.TrimSpace(note)
	if note == "" {
		return app.FieldError("note", "error.required", "required", nil)
	}
	if utf8.RuneCountInString(note) > MaxNoteRunes {
		return app.FieldError("note", "error.too_long", "too long", map[string]any{"Max": MaxNoteRunes})
	}
	same := true
	for _, r := range c.Recipients {
		if r.MovedAt == nil && r.State == a.State {
			same = same && r.Outcome == outcome
		}
	}
	if same {
		return app.Errorf(app.Conflict, "error.comms_same_answer", "your State has already given this answer")
	}
	now := s.Now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error { return s.setOutcome(ctx, tx, a, c, outcome, note, 0, now) })
}

func (s *Service) setOutcome(ctx context.Context, tx *sql.Tx, a *app.Actor, c *Communication, outcome, note string, ref int64, now time.Time) error {
	if err := setOutcome(ctx, tx, c.ID, a.State, outcome, a.Email, now); err != nil {
		return err
	}
	kind := map[string]string{OutcomeResponded: EvResponded, OutcomeDeclined: EvDeclined, OutcomeDisputed: EvDisputed, OutcomeMoreInfo: EvMoreInfo}[outcome]
	if err := s.event(ctx, tx, a, c.ThreadID, c.ID, kind, "", note, ref, actOf(a, c, "comms."+outcome, now), now); err != nil {
		return err
	}
	return s.tellSender(ctx, tx, c, a.State, kind, now)
}

// Escalate moves a communication from the technical to the diplomatic
// level: each recipient State's diplomatic PoCs receive it too, in the same
// thread. Only the sender State escalates.
func (s *Service) Escalate(ctx context.Context, id int64) (*Communication, error) {
	a, c, err := s.senderComm(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.IsExercise() {
		return nil, errExercise()
	}
	if c.Status != StatusSent || c.Level == LevelDiplomatic {
		return nil, app.Errorf(app.Conflict, "error.comms_escalated", "this communication is already at the diplomatic level")
	}
	pl, err := s.plan(ctx, a.State, c.ToStates, LevelDiplomatic)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	c.Level = LevelDiplomatic
	// Each recipient State's diplomatic PoCs not yet reached, and their
	// notifications, written before the transaction as a send's are.
	have := map[int64]bool{}
	for _, r := range c.Recipients {
		have[r.PoCID] = true
	}
	adds := make([][]target, len(c.ToStates))
	letters := make([][]letter, len(c.ToStates))
	for i, st := range c.ToStates {
		for _, t := range pl.targets[st] {
			if !have[t.poc.ID] && string(t.poc.Level) == LevelDiplomatic {
				adds[i] = append(adds[i], target{t.poc, RouteEscalated})
			}
		}
		letters[i] = s.letters(ctx, c, adds[i])
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := escalate(ctx, tx, c.ID, now)
		if err != nil {
			return err
		}
		if !ok {
			return app.Errorf(app.Conflict, "error.comms_escalated", "this communication is already at the diplomatic level")
		}
		for i := range c.ToStates {
			if err := s.addRecipients(ctx, tx, c, adds[i], letters[i], false, now); err != nil {
				return err
			}
		}
		return s.event(ctx, tx, a, c.ThreadID, c.ID, EvEscalated, LevelDiplomatic, "", 0, actEntry(a, "comms.escalated", c, now, append([]string{c.SenderState}, c.ToStates...)...), now)
	})
	if err != nil {
		return nil, err
	}
	return s.Communication(ctx, id)
}

// Share asks to pass a communication on to a third State. When the TLP
// label or the sender's choice requires consent, it asks the sender State,
// and nothing is forwarded until it consents; otherwise it forwards at once.
// Either way the thread records it. It returns whether it was forwarded.
func (s *Service) Share(ctx context.Context, id int64, third, note string) (bool, error) {
	a, c, err := s.recipientComm(ctx, id)
	if err != nil {
		return false, err
	}
	if c.IsExercise() {
		return false, errExercise()
	}
	if c.ForwardedFrom != 0 {
		// Only the originating State consents to sharing its content: a
		// copy is not shared on by the State that received it.
		return false, app.Errorf(app.Forbidden, "error.comms_share_copy", "a shared copy cannot be shared on: ask the State that sent the original")
	}
	third = strings.ToUpper(strings.TrimSpace(third))
	if third == "" {
		return false, app.FieldError("state", "error.required", "required", nil)
	}
	if !directory.KnownState(third) {
		return false, app.FieldError("state", "error.comms_unknown_state", "unknown State code: {{.Code}}", map[string]any{"Code": third})
	}
	if third == c.SenderState || inList(c.ToStates, third) {
		return false, app.FieldError("state", "error.comms_share_party", "this State already has the communication", nil)
	}
	if utf8.RuneCountInString(note) > MaxNoteRunes {
		return false, app.FieldError("note", "error.too_long", "too long", map[string]any{"Max": MaxNoteRunes})
	}
	now := s.Now()
	// Consent is asked unless the sender waived it for a label that lets
	// anyone share (communications sent before consent was asked by
	// default keep the rule of their time: their label, or the sender's
	// choice).
	needs := TLPNeedsConsent(c.TLP) || c.OnwardConsent
	var pl *plan
	if !needs {
		if pl, err = s.plan(ctx, a.State, []string{third}, c.Level); err != nil {
			return false, err
		}
	}
	// A copy shared onward gets a reference of its own: once in a great
	// many, one already given, and the transaction runs again.
	err = retryTakenRef(func() error {
		return s.DB.Tx(ctx, func(tx *sql.Tx) error {
			shared, err := sharedWith(ctx, tx, c.ID, third)
			if err != nil {
				return err
			}
			if shared {
				return app.Errorf(app.Conflict, "error.comms_already_shared", "this communication has already been shared with this State")
			}
			if needs {
				open, err := consentPending(ctx, tx, c.ID, a.State, third)
				if err != nil {
					return err
				}
				if open {
					return app.Errorf(app.Conflict, "error.comms_consent_pending", "your State has already asked for this consent")
				}
				if err := s.event(ctx, tx, a, c.ThreadID, c.ID, EvConsentRequested, third, note, 0, actOf(a, c, "comms.consent_requested", now), now); err != nil {
					return err
				}
				return s.tellSender(ctx, tx, c, a.State, EvConsentRequested, now)
			}
			_, err = s.forward(ctx, tx, a, c, third, pl, now)
			return err
		})
	})
	return err == nil && !needs, err
}

// Consent answers a request to share: the sender State grants or refuses.
// A grant forwards the communication to the third State at once, as sent
// by the State that asked.
func (s *Service) Consent(ctx context.Context, id, requestID int64, grant bool) (*Communication, error) {
	a, c, err := s.senderComm(ctx, id)
	if err != nil {
		return nil, err
	}
	var pl *plan
	if grant {
		r, err := getConsentRequest(ctx, s.DB, "", c.ID, requestID)
		if err != nil {
			return nil, err
		}
		if pl, err = s.plan(ctx, r.state, []string{r.third}, c.Level); err != nil {
			return nil, err
		}
	}
	now := s.Now()
	err = retryTakenRef(func() error {
		return s.DB.Tx(ctx, func(tx *sql.Tx) error {
			r, err := getConsentRequest(ctx, tx, s.DB.Dialect, c.ID, requestID)
			if err != nil {
				return err
			}
			answered, err := consentAnswered(ctx, tx, requestID)
			if err != nil {
				return err
			}
			if answered {
				return app.Errorf(app.Conflict, "error.comms_consent_answered", "this request has already been answered")
			}
			kind, typ := EvConsentRefused, "comms.consent_refused"
			if grant {
				kind, typ = EvConsentGranted, "comms.consent_granted"
			}
			if err := s.event(ctx, tx, a, c.ThreadID, c.ID, kind, r.third, "", requestID, actEntry(a, typ, c, now, c.SenderState, r.state), now); err != nil {
				return err
			}
			if !grant {
				return nil
			}
			requester := &app.Actor{UserID: r.actorID, Email: r.actor, State: r.state, Role: app.RoleOfficer}
			_, err = s.forward(ctx, tx, requester, c, r.third, pl, now)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return s.Communication(ctx, id)
}

// errRefTaken is a reference made for a new communication that another
// already has (see newRef).
var errRefTaken = errors.New("a reference already taken")

// retryTakenRef runs tx, which makes a new reference, again while that
// reference was already taken, three times in all; the third is an
// internal error, which is logged.
func retryTakenRef(tx func() error) error {
	for tries := 1; ; tries++ {
		err := tx()
		if !errors.Is(err, errRefTaken) {
			return err
		}
		if tries == 3 {
			return fmt.Errorf("comms: a reference taken three times in a row: %w", err)
		}
	}
}

// forward sends a copy of c to a third State as a new exchange, sent by the
// State that shared it, and records the forward in c's thread.
func (s *Service) forward(ctx context.Context, tx *sql.Tx, a *app.Actor, c *Communication, third string, pl *plan, now time.Time) (int64, error) {
	f := &Communication{Ref: newRef(now), TemplateID: c.TemplateID, TemplateSlug: c.TemplateSlug, TemplateVersion: c.TemplateVersion, SenderState: a.State,
		SenderEmail: a.Email, senderUser: a.UserID, ToStates: []string{third}, Level: c.Level, Urgency: c.Urgency, TLP: c.TLP,
		RespondBy: nil, OnwardConsent: true, Status: StatusDraft, CreatedAt: now, UpdatedAt: now, Content: c.Content, ForwardedFrom: c.ID}
	if err := s.insert(ctx, tx, f); err != nil {
		if isUnique(err) {
			return 0, fmt.Errorf("comms: sharing onward as %s: %w", f.Ref, errRefTaken)
		}
		return 0, err
	}
	if err := s.copyAttachments(ctx, tx, c.ID, f.ID); err != nil {
		return 0, err
	}
	if err := s.send(ctx, tx, a, f, nil, pl, now); err != nil {
		return 0, err
	}
	return f.ID, s.event(ctx, tx, a, c.ThreadID, c.ID, EvForwarded, third, "", f.ID, actEntry(a, "comms.forwarded", c, now, c.SenderState, a.State, third), now)
}

// event appends an act to a thread, with its log entry when logged is not
// nil (the event keeps its index); a note is sealed, bound to its row.
func (s *Service) event(ctx context.Context, tx *sql.Tx, a *app.Actor, thread, comm int64, kind, target, note string, ref int64, logged *entry, now time.Time) error {
	e := &Event{threadID: thread, CommID: comm, Kind: kind, Target: target, At: now}
	if o := mailFrom(ctx); o != nil {
		e.Via, e.Verification = "email", o.verification
	}
	var refID, actorID any
	if ref != 0 {
		refID = ref
	}
	if a != nil && a != app.System {
		e.State, e.Actor = a.State, a.Email
		if a.UserID != 0 {
			actorID = a.UserID
		}
	}
	if err := insertEvent(ctx, tx, e, actorID, refID, nil); err != nil {
		return err
	}
	if err := keepConsentOpen(ctx, tx, e, ref); err != nil {
		return err
	}
	if logged != nil {
		// The event keeps the index of its log entry.
		owners := append(logged.owners, auditlog.Owner{Table: "comm_events", ID: e.ID})
		if err := auditlog.AppendFor(ctx, tx, logged.Event, logged.set, owners...); err != nil {
			return err
		}
	}
	if note == "" {
		return nil
	}
	sealed, err := s.seal.Seal(noteAAD(e.ID), []byte(note))
	if err != nil {
		return err
	}
	return setEventNote(ctx, tx, e.ID, sealed)
}

// errExercise refuses to share onward or escalate an exercise message: it
// concerns no real incident, and would travel on as if it did.
func errExercise() error {
	return app.Errorf(app.Forbidden, "error.comms_exercise_onward", "an exercise message cannot be shared onward or escalated")
}
