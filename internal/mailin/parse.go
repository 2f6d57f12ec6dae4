package mailin

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/mail"
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

// readEnvelope fills the fields that come from the top-level header. A field
// that cannot be read is left empty rather than failing the message: a
// reply with an odd Date or In-Reply-To is still a reply.
func (m *Message) readEnvelope(h message.Header) {
	mh := mail.Header{Header: h}
	m.MessageID = first(msgIDs(mh, "Message-Id"))
	m.InReplyTo = first(msgIDs(mh, "In-Reply-To"))
	m.References = msgIDs(mh, "References")
	m.Subject = oneLine(decodeWords(h.Get("Subject")))
	if from := addresses(h.Get("From")); len(from) > 0 {
		a := from[0]
		if at := strings.LastIndexByte(a, '@'); at >= 0 {
			a = a[:at] + strings.ToLower(a[at:])
		}
		m.From = a
	}
	seen := map[string]bool{}
	for _, key := range []string{"To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To"} {
		for _, v := range h.Values(key) {
			for _, a := range addresses(v) {
				a = strings.ToLower(a)
				if !seen[a] {
					seen[a] = true
					m.Recipients = append(m.Recipients, a)
				}
			}
		}
	}
	if d, err := mh.Date(); err == nil {
		m.Date = d
	}
}

// msgIDs reads a list of message ids strictly first, then leniently: mail
// systems write ids without "@" or with comments that RFC 5322 refuses,
// and a reply must still be matched to what it answers.
func msgIDs(h mail.Header, key string) []string {
	v := h.Get(key)
	if strings.TrimSpace(v) == "" {
		return nil
	}
	if ids, err := h.MsgIDList(key); err == nil && len(ids) > 0 {
		return sanitizeAll(ids)
	}
	var ids []string
	rest := v
	for {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i+1:], '>')
		if j < 0 {
			break
		}
		if id := strings.TrimSpace(rest[i+1 : i+1+j]); id != "" && !strings.ContainsAny(id, " \t") {
			ids = append(ids, id)
		}
		rest = rest[i+1+j+1:]
	}
	if len(ids) == 0 {
		fields := strings.Fields(v)
		for _, f := range fields {
			f = strings.Trim(f, "<>,;")
			if f != "" && (strings.Contains(f, "@") || len(fields) == 1) {
				ids = append(ids, f)
			}
		}
	}
	return sanitizeAll(ids)
}

// addresses returns the addresses of an address-list field, leniently when
// the strict parser refuses it (unquoted commas or an unknown charset in a
// display name, a bare "MAILER-DAEMON").
func addresses(v string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	var out []string
	if list, err := mail.ParseAddressList(v); err == nil {
		for _, a := range list {
			out = append(out, a.Address)
		}
		return sanitizeAll(out)
	}
	rest := v
	for {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i+1:], '>')
		if j < 0 {
			break
		}
		if a := strings.TrimSpace(rest[i+1 : i+1+j]); strings.Contains(a, "@") && !strings.ContainsAny(a, " \t") {
			out = append(out, a)
		}
		rest = rest[i+1+j+1:]
	}
	if len(out) == 0 {
		fields := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) })
		for _, f := range fields {
			f = strings.Trim(f, `<>"'()`)
			if strings.Contains(f, "@") || (len(fields) == 1 && f != "") {
				out = append(out, f)
			}
		}
	}
	return sanitizeAll(out)
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func sanitizeAll(s []string) []string {
	for i := range s {
		s[i] = strings.ToValidUTF8(s[i], "\uFFFD")
	}
	return s
}

// oneLine folds every run of white space (line breaks included) into one
// space, so that a header value can be shown and logged as one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
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

func decodeWords(s string) string {
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		s = d
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// toUTF8 converts text from its declared charset. An unknown or absent
// charset is read as UTF-8 with invalid bytes replaced: refusing the reply
// of a PoC over a misspelt charset would lose more than a few odd letters.
func toUTF8(cs string, data []byte) string {
	switch cs = strings.ToLower(strings.TrimSpace(cs)); cs {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return strings.ToValidUTF8(string(data), "\uFFFD")
	}
	r, err := charset.Reader(cs, bytes.NewReader(data))
	if err != nil {
		return strings.ToValidUTF8(string(data), "\uFFFD")
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return strings.ToValidUTF8(string(data), "\uFFFD")
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

// decodeTransfer undoes the Content-Transfer-Encoding of a body. An unknown
// encoding or a body that does not decode is an error: guessing would hand
// the caller garbage as if it were what the writer sent.
func decodeTransfer(h message.Header, body []byte) ([]byte, error) {
	cte := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
	switch cte {
	case "", "7bit", "8bit", "binary":
		return bytes.Clone(body), nil
	case "base64", "quoted-printable":
	default:
		return nil, malformed("unknown Content-Transfer-Encoding %q", cte)
	}
	var eh message.Header
	eh.Set("Content-Transfer-Encoding", cte)
	e, err := message.New(eh, bytes.NewReader(body))
	if err != nil {
		return nil, malformed("%s body: %v", cte, err)
	}
	data, err := io.ReadAll(e.Body)
	if err != nil {
		return nil, malformed("%s body: %v", cte, err)
	}
	return data, nil
}

// mediaType parses a Content-Type or Content-Disposition value. Where the
// standard parser gives up (a stray parameter, a duplicate), the media
// type and the parameters it can read are kept, as mail clients do; an
// absent or unreadable media type gives def (RFC 2045 §5.2 reads it as
// text/plain).
func mediaType(v, def string) (string, map[string]string) {
	if strings.TrimSpace(v) == "" {
		return def, map[string]string{}
	}
	if mt, params, err := mime.ParseMediaType(v); err == nil {
		return mt, params
	}
	base, _, _ := strings.Cut(v, ";")
	mt := strings.ToLower(strings.TrimSpace(base))
	if !validMediaType(mt) {
		return def, map[string]string{}
	}
	params := map[string]string{}
	for _, p := range paramList(v) {
		if _, dup := params[p.key]; !dup && !strings.Contains(p.key, "*") {
			params[p.key] = p.value
		}
	}
	return mt, params
}

// validMediaType reports whether mt is "type/subtype" (or a lone type, as
// Content-Disposition has) made of token characters.
func validMediaType(mt string) bool {
	typ, sub, hasSub := strings.Cut(mt, "/")
	return isToken(typ) && (!hasSub || isToken(sub))
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

type param struct{ key, value string }

// paramList splits the parameters of a header value by hand, keeping RFC
// 2231 keys ("filename*0*") and their raw values for rfc2231.
func paramList(v string) []param {
	var out []param
	_, rest, ok := strings.Cut(v, ";")
	for ok {
		var item string
		item, rest, ok = cutUnquoted(rest, ';')
		key, value, hasEq := strings.Cut(item, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		if !hasEq || key == "" {
			continue
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = unquote(value[1 : len(value)-1])
		}
		out = append(out, param{key, value})
	}
	return out
}

// cutUnquoted is strings.Cut that skips separators inside double quotes.
func cutUnquoted(s string, sep byte) (before, after string, found bool) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func unquote(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// rfc2231 decodes the parameter key of raw as RFC 2231 says, in any
// charset. The standard library knows only UTF-8 and US-ASCII there, and
// drops the parameter otherwise; Outlook and older clients write file names
// in ISO-8859-1 or Windows-1252.
func rfc2231(raw, key string) string {
	if !strings.Contains(raw, "*") {
		return ""
	}
	ps := map[string]string{}
	for _, p := range paramList(raw) {
		if _, dup := ps[p.key]; !dup {
			ps[p.key] = p.value
		}
	}
	get := func(k string) (string, bool) {
		v, ok := ps[k]
		return v, ok
	}
	extended := func(v string) (cs string, value []byte) {
		cs, rest, ok := strings.Cut(v, "'")
		if !ok {
			return "", percentDecode(v)
		}
		_, rest, _ = strings.Cut(rest, "'")
		return cs, percentDecode(rest)
	}
	if v, ok := get(key + "*"); ok {
		cs, b := extended(v)
		return toUTF8(cs, b)
	}
	var cs string
	var buf []byte
	for n := 0; n < 100; n++ {
		simple := key + "*" + strconv.Itoa(n)
		if v, ok := get(simple); ok {
			buf = append(buf, v...)
			continue
		}
		v, ok := get(simple + "*")
		if !ok {
			break
		}
		if n == 0 {
			var b []byte
			cs, b = extended(v)
			buf = append(buf, b...)
		} else {
			buf = append(buf, percentDecode(v)...)
		}
	}
	return toUTF8(cs, buf)
}

// percentDecode undoes %XX escapes, keeping a malformed escape as written.
func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			out = append(out, byte(v))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// fileName finds a part's file name where clients put it: the
// Content-Disposition filename, else the older Content-Type name, each in
// RFC 2231 or RFC 2047 form. Only the base name is kept, so that a name
// like "../../etc/passwd" cannot lead a caller that saves it astray.
func fileName(h message.Header, ctParams, dispParams map[string]string) string {
	name := dispParams["filename"]
	if name == "" {
		name = rfc2231(h.Get("Content-Disposition"), "filename")
	}
	if name == "" {
		name = ctParams["name"]
	}
	if name == "" {
		name = rfc2231(h.Get("Content-Type"), "name")
	}
	name = decodeWords(name)
	name = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		if r == '\\' {
			return '/'
		}
		return r
	}, name)
	name = strings.TrimSpace(path.Base(strings.TrimRight(name, "/")))
	if name == "." || name == ".." || name == "/" {
		return ""
	}
	return name
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

func isDSNReport(reportType string) bool {
	return strings.EqualFold(reportType, "delivery-status") || strings.EqualFold(reportType, "global-delivery-status")
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

// signed reads a PGP/MIME signed entity. The signature covers the first
// part's bytes exactly, so they are kept as they came, only with their
// line endings made CRLF again (a mail store may have written LF).
func (w *walker) signed(parts [][]byte, depth int) error {
	if len(parts) != 2 {
		return malformed("multipart/signed with %d parts instead of 2", len(parts))
	}
	if err := w.count(); err != nil {
		return err
	}
	sh, sbody, err := splitHeader(parts[1])
	if err != nil {
		return malformed("signature part header: %v", err)
	}
	sig, err := decodeTransfer(sh, sbody)
	if err != nil {
		return err
	}
	if w.frozen {
		return nil
	}
	if w.m.Signed != nil {
		// A signed entity inside the signed part: the outer signature is
		// the one that covers what the writer sent.
		return w.part(parts[0], depth+1)
	}
	w.m.Signed = &Signed{Data: canonicalCRLF(parts[0]), Signature: strings.ToValidUTF8(lfText(string(sig)), "\uFFFD")}
	w.restart()
	if err := w.part(parts[0], depth+1); err != nil {
		return err
	}
	w.frozen = true
	return nil
}

// encrypted reads a PGP/MIME encrypted entity: the second part holds the
// armored message (RFC 3156 §4).
func (w *walker) encrypted(parts [][]byte) error {
	if len(parts) < 2 {
		return malformed("multipart/encrypted with %d parts instead of 2", len(parts))
	}
	for range parts {
		if err := w.count(); err != nil {
			return err
		}
	}
	h, body, err := splitHeader(parts[1])
	if err != nil {
		return malformed("encrypted part header: %v", err)
	}
	data, err := decodeTransfer(h, body)
	if err != nil {
		return err
	}
	armored := lfText(string(data))
	start, end, ok := armorBlock(armored, "PGP MESSAGE")
	if !ok {
		return malformed("multipart/encrypted without an ASCII-armored OpenPGP message")
	}
	if w.frozen {
		return nil
	}
	w.restart()
	w.m.Encrypted = strings.ToValidUTF8(armored[start:end], "\uFFFD")
	w.frozen = true
	return nil
}

// restart forgets the text and attachments read so far, for when a signed
// or encrypted part turns up inside a larger multipart.
func (w *walker) restart() {
	w.text, w.textSet, w.html, w.htmlSet = "", false, "", false
	w.m.Attachments = nil
}

// report reads a multipart/report of delivery status (RFC 3464): the
// human-readable part is read as any other, the machine-readable ones into
// a DSN.
func (w *walker) report(parts [][]byte, depth int) error {
	dsn := &DSN{}
	for _, p := range parts {
		h, body, err := splitHeader(p)
		if err != nil {
			return malformed("report part header: %v", err)
		}
		ct, _ := mediaType(h.Get("Content-Type"), "text/plain")
		switch ct {
		case "message/delivery-status", "message/global-delivery-status":
			if err := w.count(); err != nil {
				return err
			}
			data, err := decodeTransfer(h, body)
			if err != nil {
				return err
			}
			if err := readDeliveryStatus(dsn, data); err != nil {
				return err
			}
		case "text/rfc822-headers", "message/rfc822", "message/global", "message/global-headers":
			if err := w.count(); err != nil {
				return err
			}
			data, err := decodeTransfer(h, body)
			if err != nil {
				return err
			}
			if dsn.OriginalMessageID == "" {
				dsn.OriginalMessageID = returnedMessageID(data)
			}
		default:
			if err := w.entity(h, body, depth+1); err != nil {
				return err
			}
		}
	}
	if w.m.DSN == nil {
		w.m.DSN = dsn
	}
	return nil
}

// fieldBlocks reads the "Name: value" blocks of a delivery-status body
// (RFC 3464 §2.1), separated by blank lines. It never fails: a DSN is read
// for what it says, and one odd line must not hide the rest.
func fieldBlocks(data []byte, onlyFirst bool) []map[string]string {
	var blocks []map[string]string
	cur := map[string]string{}
	last := ""
	for line := range strings.Lines(lfText(string(data))) {
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.TrimSpace(line) == "":
			if len(cur) > 0 {
				blocks = append(blocks, cur)
				if onlyFirst {
					return blocks
				}
				cur = map[string]string{}
			}
			last = ""
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				cur[last] += " " + strings.TrimSpace(line)
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			k = strings.ToLower(strings.TrimSpace(k))
			last = ""
			if !ok || k == "" {
				continue
			}
			if _, dup := cur[k]; !dup {
				cur[k] = strings.TrimSpace(v)
				last = k
			}
		}
	}
	if len(cur) > 0 {
		blocks = append(blocks, cur)
	}
	return blocks
}

func readDeliveryStatus(d *DSN, data []byte) error {
	for _, f := range fieldBlocks(data, false) {
		if v := f["original-envelope-id"]; v != "" && d.EnvelopeID == "" {
			d.EnvelopeID = oneLine(v)
		}
		if f["final-recipient"] == "" && f["action"] == "" {
			continue
		}
		if len(d.Recipients) >= maxDSNRecipients {
			return tooComplex("more than %d recipients in a delivery status", maxDSNRecipients)
		}
		d.Recipients = append(d.Recipients, DSNRecipient{
			FinalRecipient:    typedValue(f["final-recipient"]),
			OriginalRecipient: typedValue(f["original-recipient"]),
			Action:            strings.ToLower(first(strings.Fields(f["action"]))),
			Status:            oneLine(first(strings.Fields(f["status"]))),
			Diagnostic:        cut(oneLine(afterType(f["diagnostic-code"])), maxDiagnostic),
		})
	}
	return nil
}

// typedValue reads an address of a DSN field ("rfc822; poc@example.org").
func typedValue(v string) string {
	return strings.Trim(oneLine(afterType(v)), "<>")
}

func afterType(v string) string {
	if _, rest, ok := strings.Cut(v, ";"); ok {
		return rest
	}
	return v
}

// cut shortens s to at most n bytes without splitting a character.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// returnedMessageID reads the Message-ID of the message a DSN returns,
// from its header alone.
func returnedMessageID(data []byte) string {
	blocks := fieldBlocks(data, true)
	if len(blocks) == 0 {
		return ""
	}
	var h mail.Header
	if v := blocks[0]["message-id"]; v != "" {
		h.Set("Message-Id", v)
	}
	return first(msgIDs(h, "Message-Id"))
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

// lfText turns CRLF line endings into LF.
func lfText(s string) string {
	return strings.ReplaceAll(s, "\r\n", "\n")
}

// canonicalCRLF returns a copy of b with every line ending in CRLF, the
// form RFC 3156 signs.
func canonicalCRLF(b []byte) []byte {
	out := make([]byte, 0, len(b)+bytes.Count(b, []byte("\n")))
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

// armorLine finds, at or after from, a line of text that is exactly line
// (trailing white space aside), and returns where it starts and where the
// line after it starts.
func armorLine(text, line string, from int) (start, next int, ok bool) {
	for from < len(text) {
		i := strings.Index(text[from:], line)
		if i < 0 {
			return 0, 0, false
		}
		i += from
		from = i + len(line)
		if i > 0 && text[i-1] != '\n' {
			continue // only a line's start is measured, so that one long line costs once
		}
		end := strings.IndexByte(text[from:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += from
		}
		if strings.TrimRight(text[from:end], " \t\r") == "" {
			if end < len(text) {
				end++
			}
			return i, end, true
		}
	}
	return 0, 0, false
}

// armorBlock finds an ASCII-armored block of the given kind on lines of
// its own, from its BEGIN line to its END line.
func armorBlock(text, kind string) (start, end int, ok bool) {
	start, next, ok := armorLine(text, "-----BEGIN "+kind+"-----", 0)
	if !ok {
		return 0, 0, false
	}
	_, end, ok = armorLine(text, "-----END "+kind+"-----", next)
	return start, end, ok
}

// clearSignedBlock finds an OpenPGP cleartext signed message (RFC 4880
// §7): the BEGIN PGP SIGNED MESSAGE line, the text, and the signature.
func clearSignedBlock(text string) (start, end int, ok bool) {
	start, next, ok := armorLine(text, "-----BEGIN PGP SIGNED MESSAGE-----", 0)
	if !ok {
		return 0, 0, false
	}
	_, sig, ok := armorLine(text, "-----BEGIN PGP SIGNATURE-----", next)
	if !ok {
		return 0, 0, false
	}
	_, end, ok = armorLine(text, "-----END PGP SIGNATURE-----", sig)
	return start, end, ok
}

// clearSignedText returns the signed text of a cleartext signed block: past
// the armor headers and their blank line, up to the signature, with the
// "- " of dash-escaped lines removed.
func clearSignedText(block string) string {
	lines := strings.Split(block, "\n")
	i := 1
	for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
		i++
	}
	var out []string
	for _, l := range lines[min(i+1, len(lines)):] {
		if strings.TrimRight(l, " \t\r") == "-----BEGIN PGP SIGNATURE-----" {
			break
		}
		out = append(out, strings.TrimPrefix(l, "- "))
	}
	return strings.Join(out, "\n")
}

// unflow joins the lines of a format=flowed text (RFC 3676 §4): a line
// ending in a space goes on in the next line of the same quote depth.
// Joined paragraphs read and quote-strip better than the 72-column lines
// Thunderbird sends.
func unflow(text string, delSp bool) string {
	var out []string
	var cur strings.Builder
	depth, open := 0, false
	flush := func() {
		if open && !delSp {
			// A soft line that nothing followed at its depth ends the
			// paragraph: its space was only a mark.
			if l := cur.String(); strings.HasSuffix(l, " ") {
				cur.Reset()
				cur.WriteString(l[:len(l)-1])
			}
		}
		prefix := ""
		if depth > 0 {
			prefix = strings.Repeat(">", depth) + " "
		}
		if cur.Len() == 0 {
			prefix = strings.TrimRight(prefix, " ")
		}
		out = append(out, prefix+cur.String())
		cur.Reset()
		open = false
	}
	for _, l := range strings.Split(text, "\n") {
		d := 0
		for d < len(l) && l[d] == '>' {
			d++
		}
		content := strings.TrimPrefix(l[d:], " ")
		sig := content == "-- "
		if open && (d != depth || sig) {
			flush()
		}
		depth = d
		soft := !sig && strings.HasSuffix(content, " ")
		if soft && delSp {
			content = content[:len(content)-1]
		}
		cur.WriteString(content)
		if soft {
			open = true
			continue
		}
		open = false
		flush()
	}
	if open {
		flush()
	}
	return strings.Join(out, "\n")
}

// htmlToText makes an HTML body readable as plain text without a full
// HTML parser: tags go, block ends become line breaks, blockquotes become
// "> " quotes (so that StripQuoted works on HTML-only replies), entities
// are unescaped and blank lines collapsed.
func htmlToText(s string) string {
	var b strings.Builder
	quote := 0
	lineStart := true
	newline := func() {
		b.WriteByte('\n')
		lineStart = true
	}
	emit := func(t string) {
		t = strings.ReplaceAll(html.UnescapeString(collapseSpace(t)), "\u00a0", " ")
		if lineStart {
			if t = strings.TrimLeft(t, " "); t == "" {
				return
			}
			if quote > 0 {
				b.WriteString(strings.Repeat(">", quote) + " ")
			}
		}
		b.WriteString(t)
		lineStart = false
	}
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			emit(s)
			break
		}
		emit(s[:i])
		s = s[i:]
		if strings.HasPrefix(s, "<!--") {
			if j := strings.Index(s, "-->"); j >= 0 {
				s = s[j+3:]
			} else {
				s = ""
			}
			continue
		}
		j := 1
		closing := j < len(s) && s[j] == '/'
		if closing {
			j++
		}
		k := j
		for k < len(s) && isASCIIAlnum(s[k]) {
			k++
		}
		if k == j && !(j < len(s) && (s[j] == '!' || s[j] == '?')) {
			emit("<")
			s = s[1:]
			continue
		}
		name := strings.ToLower(s[j:k])
		s = s[tagEnd(s, k):]
		switch name {
		case "script", "style", "head", "title":
			if closing {
				continue
			}
			if e := indexFold(s, "</"+name); e >= 0 {
				s = s[e:]
				s = s[tagEnd(s, 2+len(name)):]
			} else {
				s = ""
			}
		case "br":
			newline()
		case "p":
			if !lineStart {
				newline()
			}
			if closing {
				newline()
			}
		case "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre", "hr", "blockquote":
			if !lineStart {
				newline()
			}
			if name == "blockquote" && closing {
				quote = max(quote-1, 0)
			} else if name == "blockquote" {
				quote++
			}
		case "td", "th":
			if closing {
				emit(" ")
			}
		}
	}
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		l = strings.TrimRightFunc(l, unicode.IsSpace)
		if l == "" && (len(out) == 0 || out[len(out)-1] == "") {
			continue
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// collapseSpace folds each run of HTML white space into one space, as a
// browser shows it.
func collapseSpace(t string) string {
	var b strings.Builder
	space := false
	for _, r := range t {
		if isHTMLSpace(r) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}

func isHTMLSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f'
}

func isASCIIAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// tagEnd returns the index just past the '>' that closes the tag starting
// at s[0], skipping quoted attribute values; the end of s if none does.
func tagEnd(s string, from int) int {
	var q byte
	for i := from; i < len(s); i++ {
		switch c := s[i]; {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '>':
			return i + 1
		}
	}
	if j := strings.IndexByte(s[min(from, len(s)):], '>'); j >= 0 {
		return from + j + 1
	}
	return len(s)
}

// indexFold is strings.Index for an ASCII needle, ignoring case.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
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

// autoReason says what shows that no person wrote the message, or "".
// Headers come first: they are set by software and are more reliable than
// the subject, which a person could also write.
func autoReason(h message.Header, from, subject string) string {
	lower := func(k string) string { return strings.ToLower(strings.TrimSpace(h.Get(k))) }
	if v := lower("Auto-Submitted"); v != "" {
		tok, _, _ := strings.Cut(v, ";")
		tok, _, _ = strings.Cut(tok, "(")
		if tok = strings.TrimSpace(tok); tok != "" && tok != "no" {
			return "Auto-Submitted"
		}
	}
	if h.Has("X-Autoreply") {
		if v := lower("X-Autoreply"); v != "no" && v != "false" && v != "0" {
			return "X-Autoreply"
		}
	}
	if h.Has("X-Autorespond") {
		return "X-Autorespond"
	}
	switch lower("Precedence") {
	case "bulk", "junk", "list", "auto_reply":
		return "Precedence"
	}
	for _, tok := range strings.FieldsFunc(lower("X-Auto-Response-Suppress"), func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) }) {
		if tok == "all" || tok == "oof" {
			return "X-Auto-Response-Suppress"
		}
	}
	if h.Has("List-Id") {
		return "List-Id"
	}
	if h.Has("List-Unsubscribe") {
		return "List-Unsubscribe"
	}
	if h.Has("X-MS-Exchange-Inbox-Rules-Loop") {
		return "X-MS-Exchange-Inbox-Rules-Loop"
	}
	local, _, _ := strings.Cut(from, "@")
	if strings.EqualFold(local, "mailer-daemon") || strings.EqualFold(local, "postmaster") {
		return "From"
	}
	s := strings.ToLower(strings.TrimSpace(subject))
	for _, p := range autoSubjects {
		rest, ok := strings.CutPrefix(s, p)
		if !ok {
			continue
		}
		if r, _ := utf8.DecodeRuneInString(rest); rest == "" || strings.HasSuffix(p, ":") || !unicode.IsLetter(r) {
			return "subject"
		}
	}
	return ""
}

// StripQuoted returns text without what the writer quoted of the message they answer:
// lines starting with ">", the attribution line before them ("On … wrote:", "Le … a écrit :",
// "El … escribió:", "… написал(а):", "… 写道：", "كتب …:" and Outlook's "-----Original Message-----"
// / "From: … Sent: …" block with everything after it), and a signature after a "-- " line.
// Leading and trailing blank lines go too. What remains is what the PoC
// wrote, which pocdir records and shows without the notification it answers.
func StripQuoted(text string) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	if i := cutLine(lines); i >= 0 {
		lines = lines[:i]
	}
	quoted := func(i int) bool { return strings.HasPrefix(lines[i], ">") }
	drop := make([]bool, len(lines))
	for i := range lines {
		if !quoted(i) {
			continue
		}
		drop[i] = true
		if i > 0 && quoted(i-1) {
			continue
		}
		j := i - 1
		for j >= 0 && strings.TrimSpace(lines[j]) == "" {
			j--
		}
		switch {
		case j < 0:
		case isAttribution(lines[j], false):
			drop[j] = true
		case j > 0 && isAttribution(lines[j-1]+" "+lines[j], true):
			drop[j-1], drop[j] = true, true
		}
	}
	var out []string
	for i, l := range lines {
		if !drop[i] {
			out = append(out, l)
		}
	}
	for len(out) > 0 && strings.TrimSpace(out[0]) == "" {
		out = out[1:]
	}
	for len(out) > 0 && strings.TrimSpace(out[len(out)-1]) == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n")
}

// normalizeLine prepares a line for matching: no bidirectional marks
// (Gmail wraps Arabic attributions in them), no-break spaces made spaces
// (French typography puts one before the colon), lower case, trimmed.
func normalizeLine(l string) string {
	l = strings.Map(func(r rune) rune {
		switch {
		case r == '\u00a0' || r == '\u202f':
			return ' '
		case r == '\u200e' || r == '\u200f' || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069'):
			return -1
		}
		return r
	}, l)
	return strings.ToLower(strings.TrimSpace(l))
}

// isAttribution recognises the line a mail client writes before a quote.
// Two lines joined (a wrapped attribution) are only taken for one when it
// begins with the words the client starts it with, so that a sentence of
// the writer's own is not taken with it.
func isAttribution(l string, joined bool) bool {
	l = normalizeLine(l)
	starts := func(prefix string, ends ...string) bool {
		if !strings.HasPrefix(l, prefix) {
			return false
		}
		for _, e := range ends {
			if strings.HasSuffix(l, e) {
				return true
			}
		}
		return false
	}
	if starts("on ", "wrote:") || starts("le ", "a écrit :", "a écrit:") || starts("el ", "escribió:", "escribio:") ||
		starts("am ", "schrieb:") {
		return true
	}
	if joined {
		return false
	}
	for _, e := range []string{"написал(а):", "написал:", "написала:", "пишет:", "写道：", "写道:"} {
		if strings.HasSuffix(l, e) {
			return true
		}
	}
	return strings.Contains(l, "كتب") && (strings.HasSuffix(l, ":") || strings.HasSuffix(l, "："))
}

// cutLine returns the index of the first line from which everything is
// the writer's signature or a quoted message in Outlook's style, or -1.
func cutLine(lines []string) int {
	for i, l := range lines {
		if strings.TrimRight(l, "\r") == "-- " {
			return i
		}
		n := normalizeLine(l)
		if strings.HasPrefix(n, "--") && strings.HasSuffix(n, "--") {
			switch strings.TrimSpace(strings.Trim(n, "-")) {
			case "original message", "message d'origine", "message d’origine", "mensaje original",
				"исходное сообщение", "原始邮件", "原始郵件", "الرسالة الأصلية", "ursprüngliche nachricht":
				return i
			}
		}
		if isHeaderLine(n, "from:", "de :", "de:", "от:", "от кого:", "发件人:", "发件人：", "寄件者:", "من:") {
			for j := i + 1; j < len(lines) && j <= i+4; j++ {
				if isHeaderLine(normalizeLine(lines[j]), "sent:", "date:", "envoyé :", "envoyé:", "date :", "enviado:",
					"enviado el:", "fecha:", "отправлено:", "дата:", "发送时间:", "发送时间：", "日期:", "تم الإرسال:", "التاريخ:") {
					return ruleBefore(lines, i)
				}
			}
		}
	}
	return -1
}

func isHeaderLine(n string, names ...string) bool {
	n = strings.TrimLeft(n, "*")
	for _, name := range names {
		if strings.HasPrefix(n, name) {
			return true
		}
	}
	return false
}

// ruleBefore moves a cut up to the horizontal rule Outlook draws above its
// header block, when there is one.
func ruleBefore(lines []string, i int) int {
	j := i - 1
	for j >= 0 && strings.TrimSpace(lines[j]) == "" {
		j--
	}
	if j >= 0 {
		r := strings.TrimSpace(lines[j])
		if len(r) >= 10 && (strings.Trim(r, "_") == "" || strings.Trim(r, "-") == "") {
			return j
		}
	}
	return i
}
