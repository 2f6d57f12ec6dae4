package mailin

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
)

// What a person did not write: auto-replies (RFC 3834 and the usual
// headers and subjects), and the quoted message and signature in a reply.

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
