package comms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// STIX 2.1 export and import of indicators.
//
// ExportSTIX writes a bundle with the TLP 2.0 marking definition, an
// identity for the sender State, one indicator per address, domain, URL,
// email address, hash and AS number, a malware object (a family) per
// malware name, the cyber-observable objects themselves with an
// observed-data object that refers to them, and a report that names the
// communication and refers to everything else.
//
// STIX has no object for a bare time, so times are carried twice: the
// observed-data's first_observed and last_observed are the earliest and
// latest of them (or the time of the communication when there are none),
// which is what other tools read; and the report lists every one of them
// in the custom property x_pocdir_times, which is what ImportIndicators
// reads back. Times therefore survive a round trip through pocdir, but a
// bundle from another tool yields no times (its observation windows are not
// indicators).

// MaxImportSize is the largest input ImportIndicators reads.
const MaxImportSize = 5 << 20

// ErrRedExport is returned by ExportSTIX for TLP:RED content, which is never
// exported.
var ErrRedExport = errors.New("comms: TLP:RED content is never exported")

// STIXSource is what ExportSTIX needs of a communication.
type STIXSource struct {
	Ref         string    // the communication's reference, named in the report
	SenderState string    // the sender State's code, named in the identity
	Created     time.Time // when the communication was sent (or created)
	TLP         string    // a TLP 2.0 label; TLP:RED is refused
	Indicators  []Indicator
	// Exercise marks every object of the bundle with the label "exercise"
	// and names the report an exercise: its indicators are not real.
	Exercise bool
}

// The TLP 2.0 marking definitions are fixed objects published with the
// STIX extension for TLP 2.0 (extension-definition--60a3c5c5-...,
// oasis-open/cti-stix-common-objects, extension-definition-specifications/
// tlp-2.0). Every producer uses the same ids.
const (
	tlpExtensionID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
	tlpCreated     = "2022-10-01T00:00:00.000Z"
)

var tlpMarkings = map[string]struct{ id, value string }{
	TLPClear:       {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "clear"},
	TLPGreen:       {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "green"},
	TLPAmber:       {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "amber"},
	TLPAmberStrict: {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "amber+strict"},
	TLPRed:         {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "red"},
}

// stixNamespace is the namespace STIX 2.1 (section 2.9) defines for the
// UUIDv5 ids of cyber-observable objects, so that the same observable gets
// the same id from every producer.
var stixNamespace = uuid.MustParse("00abedb4-aa42-466c-9c01-fed23315a9b7")

// pocdirNamespace names the ids pocdir derives itself (the identity of a
// State), so that every export from one State has the same creator.
var pocdirNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/pocdir/pocdir"))

// identityCreated is the fixed creation time of the State identities:
// their ids never change, so neither may their first version.
const identityCreated = "2026-01-01T00:00:00.000Z"

// stixObject is every STIX object ExportSTIX writes; each type uses some
// of the fields.
type stixObject struct {
	Type               string            `json:"type"`
	SpecVersion        string            `json:"spec_version,omitempty"`
	ID                 string            `json:"id"`
	CreatedByRef       string            `json:"created_by_ref,omitempty"`
	Created            string            `json:"created,omitempty"`
	Modified           string            `json:"modified,omitempty"`
	Name               string            `json:"name,omitempty"`
	IdentityClass      string            `json:"identity_class,omitempty"`
	Pattern            string            `json:"pattern,omitempty"`
	PatternType        string            `json:"pattern_type,omitempty"`
	PatternVersion     string            `json:"pattern_version,omitempty"`
	ValidFrom          string            `json:"valid_from,omitempty"`
	IsFamily           *bool             `json:"is_family,omitempty"`
	Value              string            `json:"value,omitempty"`
	Number             uint64            `json:"number,omitempty"`
	Hashes             map[string]string `json:"hashes,omitempty"`
	FirstObserved      string            `json:"first_observed,omitempty"`
	LastObserved       string            `json:"last_observed,omitempty"`
	NumberObserved     int               `json:"number_observed,omitempty"`
	ReportTypes        []string          `json:"report_types,omitempty"`
	Published          string            `json:"published,omitempty"`
	ObjectRefs         []string          `json:"object_refs,omitempty"`
	ExternalReferences []stixExtRef      `json:"external_references,omitempty"`
	Extensions         map[string]any    `json:"extensions,omitempty"`
	ObjectMarkingRefs  []string          `json:"object_marking_refs,omitempty"`
	Labels             []string          `json:"labels,omitempty"`
	Times              []string          `json:"x_pocdir_times,omitempty"`
}

// STIXExerciseLabel is the label of every object exported from an exercise
// message (STIX 2.1 labels are open vocabulary).
const STIXExerciseLabel = "exercise"

// stixExtRef is an external reference.
type stixExtRef struct {
	SourceName string `json:"source_name"`
	ExternalID string `json:"external_id"`
}

// stixBundle is a STIX 2.1 bundle.
type stixBundle struct {
	Type    string       `json:"type"`
	ID      string       `json:"id"`
	Objects []stixObject `json:"objects"`
}

// stixTime formats t as STIX wants it: UTC, to the millisecond.
func stixTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// hashKeys maps the hash indicator types to the STIX hash names.
var hashKeys = map[string]string{IndMD5: "MD5", IndSHA1: "SHA-1", IndSHA256: "SHA-256"}

// ExportSTIX writes the indicators of a communication as a STIX 2.1 bundle
// (JSON). It refuses TLP:RED (ErrRedExport), an unknown TLP label and
// indicators that do not validate.
func ExportSTIX(src STIXSource) ([]byte, error) {
	if !ValidTLP(src.TLP) {
		return nil, fmt.Errorf("comms: %q is not a TLP 2.0 label", src.TLP)
	}
	if !TLPAllowsEmail(src.TLP) {
		return nil, ErrRedExport
	}
	if src.SenderState == "" {
		return nil, errors.New("comms: the sender State is missing")
	}
	if src.Created.IsZero() {
		return nil, errors.New("comms: the creation time is missing")
	}
	if problems := ValidateIndicators(src.Indicators); len(problems) > 0 {
		p := problems[0]
		return nil, fmt.Errorf("comms: indicator %d (%s): %s", p.Line, p.Text, p.Message)
	}

	ts := stixTime(src.Created)
	mark := tlpMarkings[src.TLP]
	marks := []string{mark.id}
	identity := "identity--" + uuid.NewSHA1(pocdirNamespace, []byte("identity:"+src.SenderState)).String()
	objects := []stixObject{
		{
			Type: "marking-definition", SpecVersion: "2.1", ID: mark.id, Created: tlpCreated, Name: src.TLP,
			Extensions: map[string]any{tlpExtensionID: map[string]string{"extension_type": "property-extension", "tlp_2_0": mark.value}},
		},
		{
			Type: "identity", SpecVersion: "2.1", ID: identity, Created: identityCreated, Modified: identityCreated,
			Name: "pocdir: " + src.SenderState, IdentityClass: "organization",
		},
	}
	var labels []string
	if src.Exercise {
		labels = []string{STIXExerciseLabel}
	}
	sdo := func(typ string) stixObject {
		return stixObject{Type: typ, SpecVersion: "2.1", ID: typ + "--" + uuid.NewString(), CreatedByRef: identity,
			Created: ts, Modified: ts, ObjectMarkingRefs: marks, Labels: labels}
	}

	var (
		sdos, scos []stixObject
		refs       []string
		seen       = map[string]bool{}
		times      []string
		first      time.Time
		last       time.Time
	)
	for _, ind := range src.Indicators {
		switch ind.Type {
		case IndTime:
			t, _ := time.Parse(time.RFC3339Nano, ind.Value)
			if first.IsZero() || t.Before(first) {
				first = t
			}
			if last.IsZero() || t.After(last) {
				last = t
			}
			times = append(times, ind.Value)
			continue
		case IndMalware:
			family := true
			m := sdo("malware")
			m.Name, m.IsFamily = ind.Value, &family
			sdos = append(sdos, m)
			continue
		}
		sco, err := stixObservable(ind)
		if err != nil {
			return nil, err
		}
		sco.ObjectMarkingRefs = marks
		if !seen[sco.ID] {
			seen[sco.ID] = true
			scos = append(scos, sco)
			refs = append(refs, sco.ID)
		}
		in := sdo("indicator")
		in.Name = ind.Value
		in.Pattern = stixPattern(ind)
		in.PatternType, in.PatternVersion, in.ValidFrom = "stix", "2.1", ts
		sdos = append(sdos, in)
	}
	if len(scos) > 0 {
		od := sdo("observed-data")
		od.FirstObserved, od.LastObserved = ts, ts
		if len(times) > 0 {
			od.FirstObserved, od.LastObserved = first.Format(time.RFC3339Nano), last.Format(time.RFC3339Nano)
		}
		od.NumberObserved = 1
		od.ObjectRefs = refs
		sdos = append(sdos, od)
	}

	report := sdo("report")
	report.Name = "pocdir communication " + src.Ref
	if src.Ref == "" {
		report.Name = "pocdir communication"
	} else {
		report.ExternalReferences = []stixExtRef{{SourceName: "pocdir", ExternalID: src.Ref}}
	}
	if src.Exercise {
		report.Name = "EXERCISE: " + report.Name
	}
	report.ReportTypes = []string{"threat-report"}
	report.Published = ts
	for _, o := range sdos {
		report.ObjectRefs = append(report.ObjectRefs, o.ID)
	}
	if len(report.ObjectRefs) == 0 {
		report.ObjectRefs = []string{identity}
	}
	report.Times = times

	objects = append(objects, sdos...)
	objects = append(objects, scos...)
	objects = append(objects, report)
	return json.MarshalIndent(stixBundle{Type: "bundle", ID: "bundle--" + uuid.NewString(), Objects: objects}, "", "  ")
}

// stixObservable builds the cyber-observable object for an indicator, with
// the deterministic id STIX 2.1 defines: a UUIDv5 of its identifying
// properties.
func stixObservable(ind Indicator) (stixObject, error) {
	o := stixObject{SpecVersion: "2.1"}
	var key any
	switch ind.Type {
	case IndIPv4, IndIPv6, IndDomain, IndURL, IndEmail:
		o.Type, o.Value = ind.Type, ind.Value
		key = map[string]string{"value": ind.Value}
	case IndMD5, IndSHA1, IndSHA256:
		o.Type, o.Hashes = "file", map[string]string{hashKeys[ind.Type]: ind.Value}
		key = map[string]any{"hashes": o.Hashes}
	case IndASN:
		n, err := strconv.ParseUint(strings.TrimPrefix(ind.Value, "AS"), 10, 32)
		if err != nil {
			return o, fmt.Errorf("comms: %q is not an AS number", ind.Value)
		}
		o.Type, o.Number = "autonomous-system", n
		key = map[string]uint64{"number": n}
	default:
		return o, fmt.Errorf("comms: no STIX observable for %q", ind.Type)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the canonical form (RFC 8785) does not escape <, > and &
	if err := enc.Encode(key); err != nil {
		return o, err
	}
	o.ID = o.Type + "--" + uuid.NewSHA1(stixNamespace, bytes.TrimSuffix(b.Bytes(), []byte("\n"))).String()
	return o, nil
}

// stixPattern writes the STIX pattern that matches an indicator.
func stixPattern(ind Indicator) string {
	switch ind.Type {
	case IndMD5:
		return "[file:hashes.MD5 = " + stixString(ind.Value) + "]"
	case IndSHA1, IndSHA256:
		return "[file:hashes.'" + hashKeys[ind.Type] + "' = " + stixString(ind.Value) + "]"
	case IndASN:
		return "[autonomous-system:number = " + strings.TrimPrefix(ind.Value, "AS") + "]"
	}
	return "[" + ind.Type + ":value = " + stixString(ind.Value) + "]"
}

// stixString quotes s as a STIX pattern string literal.
func stixString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// The reasons for refusing STIX content, beyond those of ParseIndicators.
const (
	reasonSTIX        = "stix"
	reasonSTIXPattern = "stix_pattern"
	reasonSTIXHash    = "stix_hash"
	reasonSTIXObject  = "stix_object"
	reasonTooLarge    = "too_large"
)

// stixIn is what ImportIndicators reads of a STIX object.
type stixIn struct {
	Type        string                     `json:"type"`
	ID          string                     `json:"id"`
	Name        *string                    `json:"name"`
	Pattern     *string                    `json:"pattern"`
	PatternType string                     `json:"pattern_type"`
	Value       *string                    `json:"value"`
	Number      *json.Number               `json:"number"`
	Hashes      map[string]string          `json:"hashes"`
	Objects     map[string]json.RawMessage `json:"objects"`
	Times       []string                   `json:"x_pocdir_times"`
}

// scoTypes are the cyber-observable types of STIX 2.1. Those ImportIndicators
// does not read are reported; other objects (identities, relationships,
// reports) carry no indicator and are passed over.
var scoTypes = map[string]bool{
	"artifact": true, "autonomous-system": true, "directory": true, "domain-name": true, "email-addr": true,
	"email-message": true, "file": true, "ipv4-addr": true, "ipv6-addr": true, "mac-addr": true, "mutex": true,
	"network-traffic": true, "process": true, "software": true, "url": true, "user-account": true,
	"windows-registry-key": true, "x509-certificate": true,
}

// collector gathers indicators from several places, keeping each once and
// at most MaxIndicators.
type collector struct {
	out      []Indicator
	problems []Problem
	seen     map[Indicator]bool
	full     bool
}

// add normalises v as type typ and keeps it, or records why not.
func (c *collector) add(line int, text, typ, v string) {
	if c.full {
		return
	}
	ind, reason := normalise(typ, v)
	if reason != "" {
		c.problems = append(c.problems, problem(line, text, reason))
		return
	}
	if c.seen[ind] {
		return
	}
	if len(c.out) == MaxIndicators {
		c.problems = append(c.problems, problem(line, text, reasonTooMany))
		c.full = true
		return
	}
	c.seen[ind] = true
	c.out = append(c.out, ind)
}

// ImportIndicators reads indicators from a STIX 2.1 bundle (JSON) or, when
// the data is not JSON, from a plain list as ParseIndicators does. From a
// bundle it reads indicators with STIX patterns made of = comparisons
// joined by AND or OR, the cyber-observable objects of the supported types
// (also inside observed-data), malware names and the times pocdir exports.
// A pattern or observable it cannot read is a Problem whose Line is the
// object's position in the bundle (from 1); nothing is dropped silently.
// Inputs over 5 MB are refused.
func ImportIndicators(data []byte) ([]Indicator, []Problem) {
	if len(data) > MaxImportSize {
		return nil, []Problem{problem(1, "", reasonTooLarge)}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		return ParseIndicators(string(data))
	}
	var bundle struct {
		Type    string            `json:"type"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(data, &bundle); err != nil || bundle.Type != "bundle" {
		return nil, []Problem{problem(1, firstLine(data), reasonSTIX)}
	}
	c := &collector{seen: map[Indicator]bool{}}
	for i, raw := range bundle.Objects {
		line := i + 1
		var o stixIn
		if err := json.Unmarshal(raw, &o); err != nil {
			c.problems = append(c.problems, problem(line, firstLine(raw), reasonSTIX))
			continue
		}
		c.object(line, o, 0)
	}
	return c.out, c.problems
}

// firstLine is the start of data, for a Problem's text.
func firstLine(data []byte) string {
	s := string(data)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return cutRunes(strings.TrimSpace(s), maxTextRunes)
}

// object reads one STIX object found at line (depth counts the
// observed-data objects it is nested in).
func (c *collector) object(line int, o stixIn, depth int) {
	label := strings.TrimSpace(o.Type + " " + o.ID)
	switch {
	case o.Type == "indicator":
		if o.Pattern == nil {
			c.problems = append(c.problems, problem(line, label, reasonSTIXPattern))
			return
		}
		if o.PatternType != "" && o.PatternType != "stix" {
			c.problems = append(c.problems, problem(line, *o.Pattern, reasonSTIXPattern))
			return
		}
		comps, hash, ok := parsePattern(*o.Pattern)
		if hash != "" {
			c.problems = append(c.problems, problem(line, hash, reasonSTIXHash))
			return
		}
		if !ok {
			c.problems = append(c.problems, problem(line, *o.Pattern, reasonSTIXPattern))
			return
		}
		for _, cmp := range comps {
			c.add(line, cmp.value, cmp.typ, cmp.value)
		}
	case o.Type == "malware":
		if o.Name == nil {
			c.problems = append(c.problems, problem(line, label, reasonMalware))
			return
		}
		c.add(line, *o.Name, IndMalware, strings.TrimSpace(*o.Name))
	case o.Type == "report":
		for _, t := range o.Times {
			c.add(line, t, IndTime, t)
		}
	case o.Type == "observed-data":
		if depth > 0 {
			return
		}
		keys := make([]string, 0, len(o.Objects))
		for k := range o.Objects {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			raw := o.Objects[k]
			var sub stixIn
			if err := json.Unmarshal(raw, &sub); err != nil {
				c.problems = append(c.problems, problem(line, firstLine(raw), reasonSTIX))
				continue
			}
			c.object(line, sub, depth+1)
		}
	case o.Type == IndIPv4 || o.Type == IndIPv6 || o.Type == IndDomain || o.Type == IndURL || o.Type == IndEmail:
		if o.Value == nil {
			c.problems = append(c.problems, problem(line, label, reasonSTIXObject))
			return
		}
		c.add(line, *o.Value, o.Type, *o.Value)
	case o.Type == "file":
		found := false
		for _, k := range []struct{ key, typ string }{{"MD5", IndMD5}, {"SHA-1", IndSHA1}, {"SHA-256", IndSHA256}} {
			if h, ok := o.Hashes[k.key]; ok {
				c.add(line, h, k.typ, h)
				found = true
			}
		}
		if !found {
			c.problems = append(c.problems, problem(line, label, reasonSTIXObject))
		}
	case o.Type == IndASN:
		if o.Number == nil {
			c.problems = append(c.problems, problem(line, label, reasonSTIXObject))
			return
		}
		c.add(line, o.Number.String(), IndASN, o.Number.String())
	case scoTypes[o.Type]:
		c.problems = append(c.problems, problem(line, label, reasonSTIXObject))
	}
}

// comparison is one "path = value" of a STIX pattern, as an indicator type
// and a value.
type comparison struct{ typ, value string }

// patternPaths maps the object paths ImportIndicators understands to
// indicator types.
var patternPaths = map[string]string{
	"ipv4-addr:value":                IndIPv4,
	"ipv6-addr:value":                IndIPv6,
	"domain-name:value":              IndDomain,
	"url:value":                      IndURL,
	"email-addr:value":               IndEmail,
	"email-message:from_ref.value":   IndEmail,
	"email-message:sender_ref.value": IndEmail,
	"autonomous-system:number":       IndASN,
	"network-traffic:dst_ref.value":  "ip",
	"network-traffic:src_ref.value":  "ip",
}

// hashTypes maps hash algorithm names, as hashTypeOf folds them, to
// indicator types. STIX's hashing-algorithm vocabulary writes MD5, SHA-1
// and SHA-256, but OASIS's own examples write md5, and producers write
// SHA256 or 'sha-256': the name is compared without case and dashes.
var hashTypes = map[string]string{"md5": IndMD5, "sha1": IndSHA1, "sha256": IndSHA256}

// hashTypeOf reads a path to a file's or an artifact's hash: its indicator
// type, or the algorithm's name as written when pocdir does not know it.
func hashTypeOf(path string) (typ, unknown string, isHash bool) {
	obj, alg, ok := strings.Cut(path, ":hashes.")
	if !ok || (obj != "file" && obj != "artifact") {
		return "", "", false
	}
	fold := strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(alg))
	if typ, ok := hashTypes[fold]; ok {
		return typ, "", true
	}
	return "", alg, true
}

// parsePattern reads a STIX pattern made only of = comparisons of the
// supported paths, joined by AND or OR, in observation expressions joined
// by AND or OR, with parentheses. Anything else (other operators, other
// paths, qualifiers such as WITHIN, FOLLOWEDBY, NOT) makes the whole
// pattern unsupported: taking part of it would change its meaning. A hash
// of an algorithm pocdir does not know is named in badHash.
func parsePattern(p string) (out []comparison, badHash string, ok bool) {
	toks, ok := tokenize(p)
	if !ok || len(toks) == 0 {
		return nil, "", false
	}
	var (
		inBracket bool
		outer     int    // parentheses around observation expressions
		inner     int    // parentheses inside the brackets
		wantTerm  = true // a comparison, '[' or '(' comes next
	)
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.kind == tokPunct && t.text == "[":
			if inBracket || !wantTerm {
				return nil, "", false
			}
			inBracket = true
		case t.kind == tokPunct && t.text == "]":
			if !inBracket || wantTerm || inner != 0 {
				return nil, "", false
			}
			inBracket = false
		case t.kind == tokPunct && t.text == "(":
			if !wantTerm {
				return nil, "", false
			}
			if inBracket {
				inner++
			} else {
				outer++
			}
		case t.kind == tokPunct && t.text == ")":
			depth := &outer
			if inBracket {
				depth = &inner
			}
			if wantTerm || *depth == 0 {
				return nil, "", false
			}
			*depth--
		case t.kind == tokWord && (t.text == "AND" || t.text == "OR"):
			if wantTerm {
				return nil, "", false
			}
			wantTerm = true
		case t.kind == tokPath:
			typ, known := patternPaths[t.text]
			if htyp, unknown, isHash := hashTypeOf(t.text); isHash {
				if unknown != "" {
					return nil, unknown, false
				}
				typ, known = htyp, true
			}
			if !inBracket || !wantTerm || !known || i+2 >= len(toks) {
				return nil, "", false
			}
			op, val := toks[i+1], toks[i+2]
			if op.kind != tokPunct || op.text != "=" {
				return nil, "", false
			}
			switch {
			case typ == IndASN && val.kind == tokInt:
			case typ != IndASN && val.kind == tokString:
			default:
				return nil, "", false
			}
			out = append(out, comparison{typ, val.text})
			wantTerm = false
			i += 2
		default:
			return nil, "", false
		}
	}
	if inBracket || outer != 0 || wantTerm {
		return nil, "", false
	}
	return out, "", true
}

// The kinds of token in a STIX pattern.
const (
	tokPunct  = iota // [ ] ( ) = and other operators
	tokWord          // AND, OR and other keywords
	tokPath          // an object path, type:property...
	tokString        // a quoted string, unescaped
	tokInt           // an integer
)

type token struct {
	kind int
	text string
}

// tokenize splits a STIX pattern into tokens. Object paths lose the quotes
// around their parts (file:hashes.'SHA-256' reads file:hashes.SHA-256).
func tokenize(p string) ([]token, bool) {
	var toks []token
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '[' || c == ']' || c == '(' || c == ')':
			toks = append(toks, token{tokPunct, string(c)})
			i++
		case c == '=' || c == '!' || c == '<' || c == '>':
			j := i + 1
			for j < len(p) && (p[j] == '=' || p[j] == '>' || p[j] == '<') {
				j++
			}
			toks = append(toks, token{tokPunct, p[i:j]})
			i = j
		case c == '\'':
			s, n, ok := readQuoted(p[i:])
			if !ok {
				return nil, false
			}
			toks = append(toks, token{tokString, s})
			i += n
		case c == '-' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(p) && p[j] >= '0' && p[j] <= '9' {
				j++
			}
			toks = append(toks, token{tokInt, p[i:j]})
			i = j
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_':
			var b strings.Builder
			j := i
			for j < len(p) {
				d := p[j]
				if d >= 'a' && d <= 'z' || d >= 'A' && d <= 'Z' || d >= '0' && d <= '9' || strings.IndexByte("_-:.[]*", d) >= 0 {
					if d == ']' && !strings.Contains(b.String(), "[") {
						break // the end of an observation expression, not of an index
					}
					if d == '[' && !strings.Contains(b.String(), ":") {
						break
					}
					b.WriteByte(d)
					j++
					continue
				}
				if d == '\'' && j > i && p[j-1] == '.' {
					s, n, ok := readQuoted(p[j:])
					if !ok {
						return nil, false
					}
					b.WriteString(s)
					j += n
					continue
				}
				break
			}
			word := b.String()
			kind := tokWord
			if strings.Contains(word, ":") {
				kind = tokPath
			} else if len(word) == 1 && j < len(p) && p[j] == '\'' {
				return nil, false // h'..', b'..', t'..' literals are not supported
			}
			toks = append(toks, token{kind, word})
			i = j
		default:
			return nil, false
		}
	}
	return toks, true
}

// readQuoted reads a STIX string literal at the start of s ('...' with \'
// and \\ escapes) and returns its value and its length in s.
func readQuoted(s string) (string, int, bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '\\' && s[i+1] != '\'') {
				return "", 0, false
			}
			b.WriteByte(s[i+1])
			i++
		case '\'':
			if !utf8.ValidString(b.String()) {
				return "", 0, false
			}
			return b.String(), i + 1, true
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, false
}
