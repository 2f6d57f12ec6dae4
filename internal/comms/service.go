package comms

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/seal"
)

// Encrypter encrypts a notification's content to a PoC's OpenPGP key and
// signs it with pocdir's key (notify.PGPSigner).
type Encrypter interface {
	EncryptAndSign(recipientArmoredPublicKey string, plaintext []byte) (string, error)
}

// Wire gives the service what communications need beyond templates: the
// directory (routing), the data keyring (content at rest), the OpenPGP
// signer (content by email) and the address of the portal (links).
func (s *Service) Wire(dir *directory.Service, keys *seal.Keyring, pgp Encrypter, baseURL string) {
	s.Dir, s.Seal, s.PGP, s.BaseURL = dir, keys, pgp, strings.TrimRight(baseURL, "/")
}

// Limits on what a communication may hold.
const (
	MaxToStates        = 195
	MaxTextRunes       = 300
	MaxTextareaRunes   = 20000
	MaxNoteRunes       = 5000
	MaxAttachments     = 5
	MaxAttachmentBytes = 10 << 20
	MaxTotalAttachment = 20 << 20

	// MaxListed is the length of a list of communications: the newest.
	MaxListed = 500
)

// requireMember returns the actor if it is a user of a State who may write:
// communications are between States; the Secretariat routes and counts.
func requireMember(ctx context.Context) (*app.Actor, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	if a.State == "" || a.IsSecretariat() {
		return nil, app.Errorf(app.Forbidden, "error.comms_states_only", "only the users of a State send and answer communications")
	}
	return a, nil
}

func newRef(now time.Time) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return "PC-" + strconv.Itoa(now.Year()) + "-" + base32.StdEncoding.EncodeToString(b)
}

func contentAAD(ref string) string        { return "comms/content/" + ref }
func attachmentAAD(id int64) string       { return "comms/attachment/" + strconv.FormatInt(id, 10) }
func noteAAD(id int64) string             { return "comms/note/" + strconv.FormatInt(id, 10) }
func inList(list []string, v string) bool { return slices.Contains(list, v) }

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
		if isSender {
			p.toStates = parent.ToStates // a follow-up to every recipient
		} else {
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
			known, err := s.knownStates(ctx)
			if err != nil {
				return nil, err
			}
			for _, c := range p.toStates {
				if !known[c] {
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
				raw = t.Format(time.RFC3339)
				if f.Key == "respond_by" {
					p.respondBy = &t
				}
			}
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
			if f.Key == "onward_consent" {
				p.consent = b
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
	if p.urgency == "" {
		p.urgency = "medium"
	}
	if p.tlp == "" {
		p.tlp = TLPAmber
	}
	p.attachment = in.Attachments
	checkAttachments(&v, in.Attachments)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

// columnField are the fields kept in the communication's own columns (and
// the subject, kept apart in the content).
var columnField = map[string]bool{"subject": true, "urgency": true, "tlp": true, "respond_by": true, "onward_consent": true}

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

func (s *Service) knownStates(ctx context.Context) (map[string]bool, error) {
	s.statesMu.Lock()
	defer s.statesMu.Unlock()
	if s.states != nil {
		return s.states, nil // the reference list changes only at start
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT code FROM states`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out[c] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s.states = out
	return out, nil
}

// TemplateBySlug returns a template at its current version by its short
// name, with its status (without its history).
func (s *Service) TemplateBySlug(ctx context.Context, slug string) (*Template, error) {
	if _, err := app.RequireActor(ctx); err != nil {
		return nil, err
	}
	var id int64
	var version int
	var status string
	err := s.DB.QueryRowContext(ctx, `SELECT id, current_version, status FROM comm_templates WHERE slug = $1`, slug).Scan(&id, &version, &status)
	if err == sql.ErrNoRows {
		return nil, app.FieldError("template", "error.comms_template", "choose a template", nil)
	}
	if err != nil {
		return nil, err
	}
	t, err := s.templateAt(ctx, id, version)
	if err != nil {
		return nil, err
	}
	cp := *t
	cp.Status = status
	return &cp, nil
}

// templateAt returns a template at a version, without its history. A
// version never changes once written, so it is kept in memory: a crisis
// burst reads the same few templates hundreds of times.
func (s *Service) templateAt(ctx context.Context, id int64, version int) (*Template, error) {
	key := [2]int64{id, int64(version)}
	s.statesMu.Lock()
	t := s.versions[key]
	s.statesMu.Unlock()
	if t != nil {
		return t, nil
	}
	t, err := s.Get(ctx, id, version)
	if err != nil {
		return nil, err
	}
	t.Versions = nil
	s.statesMu.Lock()
	if s.versions == nil {
		s.versions = map[[2]int64]*Template{}
	}
	s.versions[key] = t
	s.statesMu.Unlock()
	return t, nil
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
	p, err := s.prepare(ctx, a, &in)
	if err != nil {
		return nil, err
	}
	var pl *plan
	if !in.Draft {
		if pl, err = s.plan(ctx, a.State, p.toStates, p.level); err != nil {
			return nil, err
		}
	}
	now := s.Now()
	var id int64
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		c := &Communication{Ref: newRef(now), TemplateID: p.tpl.ID, TemplateSlug: p.tpl.Slug, TemplateVersion: p.tpl.Version, SenderState: a.State,
			SenderEmail: a.Email, senderUser: a.UserID, ToStates: p.toStates, Level: p.level, Urgency: p.urgency, TLP: p.tlp,
			RespondBy: p.respondBy, OnwardConsent: p.consent, Status: StatusDraft, CreatedAt: now, UpdatedAt: now,
			Content: &p.content, idemKey: in.IdemKey}
		if p.parent != nil {
			c.ParentID, c.ThreadID = p.parent.ID, p.parent.ThreadID
		}
		if err := s.insert(ctx, tx, c); err != nil {
			if in.IdemKey != "" && isUnique(err) {
				return errDuplicate
			}
			return err
		}
		id = c.ID
		if err := s.addAttachments(ctx, tx, c.ID, p.attachment); err != nil {
			return err
		}
		if in.Draft {
			return nil
		}
		return s.send(ctx, tx, a, c, p.parent, pl, now)
	})
	if err == errDuplicate {
		return s.byIdemKey(ctx, a, in.IdemKey)
	}
	if err != nil {
		return nil, err
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
	c, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.SenderState != a.State {
		return nil, app.ErrNotFound("communication")
	}
	if c.Status != StatusDraft {
		return nil, app.Errorf(app.Conflict, "error.comms_not_draft", "this communication was sent: it can no longer be changed")
	}
	// A draft stays in the exchange it was started in (or in none).
	in.ParentID = c.ParentID
	p, err := s.prepare(ctx, a, &in)
	if err != nil {
		return nil, err
	}
	var pl *plan
	if !in.Draft {
		if pl, err = s.plan(ctx, a.State, p.toStates, p.level); err != nil {
			return nil, err
		}
	}
	now := s.Now()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var current string
		if err := tx.QueryRowContext(ctx, `SELECT status FROM comms WHERE id = $1`+forUpdate(s), id).Scan(&current); err != nil {
			return err
		}
		if current != StatusDraft {
			return app.Errorf(app.Conflict, "error.comms_not_draft", "this communication was sent: it can no longer be changed")
		}
		c.TemplateID, c.TemplateSlug, c.TemplateVersion, c.ToStates, c.Level = p.tpl.ID, p.tpl.Slug, p.tpl.Version, p.toStates, p.level
		c.Urgency, c.TLP, c.RespondBy, c.OnwardConsent, c.Content, c.UpdatedAt = p.urgency, p.tlp, p.respondBy, p.consent, &p.content, now
		sealed, err := s.sealContent(c)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE comms SET template_id = $1, template_version = $2, to_states = $3, level = $4, urgency = $5, tlp = $6,
			respond_by = $7, onward_consent = $8, content = $9, updated_at = $10 WHERE id = $11`,
			c.TemplateID, c.TemplateVersion, strings.Join(c.ToStates, ","), c.Level, c.Urgency, c.TLP, c.RespondBy, c.OnwardConsent, sealed, now, id); err != nil {
			return err
		}
		for _, aid := range remove {
			if _, err := tx.ExecContext(ctx, `DELETE FROM comm_attachments WHERE id = $1 AND comm_id = $2`, aid, id); err != nil {
				return err
			}
		}
		if err := s.addAttachments(ctx, tx, id, p.attachment); err != nil {
			return err
		}
		if err := checkStoredAttachments(ctx, tx, id); err != nil {
			return err
		}
		if in.Draft {
			return nil
		}
		return s.send(ctx, tx, a, c, p.parent, pl, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Communication(ctx, id)
}

// Input returns what a communication was composed with (its content must
// be open): to edit a draft, or send it as it was saved.
func (c *Communication) Input() CommInput {
	in := CommInput{Template: c.TemplateSlug, ToStates: c.ToStates, Level: c.Level, Fields: map[string]string{}, ParentID: c.ParentID,
		Indicators: c.Content.Indicators}
	for k, v := range c.Content.Fields {
		in.Fields[k] = v
	}
	in.Fields["subject"], in.Fields["urgency"], in.Fields["tlp"] = c.Content.Subject, c.Urgency, c.TLP
	if c.OnwardConsent {
		in.Fields["onward_consent"] = "true"
	}
	if c.RespondBy != nil {
		in.Fields["respond_by"] = c.RespondBy.UTC().Format(time.RFC3339)
	}
	return in
}

// Send sends a draft as it was saved.
func (s *Service) Send(ctx context.Context, id int64) (*Communication, error) {
	if _, err := requireMember(ctx); err != nil {
		return nil, err
	}
	c, err := s.Communication(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.Viewer.Sender {
		return nil, app.ErrNotFound("communication")
	}
	in := c.Input()
	return s.UpdateDraft(ctx, id, in, nil)
}

// send routes a communication to its recipients' PoCs, queues their
// notifications, and records it in the thread and the accountability log,
// in the caller's transaction.
func (s *Service) send(ctx context.Context, tx *sql.Tx, a *app.Actor, c *Communication, parent *Communication, pl *plan, now time.Time) error {
	// One statement marks it sent, starts its thread when it opens one, and
	// keeps the sender's time zone.
	upd, err := s.DB.Stmt(ctx, tx, `UPDATE comms SET status = 'sent', sent_at = $1, updated_at = $1, sender_tz = $3,
		thread_id = CASE WHEN thread_id = 0 THEN id ELSE thread_id END WHERE id = $2 AND status = 'draft'`)
	if err != nil {
		return err
	}
	res, err := upd.ExecContext(ctx, now, c.ID, pl.zone)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return app.Errorf(app.Conflict, "error.comms_not_draft", "this communication was sent: it can no longer be changed")
	}
	c.Status, c.SentAt, c.SenderTZ = StatusSent, &now, pl.zone
	if c.ThreadID == 0 {
		c.ThreadID = c.ID
	}
	var missing []string
	for _, st := range c.ToStates {
		rs := pl.targets[st]
		if len(rs) == 0 {
			missing = append(missing, st)
			continue
		}
		if err := s.addRecipients(ctx, tx, c, rs, now, false); err != nil {
			return err
		}
	}
	if len(missing) > 0 {
		return app.FieldError("to_states", "error.comms_no_poc", "these States have no PoC who can be reached yet: {{.Codes}}", map[string]any{"Codes": strings.Join(missing, ", ")})
	}
	idx, err := s.logComm(ctx, tx, a, c, now)
	if err != nil {
		return err
	}
	if err := s.event(ctx, tx, a, c.ThreadID, c.ID, EvSent, "", "", 0, &idx, now); err != nil {
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

// logComm appends the sending to the accountability log with a commitment
// to the content, so that sender and recipients can later prove what was
// sent without the log holding it.
func (s *Service) logComm(ctx context.Context, tx *sql.Tx, a *app.Actor, c *Communication, now time.Time) (int64, error) {
	c.CommitSalt = auditlog.NewSalt()
	idx, err := auditlog.Append(ctx, tx, auditlog.Event{Type: "comms.sent", ActorID: a.UserID, ActorState: a.State,
		Object: "comm:" + c.Ref, States: append([]string{c.SenderState}, c.ToStates...), At: now, Commitment: c.Commitment()})
	if err != nil {
		return 0, err
	}
	st, err := s.DB.Stmt(ctx, tx, `UPDATE comms SET commit_salt = $1, log_index = $2 WHERE id = $3`)
	if err != nil {
		return 0, err
	}
	_, err = st.ExecContext(ctx, c.CommitSalt, idx, c.ID)
	c.LogIndex = &idx
	return idx, err
}

// CheckCommitments recomputes, for auditlog.Check, the commitment of every
// sent communication from its stored fields, its content (unsealed with the
// data keys) and its salt: an edited communication, content, salt or log
// index shows as a mismatch, and content that does not open (altered, or
// moved from another communication) as a problem of its own.
func (s *Service) CheckCommitments(ctx context.Context, q db.Queryer, commitments *auditlog.Commitments, problem func(string, ...any)) (int, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+commColumns+` FROM comms c WHERE c.log_index IS NOT NULL ORDER BY c.id`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		c, err := scanComm(rows)
		if err != nil {
			return n, err
		}
		n++
		want, ok := commitments.Get(*c.LogIndex)
		switch {
		case !ok:
			problem("communication %s: its log entry %d holds no commitment", c.Ref, *c.LogIndex)
		case s.openContent(c) != nil:
			problem("communication %s: its content does not open with the data keys (altered, or not its own)", c.Ref)
		case c.EscalatedAt != nil && c.Level != LevelDiplomatic:
			// The commitment holds the level it was sent at; an
			// escalation moves it to the diplomatic level.
			problem("communication %s: escalated, yet not at the diplomatic level", c.Ref)
		case c.Commitment() != want:
			problem("communication %s: it does not match the commitment in log entry %d", c.Ref, *c.LogIndex)
		}
	}
	return n, rows.Err()
}

// Commitment recomputes the log's commitment to the communication, from its
// content, its fields and CommitSalt: whoever reads them through the API
// can compare it with the log entry (pocdir audit verify does).
func (c *Communication) Commitment() string {
	return auditlog.Commit(c.CommitSalt, c.commitment())
}

// commitment is what the log's commitment to a communication covers: the
// communication as it was sent. (An escalation, logged on its own, moves a
// technical communication to the diplomatic level.)
func (c *Communication) commitment() any {
	level := c.Level
	if c.EscalatedAt != nil {
		level = LevelTechnical
	}
	return struct {
		Ref       string   `json:"ref"`
		Sender    string   `json:"sender_state"`
		To        []string `json:"to_states"`
		Level     string   `json:"level"`
		Template  int64    `json:"template"`
		Version   int      `json:"template_version"`
		TLP       string   `json:"tlp"`
		Urgency   string   `json:"urgency"`
		RespondBy string   `json:"respond_by,omitempty"`
		Content   *Content `json:"content"`
	}{c.Ref, c.SenderState, c.ToStates, level, c.TemplateID, c.TemplateVersion, c.TLP, c.Urgency, fmtTime(c.RespondBy), c.Content}
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// plan is the routing of a communication, worked out before its
// transaction: the directory is read outside it, so that a transaction
// never waits for a second connection (on SQLite, the writers waiting for
// the lock could hold every connection of the pool).
type plan struct {
	zone    string
	targets map[string][]target
}

func (s *Service) plan(ctx context.Context, from string, to []string, level string) (*plan, error) {
	p := &plan{targets: map[string][]target{}}
	var err error
	if p.zone, err = s.senderZone(ctx, from, level); err != nil {
		return nil, err
	}
	// The declared tensions that involve the sender, in one query.
	tensions := map[[2]string]bool{}
	rows, err := s.DB.QueryContext(ctx, `SELECT state_code, counterpart FROM comm_tensions WHERE state_code = $1 OR counterpart = $1`, from)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var a, b string
		if err := rows.Scan(&a, &b); err != nil {
			rows.Close()
			return nil, err
		}
		tensions[[2]string{a, b}] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, st := range to {
		if p.targets[st], err = s.route(ctx, tensions, from, st, level); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// target is a PoC chosen by routing.
type target struct {
	poc   *directory.PoC
	route string
}

// route chooses the PoCs of a recipient State for a communication at a
// level: its main PoCs at the level that have an email address, else its
// alternates at the level; the other main level when the State has no PoC
// at the level. While either State declares tension with the other, a
// technical request goes to the diplomatic level first.
func (s *Service) route(ctx context.Context, tensions map[[2]string]bool, from, to, level string) ([]target, error) {
	route := RouteLevel
	if level == LevelTechnical {
		// Which State declared the tension decides how the line is named:
		// a declaration is seen only by the State that made it.
		switch {
		case tensions[[2]string{from, to}]:
			level, route = LevelDiplomatic, RouteTension
		case tensions[[2]string{to, from}]:
			level, route = LevelDiplomatic, RouteRouting
		}
	}
	e, err := s.Dir.Get(app.WithActor(ctx, app.System), to)
	if err != nil {
		return nil, err
	}
	pick := func(lvl string, alternate bool) []*directory.PoC {
		var out []*directory.PoC
		for _, p := range e.PoCs {
			if string(p.Level) == lvl && p.Alternate == alternate && p.Email() != "" {
				out = append(out, p)
			}
		}
		return out
	}
	wrap := func(ps []*directory.PoC, r string) []target {
		out := make([]target, len(ps))
		for i, p := range ps {
			out[i] = target{p, r}
		}
		return out
	}
	if ps := pick(level, false); len(ps) > 0 {
		return wrap(ps, route), nil
	}
	if ps := pick(level, true); len(ps) > 0 {
		return wrap(ps, RouteAlternate), nil
	}
	other := LevelDiplomatic
	if level == LevelDiplomatic {
		other = LevelTechnical
	}
	if ps := pick(other, false); len(ps) > 0 {
		return wrap(ps, RouteOtherLevel), nil
	}
	return wrap(pick(other, true), RouteOtherLevel), nil
}

// senderZone is the time zone of the sender State's PoCs at the level, to
// show deadlines in both States' time zones.
func (s *Service) senderZone(ctx context.Context, state, level string) (string, error) {
	e, err := s.Dir.Get(app.WithActor(ctx, app.System), state)
	if err != nil {
		return "", err
	}
	zone := ""
	for _, p := range e.PoCs {
		if string(p.Level) == level && p.TimeZone != "" {
			return p.TimeZone, nil
		}
		if zone == "" {
			zone = p.TimeZone
		}
	}
	return zone, nil
}

// addRecipients records the chosen PoCs and queues their notifications.
func (s *Service) addRecipients(ctx context.Context, tx *sql.Tx, c *Communication, ts []target, now time.Time, reminder bool) error {
	if len(ts) == 0 {
		return nil
	}
	// One prepared statement each for the many rows of a communication to
	// many PoCs: parsing the SQL once per row was most of a send's cost.
	q, err := notify.PrepareEnqueue(ctx, s.DB, tx)
	if err != nil {
		return err
	}
	defer q.Close()
	ins, err := s.DB.Stmt(ctx, tx, `INSERT INTO comm_recipients (comm_id, state_code, poc_id, level, agency, address, time_zone, route, encrypted, notified_at, outbox_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	for _, t := range ts {
		addr := t.poc.Email()
		m, encrypted := s.notification(c, t.poc, addr, reminder)
		oid, err := q.Enqueue(ctx, now, m)
		if err != nil {
			return err
		}
		if _, err := ins.ExecContext(ctx, c.ID, t.poc.State, t.poc.ID, string(t.poc.Level), t.poc.Agency, addr, t.poc.TimeZone, t.route, encrypted, now, oid); err != nil {
			return err
		}
	}
	return nil
}

// Communication returns a communication as the actor may see it: whole for
// the sender's and the recipients' States (a first view by a recipient
// State records the opening), metadata only for the Secretariat, and not
// found for anyone else.
func (s *Service) Communication(ctx context.Context, id int64) (*Communication, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.visible(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if c.Viewer.Recipient && !a.ReadOnly {
		if err := s.markOpened(ctx, a, c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// visible loads a communication as the actor may see it (not found for
// those who may not).
func (s *Service) visible(ctx context.Context, a *app.Actor, id int64) (*Communication, error) {
	c, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	return c, s.fill(ctx, a, c)
}

// readable is visible, refusing the Secretariat, which reads no content.
func (s *Service) readable(ctx context.Context, id int64) (*app.Actor, *Communication, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.visible(ctx, a, id)
	if err != nil {
		return nil, nil, err
	}
	if c.Viewer.Metadata {
		return nil, nil, app.Errorf(app.Forbidden, "error.comms_content", "the Secretariat does not read the content of communications")
	}
	return a, c, nil
}

// fill sets the viewer, opens the content for those who may read it, and
// loads the recipients and attachments.
func (s *Service) fill(ctx context.Context, a *app.Actor, c *Communication) error {
	c.Viewer = Viewer{Sender: a.State != "" && a.State == c.SenderState}
	if !c.Viewer.Sender && a.State != "" && c.Status == StatusSent {
		var err error
		if c.Viewer.Recipient, err = isRecipient(ctx, s.DB, c.ID, a.State); err != nil {
			return err
		}
	}
	c.Viewer.Metadata = a.IsSecretariat() && c.Status == StatusSent
	if !c.Viewer.Sender && !c.Viewer.Recipient && !c.Viewer.Metadata {
		return app.ErrNotFound("communication")
	}
	rs, err := s.recipients(ctx, c.ID)
	if err != nil {
		return err
	}
	if c.Viewer.Recipient {
		// A recipient State sees its own PoCs' lines, not the others'.
		var own []*Recipient
		for _, r := range rs {
			if r.State == a.State {
				own = append(own, r)
			}
		}
		rs = own
	}
	c.Recipients = rs
	if tpl, err := s.templateAt(ctx, c.TemplateID, c.TemplateVersion); err == nil {
		c.TemplateSlug, c.TemplateName = tpl.Slug, tpl.Name
	}
	atts, err := s.attachments(ctx, c.ID, !c.Viewer.Metadata)
	if err != nil {
		return err
	}
	c.Attachments = atts
	s.mask(c)
	if c.Viewer.Metadata {
		return nil
	}
	return s.openContent(c)
}

// mask takes out of c what its viewer may not see: a declared tension not
// its own, and for the Secretariat, everything but metadata.
func (s *Service) mask(c *Communication) {
	for _, r := range c.Recipients {
		// A declared tension is seen only by the State that declared it:
		// the sender (tension), or the recipient (its routing rule).
		if (r.Route == RouteTension && !c.Viewer.Sender) || (r.Route == RouteRouting && !c.Viewer.Recipient) {
			r.Route = RouteLevel
		}
	}
	if c.Viewer.Metadata {
		c.Content, c.Urgency, c.TLP, c.RespondBy, c.SenderEmail, c.CommitSalt = nil, "", "", nil, "", ""
		for _, r := range c.Recipients {
			r.Address, r.OpenedBy, r.AckedBy, r.OutcomeBy, r.BounceError = "", "", "", "", ""
		}
	}
}

func (s *Service) openContent(c *Communication) error {
	b, err := s.Seal.Open(contentAAD(c.Ref), c.sealed)
	if err != nil {
		return err
	}
	var ct Content
	if err := json.Unmarshal(b, &ct); err != nil {
		return err
	}
	c.Content = &ct
	return nil
}

func (s *Service) sealContent(c *Communication) (string, error) {
	b, err := json.Marshal(c.Content)
	if err != nil {
		return "", err
	}
	return s.Seal.Seal(contentAAD(c.Ref), b)
}

func (s *Service) markOpened(ctx context.Context, a *app.Actor, c *Communication) error {
	unopened := false
	for _, r := range c.Recipients {
		unopened = unopened || (r.OpenedAt == nil && r.MovedAt == nil)
	}
	if !unopened {
		return nil
	}
	now := s.Now()
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE comm_recipients SET opened_at = $1, opened_by = $2 WHERE comm_id = $3 AND state_code = $4 AND opened_at IS NULL AND moved_at IS NULL`,
			now, a.Email, c.ID, a.State)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		idx, err := s.logAct(ctx, tx, a, c, "comms.opened", now)
		if err != nil {
			return err
		}
		return s.event(ctx, tx, a, c.ThreadID, c.ID, EvOpened, "", "", 0, &idx, now)
	})
	if err != nil {
		return err
	}
	for _, r := range c.Recipients {
		if r.OpenedAt == nil && r.MovedAt == nil {
			r.OpenedAt, r.OpenedBy = &now, a.Email
		}
	}
	return nil
}

func (s *Service) logAct(ctx context.Context, tx *sql.Tx, a *app.Actor, c *Communication, typ string, now time.Time) (int64, error) {
	return auditlog.Append(ctx, tx, auditlog.Event{Type: typ, ActorID: a.UserID, ActorState: a.State,
		Object: "comm:" + c.Ref, States: []string{c.SenderState, a.State}, At: now})
}

// recipientComm loads a sent communication for an act of a recipient State.
func (s *Service) recipientComm(ctx context.Context, id int64) (*app.Actor, *Communication, error) {
	a, err := requireMember(ctx)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.visible(ctx, a, id)
	if err != nil {
		return nil, nil, err
	}
	if !c.Viewer.Recipient {
		if c.Viewer.Sender {
			return nil, nil, app.Errorf(app.Forbidden, "error.comms_recipient_only", "only a recipient State can do this")
		}
		return nil, nil, app.ErrNotFound("communication")
	}
	return a, c, nil
}

// Acknowledge records that the actor's State received the communication.
// Acknowledging does not mean agreeing with its content (principle 3); the
// record and the screen say so.
func (s *Service) Acknowledge(ctx context.Context, id int64) (*Communication, error) {
	a, c, err := s.recipientComm(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE comm_recipients SET acked_at = $1, acked_by = $2, opened_at = COALESCE(opened_at, $1),
			opened_by = CASE WHEN opened_by = '' THEN $2 ELSE opened_by END WHERE comm_id = $3 AND state_code = $4 AND acked_at IS NULL AND moved_at IS NULL`,
			now, a.Email, c.ID, a.State)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return app.Errorf(app.Conflict, "error.comms_already_acked", "your State has already acknowledged this communication")
		}
		idx, err := s.logAct(ctx, tx, a, c, "comms.acknowledged", now)
		if err != nil {
			return err
		}
		if err := s.event(ctx, tx, a, c.ThreadID, c.ID, EvAcknowledged, "", "", 0, &idx, now); err != nil {
			return err
		}
		return s.tellSender(ctx, tx, c, a.State, EvAcknowledged, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Communication(ctx, id)
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
	if !inList(Outcomes, outcome) {
		return nil, app.FieldError("outcome", "error.comms_outcome", "choose decline, dispute or ask for more information", nil)
	}
	note = strings.TrimSpace(note)
	if note == "" {
		return nil, app.FieldError("note", "error.required", "required", nil)
	}
	if utf8.RuneCountInString(note) > MaxNoteRunes {
		return nil, app.FieldError("note", "error.too_long", "too long", map[string]any{"Max": MaxNoteRunes})
	}
	same := true
	for _, r := range c.Recipients {
		if r.MovedAt == nil {
			same = same && r.Outcome == outcome
		}
	}
	if same {
		return nil, app.Errorf(app.Conflict, "error.comms_same_answer", "your State has already given this answer")
	}
	now := s.Now()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error { return s.setOutcome(ctx, tx, a, c, outcome, note, 0, now) })
	if err != nil {
		return nil, err
	}
	return s.Communication(ctx, id)
}

func (s *Service) setOutcome(ctx context.Context, tx *sql.Tx, a *app.Actor, c *Communication, outcome, note string, ref int64, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE comm_recipients SET outcome = $1, outcome_at = $2, outcome_by = $3, opened_at = COALESCE(opened_at, $2),
		opened_by = CASE WHEN opened_by = '' THEN $3 ELSE opened_by END WHERE comm_id = $4 AND state_code = $5 AND moved_at IS NULL`,
		outcome, now, a.Email, c.ID, a.State); err != nil {
		return err
	}
	idx, err := s.logAct(ctx, tx, a, c, "comms."+outcome, now)
	if err != nil {
		return err
	}
	kind := map[string]string{OutcomeResponded: EvResponded, OutcomeDeclined: EvDeclined, OutcomeDisputed: EvDisputed, OutcomeMoreInfo: EvMoreInfo}[outcome]
	if err := s.event(ctx, tx, a, c.ThreadID, c.ID, kind, "", note, ref, &idx, now); err != nil {
		return err
	}
	return s.tellSender(ctx, tx, c, a.State, kind, now)
}

// Escalate moves a communication from the technical to the diplomatic
// level: each recipient State's diplomatic PoCs receive it too, in the same
// thread. Only the sender State escalates.
func (s *Service) Escalate(ctx context.Context, id int64) (*Communication, error) {
	a, err := requireMember(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.visible(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if !c.Viewer.Sender {
		if c.Viewer.Recipient {
			return nil, app.Errorf(app.Forbidden, "error.comms_sender_only", "only the sender State can do this")
		}
		return nil, app.ErrNotFound("communication")
	}
	if c.Status != StatusSent || c.Level == LevelDiplomatic {
		return nil, app.Errorf(app.Conflict, "error.comms_escalated", "this communication is already at the diplomatic level")
	}
	pl, err := s.plan(ctx, a.State, c.ToStates, LevelDiplomatic)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE comms SET level = 'diplomatic', escalated_at = $1, updated_at = $1 WHERE id = $2 AND level = 'technical'`, now, c.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return app.Errorf(app.Conflict, "error.comms_escalated", "this communication is already at the diplomatic level")
		}
		c.Level = LevelDiplomatic
		have := map[int64]bool{}
		for _, r := range c.Recipients {
			have[r.PoCID] = true
		}
		for _, st := range c.ToStates {
			ts := pl.targets[st]
			var add []target
			for _, t := range ts {
				if !have[t.poc.ID] && string(t.poc.Level) == LevelDiplomatic {
					add = append(add, target{t.poc, RouteEscalated})
				}
			}
			if err := s.addRecipients(ctx, tx, c, add, now, false); err != nil {
				return err
			}
		}
		idx, err := auditlog.Append(ctx, tx, auditlog.Event{Type: "comms.escalated", ActorID: a.UserID, ActorState: a.State,
			Object: "comm:" + c.Ref, States: append([]string{c.SenderState}, c.ToStates...), At: now})
		if err != nil {
			return err
		}
		return s.event(ctx, tx, a, c.ThreadID, c.ID, EvEscalated, LevelDiplomatic, "", 0, &idx, now)
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
	if c.ForwardedFrom != 0 {
		// Only the originating State consents to sharing its content: a
		// copy is not shared on by the State that received it.
		return false, app.Errorf(app.Forbidden, "error.comms_share_copy", "a shared copy cannot be shared on: ask the State that sent the original")
	}
	third = strings.ToUpper(strings.TrimSpace(third))
	known, err := s.knownStates(ctx)
	if err != nil {
		return false, err
	}
	if !known[third] {
		return false, app.FieldError("state", "error.comms_unknown_state", "unknown State code: {{.Code}}", map[string]any{"Code": third})
	}
	if third == c.SenderState || inList(c.ToStates, third) {
		return false, app.FieldError("state", "error.comms_share_party", "this State already has the communication", nil)
	}
	if utf8.RuneCountInString(note) > MaxNoteRunes {
		return false, app.FieldError("note", "error.too_long", "too long", map[string]any{"Max": MaxNoteRunes})
	}
	now := s.Now()
	needs := TLPNeedsConsent(c.TLP) || c.OnwardConsent
	var pl *plan
	if !needs {
		if pl, err = s.plan(ctx, a.State, []string{third}, c.Level); err != nil {
			return false, err
		}
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var shared int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM comm_events WHERE comm_id = $1 AND kind = 'forwarded' AND target = $2`, c.ID, third).Scan(&shared); err != nil {
			return err
		}
		if shared > 0 {
			return app.Errorf(app.Conflict, "error.comms_already_shared", "this communication has already been shared with this State")
		}
		if needs {
			var open int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM comm_events r WHERE r.comm_id = $1 AND r.kind = 'consent-requested' AND r.state_code = $2 AND r.target = $3
				AND NOT EXISTS (SELECT 1 FROM comm_events x WHERE x.ref_id = r.id AND x.kind IN ('consent-granted', 'consent-refused'))`, c.ID, a.State, third).Scan(&open); err != nil {
				return err
			}
			if open > 0 {
				return app.Errorf(app.Conflict, "error.comms_consent_pending", "your State has already asked for this consent")
			}
			idx, err := auditlog.Append(ctx, tx, auditlog.Event{Type: "comms.consent_requested", ActorID: a.UserID, ActorState: a.State,
				Object: "comm:" + c.Ref, States: []string{c.SenderState, a.State}, At: now})
			if err != nil {
				return err
			}
			if err := s.event(ctx, tx, a, c.ThreadID, c.ID, EvConsentRequested, third, note, 0, &idx, now); err != nil {
				return err
			}
			return s.tellSender(ctx, tx, c, a.State, EvConsentRequested, now)
		}
		_, err := s.forward(ctx, tx, a, c, third, pl, now)
		return err
	})
	return err == nil && !needs, err
}

// Consent answers a request to share: the sender State grants or refuses.
// A grant forwards the communication to the third State at once, as sent
// by the State that asked.
func (s *Service) Consent(ctx context.Context, id, requestID int64, grant bool) (*Communication, error) {
	a, err := requireMember(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.visible(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if !c.Viewer.Sender {
		if c.Viewer.Recipient {
			return nil, app.Errorf(app.Forbidden, "error.comms_sender_only", "only the sender State can do this")
		}
		return nil, app.ErrNotFound("communication")
	}
	var pl *plan
	if grant {
		var state, third string
		err := s.DB.QueryRowContext(ctx, `SELECT state_code, target FROM comm_events WHERE id = $1 AND comm_id = $2 AND kind = 'consent-requested'`, requestID, c.ID).Scan(&state, &third)
		if err == sql.ErrNoRows {
			return nil, app.ErrNotFound("consent request")
		}
		if err != nil {
			return nil, err
		}
		if pl, err = s.plan(ctx, state, []string{third}, c.Level); err != nil {
			return nil, err
		}
	}
	now := s.Now()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var state, third, actor string
		var actorID sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT state_code, target, actor, actor_id FROM comm_events WHERE id = $1 AND comm_id = $2 AND kind = 'consent-requested'`+forUpdate(s),
			requestID, c.ID).Scan(&state, &third, &actor, &actorID)
		if err == sql.ErrNoRows {
			return app.ErrNotFound("consent request")
		}
		if err != nil {
			return err
		}
		var answered int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM comm_events WHERE ref_id = $1 AND kind IN ('consent-granted', 'consent-refused')`, requestID).Scan(&answered); err != nil {
			return err
		}
		if answered > 0 {
			return app.Errorf(app.Conflict, "error.comms_consent_answered", "this request has already been answered")
		}
		kind, typ := EvConsentRefused, "comms.consent_refused"
		if grant {
			kind, typ = EvConsentGranted, "comms.consent_granted"
		}
		idx, err := auditlog.Append(ctx, tx, auditlog.Event{Type: typ, ActorID: a.UserID, ActorState: a.State,
			Object: "comm:" + c.Ref, States: []string{c.SenderState, state}, At: now})
		if err != nil {
			return err
		}
		if err := s.event(ctx, tx, a, c.ThreadID, c.ID, kind, third, "", requestID, &idx, now); err != nil {
			return err
		}
		if !grant {
			return nil
		}
		requester := &app.Actor{UserID: actorID.Int64, Email: actor, State: state, Role: app.RoleOfficer}
		_, err = s.forward(ctx, tx, requester, c, third, pl, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Communication(ctx, id)
}

// forward sends a copy of c to a third State as a new exchange, sent by the
// State that shared it, and records the forward in c's thread.
func (s *Service) forward(ctx context.Context, tx *sql.Tx, a *app.Actor, c *Communication, third string, pl *plan, now time.Time) (int64, error) {
	f := &Communication{Ref: newRef(now), TemplateID: c.TemplateID, TemplateSlug: c.TemplateSlug, TemplateVersion: c.TemplateVersion, SenderState: a.State,
		SenderEmail: a.Email, senderUser: a.UserID, ToStates: []string{third}, Level: c.Level, Urgency: c.Urgency, TLP: c.TLP,
		RespondBy: nil, OnwardConsent: true, Status: StatusDraft, CreatedAt: now, UpdatedAt: now, Content: c.Content, ForwardedFrom: c.ID}
	if err := s.insert(ctx, tx, f); err != nil {
		return 0, err
	}
	if err := s.copyAttachments(ctx, tx, c.ID, f.ID); err != nil {
		return 0, err
	}
	if err := s.send(ctx, tx, a, f, nil, pl, now); err != nil {
		return 0, err
	}
	idx, err := auditlog.Append(ctx, tx, auditlog.Event{Type: "comms.forwarded", ActorID: a.UserID, ActorState: a.State,
		Object: "comm:" + c.Ref, States: []string{c.SenderState, a.State, third}, At: now})
	if err != nil {
		return 0, err
	}
	return f.ID, s.event(ctx, tx, a, c.ThreadID, c.ID, EvForwarded, third, "", f.ID, &idx, now)
}

// event appends an act to a thread; a note is sealed, bound to its row.
func (s *Service) event(ctx context.Context, tx *sql.Tx, a *app.Actor, thread, comm int64, kind, target, note string, ref int64, idx *int64, now time.Time) error {
	var id int64
	var refID any
	if ref != 0 {
		refID = ref
	}
	var actorID any
	state, actor := "", ""
	if a != nil && a != app.System {
		state, actor = a.State, a.Email
		if a.UserID != 0 {
			actorID = a.UserID
		}
	}
	st, err := s.DB.Stmt(ctx, tx, `INSERT INTO comm_events (thread_id, comm_id, kind, state_code, actor, actor_id, target, ref_id, log_index, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.QueryRowContext(ctx, thread, comm, kind, state, actor, actorID, target, refID, idx, now).Scan(&id); err != nil {
		return err
	}
	if note == "" {
		return nil
	}
	sealed, err := s.Seal.Seal(noteAAD(id), []byte(note))
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE comm_events SET note = $1 WHERE id = $2`, sealed, id)
	return err
}

// Thread returns an exchange as the actor may see it: the communications
// it may read and the events that concern its State. The Secretariat sees
// metadata and no notes.
func (s *Service) Thread(ctx context.Context, id int64) (*Thread, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.visible(ctx, a, id)
	if err != nil {
		return nil, err
	}
	t := &Thread{ID: c.ThreadID}
	if c.ThreadID == 0 {
		return t, nil
	}
	ids, err := s.threadIDs(ctx, c.ThreadID)
	if err != nil {
		return nil, err
	}
	visible := map[int64]*Communication{}
	for _, cid := range ids {
		x := c
		if cid != c.ID {
			if x, err = s.load(ctx, cid); err != nil {
				return nil, err
			}
			if err := s.fill(ctx, a, x); err != nil {
				if app.ErrorCode(err) == app.NotFound {
					continue
				}
				return nil, err
			}
		}
		visible[cid] = x
		t.Comms = append(t.Comms, x)
	}
	evs, err := s.events(ctx, c.ThreadID)
	if err != nil {
		return nil, err
	}
	requester := map[int64]string{} // consent request → the State that asked
	for _, e := range evs {
		if e.Kind == EvConsentRequested {
			requester[e.ID] = e.State
		}
	}
	for _, e := range evs {
		x := visible[e.CommID]
		if x == nil {
			continue
		}
		// Sharing with a third State concerns the sender State and the
		// State that asked, no other recipient, and not the Secretariat.
		switch e.Kind {
		case EvConsentRequested, EvConsentGranted, EvConsentRefused, EvForwarded:
			if x.Viewer.Metadata {
				continue
			}
			asker := e.State
			if e.Kind == EvConsentGranted || e.Kind == EvConsentRefused {
				asker = requester[e.RefID]
			}
			if x.Viewer.Recipient && asker != a.State {
				continue
			}
		}
		// A recipient State sees its own acts and the sender's; the sender
		// sees all; the Secretariat sees every act without its note.
		if x.Viewer.Recipient && e.State != a.State && e.State != x.SenderState && e.Target != a.State {
			continue
		}
		if !x.Viewer.Metadata && e.sealed != "" {
			b, err := s.Seal.Open(noteAAD(e.ID), e.sealed)
			if err != nil {
				return nil, err
			}
			e.Note = string(b)
		}
		if x.Viewer.Metadata {
			e.Actor = ""
		}
		t.Events = append(t.Events, e)
	}
	return t, nil
}

// Comms returns the actor's State's communications (sent, received,
// drafts), newest first, filtered; the Secretariat gets every sent
// communication's metadata and can filter only by date.
func (s *Service) Comms(ctx context.Context, f Filter) ([]*Communication, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	var q string
	var args []any
	switch {
	case a.IsSecretariat():
		q, args = `SELECT `+commColumns+` FROM comms c WHERE c.status = 'sent'`, nil
	case a.State == "":
		return nil, app.ErrForbidden()
	case f.Box == "out":
		q, args = `SELECT `+commColumns+` FROM comms c WHERE c.sender_state = $1 AND c.status = 'sent'`, []any{a.State}
	case f.Box == "drafts":
		q, args = `SELECT `+commColumns+` FROM comms c WHERE c.sender_state = $1 AND c.status = 'draft'`, []any{a.State}
	case f.Box == "in":
		q, args = `SELECT `+commColumns+` FROM comms c WHERE c.status = 'sent' AND c.id IN (SELECT comm_id FROM comm_recipients WHERE state_code = $1)`, []any{a.State}
	default:
		q, args = `SELECT `+commColumns+` FROM comms c WHERE c.status = 'sent' AND (c.sender_state = $1 OR c.id IN (SELECT comm_id FROM comm_recipients WHERE state_code = $1))`, []any{a.State}
	}
	if !f.From.IsZero() {
		args = append(args, f.From)
		q += ` AND c.created_at >= $` + strconv.Itoa(len(args))
	}
	if !f.To.IsZero() {
		args = append(args, f.To)
		q += ` AND c.created_at < $` + strconv.Itoa(len(args))
	}
	q += ` ORDER BY c.id DESC LIMIT 2000`
	list, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	if err := s.fillList(ctx, a, list); err != nil {
		return nil, err
	}
	out := []*Communication{}
	query := strings.ToLower(strings.TrimSpace(f.Query))
	for _, c := range list {
		// The Secretariat cannot search what it cannot read: its query
		// is ignored, never answered from content.
		if query != "" && !c.Viewer.Metadata && (c.Content == nil || !c.Content.matches(query)) {
			continue
		}
		if f.Stage != "" && !hasStage(c, f.Stage) {
			continue
		}
		out = append(out, c)
		if len(out) == MaxListed {
			break
		}
	}
	return out, nil
}

// fillList is fill for a list: the query already kept what the actor may
// see, the recipients of all are read in a few queries, and attachments
// are left for the communication's own page.
func (s *Service) fillList(ctx context.Context, a *app.Actor, list []*Communication) error {
	byID := map[int64]*Communication{}
	ids := make([]any, 0, len(list))
	for _, c := range list {
		c.Viewer = Viewer{Sender: a.State != "" && a.State == c.SenderState, Metadata: a.IsSecretariat()}
		c.Viewer.Recipient = !c.Viewer.Sender && !c.Viewer.Metadata
		c.Recipients = []*Recipient{}
		byID[c.ID] = c
		ids = append(ids, c.ID)
	}
	for len(ids) > 0 {
		n := min(len(ids), 200)
		chunk := ids[:n]
		ids = ids[n:]
		marks := make([]string, len(chunk))
		for i := range chunk {
			marks[i] = "$" + strconv.Itoa(i+1)
		}
		rows, err := s.DB.QueryContext(ctx, `SELECT comm_id, `+recipientColumns+` FROM comm_recipients WHERE comm_id IN (`+strings.Join(marks, ",")+`) ORDER BY state_code, id`, chunk...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var cid int64
			r, err := scanRecipient(prefixed{rows, &cid})
			if err != nil {
				rows.Close()
				return err
			}
			if c := byID[cid]; c != nil && (!c.Viewer.Recipient || r.State == a.State) {
				c.Recipients = append(c.Recipients, r)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for _, c := range list {
		if tpl, err := s.templateAt(ctx, c.TemplateID, c.TemplateVersion); err == nil {
			c.TemplateSlug, c.TemplateName = tpl.Slug, tpl.Name
		}
		s.mask(c)
		if !c.Viewer.Metadata {
			if err := s.openContent(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// prefixed scans a leading column into first, then the rest as sc would.
type prefixed struct {
	sc    interface{ Scan(...any) error }
	first *int64
}

func (p prefixed) Scan(dest ...any) error { return p.sc.Scan(append([]any{p.first}, dest...)...) }

func hasStage(c *Communication, stage string) bool {
	for _, r := range c.Recipients {
		if r.Stage() == stage {
			return true
		}
	}
	return false
}

func (ct *Content) matches(q string) bool {
	if strings.Contains(strings.ToLower(ct.Subject), q) {
		return true
	}
	for _, v := range ct.Fields {
		if strings.Contains(strings.ToLower(v), q) {
			return true
		}
	}
	for _, i := range ct.Indicators {
		if strings.Contains(strings.ToLower(i.Value), q) {
			return true
		}
	}
	return false
}

// Summary counts communications for the Secretariat's overview: how many
// were sent, and how many recipient lines are at each stage.
type Summary struct {
	Sent    int            `json:"sent"`
	ByStage map[string]int `json:"recipients_by_stage"`
}

// Overview counts every sent communication and recipient line, in the
// database (the lists stop at 500): the Secretariat's figures.
func (s *Service) Overview(ctx context.Context) (*Summary, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() {
		return nil, app.ErrForbidden()
	}
	sum := &Summary{ByStage: map[string]int{}}
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM comms WHERE status = 'sent'`).Scan(&sum.Sent); err != nil {
		return nil, err
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT CASE
		WHEN moved_at IS NOT NULL THEN 'moved'
		WHEN outcome <> '' THEN outcome
		WHEN acked_at IS NOT NULL THEN 'acknowledged'
		WHEN opened_at IS NOT NULL THEN 'opened'
		WHEN bounced_at IS NOT NULL THEN 'bounced'
		WHEN delivered_at IS NOT NULL THEN 'delivered'
		ELSE 'notified' END AS stage, COUNT(*) FROM comm_recipients GROUP BY stage`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		sum.ByStage[st] = n
	}
	return sum, rows.Err()
}

// Tensions returns the States with which the actor's State declares
// tension (requests between them go to the diplomatic level first). Only
// the State's own users see its declarations.
func (s *Service) Tensions(ctx context.Context) ([]string, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if a.State == "" {
		return nil, app.ErrForbidden()
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT counterpart FROM comm_tensions WHERE state_code = $1 ORDER BY counterpart`, a.State)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetTension declares or ends tension with a State: a routing preference,
// set by the State's focal point.
func (s *Service) SetTension(ctx context.Context, counterpart string, on bool) error {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return err
	}
	if !a.IsFocalPointOf(a.State) || a.State == "" {
		return app.ErrForbidden()
	}
	counterpart = strings.ToUpper(strings.TrimSpace(counterpart))
	known, err := s.knownStates(ctx)
	if err != nil {
		return err
	}
	if !known[counterpart] || counterpart == a.State {
		return app.FieldError("state", "error.comms_unknown_state", "unknown State code: {{.Code}}", map[string]any{"Code": counterpart})
	}
	now := s.Now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if on {
			_, err = tx.ExecContext(ctx, `INSERT INTO comm_tensions (state_code, counterpart, declared_by, declared_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
				a.State, counterpart, a.Email, now)
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM comm_tensions WHERE state_code = $1 AND counterpart = $2`, a.State, counterpart)
		}
		if err != nil {
			return err
		}
		typ := "comms.routing_set"
		if !on {
			typ = "comms.routing_cleared"
		}
		_, err = auditlog.Append(ctx, tx, auditlog.Event{Type: typ, ActorID: a.UserID, ActorState: a.State,
			Object: "routing:" + a.State, States: []string{a.State}, At: now})
		return err
	})
}

// Reseal seals again, under the current data key, every communication's
// content, note and attachment sealed under an older key (data-key
// rotation). It returns how many values it sealed again.
func (s *Service) Reseal(ctx context.Context, log *slog.Logger) (int, error) {
	n := 0
	for _, t := range []struct {
		table, col string
		aad        func(id int64, ref string) string
		key        string
	}{
		{"comms", "content", func(_ int64, ref string) string { return contentAAD(ref) }, "ref"},
		{"comm_events", "note", func(id int64, _ string) string { return noteAAD(id) }, "''"},
		{"comm_attachments", "data", func(id int64, _ string) string { return attachmentAAD(id) }, "''"},
		{"comm_attachments", "meta", func(id int64, _ string) string { return attachmentMetaAAD(id) }, "''"},
	} {
		// In batches by id, so that attachments are never all in memory.
		after := int64(0)
		for {
			rows, err := s.DB.QueryContext(ctx, `SELECT id, `+t.key+`, `+t.col+` FROM `+t.table+` WHERE id > $1 AND `+t.col+` <> '' ORDER BY id LIMIT 50`, after)
			if err != nil {
				return n, err
			}
			type row struct {
				id       int64
				ref, val string
			}
			var batch []row
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.id, &r.ref, &r.val); err != nil {
					rows.Close()
					return n, err
				}
				batch = append(batch, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return n, err
			}
			if len(batch) == 0 {
				break
			}
			after = batch[len(batch)-1].id
			for _, r := range batch {
				if seal.SealedWith(r.val) == s.Seal.Current() {
					continue
				}
				b, err := s.Seal.Open(t.aad(r.id, r.ref), r.val)
				if err != nil {
					return n, err
				}
				v, err := s.Seal.Seal(t.aad(r.id, r.ref), b)
				if err != nil {
					return n, err
				}
				if _, err := s.DB.ExecContext(ctx, `UPDATE `+t.table+` SET `+t.col+` = $1 WHERE id = $2 AND `+t.col+` = $3`, v, r.id, r.val); err != nil {
					return n, err
				}
				n++
			}
		}
	}
	if log != nil && n > 0 {
		log.Info("communications sealed again under the current data key", "values", n)
	}
	return n, nil
}

// STIX exports a communication's indicators as a STIX 2.1 bundle, for the
// sender and recipient States, where the TLP label allows: TLP:RED is never
// exported. The export is logged.
func (s *Service) STIX(ctx context.Context, id int64) ([]byte, error) {
	a, c, err := s.readable(ctx, id)
	if err != nil {
		return nil, err
	}
	if !TLPAllowsEmail(c.TLP) {
		return nil, app.Errorf(app.Forbidden, "error.comms_red_export", "TLP:RED content is never exported")
	}
	created := c.CreatedAt
	if c.SentAt != nil {
		created = *c.SentAt
	}
	out, err := ExportSTIX(STIXSource{Ref: c.Ref, SenderState: c.SenderState, Created: created, TLP: c.TLP, Indicators: c.Content.Indicators})
	if err != nil {
		return nil, err
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		_, err := auditlog.Append(ctx, tx, auditlog.Event{Type: "comms.exported", ActorID: a.UserID, ActorState: a.State,
			Object: "comm:" + c.Ref, States: []string{c.SenderState, a.State}, At: s.Now()})
		return err
	})
	return out, err
}
