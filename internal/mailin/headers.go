package mailin

import (
	"bytes"
	"io"
	"mime"
	"path"
	"strconv"
	"strings"
	"unicode"

	"github.com/emersion/go-message/mail"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
)

// The envelope of a message: addresses, Message-IDs, encoded words,
// charsets, transfer encodings, media types and their parameters (RFC 2045,
// 2047, 2231), and attachments' file names.

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
	ids := bracketed(v, func(id string) bool { return id != "" })
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
	out = bracketed(v, func(a string) bool { return strings.Contains(a, "@") })
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

// bracketed returns the values between angle brackets in v (message ids,
// addresses) that have no blank inside and that keep accepts.
func bracketed(v string, keep func(string) bool) []string {
	var out []string
	rest := v
	for {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(rest[i+1:], '>')
		if j < 0 {
			return out
		}
		if x := strings.TrimSpace(rest[i+1 : i+1+j]); !strings.ContainsAny(x, " \t") && keep(x) {
			out = append(out, x)
		}
		rest = rest[i+1+j+1:]
	}
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
