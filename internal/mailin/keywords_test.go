package mailin

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/i18n"
)

// TestKeywords chooses the act of a reply by its first line, in every
// language the emails name the words in, whatever the case, the accents
// and the punctuation around the word.
func TestKeywords(t *testing.T) {
	k := newKeywords(i18n.MustLoad())
	for _, c := range []struct{ text, act, note string }{
		{"ACKNOWLEDGE", comms.MailAcknowledge, ""},
		{"  acknowledged.\n\nthanks", comms.MailAcknowledge, "thanks"},
		{"*Reçu*", comms.MailAcknowledge, ""},
		{"RECU", comms.MailAcknowledge, ""},
		{"Recibido", comms.MailAcknowledge, ""},
		{"получено", comms.MailAcknowledge, ""},
		{"确认收到", comms.MailAcknowledge, ""},
		{"تم الاستلام", comms.MailAcknowledge, ""},
		{"DISPUTE: the address is not ours", comms.MailDispute, "the address is not ours"},
		{"Contestation\nCe n'est pas nous.", comms.MailDispute, "Ce n'est pas nous."},
		{"оспорить — это не мы", comms.MailDispute, "это не мы"},
		{"异议：不是我们", comms.MailDispute, "不是我们"},
		{"DECLINE\nNo capacity.", comms.MailDecline, "No capacity."},
		{"more information\nWhich hosts?", comms.MailMoreInfo, "Which hosts?"},
		{"More info: which hosts?", comms.MailMoreInfo, "which hosts?"},
		{"Plus d'informations", comms.MailMoreInfo, ""},
		{"MÁS INFORMACIÓN ¿qué equipos?", comms.MailMoreInfo, "¿qué equipos?"},
		{"مزيد من المعلومات", comms.MailMoreInfo, ""},
		// Not a word of the list: a response, whole.
		{"Acknowledgements to the team: we blocked it.", comms.MailRespond, "Acknowledgements to the team: we blocked it."},
		{"We dispute nothing.", comms.MailRespond, "We dispute nothing."},
		{"Morning. We blocked the address.", comms.MailRespond, "Morning. We blocked the address."},
		{"", comms.MailRespond, ""},
	} {
		act, note := k.act(c.text)
		if act != c.act || note != c.note {
			t.Errorf("%q: got %s %q, want %s %q", c.text, act, note, c.act, c.note)
		}
	}
}

// FuzzKeywords feeds the first-line reader any text: it never panics, the
// note is valid UTF-8 when the text is, and a response keeps its text.
//
//	go test -run '^$' -fuzz FuzzKeywords -fuzztime 30s ./internal/mailin/
func FuzzKeywords(f *testing.F) {
	k := newKeywords(i18n.MustLoad())
	for _, s := range []string{"ACKNOWLEDGE", "DISPUTE: x", "Reçu", "更多信息", "  \n\n more info \n y", "*_ \t", "MORE  INFORMATION  x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		act, note := k.act(text)
		if utf8.ValidString(text) && !utf8.ValidString(note) {
			t.Fatalf("%q gave an invalid note %q", text, note)
		}
		if act == comms.MailRespond && note != strings.TrimSpace(text) {
			t.Fatalf("a response lost its text: %q → %q", text, note)
		}
	})
}
