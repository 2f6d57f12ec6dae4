package comms

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/cii"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/notify"
)

// prepared is a validated input.
type prepared struct {
	tpl        *Template
	content    Content
	urgency    string
	tlp        string
	respondBy  *time.Time
	consent    bool
	toStates   []string
	level      string
	parent     *Communication
	attachment []*Attachment
}

// prepare checks an input against its template and the rules. Every
// problem is reported at once; indicators that do not parse are listed
// back with their line and reason.
func (s *Service) prepare(ctx context.Context, a *app.Actor, in *CommInput) (*prepared, error) {
	var v app.Validation
	p := &prepared{level: in.Level}
	waive := false
	if in.ParentID != 0 {
		parent, err := s.load(ctx, in.ParentID)
		if err != nil {
			return nil, err
		}
		isSender := parent.SenderState == a.State
		isRecipient, err := isRecipient(ctx, s.DB, parent.ID, a.State)
		if err != nil {
			return nil, err
		}
		if parent.Status != StatusSent || (!isSender && !isRecipient) {
			return nil, app.ErrNotFound("communication")
		}
		p.parent = parent
		switch {
		case isSender:
			p.toStates = parent.ToStates // a follow-up to every recipient
		case parent.FromSecretariat():
			// An answer to an exercise inject is an exercise answer: it
			// is recorded (the recipient line counts it as answered) and
			// stays with the State that wrote it; the Secretariat, which
			// sees counts and times, is sent nothing to read.
			p.toStates = nil
		default:
			p.toStates = []string{parent.SenderState} // a response to the sender
		}
		if p.level == "" {
			p.level = parent.Level
		}
		if in.Template == "" {
			in.Template = "response"
		}
	} else {
		seen := map[string]bool{}
		for _, c := range in.ToStates {
			c = strings.ToUpper(strings.TrimSpace(c))
			if c == "" || seen[c] {
				continue
			}
			seen[c] = true
			if c == a.State {
				v.Add("to_states", "error.comms_to_self", "a State does not send a communication to itself", nil)
				continue
			}
			p.toStates = append(p.toStates, c)
		}
		if len(p.toStates) > MaxToStates {
			v.Add("to_states", "error.comms_to_many", "too many States", nil)
		}
		if len(p.toStates) == 0 && !in.Draft {
			v.Add("to_states", "error.comms_to_none", "choose at least one State", nil)
		}
		if len(p.toStates) > 0 {
			for _, c := range p.toStates {
				if !directory.KnownState(c) {
					v.Add("to_states", "error.comms_unknown_state", "unknown State code: {{.Code}}", map[string]any{"Code": c})
				}
			}
		}
	}
	if p.level != LevelTechnical && p.level != LevelDiplomatic {
		v.Add("level", "error.comms_level", "choose the technical or the diplomatic level", nil)
	}
	tpl, err := s.TemplateBySlug(ctx, in.Template)
	if err != nil {
		return nil, err
	}
	if tpl.Status != "active" {
		return nil, app.FieldError("template", "error.template_retired", "this template is retired: choose another", nil)
	}
	p.tpl = tpl
	p.content = Content{Fields: map[string]string{}}
	observed := map[string]time.Time{}
	for _, f := range tpl.Fields {
		raw := strings.TrimSpace(in.Fields[f.Key])
		name := "fields." + f.Key
		if raw == "" && f.Required && !in.Draft && f.Kind != "boolean" {
			v.Add(name, "error.required", "required", nil)
			continue
		}
		switch f.Kind {
		case "text":
			if utf8.RuneCountInString(raw) > MaxTextRunes || strings.ContainsAny(raw, "\r\n") {
				v.Add(name, "error.too_long", "too long", map[string]any{"Max": MaxTextRunes})
			}
		case "textarea":
			if utf8.RuneCountInString(raw) > MaxTextareaRunes {
				v.Add(name, "error.too_long", "too long", map[string]any{"Max": MaxTextareaRunes})
			}
		case "datetime":
			if raw != "" {
				t, ok := parseUTC(raw)
				if !ok {
					v.Add(name, "error.comms_datetime", "give a date and time in UTC, e.g. 2026-12-01T09:00", nil)
					continue
				}
				if f.Key == "respond_by" && !in.Draft && !t.After(s.Now()) {
					v.Add(name, "error.comms_past", "this time has passed", nil)
				}
				// What was observed happened already (a few minutes'
				// difference between clocks aside).
				if observedField[f.Key] && t.After(s.Now().Add(10*time.Minute)) {
					v.Add(name, "error.comms_future", "this time is still to come: give when it was observed", nil)
				}
				observed[f.Key] = t
				raw = t.Format(time.RFC3339)
				if f.Key == "respond_by" {
					p.respondBy = &t
				}
			}
		case "choice":
			if raw == "" || inChoice(f.List, raw) {
				break
			}
			own, err := s.ownSectorOf(ctx, f.List, raw, p.toStates)
			if err != nil {
				return nil, err
			}
			if own == "" {
				v.Add(name, "error.comms_choice", "choose one of the list", nil)
				break
			}
			// The sector's name as the State's list gives it when sent,
			// kept with the content: it is what the sender named.
			p.content.Fields[f.Key+NameSuffix] = own
		case "urgency":
			if raw == "" {
				raw = "medium"
			}
			if !inList(Urgencies, raw) {
				v.Add(name, "error.comms_urgency", "unknown urgency", nil)
			}
			p.urgency = raw
		case "tlp":
			if raw == "" && in.Draft {
				raw = TLPAmber
			}
			if !ValidTLP(raw) {
				v.Add(name, "error.comms_tlp", "choose a TLP 2.0 label", nil)
			}
			p.tlp = raw
		case "boolean":
			b := raw == "true" || raw == "on" || raw == "1"
			raw = ""
			if b {
				raw = "true"
			}
			if f.Key == "share_freely" {
				waive = b
			}
		case "indicators":
			inds, problems := ParseIndicators(raw)
			if len(in.Indicators) > 0 {
				problems = append(problems, ValidateIndicators(in.Indicators)...)
				inds = mergeIndicators(inds, in.Indicators)
				if len(inds) > MaxIndicators {
					problems = append(problems, Problem{Line: MaxIndicators + 1, Key: "indicator.error.too_many", Message: "too many indicators"})
				}
			}
			for _, pr := range problems {
				v.Add(name, pr.Key, pr.Message, map[string]any{"Line": pr.Line, "Text": pr.Text})
			}
			p.content.Indicators = inds
			raw = ""
		}
		if f.Key == "subject" {
			p.content.Subject = raw
		}
		if raw != "" && !columnField[f.Key] {
			p.content.Fields[f.Key] = raw
		}
	}
	if from, to := observed["activity_from"], observed["activity_to"]; !from.IsZero() && !to.IsZero() && to.Before(from) {
		v.Add("fields.activity_to", "error.comms_before_start", "this is before the activity began", nil)
	}
	if p.urgency == "" {
		p.urgency = "medium"
	}
	if p.tlp == "" {
		p.tlp = TLPAmber
	}
	// Principle 5: information goes to a third State only with the consent
	// of the State that sent it. The sender may waive it explicitly, for
	// what its label lets anyone share (TLP:GREEN, TLP:CLEAR). A template
	// of an older version may still have onward_consent: consent is asked
	// whatever it says.
	p.consent = true
	if waive {
		if p.tlp == TLPGreen || p.tlp == TLPClear {
			p.consent = false
		} else {
			v.Add("fields.share_freely", "error.comms_waiver", "only TLP:GREEN and TLP:CLEAR may be shared without consent", nil)
		}
	}
	// A field the template does not have is refused, not dropped: what the
	// sender wrote there would silently not be sent.
	for k := range in.Fields {
		// An own sector's name comes back from a client that read the
		// communication: it is not the sender's to set, and is dropped.
		if !tplHas(tpl, k) && !strings.HasSuffix(k, NameSuffix) {
			v.Add("fields."+shortKey(k), "error.comms_unknown_field", "this template has no field {{.Key}}", map[string]any{"Key": shortKey(k)})
		}
	}
	p.attachment = in.Attachments
	checkAttachments(&v, in.Attachments)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

func tplHas(t *Template, key string) bool {
	for _, f := range t.Fields {
		if f.Key == key {
			return true
		}
	}
	return false
}

// shortKey is a field's key as an error names it: cut, and without
// control characters, since a caller wrote it.
func shortKey(k string) string {
	k = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, k)
	if utf8.RuneCountInString(k) > 40 {
		k = string([]rune(k)[:40]) + "…"
	}
	return k
}

// columnField are the fields kept in the communication's own columns (and
// the subject, kept apart in the content).
var columnField = map[string]bool{"subject": true, "urgency": true, "tlp": true, "respond_by": true, "onward_consent": true, "share_freely": true}

func mergeIndicators(a, b []Indicator) []Indicator {
	seen := map[Indicator]bool{}
	var out []Indicator
	for _, x := range append(append([]Indicator{}, a...), b...) {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// parseUTC reads a time in UTC: RFC 3339 (any offset, converted) or the
// form of an HTML datetime-local field, taken as UTC.
// observedField are the times of what was observed (the notification's
// basic information), which cannot lie ahead.
var observedField = map[string]bool{"detected_at": true, "activity_from": true, "activity_to": true}

func parseUTC(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// Compose saves a communication as a draft or sends it. A repeated
// submission with the same idempotency key returns the communication the
// first one created.
func (s *Service) Compose(ctx context.Context, in CommInput) (*Communication, error) {
	a, err := requireMember(ctx)
	if err != nil {
		return nil, err
	}
	if len(in.IdemKey) > 100 {
		return nil, app.FieldError("idempotency_key", "error.too_long", "too long", map[string]any{"Max": 100})
	}
	if in.IdemKey != "" {
		if c, err := s.byIdemKey(ctx, a, in.IdemKey); err != nil || c != nil {
			return c, err
		}
	}
	p, pl, err := s.prepareToSend(ctx, a, &in)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	draft := &Communication{Ref: newRef(now), TemplateID: p.tpl.ID, TemplateSlug: p.tpl.Slug, TemplateVersion: p.tpl.Version, SenderState: a.State,
		SenderEmail: a.Email, senderUser: a.UserID, ToStates: p.toStates, Level: p.level, Urgency: p.urgency, TLP: p.tlp,
		RespondBy: p.respondBy, OnwardConsent: p.consent, Status: StatusDraft, CreatedAt: now, UpdatedAt: now,
		Content: &p.content, idemKey: in.IdemKey}
	if p.parent != nil {
		draft.ParentID, draft.ThreadID, draft.ExerciseID = p.parent.ID, p.parent.ThreadID, p.parent.ExerciseID
		// An answer to an exercise message is an exercise answer.
		draft.Exercise = p.parent.Exercise
	}
	var id int64
	var again *Communication // the communication of a repeated submission
	tries := 0
	err = retryTakenRef(func() error {
		if tries++; tries > 1 {
			draft.Ref = newRef(now)
		}
		if !in.Draft && !in.Review {
			s.prewrite(ctx, draft, pl)
		}
		err := s.DB.Tx(db.WithGroup(ctx, s.sends), func(tx *sql.Tx) error {
			c := new(Communication)
			*c = *draft
			if err := s.insert(ctx, tx, c); err != nil {
				if isUnique(err) {
					return errDuplicate
				}
				return err
			}
			id = c.ID
			if err := s.addAttachments(ctx, tx, c.ID, p.attachment); err != nil {
				return err
			}
			if in.Draft || in.Review {
				return nil
			}
			return s.send(ctx, tx, a, c, p.parent, pl, now)
		})
		if err != errDuplicate {
			return err
		}
		// A repeated submission (its idempotency key is taken), or, once
		// in a great many, a reference already given: another one.
		if in.IdemKey != "" {
			if again, err = s.byIdemKey(ctx, a, in.IdemKey); err != nil || again != nil {
				return err
			}
		}
		return fmt.Errorf("comms: composing as %s: %w", draft.Ref, errRefTaken)
	})
	if err != nil {
		return nil, err
	}
	if again != nil {
		return again, nil
	}
	return s.Communication(ctx, id)
}

var errDuplicate = app.Errorf(app.Conflict, "error.conflict", "duplicate")

// UpdateDraft replaces a draft's content; attachments listed in remove go,
// new ones are added. Send it with Send, or with in.Draft false.
func (s *Service) UpdateDraft(ctx context.Context, id int64, in CommInput, remove []int64) (*Communication, error) {
	a, err := requireMember(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.ownDraft(ctx, a, id)
	if err != nil {
		return nil, err
	}
	// A draft stays in the exchange it was started in (or in none).
	in.ParentID = c.ParentID
	p, pl, err := s.prepareToSend(ctx, a, &in)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	c.TemplateID, c.TemplateSlug, c.TemplateVersion, c.ToStates, c.Level = p.tpl.ID, p.tpl.Slug, p.tpl.Version, p.toStates, p.level
	c.Urgency, c.TLP, c.RespondBy, c.OnwardConsent, c.Content, c.UpdatedAt = p.urgency, p.tlp, p.respondBy, p.consent, &p.content, now
	c.Exercise = p.parent != nil && p.parent.Exercise // the template may have changed: IsExercise says it again
	if !in.Draft && !in.Review {
		s.prewrite(ctx, c, pl)
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockDraft(ctx, tx, id); err != nil {
			return err
		}
		sealed, err := s.sealContent(c)
		if err != nil {
			return err
		}
		if err := updateDraft(ctx, tx, c, sealed); err != nil {
			return err
		}
		for _, aid := range remove {
			if err := deleteAttachment(ctx, tx, id, aid); err != nil {
				return err
			}
		}
		if err := s.addAttachments(ctx, tx, id, p.attachment); err != nil {
			return err
		}
		if err := checkStoredAttachments(ctx, tx, id); err != nil {
			return err
		}
		if in.Draft || in.Review {
			return nil
		}
		return s.send(ctx, tx, a, c, p.parent, pl, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Communication(ctx, id)
}

// prepareToSend checks an input and, unless it is a draft, routes it.
func (s *Service) prepareToSend(ctx context.Context, a *app.Actor, in *CommInput) (*prepared, *plan, error) {
	p, err := s.prepare(ctx, a, in)
	if err != nil || in.Draft {
		return p, nil, err
	}
	pl, err := s.plan(ctx, a.State, p.toStates, p.level)
	if err != nil {
		return nil, nil, err
	}
	return p, pl, nil
}

// ownDraft loads a draft of the actor's State: another State's is not
// found, a sent one is no longer a draft.
func (s *Service) ownDraft(ctx context.Context, a *app.Actor, id int64) (*Communication, error) {
	c, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.SenderState != a.State {
		return nil, app.ErrNotFound("communication")
	}
	if c.Status != StatusDraft {
		return nil, errNotDraft()
	}
	return c, nil
}

func errNotDraft() error {
	return app.Errorf(app.Conflict, "error.comms_not_draft", "this communication was sent: it can no longer be changed")
}

// lockDraft locks a communication's row for the transaction and checks that
// it is still a draft: two submissions of one draft send it once.
func (s *Service) lockDraft(ctx context.Context, tx *sql.Tx, id int64) error {
	status, err := lockComm(ctx, tx, s.DB.Dialect, id)
	if err != nil {
		return err
	}
	if status != StatusDraft {
		return errNotDraft()
	}
	return nil
}

// Input returns what a communication was composed with (its content must
// be open): to edit a draft in its form.
func (c *Communication) Input() CommInput {
	in := CommInput{Template: c.TemplateSlug, ToStates: c.ToStates, Level: c.Level, Fields: map[string]string{}, ParentID: c.ParentID,
		Indicators: c.Content.Indicators}
	for k, v := range c.Content.Fields {
		in.Fields[k] = v
	}
	in.Fields["subject"], in.Fields["urgency"], in.Fields["tlp"] = c.Content.Subject, c.Urgency, c.TLP
	if !c.OnwardConsent {
		in.Fields["share_freely"] = "true"
	}
	if c.RespondBy != nil {
		in.Fields["respond_by"] = c.RespondBy.UTC().Format(time.RFC3339)
	}
	return in
}

// Send sends a draft as it was saved: its content was checked and sealed
// when it was saved, so it is locked and sent as it stands, once it is
// complete (a draft may lack a required field or name a time that has
// passed since).
func (s *Service) Send(ctx context.Context, id int64) (*Communication, error) {
	a, c, err := s.sendable(ctx, id)
	if err != nil {
		return nil, err
	}
	var parent *Communication
	if c.ParentID != 0 {
		if parent, err = s.load(ctx, c.ParentID); err != nil {
			return nil, err
		}
	}
	pl, err := s.plan(ctx, a.State, c.ToStates, c.Level)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	s.prewrite(ctx, c, pl)
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockDraft(ctx, tx, id); err != nil {
			return err
		}
		return s.send(ctx, tx, a, c, parent, pl, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Communication(ctx, id)
}

// sendable loads the actor's State's draft with its content, once it is
// complete enough to send (see complete).
func (s *Service) sendable(ctx context.Context, id int64) (*app.Actor, *Communication, error) {
	a, err := requireMember(ctx)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.ownDraft(ctx, a, id)
	if err != nil {
		return nil, nil, err
	}
	if err := s.openContent(c); err != nil {
		return nil, nil, err
	}
	if err := s.complete(ctx, c); err != nil {
		return nil, nil, err
	}
	return a, c, nil
}

// complete checks that a saved draft can be sent: recipients, a template
// still in use, every required field, and a response time still ahead.
func (s *Service) complete(ctx context.Context, c *Communication) error {
	var v app.Validation
	if len(c.ToStates) == 0 && c.ParentID == 0 {
		v.Add("to_states", "error.comms_to_none", "choose at least one State", nil)
	}
	tpl, err := s.templateAt(ctx, c.TemplateID, c.TemplateVersion)
	if err != nil {
		return err
	}
	if _, _, status, err := templateBySlug(ctx, s.DB, tpl.Slug); err != nil {
		return err
	} else if status != "active" {
		return app.FieldError("template", "error.template_retired", "this template is retired: choose another", nil)
	}
	c.TemplateSlug, c.TemplateName = tpl.Slug, tpl.Name
	for _, f := range tpl.Fields {
		if !f.Required || f.Kind == "boolean" || columnField[f.Key] && f.Key != "subject" && f.Key != "respond_by" {
			continue
		}
		if c.lacks(f) {
			v.Add("fields."+f.Key, "error.required", "required", nil)
		}
	}
	if c.RespondBy != nil && !c.RespondBy.After(s.Now()) {
		v.Add("fields.respond_by", "error.comms_past", "this time has passed", nil)
	}
	return v.Err()
}

// lacks reports whether a draft has nothing for a template's field.
func (c *Communication) lacks(f Field) bool {
	switch {
	case c.Content == nil:
		return f.Key != "respond_by" || c.RespondBy == nil
	case f.Key == "subject":
		return c.Content.Subject == ""
	case f.Key == "respond_by":
		return c.RespondBy == nil
	case f.Kind == "indicators":
		return len(c.Content.Indicators) == 0
	}
	return c.Content.Fields[f.Key] == ""
}

// send routes a communication to its recipients' PoCs, queues their
// notifications, and records it in the thread and the accountability log,
// in the caller's transaction.
func (s *Service) send(ctx context.Context, tx *sql.Tx, a *app.Actor, c *Communication, parent *Communication, pl *plan, now time.Time) error {
	salt := auditlog.NewSalt()
	ok, err := markSent(ctx, tx, c.ID, now, pl.zone, salt)
	if err != nil {
		return err
	}
	if !ok {
		return errNotDraft()
	}
	if err := countSending(ctx, tx, c.ID, now); err != nil {
		return err
	}
	c.Status, c.SentAt, c.SenderTZ, c.CommitSalt = StatusSent, &now, pl.zone, salt
	if c.ThreadID == 0 {
		c.ThreadID = c.ID
	}
	// Every recipient State's PoCs at once: a few statements for an
	// exercise's inject to 193 States, not a few per State.
	all, missing := pl.targetsOf(c.ToStates)
	if len(missing) > 0 {
		return app.FieldError("to_states", "error.comms_no_poc", "these States have no PoC who can be reached yet: {{.Codes}}", map[string]any{"Codes": strings.Join(missing, ", ")})
	}
	ls := pl.letters
	if pl.lettersOf != c.Ref || len(ls) != len(all) {
		ls = nil // written here, as the lines are
	}
	if err := s.addRecipients(ctx, tx, c, all, ls, true, now); err != nil {
		return err
	}
	if err := s.tellWatchers(ctx, tx, c, c.ToStates, now); err != nil {
		return err
	}
	lg := s.logComm(a, c, now)
	if err := s.event(ctx, tx, a, c.ThreadID, c.ID, EvSent, "", "", 0, lg, now); err != nil {
		return err
	}
	if parent == nil {
		return nil
	}
	// A response by a recipient marks it as having responded; a follow-up
	// by the sender does not.
	if answered, err := isRecipient(ctx, tx, parent.ID, a.State); err != nil || !answered {
		return err
	}
	return s.setOutcome(ctx, tx, a, parent, OutcomeResponded, "", c.ID, now)
}

// addRecipients records the chosen PoCs and queues their notifications,
// a few statements for all of them: the e-mails in the outbox, then the
// lines that name them, then each line's reply token. first says that
// these are the communication's first lines (it is being sent).
func (s *Service) addRecipients(ctx context.Context, tx *sql.Tx, c *Communication, ts []target, ls []letter, first bool, now time.Time) error {
	if len(ts) == 0 {
		return nil
	}
	if ls == nil {
		ls = s.letters(ctx, c, ts)
	}
	ms := make([]notify.Message, len(ts))
	rows := make([]recipientRow, len(ts))
	hashes := make([]string, len(ts))
	for i, t := range ts {
		l := ls[i]
		ms[i], rows[i], hashes[i] = l.m, recipientRow{t: t, addr: l.m.To, encrypted: l.encrypted}, l.hash
	}
	oids, err := notify.EnqueueMany(ctx, s.DB, tx, now, ms)
	if err != nil {
		return err
	}
	for i := range rows {
		rows[i].outbox = oids[i]
	}
	// Each line's reply token, bound once the lines have their ids.
	byOutbox, err := insertRecipients(ctx, s.DB, tx, c, first, now, rows)
	if err != nil {
		return err
	}
	var tokens notify.TokenBatch
	expires := replyExpiry(c, now)
	for i, oid := range oids {
		tokens.Add(hashes[i], notify.ReplyComm, byOutbox[oid], now, expires)
	}
	return tokens.Insert(ctx, s.DB, tx)
}

// letter is the notification of one recipient line, with the digest of its
// reply token.
type letter struct {
	m         notify.Message
	encrypted bool
	hash      string
}

// letters writes the notifications of c to the PoCs ts, each with its own
// reply token (and, for a PoC with an OpenPGP key, encrypted to it).
func (s *Service) letters(ctx context.Context, c *Communication, ts []target) []letter {
	written := map[string]notify.Message{}
	ls := make([]letter, len(ts))
	for i, t := range ts {
		token, hash := notify.NewReplyToken()
		m, encrypted := s.notification(ctx, c, t.poc, t.poc.Email(), false, written, token)
		ls[i] = letter{m: m, encrypted: encrypted, hash: hash}
	}
	return ls
}

// prewrite writes c's notifications into its plan before the transaction
// that sends it, where send finds them: writing them (and encrypting them
// to the PoCs' keys, a fifth of a millisecond each) inside would hold the
// database's one writer on SQLite, and the transaction's locks on
// PostgreSQL, meanwhile. A notification names c by its reference, which c
// has before it has its id.
func (s *Service) prewrite(ctx context.Context, c *Communication, pl *plan) {
	all, missing := pl.targetsOf(c.ToStates)
	if len(missing) > 0 {
		return // send refuses it
	}
	pl.letters, pl.lettersOf = s.letters(ctx, c, all), c.Ref
}

// byIdemKey returns the communication the actor created with an
// idempotency key, or nil.
func (s *Service) byIdemKey(ctx context.Context, a *app.Actor, key string) (*Communication, error) {
	id, err := commByIdemKey(ctx, s.DB, a.UserID, key)
	if err != nil || id == 0 {
		return nil, err
	}
	return s.Communication(ctx, id)
}

// insert writes a new communication, its content sealed to its reference.
func (s *Service) insert(ctx context.Context, tx *sql.Tx, c *Communication) error {
	sealed, err := s.sealContent(c)
	if err != nil {
		return err
	}
	return insertComm(ctx, tx, c, sealed)
}

// NameSuffix marks the content field that keeps, beside a choice answer
// that names a State's own sector, that sector's name when it was sent
// ("sector:name"); no template field has a colon in its key.
const NameSuffix = ":name"

// ownSectorOf returns the name of a recipient State's own sector of
// critical information infrastructure (in its list in force) that a sector
// answer names, as the compose form offers beside the reference sectors:
// the text in its language, with English after it. "" when the answer
// names none.
func (s *Service) ownSectorOf(ctx context.Context, list, raw string, to []string) (string, error) {
	ref, ok := cii.ParseRef(raw)
	if list != "sector" || !ok || ref.State == "" || !slices.Contains(to, ref.State) {
		return "", nil
	}
	lists, err := cii.InForce(ctx, s.DB, []string{ref.State})
	if err != nil {
		return "", err
	}
	l := lists[ref.State]
	if l == nil {
		return "", nil
	}
	sec, ok := l.Sector(ref.Key)
	if !ok {
		return "", nil
	}
	if sec.Name.Lang == "en" || sec.Name.English == "" {
		return sec.Name.Text, nil
	}
	return sec.Name.Text + " / " + sec.Name.English, nil
}
