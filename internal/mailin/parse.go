package mailin

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/textproto"
)

// Limits bound what Parse reads. Messages come from anyone on the Internet,
// so a message built to exhaust the parser (thousands of parts, deep nesting)
// is refused with ErrTooComplex instead of being walked.
type Limits struct {
	MaxParts       int // MIME parts in all (default 50 when 0)
	MaxDepth       int // nesting of multiparts (default 8 when 0)
	MaxAttachments int // default 10 when 0
}

// withDefaults fills in the zero fields, so that the zero Limits is a
// sensible choice for callers.
func (l Limits) withDefaults() Limits {
	if l.MaxParts <= 0 {
		l.MaxParts = 50
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 8
	}
	if l.MaxAttachments <= 0 {
		l.MaxAttachments = 10
	}
	return l
}

// Message is an inbound e-mail as pocdir reads it.
type Message struct {
	MessageID  string    // the Message-ID without angle brackets, "" when absent
	From       string    // the From address (only the address, as written; domain lower-cased), "" when absent or unreadable
	Subject    string    // decoded (RFC 2047), one line
	InReplyTo  string    // first message id of In-Reply-To without brackets
	References []string  // the message ids of References without brackets, in order
	Recipients []string  // addresses of To, Cc, Delivered-To, X-Original-To, Envelope-To (lower-cased, deduplicated, in that order)
	Date       time.Time // zero when absent or unreadable

	// Auto is set for a message no person wrote to us: auto-replies and out-of-office
	// (RFC 3834 Auto-Submitted other than "no", which covers Microsoft's "auto-generated";
	// X-Autoreply; X-Autorespond; Precedence: bulk/junk/list/auto_reply;
	// X-Auto-Response-Suppress containing All or OOF; List-Id / List-Unsubscribe; Microsoft's X-MS-Exchange-Inbox-Rules-Loop;
	// a From of MAILER-DAEMON or postmaster; subjects beginning with the usual out-of-office words
	// such as "Out of Office", "Automatic reply", "Auto:", "Absence", "Réponse automatique", "Respuesta automática",
	// "Автоответ", "自动回复", "رد تلقائي"). AutoWhy names what gave it away (the header name or "subject").
	// A person's reply must not be taken for an auto-reply, nor the reverse,
	// because only a person's reply confirms that a PoC is reachable.
	Auto    bool
	AutoWhy string

	// DSN is set for a delivery status notification (RFC 3464: multipart/report with
	// report-type=delivery-status), whether or not it also looks automatic.
	DSN *DSN

	Text        string       // the person's text: the first text/plain part (or text/html turned into plain text when there is no plain part), decoded to UTF-8 from its charset, CRLF → LF, format=flowed joined
	Attachments []Attachment // every other leaf part with a file name or Content-Disposition: attachment, decoded

	// Signed is set for a PGP/MIME signed message (RFC 3156 §5: multipart/signed;
	// protocol="application/pgp-signature"), at the top or inside a decrypted entity.
	// Text and Attachments are then read from the signed part only, so that
	// nothing unsigned passes for signed.
	Signed *Signed
	// Encrypted is the ASCII-armored OpenPGP message of a PGP/MIME encrypted message
	// (RFC 3156 §4: multipart/encrypted; protocol="application/pgp-encrypted"), or of
	// an inline "-----BEGIN PGP MESSAGE-----" text body. Text is empty then: the caller
	// decrypts and calls ParseEntity on the plaintext.
	Encrypted string
	// ClearSigned is set when the text is an inline OpenPGP cleartext-signed message
	// ("-----BEGIN PGP SIGNED MESSAGE-----"): the whole armored block, for the caller to verify;
	// Text then holds the text inside it (dash-unescaped). The block is the
	// text decoded to UTF-8 with LF line endings, which verifies when the
	// writer signed UTF-8 (or ASCII) text, as OpenPGP clients do.
	ClearSigned string
}

// Signed is the signed part of a PGP/MIME message and its detached signature.
type Signed struct {
	Data      []byte // the first body part exactly as it was signed: its MIME headers and body, lines ending in CRLF, without the CRLF before the boundary (RFC 3156 §5 canonical form)
	Signature string // the ASCII-armored detached signature (application/pgp-signature)
}

// Attachment is a file attached to a reply.
type Attachment struct {
	Name        string // file name (RFC 2231 / RFC 2047 decoded), base name only
	ContentType string // media type without parameters
	Data        []byte // the decoded content, byte for byte (no charset conversion)
}

// DSN is what a delivery status notification reports.
type DSN struct {
	// OriginalMessageID is the Message-ID of the returned message, from the
	// text/rfc822-headers or message/rfc822 part, without brackets; "" if absent.
	OriginalMessageID string
	// EnvelopeID is the Original-Envelope-Id field, if any.
	EnvelopeID string
	Recipients []DSNRecipient
}

// DSNRecipient is one per-recipient block of a DSN.
type DSNRecipient struct {
	FinalRecipient    string // the address only (after "rfc822;")
	OriginalRecipient string
	Action            string // failed, delayed, delivered, relayed, expanded (lower case)
	Status            string // e.g. 5.1.1
	Diagnostic        string // Diagnostic-Code's text, one line, at most 300 bytes
}

// Failed reports whether the recipient's delivery failed for good (Action
// failed, or a 5.x.x status): a delayed or relayed message may still arrive,
// and must not mark an address as unreachable.
func (r DSNRecipient) Failed() bool {
	return r.Action == "failed" || strings.HasPrefix(r.Status, "5.")
}

// ErrMalformed is wrapped by every parsing error.
var ErrMalformed = errors.New("malformed message")

// ErrTooComplex is wrapped when a limit is passed. Such errors wrap
// ErrMalformed too, since every parsing error does.
var ErrTooComplex = errors.New("message too complex")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

func tooComplex(format string, args ...any) error {
	return fmt.Errorf("%w: %w: %s", ErrMalformed, ErrTooComplex, fmt.Sprintf(format, args...))
}

// maxDSNRecipients bounds the per-recipient blocks kept from one DSN: pocdir
// sends each message to a handful of addresses, so more is an attack.
const maxDSNRecipients = 1000

// maxDiagnostic is the length, in bytes, Diagnostic-Code is cut to.
const maxDiagnostic = 300

// Parse reads a raw RFC 5322 message. It never panics; a message it cannot read
// gives an error that says what was wrong (wrap ErrMalformed).
//
// A first line "From sender date", which mbox files and some mail stores put
// before the header, is skipped.
func Parse(raw []byte, lim Limits) (*Message, error) {
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		}
	}
	h, body, err := splitHeader(raw)
	if err != nil {
		return nil, malformed("header: %v", err)
	}
	if h.Len() == 0 {
		return nil, malformed("no header fields")
	}
	m := &Message{}
	m.readEnvelope(h)
	w := walker{lim: lim.withDefaults(), m: m}
	if err := w.entity(h, body, 0); err != nil {
		return nil, err
	}
	w.finish()
	m.AutoWhy = autoReason(h, m.From, m.Subject)
	m.Auto = m.AutoWhy != ""
	return m, nil
}

// ParseEntity reads a MIME entity (headers and body: what a PGP/MIME message
// decrypts to) into m's Text, Attachments, Signed and ClearSigned, keeping m's envelope fields.
// Encrypted is reset too, and set again only when the entity is itself
// encrypted, so that a caller decrypting in a loop comes to an end.
//
// An entity whose header has no Content-* or MIME-Version field, or no
// header at all, is read as plain UTF-8 text: that is what an inline
// "-----BEGIN PGP MESSAGE-----" decrypts to.
func ParseEntity(m *Message, entity []byte, lim Limits) error {
	w := walker{lim: lim.withDefaults(), m: &Message{}}
	h, body, err := splitHeader(entity)
	if err != nil || !isMIME(h) {
		h = message.Header{}
		h.Set("Content-Type", "text/plain; charset=utf-8")
		body = entity
	}
	if err := w.entity(h, body, 0); err != nil {
		return err
	}
	w.finish()
	m.Text, m.Attachments, m.Signed, m.ClearSigned, m.Encrypted =
		w.m.Text, w.m.Attachments, w.m.Signed, w.m.ClearSigned, w.m.Encrypted
	return nil
}

// isMIME reports whether a header is a MIME entity's, as a decrypted
// PGP/MIME body is, rather than the first words of a plain text.
func isMIME(h message.Header) bool {
	for f := h.Fields(); f.Next(); {
		if k := strings.ToLower(f.Key()); strings.HasPrefix(k, "content-") || k == "mime-version" {
			return true
		}
	}
	return false
}

// splitHeader reads the header of an entity and returns it with the body
// that follows the blank line, as a sub-slice of data (no copy, so that
// multipart/signed parts keep their exact bytes).
func splitHeader(data []byte) (message.Header, []byte, error) {
	r := bytes.NewReader(data)
	br := bufio.NewReader(r)
	th, err := textproto.ReadHeader(br)
	if err != nil {
		return message.Header{}, nil, err
	}
	off := len(data) - r.Len() - br.Buffered()
	return message.Header{Header: th}, data[off:], nil
}

// wordDecoder decodes RFC 2047 encoded words, reading an unknown charset as
// UTF-8 rather than failing: the words are still mostly legible.
var wordDecoder = mime.WordDecoder{
	CharsetReader: func(cs string, input io.Reader) (io.Reader, error) {
		if r, err := charset.Reader(cs, input); err == nil {
			return r, nil
		}
		return input, nil
	},
}

// walker reads the MIME tree of one message into m, counting what it
// visits against the limits.
type walker struct {
	lim   Limits
	m     *Message
	parts int

	text    string // the first text/plain part, decoded, LF line endings
	textSet bool
	flowed  bool // text is format=flowed (RFC 3676)
	delSp   bool
	html    string
	htmlSet bool

	// frozen is set once a signed or encrypted part has been read: what
	// lies outside it must not be taken for the writer's protected text.
	frozen bool
}

func (w *walker) count() error {
	w.parts++
	if w.parts > w.lim.MaxParts {
		return tooComplex("more than %d MIME parts", w.lim.MaxParts)
	}
	return nil
}

func (w *walker) entity(h message.Header, body []byte, depth int) error {
	if err := w.count(); err != nil {
		return err
	}
	ct, params := mediaType(h.Get("Content-Type"), "text/plain")
	if !strings.HasPrefix(ct, "multipart/") {
		return w.leaf(h, ct, params, body)
	}
	if depth >= w.lim.MaxDepth {
		return tooComplex("multiparts nested deeper than %d", w.lim.MaxDepth)
	}
	boundary := params["boundary"]
	if boundary == "" {
		return malformed("%s without a boundary", ct)
	}
	parts, err := splitMultipart(body, boundary, w.lim.MaxParts-w.parts)
	if err != nil {
		return err
	}
	switch {
	case ct == "multipart/signed" && strings.EqualFold(params["protocol"], "application/pgp-signature"):
		return w.signed(parts, depth)
	case ct == "multipart/encrypted" && strings.EqualFold(params["protocol"], "application/pgp-encrypted"):
		return w.encrypted(parts)
	case ct == "multipart/report" && isDSNReport(params["report-type"]):
		return w.report(parts, depth)
	}
	for _, p := range parts {
		if err := w.part(p, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) part(raw []byte, depth int) error {
	h, body, err := splitHeader(raw)
	if err != nil {
		return malformed("MIME part header: %v", err)
	}
	return w.entity(h, body, depth)
}

// splitMultipart cuts a multipart body into its parts' raw bytes (RFC 2046
// §5.1.1), each without the line break that belongs to the next delimiter.
// Lines may end in CRLF or LF alone. A body cut short before the close
// delimiter keeps its last part, as mail clients do; limit bounds the parts.
func splitMultipart(body []byte, boundary string, limit int) ([][]byte, error) {
	delim := []byte("--" + boundary)
	var parts [][]byte
	start := -1
	for pos := 0; pos < len(body); {
		end := bytes.IndexByte(body[pos:], '\n')
		line, next := body[pos:], len(body)
		if end >= 0 {
			line, next = body[pos:pos+end], pos+end+1
		}
		if bytes.HasPrefix(line, delim) {
			rest := bytes.TrimRight(line[len(delim):], " \t\r")
			closing := string(rest) == "--"
			if len(rest) == 0 || closing {
				if start >= 0 {
					e := pos
					if e > start && body[e-1] == '\n' {
						e--
						if e > start && body[e-1] == '\r' {
							e--
						}
					}
					parts = append(parts, body[start:e])
					if len(parts) > limit {
						return nil, tooComplex("more than %d MIME parts", len(parts))
					}
				}
				if closing {
					return parts, nil
				}
				start = next
			}
		}
		pos = next
	}
	if start < 0 {
		return nil, malformed("no boundary delimiter %q in multipart body", boundary)
	}
	parts = append(parts, body[start:])
	if len(parts) > limit {
		return nil, tooComplex("more than %d MIME parts", len(parts))
	}
	return parts, nil
}

// leaf reads a part that is not a multipart: the writer's text, or an
// attachment. Other parts (a second text, an inline image without a
// name) are skipped without being decoded.
func (w *walker) leaf(h message.Header, ct string, params map[string]string, body []byte) error {
	if w.frozen {
		return nil
	}
	disp, dparams := mediaType(h.Get("Content-Disposition"), "")
	name := fileName(h, params, dparams)
	if disp != "attachment" && name == "" {
		switch {
		case ct == "text/plain" && !w.textSet:
			data, err := decodeTransfer(h, body)
			if err != nil {
				return err
			}
			w.text, w.textSet = lfText(toUTF8(params["charset"], data)), true
			w.flowed = strings.EqualFold(params["format"], "flowed")
			w.delSp = strings.EqualFold(params["delsp"], "yes")
		case ct == "text/html" && !w.htmlSet:
			data, err := decodeTransfer(h, body)
			if err != nil {
				return err
			}
			w.html, w.htmlSet = toUTF8(params["charset"], data), true
		}
		return nil
	}
	if len(w.m.Attachments) >= w.lim.MaxAttachments {
		return tooComplex("more than %d attachments", w.lim.MaxAttachments)
	}
	data, err := decodeTransfer(h, body)
	if err != nil {
		return err
	}
	w.m.Attachments = append(w.m.Attachments, Attachment{Name: name, ContentType: ct, Data: data})
	return nil
}

// finish chooses the text once the whole tree is read: the plain text if
// any, else the HTML made plain, and looks inside for inline OpenPGP.
func (w *walker) finish() {
	if w.m.Encrypted != "" {
		return
	}
	if !w.textSet {
		if w.htmlSet {
			w.m.Text = htmlToText(w.html)
		}
		return
	}
	text := w.text
	ms, me, isMsg := armorBlock(text, "PGP MESSAGE")
	ss, se, isSigned := clearSignedBlock(text)
	switch {
	case isMsg && (!isSigned || ms < ss):
		w.m.Encrypted = text[ms:me]
	case isSigned:
		w.m.ClearSigned = text[ss:se]
		w.m.Text = clearSignedText(text[ss:se])
	default:
		if w.flowed {
			text = unflow(text, w.delSp)
		}
		w.m.Text = text
	}
}

// autoSubjects are the beginnings of out-of-office subjects in the
// languages pocdir's PoCs write, lower case.
var autoSubjects = []string{
	"out of office", "out-of-office", "out of the office", "automatic reply", "auto:", "autoreply", "auto-reply",
	"auto reply", "absence", "réponse automatique", "reponse automatique", "absent du bureau",
	"respuesta automática", "respuesta automatica", "fuera de la oficina",
	"автоответ", "автоматический ответ", "自动回复", "自動回覆", "自动答复", "رد تلقائي", "رد آلي",
	"abwesenheitsnotiz", "automatische antwort",
}
