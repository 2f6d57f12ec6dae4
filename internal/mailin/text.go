package mailin

import (
	"html"
	"strings"
	"unicode"
)

// The text a person wrote: format=flowed (RFC 3676) joined, and HTML turned
// into plain text.

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
