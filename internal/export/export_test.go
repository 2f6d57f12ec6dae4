package export

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ProtonMail/gopenpgp/v3/crypto"
	"github.com/emersion/go-vcard"

	"github.com/pocdir/pocdir/internal/directory"
)

// ReadCSV reads a file written by CSV back with Go's own reader, after
// checking its bytes: the byte order mark, and CRLF at the end of every
// line (the cells of these tests hold no line break).
func readCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	rest, ok := bytes.CutPrefix(body, []byte(BOM))
	if !ok {
		t.Fatalf("no byte order mark: %q", body[:min(len(body), 20)])
	}
	if bytes.Contains(bytes.ReplaceAll(rest, []byte("\r\n"), nil), []byte("\n")) || !bytes.HasSuffix(rest, []byte("\r\n")) {
		t.Errorf("a line does not end with CRLF: %q", rest)
	}
	rows, err := csv.NewReader(bytes.NewReader(rest)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestCSV(t *testing.T) {
	var b bytes.Buffer
	w := NewCSV(&b)
	rows := [][]string{
		{"name", "value"},
		{"Côte d'Ivoire", "a, with \"quotes\""},
		{"=HYPERLINK(\"http://evil.example\")", "+41 22 917 1234"},
		{"-2+3", "@SUM(A1)"},
		{"\tindented", "\rreturn"},
		{"plain - not at the start", "x=1"},
	}
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	got := readCSV(t, b.Bytes())
	want := [][]string{
		{"name", "value"},
		{"Côte d'Ivoire", "a, with \"quotes\""},
		{"'=HYPERLINK(\"http://evil.example\")", "'+41 22 917 1234"},
		{"'-2+3", "'@SUM(A1)"},
		// With CRLF line ends, encoding/csv writes a line break in a cell
		// as CRLF and drops a lone CR; the apostrophe stays in front.
		{"'\tindented", "'return"},
		{"plain - not at the start", "x=1"},
	}
	for i := range want {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d: %q, want %q", i, got[i], want[i])
		}
	}
	if !bytes.HasPrefix(b.Bytes(), []byte("\xEF\xBB\xBFname,value\r\nCôte d'Ivoire,")) {
		t.Errorf("the file starts %q", b.Bytes()[:30])
	}
	if rows[2][0][0] != '=' {
		t.Error("Write changed the caller's row")
	}
	t.Run("an empty file still has its byte order mark", func(t *testing.T) {
		var b bytes.Buffer
		if err := NewCSV(&b).Flush(); err != nil || b.String() != BOM {
			t.Errorf("%q, %v", b.String(), err)
		}
	})
}

func testKey(t *testing.T) (armored string, binary []byte) {
	t.Helper()
	k, err := crypto.PGP().KeyGeneration().AddUserId("CERT duty officer", "cert@example.org").New().GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := k.ToPublic()
	if err != nil {
		t.Fatal(err)
	}
	armored, err = pub.Armor()
	if err != nil {
		t.Fatal(err)
	}
	binary, err = pub.Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return armored, binary
}

func testLabels() Labels {
	return Labels{
		State:     func(iso2, english string) string { return english },
		Level:     func(l directory.Level) string { return "Level " + string(l) },
		Alternate: "Alternate", Always: "Available 24/7", Hours: "Working hours",
		Channel: func(k directory.ChannelKind) string { return "Channel " + string(k) },
	}
}

func testEntries(t *testing.T) ([]*directory.Entry, []byte) {
	armored, binary := testKey(t)
	upd := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	civ := &directory.Entry{State: directory.State{Code: "CIV", ISO2: "CI", Name: "Côte d'Ivoire", Group: "African", Bodies: []string{"AU"}, Status: "member", UpdatedAt: &upd}}
	civ.PoCs = []*directory.PoC{{
		ID: 7, State: "CIV", Level: directory.LevelTechnical, Agency: "Agence nationale; de la sécurité, des systèmes \\ d'information — CI-CERT — Côte d'Ivoire",
		FunctionTitle: "=Chef de veille", PersonName: "Aya Kouassi",
		Channels: []directory.Channel{{Kind: directory.ChannelEmail, Value: "veille@cert.example.ci", Preferred: true}, {Kind: directory.ChannelPhone, Value: "+225 27 20 00 00 00"},
			{Kind: directory.ChannelFax, Value: "+225 27 20 00 00 01"}, {Kind: directory.ChannelSecure, Value: "Réseau sécurisé, via l'ambassade"}},
		Languages: []string{"fr", "en"}, TimeZone: "Africa/Abidjan", Hours: "Mon-Fri 08:00-17:00", WorkingHours: "closed on public holidays",
		PGPKey: armored, PGPFingerprint: "ABCD", Notes: directory.Text{Lang: "fr", Text: "Ligne 1\nLigne 2", English: "Line 1\nLine 2"}, UpdatedAt: upd,
	}}
	chn := &directory.Entry{State: directory.State{Code: "CHN", ISO2: "CN", Name: "China", Group: "Asia-Pacific", Status: "member"}}
	chn.PoCs = []*directory.PoC{{ID: 8, State: "CHN", Level: directory.LevelDiplomatic, Alternate: true, Agency: "外交部网络事务办公室（网络安全协调）",
		Channels: []directory.Channel{{Kind: directory.ChannelEmail, Value: "cyber@mfa.example.cn"}}, Languages: []string{"zh"}, TimeZone: "Asia/Shanghai", Available247: true, UpdatedAt: upd}}
	tuv := &directory.Entry{State: directory.State{Code: "TUV", ISO2: "TV", Name: "Tuvalu", Group: "Asia-Pacific", Status: "member"}}
	return []*directory.Entry{civ, chn, tuv}, binary
}

func TestDirectoryCSV(t *testing.T) {
	entries, _ := testEntries(t)
	var b bytes.Buffer
	if err := writeCSV(&b, entries); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, b.Bytes())
	if len(rows) != 4 {
		t.Fatalf("%d rows, want a header, two PoCs and a State without PoC", len(rows))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	civ := rows[1]
	for name, want := range map[string]string{
		"state_name": "Côte d'Ivoire", "function_title": "'=Chef de veille", "phones": "'+225 27 20 00 00 00", "emails": "veille@cert.example.ci",
		"preferred_channel": "email: veille@cert.example.ci", "languages": "fr; en", "notes": "Ligne 1\nLigne 2", "available_24_7": "no",
	} {
		if civ[col[name]] != want {
			t.Errorf("%s: %q, want %q", name, civ[col[name]], want)
		}
	}
	if rows[2][col["agency"]] != "外交部网络事务办公室（网络安全协调）" || rows[3][col["state_code"]] != "TUV" || rows[3][col["agency"]] != "" {
		t.Errorf("rows %q", rows[2:])
	}
}

// decodeCards reads a vCard file with an independent parser, checking the
// bytes first: CRLF line ends and no line over 75 octets.
func decodeCards(t *testing.T, body []byte) []vcard.Card {
	t.Helper()
	if !bytes.HasSuffix(body, []byte("\r\n")) {
		t.Error("the file does not end with CRLF")
	}
	for _, l := range strings.Split(strings.TrimSuffix(string(body), "\r\n"), "\r\n") {
		if len(l) > 75 || strings.Contains(l, "\n") || !utf8.ValidString(l) {
			t.Errorf("a line of %d octets, or with a bare LF, or split inside a character: %q", len(l), l)
		}
	}
	dec := vcard.NewDecoder(bytes.NewReader(body))
	var cards []vcard.Card
	for {
		c, err := dec.Decode()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		cards = append(cards, c)
	}
	return cards
}

// unescaped undoes what go-vcard leaves escaped in a text value: it
// unescapes backslashes, commas and newlines, and leaves "\;" for structured
// values to split.
func unescaped(s string) string { return strings.ReplaceAll(s, `\;`, ";") }

func TestVCard(t *testing.T) {
	entries, key := testEntries(t)
	var b bytes.Buffer
	for _, e := range entries {
		for _, p := range e.PoCs {
			if err := writeVCard(&b, &e.State, p, testLabels()); err != nil {
				t.Fatal(err)
			}
		}
	}
	cards := decodeCards(t, b.Bytes())
	if len(cards) != 2 {
		t.Fatalf("%d cards, want one per PoC", len(cards))
	}
	c := cards[0]
	p := entries[0].PoCs[0]
	t.Run("the card of a person says who, where and how", func(t *testing.T) {
		if c.Value(vcard.FieldVersion) != "4.0" || c.Kind() != vcard.KindIndividual || c.Value(vcard.FieldFormattedName) != "Aya Kouassi" {
			t.Errorf("version %q kind %q FN %q", c.Value(vcard.FieldVersion), c.Kind(), c.Value(vcard.FieldFormattedName))
		}
		if got := unescaped(c.Value(vcard.FieldOrganization)); got != p.Agency {
			t.Errorf("ORG %q, want %q", got, p.Agency)
		}
		if c.Value(vcard.FieldTitle) != "=Chef de veille" || c.Value(vcard.FieldRole) != "Level technical" {
			t.Errorf("TITLE %q ROLE %q", c.Value(vcard.FieldTitle), c.Value(vcard.FieldRole))
		}
		if c.Value(vcard.FieldTimezone) != "Africa/Abidjan" || strings.Join(c.Values(vcard.FieldLanguage), ",") != "fr,en" {
			t.Errorf("TZ %q LANG %q", c.Value(vcard.FieldTimezone), c.Values(vcard.FieldLanguage))
		}
		if a := c.Address(); a == nil || a.Country != "Côte d'Ivoire" || c.Value("X-POCDIR-STATE") != "CIV" {
			t.Errorf("ADR %+v", a)
		}
		if note := c.Value(vcard.FieldNote); !strings.Contains(note, "Ligne 1\nLigne 2") || !strings.Contains(note, "Channel secure: Réseau sécurisé, via l'ambassade") ||
			!strings.Contains(note, "Working hours: Mon-Fri 08:00-17:00 closed on public holidays") {
			t.Errorf("NOTE %q", note)
		}
		if rev, err := c.Revision(); err != nil || !rev.Equal(p.UpdatedAt) {
			t.Errorf("REV %v %v", rev, err)
		}
	})
	t.Run("the preferred channel is marked PREF=1 and the numbers are tel: URIs", func(t *testing.T) {
		if e := c.Preferred(vcard.FieldEmail); e == nil || e.Value != "veille@cert.example.ci" || e.Params.Get(vcard.ParamPreferred) != "1" {
			t.Errorf("EMAIL %+v", e)
		}
		tels := c[vcard.FieldTelephone]
		if len(tels) != 2 || tels[0].Value != "tel:+2252720000000" || !tels[0].Params.HasType("voice") || !tels[1].Params.HasType("fax") ||
			tels[0].Params.Get(vcard.ParamPreferred) != "" {
			t.Errorf("TEL %+v %+v", tels[0], tels[1])
		}
	})
	t.Run("the OpenPGP key is the binary key in a data: URI", func(t *testing.T) {
		k := c.Get(vcard.FieldKey)
		if k == nil {
			t.Fatal("no KEY")
		}
		raw, ok := strings.CutPrefix(k.Value, "data:application/pgp-keys;base64,")
		got, err := base64.StdEncoding.DecodeString(raw)
		if !ok || err != nil || !bytes.Equal(got, key) || k.Params.Get("MEDIATYPE") != "application/pgp-keys" {
			t.Errorf("KEY %.60q: %v", k.Value, err)
		}
	})
	t.Run("an office without a person is a card of kind org, in Chinese unsplit", func(t *testing.T) {
		c := cards[1]
		if c.Kind() != vcard.KindOrganization || c.Value(vcard.FieldFormattedName) != "外交部网络事务办公室（网络安全协调） (China)" ||
			c.Value(vcard.FieldRole) != "Level diplomatic (Alternate)" || c.Value(vcard.FieldNote) != "Available 24/7" || c.Get(vcard.FieldKey) != nil {
			t.Errorf("card %v", c)
		}
	})
	t.Run("the same PoC has the same UID in every export", func(t *testing.T) {
		var again bytes.Buffer
		writeVCard(&again, &entries[0].State, p, testLabels())
		if u := decodeCards(t, again.Bytes())[0].Value(vcard.FieldUID); u != c.Value(vcard.FieldUID) || !strings.HasPrefix(u, "urn:uuid:") {
			t.Errorf("UID %q and %q", u, c.Value(vcard.FieldUID))
		}
	})
}

func TestFold(t *testing.T) {
	for _, s := range []string{"", "short", strings.Repeat("a", 75), strings.Repeat("a", 76), strings.Repeat("é", 100), strings.Repeat("网", 60), "a" + strings.Repeat("🙂", 40)} {
		var b bytes.Buffer
		fold(&b, s)
		lines := strings.Split(strings.TrimSuffix(b.String(), "\r\n"), "\r\n")
		var joined strings.Builder
		for i, l := range lines {
			if len(l) > 75 || !utf8.ValidString(l) {
				t.Errorf("%q: line %d is %q", s, i, l)
			}
			if i > 0 {
				l = strings.TrimPrefix(l, " ")
			}
			joined.WriteString(l)
		}
		if joined.String() != s {
			t.Errorf("unfolded %q, want %q", joined.String(), s)
		}
	}
}

// FuzzVCardText writes a card whose agency, function, person and notes are
// arbitrary text and reads it back with go-vcard: escaping and folding must
// keep every value whole, whatever it holds.
func FuzzVCardText(f *testing.F) {
	for _, s := range []string{"CERT; Côte d'Ivoire, \\ x", "a\nb\r\nc", strings.Repeat("网络", 50), "=1+2", ""} {
		f.Add(s)
	}
	st := &directory.State{Code: "CIV", ISO2: "CI", Name: "Côte d'Ivoire"}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.ContainsAny(s, "\x00") {
			t.Skip() // the directory refuses text that is not UTF-8 or holds NUL
		}
		p := &directory.PoC{ID: 1, State: "CIV", Level: directory.LevelPolicy, Agency: s, FunctionTitle: s, PersonName: "x" + s, Notes: directory.Text{Text: s}}
		var b bytes.Buffer
		if err := writeVCard(&b, st, p, testLabels()); err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\r\n"), "\r\n") {
			if len(l) > 75 || !utf8.ValidString(l) {
				t.Fatalf("line %q", l)
			}
		}
		c, err := vcard.NewDecoder(&b).Decode()
		if err != nil {
			t.Fatal(err)
		}
		want := strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
		if got := unescaped(c.Value(vcard.FieldOrganization)); got != want {
			t.Errorf("ORG %q, want %q", got, want)
		}
		if got := unescaped(c.Value(vcard.FieldFormattedName)); got != "x"+want {
			t.Errorf("FN %q, want %q", got, "x"+want)
		}
	})
}
