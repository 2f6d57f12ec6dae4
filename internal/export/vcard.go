package export

import (
	"bytes"
	"encoding/base64"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ProtonMail/gopenpgp/v3/crypto"
	"github.com/google/uuid"

	"github.com/pocdir/pocdir/internal/directory"
)

// VCardType is the media type of a vCard file (RFC 6350 section 10.1).
const VCardType = "text/vcard; charset=utf-8"

// uidSpace names the UUIDs of PoCs' cards: the same PoC gets the same UID in
// every export, so that importing a newer file updates the contact in an
// address book rather than adding a second one.
var uidSpace = uuid.MustParse("6f1c0b52-7a43-4c1e-9b7e-3d0f2a5c8e91")

// Labels are the human words a card carries (its role and notes), in the
// reader's language.
type Labels struct {
	// State is the State's name in the reader's language.
	State func(iso2, english string) string
	// Level names a PoC's level; Alternate, Preferred and Hours label the
	// rest.
	Level     func(directory.Level) string
	Alternate string
	Always    string // "available 24/7"
	Hours     string // "working hours"
	Channel   func(directory.ChannelKind) string
}

// writeVCard writes one vCard 4.0 (RFC 6350) for a PoC of the State st:
// its agency (ORG), function (TITLE), level (ROLE), channels (EMAIL, TEL
// with TYPE, the preferred one PREF=1), languages (LANG, in order of
// preference), time zone (TZ), OpenPGP key (KEY as a data: URI), and the
// State as the country of its work address (ADR), which every address book
// shows; the State's code is in X-POCDIR-STATE for programs. Channels that
// are not an address or a number (secure, diplomatic, other) go in NOTE.
func writeVCard(w io.Writer, st *directory.State, p *directory.PoC, l Labels) error {
	var b bytes.Buffer
	line := func(s string) {
		fold(&b, s)
	}
	line("BEGIN:VCARD")
	line("VERSION:4.0")
	line("PRODID:-//pocdir//directory export//EN")
	line("UID:urn:uuid:" + uuid.NewSHA1(uidSpace, []byte("poc:"+strconv.FormatInt(p.ID, 10))).String())
	stateName := l.State(st.ISO2, st.Name)
	if p.PersonName != "" {
		line("KIND:individual")
		line("FN:" + escape(p.PersonName))
	} else {
		// Without a person, the contact is the office itself.
		line("KIND:org")
		line("FN:" + escape(p.Agency+" ("+stateName+")"))
	}
	line("ORG:" + escape(p.Agency))
	if p.FunctionTitle != "" {
		line("TITLE:" + escape(p.FunctionTitle))
	}
	role := l.Level(p.Level)
	if p.Alternate {
		role += " (" + l.Alternate + ")"
	}
	line("ROLE:" + escape(role))
	line("CATEGORIES:pocdir," + escape(string(p.Level)))
	var notes []string
	for _, ch := range p.Channels {
		pref := ""
		if ch.Preferred {
			pref = ";PREF=1"
		}
		switch ch.Kind {
		case directory.ChannelEmail:
			line("EMAIL;TYPE=work" + pref + ":" + escape(ch.Value))
		case directory.ChannelPhone:
			line("TEL;VALUE=uri;TYPE=work,voice" + pref + ":" + directory.TelURI(ch.Value))
		case directory.ChannelFax:
			line("TEL;VALUE=uri;TYPE=work,fax" + pref + ":" + directory.TelURI(ch.Value))
		default:
			notes = append(notes, l.Channel(ch.Kind)+": "+ch.Value)
		}
	}
	for i, lang := range p.Languages {
		line("LANG;PREF=" + strconv.Itoa(i+1) + ":" + escape(lang))
	}
	if p.TimeZone != "" {
		line("TZ:" + escape(p.TimeZone))
	}
	// ADR's seven components: PO box, extended, street, locality, region,
	// postal code, country name.
	line("ADR;TYPE=work:;;;;;;" + escape(stateName))
	line("X-POCDIR-STATE:" + escape(st.Code))
	if key := keyURI(p.PGPKey); key != "" {
		line("KEY;MEDIATYPE=application/pgp-keys:" + key)
	}
	if p.Available247 {
		notes = append(notes, l.Always)
	} else if h := strings.TrimSpace(p.Hours + " " + p.WorkingHours); h != "" {
		notes = append(notes, l.Hours+": "+h)
	}
	if p.Notes.Text != "" {
		notes = append(notes, p.Notes.Text)
	}
	if p.Notes.English != "" {
		notes = append(notes, p.Notes.English)
	}
	if len(notes) > 0 {
		line("NOTE:" + escape(strings.Join(notes, "\n")))
	}
	line("REV:" + p.UpdatedAt.UTC().Format("20060102T150405Z"))
	line("END:VCARD")
	_, err := w.Write(b.Bytes())
	return err
}

// keyURI returns an armored OpenPGP public key as a data: URI of the binary
// key (RFC 6350 section 6.8.1, RFC 2397), or "" when there is none or it
// cannot be read.
func keyURI(armored string) string {
	if armored == "" {
		return ""
	}
	k, err := crypto.NewKeyFromArmored(armored)
	if err != nil {
		return ""
	}
	raw, err := k.Serialize()
	if err != nil || len(raw) == 0 {
		return ""
	}
	return "data:application/pgp-keys;base64," + base64.StdEncoding.EncodeToString(raw)
}

// escape escapes a text value (RFC 6350 section 3.4): backslash, comma,
// semicolon and newline. A CR of a CRLF goes; a lone CR becomes a newline.
func escape(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case ',':
			b.WriteString(`\,`)
		case ';':
			b.WriteString(`\;`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// maxLine is the longest a content line may be, in octets, without its CRLF
// (RFC 6350 section 3.2).
const maxLine = 75

// fold writes a content line folded at 75 octets, each continuation starting
// with a space, never inside a UTF-8 character, and ends it with CRLF.
func fold(b *bytes.Buffer, s string) {
	limit := maxLine
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = maxLine - 1 // the leading space counts
	}
	b.WriteString(s)
	b.WriteString("\r\n")
}
