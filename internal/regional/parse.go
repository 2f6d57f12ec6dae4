package regional

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
)

// Columns are the columns of a regional directory's file, in the order in
// which pocdir writes them (a file may order them otherwise: the header
// names them). channels holds kind:value pairs separated by semicolons,
// the first e-mail address being the preferred channel:
//
//	body,state,ref,agency,function,level,channels
//	OSCE,FRA,FR-0042,ANSSI,CERT-FR duty officer,technical,email:cert@ssi.example;phone:+33 1 71 75 84 68
var Columns = []string{"body", "state", "ref", "agency", "function", "level", "channels"}

// Row is a line of a regional directory's file, as JSON has it too.
type Row struct {
	Body     string              `json:"body"`
	State    string              `json:"state"`
	Ref      string              `json:"ref,omitempty"`
	Agency   string              `json:"agency"`
	Function string              `json:"function,omitempty"`
	Level    directory.Level     `json:"level"`
	Channels []directory.Channel `json:"channels"`
}

var bodyName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9 .&-]{0,31}$`)

// Parse reads a regional directory's file, CSV (with a header) or JSON (an
// array of rows), and checks every row: it returns the rows when all are
// good, else every row it could not read, and then no row. A file holds one
// body's list.
func Parse(data []byte) ([]Row, []Problem) {
	if len(data) > MaxFile {
		return nil, []Problem{{Line: 0, Message: fmt.Sprintf("the file is larger than %d MB", MaxFile>>20)}}
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if !utf8.Valid(data) {
		return nil, []Problem{{Line: 0, Message: "the file is not UTF-8 text"}}
	}
	var rows []Row
	var lines []int
	var problems []Problem
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '[' {
		dec := json.NewDecoder(bytes.NewReader(t))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rows); err != nil {
			return nil, []Problem{{Line: 0, Message: "not a JSON array of rows: " + err.Error()}}
		}
		for i := range rows {
			lines = append(lines, i+1)
		}
	} else {
		rows, lines, problems = parseCSV(data)
	}
	if len(rows) > MaxRows {
		return nil, []Problem{{Line: 0, Message: fmt.Sprintf("more than %d rows", MaxRows)}}
	}
	if len(rows) == 0 && len(problems) == 0 {
		problems = append(problems, Problem{Line: 0, Message: "the file has no row"})
	}
	body := ""
	seen := map[string]int{}
	for i := range rows {
		r := &rows[i]
		for _, msg := range r.check() {
			problems = append(problems, Problem{Line: lines[i], Message: msg})
		}
		if body == "" {
			body = r.Body
		} else if r.Body != body {
			problems = append(problems, Problem{Line: lines[i], Message: fmt.Sprintf("a file holds one body's list: %q after %q", r.Body, body)})
		}
		if k := r.key(); seen[k] > 0 {
			problems = append(problems, Problem{Line: lines[i], Message: fmt.Sprintf("the same contact as line %d", seen[k])})
		} else {
			seen[k] = lines[i]
		}
	}
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b Problem) int { return a.Line - b.Line })
		return nil, problems
	}
	return rows, nil
}

func parseCSV(data []byte) ([]Row, []int, []Problem) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, nil, []Problem{{Line: 1, Message: "no header line: " + err.Error()}}
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, c := range []string{"body", "state", "agency", "level", "channels"} {
		if _, ok := col[c]; !ok {
			return nil, nil, []Problem{{Line: 1, Message: "the header lacks the column " + c}}
		}
	}
	var rows []Row
	var lines []int
	var problems []Problem
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			problems = append(problems, Problem{Line: line, Message: "not a CSV line: " + err.Error()})
			if len(problems) > 100 {
				break
			}
			continue
		}
		line, _ := r.FieldPos(0)
		if len(rows) >= MaxRows {
			return nil, nil, []Problem{{Line: line, Message: fmt.Sprintf("more than %d rows", MaxRows)}}
		}
		get := func(c string) string {
			if i, ok := col[c]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		row := Row{Body: get("body"), State: get("state"), Ref: get("ref"), Agency: get("agency"), Function: get("function"), Level: directory.Level(get("level"))}
		var bad string
		row.Channels, bad = ParseChannels(get("channels"))
		if bad != "" {
			problems = append(problems, Problem{Line: line, Message: bad})
		}
		rows = append(rows, row)
		lines = append(lines, line)
	}
	return rows, lines, problems
}

// ParseChannels reads "email:a@b.example;phone:+41 22 917 1234"; bad says
// what is wrong. The first e-mail address is the preferred channel.
func ParseChannels(s string) (chans []directory.Channel, bad string) {
	pref := false
	for part := range strings.SplitSeq(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		kind, value, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Sprintf("a channel is written kind:value, not %q", clip(part))
		}
		ch := directory.Channel{Kind: directory.ChannelKind(strings.ToLower(strings.TrimSpace(kind))), Value: strings.TrimSpace(value)}
		if ch.Kind == directory.ChannelEmail && !pref {
			ch.Preferred, pref = true, true
		}
		chans = append(chans, ch)
	}
	return chans, ""
}

// FormatChannels writes channels as ParseChannels reads them.
func FormatChannels(chans []directory.Channel) string {
	parts := make([]string, 0, len(chans))
	for _, ch := range chans {
		parts = append(parts, string(ch.Kind)+":"+strings.ReplaceAll(ch.Value, ";", ","))
	}
	return strings.Join(parts, ";")
}

func clip(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		return string([]rune(s)[:40]) + "…"
	}
	return s
}

// check trims the row and says what is wrong with it.
func (r *Row) check() []string {
	var out []string
	r.Body, r.State, r.Ref = strings.TrimSpace(r.Body), strings.ToUpper(strings.TrimSpace(r.State)), strings.TrimSpace(r.Ref)
	r.Agency, r.Function = strings.TrimSpace(r.Agency), strings.TrimSpace(r.Function)
	r.Level = directory.Level(strings.ToLower(strings.TrimSpace(string(r.Level))))
	if !bodyName.MatchString(r.Body) {
		out = append(out, fmt.Sprintf("%q is not the name of a regional body", clip(r.Body)))
	}
	if !directory.KnownState(r.State) {
		out = append(out, fmt.Sprintf("%q is not a State's ISO 3166-1 alpha-3 code", clip(r.State)))
	}
	text := func(name, v string, max int, required bool) {
		switch {
		case required && v == "":
			out = append(out, name+" is empty")
		case utf8.RuneCountInString(v) > max:
			out = append(out, fmt.Sprintf("%s is longer than %d characters", name, max))
		case strings.ContainsAny(v, "\x00\r\n"):
			out = append(out, name+" has a control character")
		}
	}
	text("ref", r.Ref, MaxRef, false)
	text("agency", r.Agency, MaxShort, true)
	text("function", r.Function, MaxShort, false)
	if !r.Level.Valid() {
		out = append(out, fmt.Sprintf("%q is not a level (diplomatic, technical, policy, legal, incident-reporting)", clip(string(r.Level))))
	}
	if len(r.Channels) == 0 {
		out = append(out, "no channel")
	}
	if len(r.Channels) > MaxChans {
		out = append(out, fmt.Sprintf("more than %d channels", MaxChans))
	}
	for i := range r.Channels {
		ch := &r.Channels[i]
		ch.Value = strings.TrimSpace(ch.Value)
		switch ch.Kind {
		case directory.ChannelEmail:
			if !app.ValidEmail(ch.Value) {
				out = append(out, fmt.Sprintf("%q is not an e-mail address", clip(ch.Value)))
			}
		case directory.ChannelPhone, directory.ChannelFax:
			if !directory.ValidPhone(ch.Value) {
				out = append(out, fmt.Sprintf("%q is not an international phone number", clip(ch.Value)))
			}
		case directory.ChannelSecure, directory.ChannelDiplomatic, directory.ChannelOther:
			text("a channel", ch.Value, MaxChannel, true)
		default:
			out = append(out, fmt.Sprintf("%q is not a kind of channel (email, phone, fax, secure, diplomatic, other)", clip(string(ch.Kind))))
		}
	}
	return out
}

// key identifies a contact within its body from one import to the next:
// its regional reference, else its State, agency and e-mail address.
func (r *Row) key() string {
	if r.Ref != "" {
		return "ref:" + r.Ref
	}
	email := ""
	for _, ch := range r.Channels {
		if ch.Kind == directory.ChannelEmail {
			email = strings.ToLower(ch.Value)
			break
		}
	}
	return "id:" + r.State + "|" + fold(r.Agency) + "|" + email
}

// fold compares agencies: case, spaces and punctuation aside.
func fold(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r == ' ' || r == '.' || r == ',' || r == '-' || r == '(' || r == ')' || r == '\'' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
