package comms

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/notify"
)

const commColumns = `c.id, c.ref, c.thread_id, c.parent_id, c.forwarded_from, c.template_id, c.template_version, c.sender_state, c.sender_user,
	c.sender_email, c.sender_tz, c.to_states, c.level, c.urgency, c.tlp, c.respond_by, c.onward_consent, c.status, c.content, c.log_index,
	c.escalated_at, c.created_at, c.updated_at, c.sent_at, c.commit_salt`

func scanComm(sc interface{ Scan(...any) error }) (*Communication, error) {
	var c Communication
	var parent, fwd, logIdx sql.NullInt64
	var to string
	var salt sql.NullString
	var respondBy, escalated, sent sql.NullTime
	if err := sc.Scan(&c.ID, &c.Ref, &c.ThreadID, &parent, &fwd, &c.TemplateID, &c.TemplateVersion, &c.SenderState, &c.senderUser,
		&c.SenderEmail, &c.SenderTZ, &to, &c.Level, &c.Urgency, &c.TLP, &respondBy, &c.OnwardConsent, &c.Status, &c.sealed, &logIdx,
		&escalated, &c.CreatedAt, &c.UpdatedAt, &sent, &salt); err != nil {
		return nil, err
	}
	c.ParentID, c.ForwardedFrom, c.CommitSalt = parent.Int64, fwd.Int64, salt.String
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

func (s *Service) load(ctx context.Context, id int64) (*Communication, error) {
	c, err := scanComm(s.DB.QueryRowContext(ctx, `SELECT `+commColumns+` FROM comms c WHERE c.id = $1`, id))
	if err == sql.ErrNoRows {
		return nil, app.ErrNotFound("communication")
	}
	return c, err
}

func (s *Service) query(ctx context.Context, q string, args ...any) ([]*Communication, error) {
	rows, err := s.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Communication
	for rows.Next() {
		c, err := scanComm(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *Service) insert(ctx context.Context, tx *sql.Tx, c *Communication) error {
	sealed, err := s.sealContent(c)
	if err != nil {
		return err
	}
	var parent, fwd any
	if c.ParentID != 0 {
		parent = c.ParentID
	}
	if c.ForwardedFrom != 0 {
		fwd = c.ForwardedFrom
	}
	st, err := s.DB.Stmt(ctx, tx, `INSERT INTO comms (ref, thread_id, parent_id, forwarded_from, template_id, template_version, sender_state, sender_user,
		sender_email, to_states, level, urgency, tlp, respond_by, onward_consent, status, content, idem_key, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19) RETURNING id`)
	if err != nil {
		return err
	}
	return st.QueryRowContext(ctx,
		c.Ref, c.ThreadID, parent, fwd, c.TemplateID, c.TemplateVersion, c.SenderState, c.senderUser, c.SenderEmail,
		strings.Join(c.ToStates, ","), c.Level, c.Urgency, c.TLP, c.RespondBy, c.OnwardConsent, c.Status, sealed, c.idemKey, c.CreatedAt).Scan(&c.ID)
}

func (s *Service) byIdemKey(ctx context.Context, a *app.Actor, key string) (*Communication, error) {
	var id int64
	err := s.DB.QueryRowContext(ctx, `SELECT id FROM comms WHERE sender_user = $1 AND idem_key = $2`, a.UserID, key).Scan(&id)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s.Communication(ctx, id)
}

func isUnique(err error) bool { return db.IsUniqueViolation(err) }

func forUpdate(s *Service) string {
	if s.DB.Dialect == db.Postgres {
		return ` FOR UPDATE`
	}
	return ``
}

// isRecipient reports whether a State is among a communication's
// recipients, in or out of a transaction.
func isRecipient(ctx context.Context, q db.Queryer, id int64, state string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM comm_recipients WHERE comm_id = $1 AND state_code = $2`, id, state).Scan(&n)
	return n > 0, err
}

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

func (s *Service) recipients(ctx context.Context, id int64) ([]*Recipient, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT `+recipientColumns+` FROM comm_recipients WHERE comm_id = $1 ORDER BY state_code, id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Recipient{}
	for rows.Next() {
		r, err := scanRecipient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Service) threadIDs(ctx context.Context, thread int64) ([]int64, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT id FROM comms WHERE thread_id = $1 AND status = 'sent' ORDER BY id`, thread)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (s *Service) events(ctx context.Context, thread int64) ([]*Event, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT id, comm_id, kind, state_code, actor, target, note, ref_id, log_index, at FROM comm_events WHERE thread_id = $1 ORDER BY id`, thread)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Event
	for rows.Next() {
		var e Event
		var ref, idx sql.NullInt64
		if err := rows.Scan(&e.ID, &e.CommID, &e.Kind, &e.State, &e.Actor, &e.Target, &e.sealed, &ref, &idx, &e.At); err != nil {
			return nil, err
		}
		e.RefID, e.At = ref.Int64, e.At.UTC()
		if idx.Valid {
			e.LogIndex = &idx.Int64
		}
		out = append(out, &e)
	}
	return out, rows.Err()
}

// The attachment types pocdir accepts, by extension, with the bytes they
// must start with (nil: text, checked as UTF-8 without NUL bytes).
// Executables, scripts, HTML and SVG are refused: they could act on the
// reader's machine or in the browser.
var attachmentTypes = map[string]struct {
	media string
	magic [][]byte
}{
	".pdf":    {"application/pdf", [][]byte{[]byte("%PDF-")}},
	".png":    {"image/png", [][]byte{[]byte("\x89PNG\r\n\x1a\n")}},
	".jpg":    {"image/jpeg", [][]byte{{0xff, 0xd8, 0xff}}},
	".jpeg":   {"image/jpeg", [][]byte{{0xff, 0xd8, 0xff}}},
	".gif":    {"image/gif", [][]byte{[]byte("GIF87a"), []byte("GIF89a")}},
	".zip":    {"application/zip", [][]byte{[]byte("PK\x03\x04")}},
	".gz":     {"application/gzip", [][]byte{{0x1f, 0x8b}}},
	".pcap":   {"application/vnd.tcpdump.pcap", [][]byte{{0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4}, {0x4d, 0x3c, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d}}},
	".pcapng": {"application/octet-stream", [][]byte{{0x0a, 0x0d, 0x0d, 0x0a}}},
	".docx":   {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", [][]byte{[]byte("PK\x03\x04")}},
	".xlsx":   {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", [][]byte{[]byte("PK\x03\x04")}},
	".odt":    {"application/vnd.oasis.opendocument.text", [][]byte{[]byte("PK\x03\x04")}},
	".txt":    {"text/plain; charset=utf-8", nil},
	".log":    {"text/plain; charset=utf-8", nil},
	".csv":    {"text/csv; charset=utf-8", nil},
	".json":   {"application/json", nil},
	".xml":    {"application/xml", nil},
	".eml":    {"message/rfc822", nil},
	".asc":    {"text/plain; charset=utf-8", nil},
}

// AttachmentExtensions lists the accepted file extensions, for the form.
func AttachmentExtensions() []string {
	var out []string
	for ext := range attachmentTypes {
		out = append(out, ext)
	}
	sort.Strings(out)
	return out
}

// badNameRune refuses control characters and the bidirectional formatting
// ones, with which "report\u202Eexe.pdf" would read as "reportfdp.exe".
func badNameRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || (r >= 0x200B && r <= 0x200F) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// checkAttachment sets the media type from the extension and checks that
// the bytes are of that type.
func checkAttachment(a *Attachment) (key, msg string) {
	name := strings.TrimSpace(a.Name)
	if name == "" || utf8.RuneCountInString(name) > 200 || strings.ContainsAny(name, "/\\\x00\r\n\"") || strings.IndexFunc(name, badNameRune) >= 0 {
		return "error.attachment_name", "the file name is missing or not allowed"
	}
	if a.Size = int64(len(a.Data)); a.Size == 0 {
		return "error.attachment_empty", "the file is empty"
	}
	if a.Size > MaxAttachmentBytes {
		return "error.attachment_size", "the file is over the size limit"
	}
	t, ok := attachmentTypes[strings.ToLower(path.Ext(name))]
	if !ok {
		return "error.attachment_type", "this kind of file is not accepted"
	}
	if t.magic == nil {
		if !utf8.Valid(a.Data) || bytes.IndexByte(a.Data, 0) >= 0 {
			return "error.attachment_content", "the file's content does not match its type"
		}
	} else {
		match := false
		for _, m := range t.magic {
			match = match || bytes.HasPrefix(a.Data, m)
		}
		if !match {
			return "error.attachment_content", "the file's content does not match its type"
		}
	}
	a.Name, a.Type = name, t.media
	return "", ""
}

func checkAttachments(v *app.Validation, atts []*Attachment) {
	if len(atts) > MaxAttachments {
		v.Add("attachments", "error.attachment_count", "too many files", map[string]any{"Max": MaxAttachments})
		return
	}
	var total int64
	for _, a := range atts {
		if key, msg := checkAttachment(a); key != "" {
			v.Add("attachments", key, msg, map[string]any{"Name": a.Name, "MaxMB": MaxAttachmentBytes >> 20})
		}
		total += int64(len(a.Data))
	}
	if total > MaxTotalAttachment {
		v.Add("attachments", "error.attachment_total", "the files together are over the size limit", map[string]any{"MaxMB": MaxTotalAttachment >> 20})
	}
}

func checkStoredAttachments(ctx context.Context, tx *sql.Tx, id int64) error {
	var n int
	var total sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), SUM(size) FROM comm_attachments WHERE comm_id = $1`, id).Scan(&n, &total); err != nil {
		return err
	}
	if n > MaxAttachments {
		return app.FieldError("attachments", "error.attachment_count", "too many files", map[string]any{"Max": MaxAttachments})
	}
	if total.Int64 > MaxTotalAttachment {
		return app.FieldError("attachments", "error.attachment_total", "the files together are over the size limit", map[string]any{"MaxMB": MaxTotalAttachment >> 20})
	}
	return nil
}

type sealedAttachment struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Data []byte `json:"data,omitempty"`
}

// attachmentMetaAAD binds an attachment's name and type, sealed apart from
// its bytes so that listing files never opens them.
func attachmentMetaAAD(id int64) string { return "comms/attachment-meta/" + strconv.FormatInt(id, 10) }

func (s *Service) addAttachments(ctx context.Context, tx *sql.Tx, comm int64, atts []*Attachment) error {
	for _, a := range atts {
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO comm_attachments (comm_id, size, data) VALUES ($1, $2, '') RETURNING id`, comm, len(a.Data)).Scan(&id); err != nil {
			return err
		}
		b, _ := json.Marshal(sealedAttachment{a.Name, a.Type, a.Data})
		v, err := s.Seal.Seal(attachmentAAD(id), b)
		if err != nil {
			return err
		}
		m, _ := json.Marshal(sealedAttachment{Name: a.Name, Type: a.Type})
		meta, err := s.Seal.Seal(attachmentMetaAAD(id), m)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE comm_attachments SET data = $1, meta = $2 WHERE id = $3`, v, meta, id); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) copyAttachments(ctx context.Context, tx *sql.Tx, from, to int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, data FROM comm_attachments WHERE comm_id = $1 ORDER BY id`, from)
	if err != nil {
		return err
	}
	var atts []*Attachment
	for rows.Next() {
		var id int64
		var v string
		if err := rows.Scan(&id, &v); err != nil {
			rows.Close()
			return err
		}
		a, err := s.openAttachment(id, v)
		if err != nil {
			rows.Close()
			return err
		}
		atts = append(atts, a)
	}
	rows.Close()
	return s.addAttachments(ctx, tx, to, atts)
}

func (s *Service) openAttachment(id int64, v string) (*Attachment, error) {
	b, err := s.Seal.Open(attachmentAAD(id), v)
	if err != nil {
		return nil, err
	}
	var sa sealedAttachment
	if err := json.Unmarshal(b, &sa); err != nil {
		return nil, err
	}
	return &Attachment{ID: id, Name: sa.Name, Type: sa.Type, Size: int64(len(sa.Data)), Data: sa.Data}, nil
}

// attachments lists a communication's files, without their bytes; with
// names only when open is set.
func (s *Service) attachments(ctx context.Context, comm int64, open bool) ([]*Attachment, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT id, size, meta FROM comm_attachments WHERE comm_id = $1 ORDER BY id`, comm)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Attachment
	for rows.Next() {
		var a Attachment
		var v string
		if err := rows.Scan(&a.ID, &a.Size, &v); err != nil {
			return nil, err
		}
		if open {
			b, err := s.Seal.Open(attachmentMetaAAD(a.ID), v)
			if err != nil {
				return nil, err
			}
			var m sealedAttachment
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, err
			}
			a.Name, a.Type = m.Name, m.Type
		}
		out = append(out, &a)
	}
	return out, rows.Err()
}

// AttachmentFile returns an attachment with its bytes, for the sender and
// recipient States only.
func (s *Service) AttachmentFile(ctx context.Context, comm, id int64) (*Attachment, error) {
	_, _, err := s.readable(ctx, comm)
	if err != nil {
		return nil, err
	}
	var v string
	err = s.DB.QueryRowContext(ctx, `SELECT data FROM comm_attachments WHERE id = $1 AND comm_id = $2`, id, comm).Scan(&v)
	if err == sql.ErrNoRows {
		return nil, app.ErrNotFound("attachment")
	}
	if err != nil {
		return nil, err
	}
	return s.openAttachment(id, v)
}

// notification is the email that tells a PoC of a communication. By
// default it carries no content: the reference, the urgency, the TLP label
// in the subject, and a link. When the PoC has an OpenPGP key and the TLP
// label allows, the content goes too, encrypted to the key and signed.
func (s *Service) notification(c *Communication, p *directory.PoC, addr string, reminder bool) (notify.Message, bool) {
	kind := "comm"
	if reminder {
		kind = "comm-reminder"
	}
	// The subject says no more than the reference, the urgency and the
	// label (and that it is an exercise): it travels in clear, and the
	// Secretariat's outbox page shows it.
	exercise := ""
	if c.TemplateSlug == "exercise" {
		exercise = "[EXERCISE] "
	}
	subject := fmt.Sprintf("%s[%s] %s (urgency: %s)", exercise, c.TLP, c.Ref, c.Urgency)
	if reminder {
		subject = fmt.Sprintf("%s[%s] %s (urgency: %s): reminder", exercise, c.TLP, c.Ref, c.Urgency)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "pocdir: the directory of Points of Contact on ICT security.\n\n")
	if exercise != "" {
		fmt.Fprintf(&b, "EXERCISE: this message belongs to an exercise and concerns no real incident.\n\n")
	}
	if reminder {
		fmt.Fprintf(&b, "Reminder: the sender State asked for a response by %s (UTC).\n\n", fmtTime(c.RespondBy))
	}
	fmt.Fprintf(&b, "A communication from %s awaits your State (%s), at the %s level.\n\n", c.SenderState, p.State, c.Level)
	fmt.Fprintf(&b, "Reference: %s\nUrgency:   %s\nTLP:       %s\n", c.Ref, c.Urgency, c.TLP)
	if c.RespondBy != nil {
		fmt.Fprintf(&b, "Response requested by: %s UTC\n", c.RespondBy.UTC().Format("2006-01-02 15:04"))
	}
	fmt.Fprintf(&b, "\nRead it, acknowledge it and answer in pocdir:\n%s/comms/%d\n\n", s.BaseURL, c.ID)
	b.WriteString(Statement + "\n")
	plain := b.String()
	if s.PGP == nil || p.PGPKey == "" || !TLPAllowsEmail(c.TLP) || c.Content == nil {
		return notify.Message{Kind: kind, To: addr, Subject: subject, Body: plain}, false
	}
	var full strings.Builder
	full.WriteString(plain)
	fmt.Fprintf(&full, "\n----- Content (%s) -----\n\nSubject: %s\n", c.TLP, c.Content.Subject)
	for _, k := range sortedKeys(c.Content.Fields) {
		fmt.Fprintf(&full, "\n%s:\n%s\n", k, c.Content.Fields[k])
	}
	if len(c.Content.Indicators) > 0 {
		fmt.Fprintf(&full, "\nIndicators of compromise:\n%s\n", FormatIndicators(c.Content.Indicators))
	}
	armored, err := s.PGP.EncryptAndSign(p.PGPKey, notify.MIMEText(full.String()))
	if err != nil {
		// An unusable key (expired since it was checked) never blocks the
		// notification: it goes without content.
		return notify.Message{Kind: kind, To: addr, Subject: subject, Body: plain}, false
	}
	return notify.Message{Kind: kind, To: addr, Subject: subject, Body: armored, PGP: true}, true
}

// Statement is principle 3, said on every notification.
const Statement = "Notifying a State of ICT activity from or through its territory does not imply that the State is responsible for it. Acknowledging a communication does not mean agreeing with its content."

// tellSender emails the sender of a communication that a recipient State
// acted on it, without content.
func (s *Service) tellSender(ctx context.Context, tx *sql.Tx, c *Communication, state, kind string, now time.Time) error {
	what := map[string]string{
		EvAcknowledged: "acknowledged", EvResponded: "responded to", EvDeclined: "declined", EvDisputed: "disputed the facts of",
		EvMoreInfo: "asked for more information on", EvConsentRequested: "asks your consent to share",
	}[kind]
	if what == "" || c.SenderEmail == "" {
		return nil
	}
	body := fmt.Sprintf("pocdir: %s %s your communication %s.\n\nSee the exchange:\n%s/comms/%d\n\n%s\n", state, what, c.Ref, s.BaseURL, c.ID, Statement)
	return notify.Enqueue(ctx, tx, now, notify.Message{Kind: "comm-activity", To: c.SenderEmail,
		Subject: fmt.Sprintf("[%s] %s: news of your communication", c.TLP, c.Ref), Body: body})
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
