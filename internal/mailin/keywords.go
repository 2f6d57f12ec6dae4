package mailin

import (
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/i18n"
)

// keywords chooses the act of a reply by the word on its first line, in
// any of the catalog's languages: a Russian PoC may answer an English
// notification in Russian. The words are the catalog's mail.keyword.*
// messages (each language may list several, separated by "|": the first
// is the one the emails show), so that a translator changes them where
// the emails name them.
type keywords struct {
	// words are folded words with their act, the longest first, so that
	// "MORE INFORMATION" wins over a shorter word it starts with.
	words []keyword
}

type keyword struct{ word, act string }

// wordOf names each act's words in the catalog (mail.keyword.NAME, shown
// in the emails, and mail.keyword.NAME.all, every word accepted). A reply
// without a word is a response.
var wordOf = map[string]string{comms.MailAcknowledge: "acknowledge", comms.MailDecline: "decline", comms.MailDispute: "dispute", comms.MailMoreInfo: "more-info"}

func newKeywords(c *i18n.Catalog) *keywords {
	k := &keywords{}
	seen := map[string]bool{}
	for _, lang := range c.Languages() {
		loc := c.For(lang)
		for act, name := range wordOf {
			for _, w := range strings.Split(loc.T("mail.keyword."+name+".all"), "|") {
				if f := fold(w); f != "" && !seen[f] {
					seen[f] = true
					k.words = append(k.words, keyword{f, act})
				}
			}
		}
	}
	sort.Slice(k.words, func(i, j int) bool {
		if len(k.words[i].word) != len(k.words[j].word) {
			return len(k.words[i].word) > len(k.words[j].word)
		}
		return k.words[i].word < k.words[j].word
	})
	return k
}

// act returns the act a reply's text chooses, and the text without the
// word: the first non-blank line, when it starts with a word of the
// catalog (followed by nothing, a space or punctuation), chooses it;
// otherwise the reply is a response, its text whole.
func (k *keywords) act(text string) (string, string) {
	text = strings.TrimLeft(text, " \t\r\n")
	first, rest, _ := strings.Cut(text, "\n")
	f := fold(first)
	for _, w := range k.words {
		after, ok := strings.CutPrefix(f, w.word)
		if !ok || after != "" && !isSeparator([]rune(after)[0]) {
			continue
		}
		// What follows the word on its line is part of the note ("DISPUTE:
		// the address is not ours").
		note := strings.TrimLeftFunc(restOfLine(first, len([]rune(w.word))), func(r rune) bool {
			return unicode.IsSpace(r) || strings.ContainsRune(":：;；.。,，、!！-–—", r)
		})
		return w.act, strings.TrimSpace(strings.TrimSpace(note) + "\n" + rest)
	}
	return comms.MailRespond, strings.TrimSpace(text)
}

// restOfLine returns line after the part whose fold is n runes long.
func restOfLine(line string, n int) string {
	r := []rune(norm.NFC.String(strings.TrimSpace(strings.Trim(line, "*_ \t\r"))))
	folded, space := 0, false
	for i, c := range r {
		if folded == n {
			return string(r[i:])
		}
		if unicode.IsSpace(c) {
			if !space {
				folded++
			}
			space = true
			continue
		}
		space = false
		folded++
	}
	return ""
}

// fold makes a word comparable: trimmed of emphasis marks (*WORD*),
// upper-cased, with accents taken off the letters that carry them
// (REÇU = RECU) but one rune kept per rune, and spaces collapsed to one.
func fold(s string) string {
	s = norm.NFC.String(strings.TrimSpace(strings.Trim(s, "*_ \t\r")))
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			if !space {
				b.WriteRune(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(unicode.ToUpper(base(r)))
	}
	return b.String()
}

// base returns a letter without its accent (é → e), or the rune itself.
func base(r rune) rune {
	d := []rune(norm.NFD.String(string(r)))
	if len(d) > 1 && unicode.Is(unicode.Mn, d[1]) {
		return d[0]
	}
	return r
}

func isSeparator(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsPunct(r)
}
