package comms

import (
	"context"
	"database/sql"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/notify"
)

// The emails of communications. They are written by notify's Writer, in
// the reader's language with English below, like every email of pocdir.
// What travels in clear says no more than a reference, an urgency and a
// label: the content goes only encrypted to a PoC's OpenPGP key.

// notification is the email that tells a PoC of a communication, in the
// first of the PoC's working languages that pocdir writes. By default it
// carries no content: the reference, the urgency, the TLP label in the
// subject, and a link. When the PoC has an OpenPGP key and the TLP label
// allows, the content goes too, encrypted to the key and signed. It reads
// no database: it is written before the transaction that sends it
// (prewrite for a communication, and likewise for a reminder, an escalation
// and a line moved to an alternate; inside it for a copy shared onward).
//
// token is the recipient line's reply token: the email's acknowledgement
// link and, where pocdir receives mail, its Reply-To, so that a PoC with
// nothing but a mail client can acknowledge and answer (seed 002).
//
// written, when set, keeps the plain emails already written for the
// communication by language and State: the PoCs of a State who read one
// language get the same text, written once, with their own token put in.
func (s *Service) notification(ctx context.Context, c *Communication, p *directory.PoC, addr string, reminder bool, written map[string]notify.Message, token string) (notify.Message, bool) {
	to := s.mail.ReaderOf(addr, p.Languages...)
	key := to.Lang + "/" + p.State
	replies := s.mail.Replies()
	own := func(m notify.Message) notify.Message {
		m.To = addr
		m.Body = strings.ReplaceAll(m.Body, tokenMark, token)
		if replies != nil {
			m.ReplyTo = replies.To(token)
		}
		return m
	}
	if m, ok := written[key]; ok && !s.encrypts(c, p) {
		return own(m), false
	}
	kind, subject := "comm", "mail.comm.subject"
	if reminder {
		kind, subject = "comm-reminder", "mail.comm.reminder_subject"
	}
	exercise := c.IsExercise()
	// The subject says no more than the reference, the urgency and the
	// label (and that it is an exercise): it travels in clear, and the
	// Secretariat's outbox page shows it.
	var tag any = ""
	if exercise {
		tag = notify.Term("mail.comm.exercise_tag")
	}
	deadline := ""
	if c.RespondBy != nil {
		deadline = c.RespondBy.UTC().Format("2006-01-02 15:04")
	}
	body := []notify.Text{notify.T("mail.comm.intro")}
	if exercise {
		body = append(body, notify.T("mail.comm.exercise"))
	}
	if reminder {
		body = append(body, notify.T("mail.comm.reminder", "Deadline", deadline))
	}
	body = append(body,
		notify.T("mail.comm.awaits", "Sender", senderOf(c), "State", notify.State(p.State), "Level", notify.Term("level."+c.Level)),
		notify.T("mail.comm.details", "Ref", c.Ref, "Urgency", notify.Term("mail.urgency."+c.Urgency), "TLP", c.TLP, "Deadline", deadline),
		notify.T("mail.comm.link", "Link", s.mail.Link("/comms/"+c.Ref)),
		notify.T("mail.comm.ack_link", "Link", s.mail.Link("/ack/"+tokenMark)))
	if replies != nil {
		body = append(body, ReplyHelp(c.TLP)...)
	}
	body = append(body, notify.T("comm.statement"))
	letter := notify.Letter{Kind: kind, To: to,
		Subject: notify.T(subject, "Exercise", tag, "TLP", c.TLP, "Ref", c.Ref, "Urgency", notify.Term("mail.urgency."+c.Urgency)), Body: body}
	plain := s.mail.Write(letter)
	if written != nil {
		written[key] = plain
	}
	plain = own(plain)
	if !s.encrypts(c, p) {
		return plain, false
	}
	armored, err := s.pgp.EncryptAndSign(p.PGPKey, notify.MIMEText(plain.Body+"\n"+s.contentText(c, letter.To.Lang)))
	if err != nil {
		// An unusable key (expired since it was checked) never blocks the
		// notification: it goes without content.
		return plain, false
	}
	plain.Body, plain.PGP = armored, true
	return plain, true
}

// tokenMark stands for the reply token in a notification written once for
// several PoCs; each one's email gets its own token in its place.
const tokenMark = "REPLYTOKENMARK"

// ReplyHelp says how to answer by email, with the words that choose the
// act (in the reader's language, and in English below like the rest). A
// TLP:RED communication is acknowledged by email but answered in the
// portal only: its content never travels by email, either way.
func ReplyHelp(tlp string) []notify.Text {
	if !TLPAllowsEmail(tlp) {
		return []notify.Text{notify.T("mail.comm.reply_red", "Ack", notify.Term("mail.keyword.acknowledge"))}
	}
	return []notify.Text{notify.T("mail.comm.reply_help",
		"Ack", notify.Term("mail.keyword.acknowledge"), "Decline", notify.Term("mail.keyword.decline"),
		"Dispute", notify.Term("mail.keyword.dispute"), "More", notify.Term("mail.keyword.more-info"))}
}

// replyExpiry is when the reply addresses and acknowledgement links of a
// communication's emails stop working: thirty days after the response
// time asked for, or ninety days after sending when none was.
func replyExpiry(c *Communication, now time.Time) time.Time {
	if c.RespondBy != nil && c.RespondBy.After(now) {
		return c.RespondBy.Add(30 * 24 * time.Hour)
	}
	return now.Add(90 * 24 * time.Hour)
}

// encrypts reports whether a notification to the PoC carries the content,
// encrypted to its OpenPGP key: when pocdir has its own key, the PoC has
// one, and the label allows the content to travel by email.
func (s *Service) encrypts(c *Communication, p *directory.PoC) bool {
	return s.pgp != nil && p.PGPKey != "" && TLPAllowsEmail(c.TLP) && c.Content != nil
}

// contentText is a communication's content as the encrypted part of a
// notification shows it: the fields under their labels in the reader's
// language (the template's, when it is at hand), as the sender wrote them.
func (s *Service) contentText(c *Communication, lang string) string {
	s.versionsMu.Lock()
	tpl := s.versions[[2]int64{c.TemplateID, int64(c.TemplateVersion)}]
	s.versionsMu.Unlock()
	w := s.mail
	var b strings.Builder
	b.WriteString(w.Text(lang, notify.T("mail.comm.content", "TLP", c.TLP)))
	b.WriteString("\n\n")
	b.WriteString(w.Text(lang, notify.T("mail.comm.content_subject", "Subject", c.Content.Subject)))
	b.WriteString("\n")
	// The fields in the template's order, then any the template (or the
	// one at hand) does not name, by key.
	done := map[string]bool{}
	if tpl != nil {
		for _, f := range tpl.Fields {
			v := c.Content.Fields[f.Key]
			if v == "" || done[f.Key] {
				continue
			}
			done[f.Key] = true
			switch f.Kind {
			case "choice":
				if name := c.Content.Fields[f.Key+NameSuffix]; name != "" {
					v = name
					done[f.Key+NameSuffix] = true
				} else {
					v = w.Text(lang, notify.T("list."+f.List+"."+v))
				}
			case "datetime":
				if t, err := time.Parse(time.RFC3339, v); err == nil {
					v = t.UTC().Format("2006-01-02 15:04") + " UTC"
				}
			}
			b.WriteString("\n" + f.Label.In(lang) + ":\n" + v + "\n")
		}
	}
	for _, k := range sortedKeys(c.Content.Fields) {
		if !done[k] {
			b.WriteString("\n" + k + ":\n" + c.Content.Fields[k] + "\n")
		}
	}
	if len(c.Content.Indicators) > 0 {
		b.WriteString("\n" + w.Text(lang, notify.T("mail.comm.indicators")) + "\n" + FormatIndicators(c.Content.Indicators) + "\n")
	}
	return b.String()
}

// Statement is principle 3 in English, said on every notification (in the
// reader's language, from the catalog's comm.statement).
const Statement = "Notifying a State of ICT activity from or through its territory does not imply that the State is responsible for it. Acknowledging a communication does not mean agreeing with its content."

// tellSender emails the sender of a communication that a recipient State
// acted on it, without content, in the sender's language.
func (s *Service) tellSender(ctx context.Context, tx *sql.Tx, c *Communication, state, kind string, now time.Time) error {
	what := map[string]string{
		EvAcknowledged: "mail.comm_activity.acknowledged", EvResponded: "mail.comm_activity.responded", EvDeclined: "mail.comm_activity.declined",
		EvDisputed: "mail.comm_activity.disputed", EvMoreInfo: "mail.comm_activity.more_info", EvConsentRequested: "mail.comm_activity.consent_requested",
	}[kind]
	if what == "" || c.SenderEmail == "" {
		return nil
	}
	to := notify.Reader{Email: c.SenderEmail, Lang: "en"}
	if c.senderUser != 0 {
		r, ok, err := account.StandIn(ctx, tx, c.senderUser, now)
		if err != nil {
			return err
		}
		if ok {
			to = r
		}
	}
	m := s.mail.Write(notify.Letter{Kind: "comm-activity", To: to,
		Subject: notify.T("mail.comm_activity.subject", "TLP", c.TLP, "Ref", c.Ref),
		Body: []notify.Text{notify.T(what, "State", notify.State(state), "Ref", c.Ref),
			notify.T("mail.comm_activity.link", "Link", s.mail.Link("/comms/"+strconv.FormatInt(c.ID, 10))),
			notify.T("comm.statement")}})
	return notify.Enqueue(ctx, tx, now, m)
}

// tellWatchers e-mails the users of a recipient State who asked to hear of
// each new communication (or the delegates of those away), without content:
// the PoCs' mailboxes carry the communication; this says it waits.
func (s *Service) tellWatchers(ctx context.Context, tx *sql.Tx, c *Communication, states []string, now time.Time) error {
	by, err := account.Watchers(ctx, tx, states, now)
	if err != nil {
		return err
	}
	for _, state := range states {
		for _, w := range by[state] {
			var tag any = ""
			var body []notify.Text
			if c.IsExercise() {
				tag = notify.Term("mail.comm.exercise_tag")
				body = append(body, notify.T("mail.comm.exercise"))
			}
			body = append(body, notify.T("mail.comm_new.body", "State", senderOf(c), "Urgency", notify.Term("comm.urgency_"+c.Urgency)))
			if c.RespondBy != nil {
				body = append(body, notify.T("mail.comm_new.respond_by", "Time", c.RespondBy.UTC().Format("2006-01-02 15:04")))
			}
			body = append(body, notify.T("mail.comm_new.link", "Link", s.mail.Link("/comms/"+strconv.FormatInt(c.ID, 10))),
				w.Why(notify.T("mail.comm_new.why")))
			m := s.mail.Write(notify.Letter{Kind: "comm-new", To: w.Reader,
				Subject: notify.T("mail.comm_new.subject", "Exercise", tag, "TLP", c.TLP, "Ref", c.Ref, "State", senderOf(c)), Body: body})
			if err := notify.Enqueue(ctx, tx, now, m); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// senderOf names a communication's sender in an email: its State, or the
// Secretariat for an exercise inject.
func senderOf(c *Communication) any {
	if c.FromSecretariat() {
		return notify.Term("mail.comm.secretariat")
	}
	return notify.State(c.SenderState)
}
