package comms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// stixSample is a communication with one indicator of each type.
func stixSample(tlp string) STIXSource {
	return STIXSource{
		Ref:         "FRA-2026-0042",
		SenderState: "FRA",
		Created:     time.Date(2026, 11, 20, 12, 30, 0, 0, time.UTC),
		TLP:         tlp,
		Indicators: []Indicator{
			{IndIPv4, "198.51.100.3"},
			{IndIPv4, "203.0.113.0/24"},
			{IndIPv6, "2001:db8::/32"},
			{IndDomain, "evil.example.com"},
			{IndURL, `http://evil.example.com/it's\here?a=1&b=2`},
			{IndEmail, "Phish@example.org"},
			{IndMD5, "d41d8cd98f00b204e9800998ecf8427e"},
			{IndSHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
			{IndSHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
			{IndMalware, "Emotet"},
			{IndASN, "AS64500"},
			{IndTime, "2026-11-19T08:00:00Z"},
			{IndTime, "2026-11-18T22:15:00.5Z"},
		},
	}
}

// decodeBundle reads an exported bundle as generic JSON.
func decodeBundle(t *testing.T, b []byte) (map[string]any, []map[string]any) {
	t.Helper()
	var bundle map[string]any
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatalf("the bundle is not JSON: %v", err)
	}
	var objects []map[string]any
	for _, o := range bundle["objects"].([]any) {
		objects = append(objects, o.(map[string]any))
	}
	return bundle, objects
}

func ofType(objects []map[string]any, typ string) []map[string]any {
	var out []map[string]any
	for _, o := range objects {
		if o["type"] == typ {
			out = append(out, o)
		}
	}
	return out
}

func TestExportSTIXWritesABundleForEveryTLPButRed(t *testing.T) {
	tests := []struct {
		tlp, id, value string
	}{
		{TLPClear, "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "clear"},
		{TLPGreen, "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "green"},
		{TLPAmber, "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "amber"},
		{TLPAmberStrict, "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "amber+strict"},
	}
	for _, tt := range tests {
		t.Run(tt.tlp+" is exported with its TLP 2.0 marking", func(t *testing.T) {
			out, err := ExportSTIX(stixSample(tt.tlp))
			if err != nil {
				t.Fatal(err)
			}
			bundle, objects := decodeBundle(t, out)
			if bundle["type"] != "bundle" || !strings.HasPrefix(bundle["id"].(string), "bundle--") {
				t.Errorf("bundle header = %v %v", bundle["type"], bundle["id"])
			}

			wantMark := map[string]any{
				"type": "marking-definition", "spec_version": "2.1", "id": tt.id,
				"created": "2022-10-01T00:00:00.000Z", "name": tt.tlp,
				"extensions": map[string]any{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": map[string]any{
					"extension_type": "property-extension", "tlp_2_0": tt.value}},
			}
			if marks := ofType(objects, "marking-definition"); len(marks) != 1 || !reflect.DeepEqual(marks[0], wantMark) {
				t.Errorf("marking definitions = %v, want %v", marks, wantMark)
			}
			for _, o := range objects {
				if o["type"] == "marking-definition" || o["type"] == "identity" {
					continue
				}
				if refs, _ := o["object_marking_refs"].([]any); len(refs) != 1 || refs[0] != tt.id {
					t.Errorf("%v has markings %v, want [%s]", o["id"], o["object_marking_refs"], tt.id)
				}
			}

			ids := ofType(objects, "identity")
			if len(ids) != 1 || ids[0]["name"] != "pocdir: FRA" || ids[0]["identity_class"] != "organization" {
				t.Fatalf("identities = %v", ids)
			}
			for _, o := range objects {
				if o["created_by_ref"] != nil && o["created_by_ref"] != ids[0]["id"] {
					t.Errorf("%v was created by %v, want the sender's identity", o["id"], o["created_by_ref"])
				}
			}

			var patterns []string
			for _, o := range ofType(objects, "indicator") {
				if o["pattern_type"] != "stix" || o["valid_from"] != "2026-11-20T12:30:00.000Z" || o["created_by_ref"] == nil {
					t.Errorf("indicator %v", o)
				}
				patterns = append(patterns, o["pattern"].(string))
			}
			wantPatterns := []string{
				"[ipv4-addr:value = '198.51.100.3']",
				"[ipv4-addr:value = '203.0.113.0/24']",
				"[ipv6-addr:value = '2001:db8::/32']",
				"[domain-name:value = 'evil.example.com']",
				`[url:value = 'http://evil.example.com/it\'s\\here?a=1&b=2']`,
				"[email-addr:value = 'Phish@example.org']",
				"[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
				"[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
				"[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
				"[autonomous-system:number = 64500]",
			}
			if !reflect.DeepEqual(patterns, wantPatterns) {
				t.Errorf("patterns =\n%s\nwant\n%s", strings.Join(patterns, "\n"), strings.Join(wantPatterns, "\n"))
			}

			mal := ofType(objects, "malware")
			if len(mal) != 1 || mal[0]["name"] != "Emotet" || mal[0]["is_family"] != true {
				t.Errorf("malware = %v", mal)
			}

			od := ofType(objects, "observed-data")
			if len(od) != 1 || od[0]["first_observed"] != "2026-11-18T22:15:00.5Z" || od[0]["last_observed"] != "2026-11-19T08:00:00Z" || od[0]["number_observed"] != 1.0 {
				t.Fatalf("observed-data = %v", od)
			}
			if refs := od[0]["object_refs"].([]any); len(refs) != 10 {
				t.Errorf("observed-data refers to %d objects, want 10", len(refs))
			}
			if got := ofType(objects, "ipv4-addr"); len(got) != 2 || got[0]["id"] != "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4" {
				t.Errorf("ipv4-addr objects = %v, want the id STIX 2.1 gives 198.51.100.3", got)
			}

			reports := ofType(objects, "report")
			if len(reports) != 1 || reports[0]["name"] != "pocdir communication FRA-2026-0042" {
				t.Fatalf("reports = %v", reports)
			}
			if times := reports[0]["x_pocdir_times"]; !reflect.DeepEqual(times, []any{"2026-11-19T08:00:00Z", "2026-11-18T22:15:00.5Z"}) {
				t.Errorf("x_pocdir_times = %v", times)
			}
		})
	}
}

func TestExportSTIXRefuses(t *testing.T) {
	tests := []struct {
		name string
		edit func(*STIXSource)
		red  bool
	}{
		{"TLP:RED content is never exported", func(s *STIXSource) { s.TLP = TLPRed }, true},
		{"an unknown TLP label is refused", func(s *STIXSource) { s.TLP = "TLP:WHITE" }, false},
		{"a missing sender is refused", func(s *STIXSource) { s.SenderState = "" }, false},
		{"a missing time is refused", func(s *STIXSource) { s.Created = time.Time{} }, false},
		{"an indicator that does not validate is refused", func(s *STIXSource) { s.Indicators = []Indicator{{IndDomain, "Not A Domain"}} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := stixSample(TLPGreen)
			tt.edit(&src)
			out, err := ExportSTIX(src)
			if err == nil || out != nil {
				t.Fatalf("ExportSTIX = %d bytes, %v; want an error", len(out), err)
			}
			if got := errors.Is(err, ErrRedExport); got != tt.red {
				t.Errorf("errors.Is(err, ErrRedExport) = %v, want %v (%v)", got, tt.red, err)
			}
		})
	}
}

func TestExportSTIXWithoutObservablesStillNamesTheCommunication(t *testing.T) {
	src := stixSample(TLPClear)
	src.Indicators = []Indicator{{IndTime, "2026-11-19T08:00:00Z"}}
	out, err := ExportSTIX(src)
	if err != nil {
		t.Fatal(err)
	}
	_, objects := decodeBundle(t, out)
	if n := len(ofType(objects, "observed-data")); n != 0 {
		t.Errorf("%d observed-data objects, want none", n)
	}
	got, problems := ImportIndicators(out)
	if len(problems) > 0 || !reflect.DeepEqual(got, src.Indicators) {
		t.Errorf("ImportIndicators = %+v, %+v", got, problems)
	}
}

func TestExportThenImportGivesTheSameIndicators(t *testing.T) {
	for _, tlp := range []string{TLPClear, TLPGreen, TLPAmber, TLPAmberStrict} {
		t.Run("a "+tlp+" bundle reads back", func(t *testing.T) {
			src := stixSample(tlp)
			out, err := ExportSTIX(src)
			if err != nil {
				t.Fatal(err)
			}
			got, problems := ImportIndicators(out)
			if len(problems) > 0 {
				t.Fatalf("problems = %+v", problems)
			}
			// The order differs (indicators, malware, observables, times):
			// compare as sets.
			key := func(a, b Indicator) int { return strings.Compare(a.Type+" "+a.Value, b.Type+" "+b.Value) }
			want := slices.Clone(src.Indicators)
			slices.SortFunc(got, key)
			slices.SortFunc(want, key)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ImportIndicators(ExportSTIX(x)) =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestImportIndicatorsReadsAHandWrittenBundle(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "stix", "import.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, problems := ImportIndicators(data)
	want := []Indicator{
		{IndIPv4, "198.51.100.1"},
		{IndIPv4, "203.0.113.0/24"},
		{IndIPv6, "2001:db8::1"},
		{IndSHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{IndMD5, "d41d8cd98f00b204e9800998ecf8427e"},
		{IndURL, "http://evil.example.com/it's"},
		{IndDomain, "evil.example.net"},
		{IndEmail, "phish@example.org"},
		{IndASN, "AS64500"},
		{IndMalware, "Emotet"},
		{IndDomain, "c2.example.com"},
		{IndEmail, "boss@example.net"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("indicators =\n%+v\nwant\n%+v", got, want)
	}
	type lineKey struct {
		line int
		key  string
	}
	var gotProblems []lineKey
	for _, p := range problems {
		gotProblems = append(gotProblems, lineKey{p.Line, p.Key})
	}
	wantProblems := []lineKey{
		{6, "indicator.error.stix_pattern"}, // LIKE
		{7, "indicator.error.stix_pattern"}, // FOLLOWEDBY
		{8, "indicator.error.stix_pattern"}, // a YARA rule
		{11, "indicator.error.stix_object"}, // a mutex
		{12, "indicator.error.ip"},          // 999.1.1.1 inside observed-data
	}
	if !reflect.DeepEqual(gotProblems, wantProblems) {
		t.Errorf("problems = %+v, want %+v", problems, wantProblems)
	}
}

// TestAnUnknownHashAlgorithmIsNamed: a hash of an algorithm pocdir does
// not read is refused with its name, not as an unsupported pattern.
func TestAnUnknownHashAlgorithmIsNamed(t *testing.T) {
	got, problems := ImportIndicators([]byte(`{"type":"bundle","id":"bundle--1","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--1",
		"pattern_type":"stix","pattern":"[file:hashes.'SHA-512' = 'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e']"}]}`))
	if len(got) != 0 || len(problems) != 1 || problems[0].Key != "indicator.error.stix_hash" || problems[0].Text != "SHA-512" {
		t.Errorf("ImportIndicators = %+v, %+v", got, problems)
	}
}

func TestImportIndicatorsRefuses(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		key  string
	}{
		{"malformed JSON", []byte(`{"type": "bundle", "objects": [`), "indicator.error.stix"},
		{"JSON that is not a bundle", []byte(`{"type": "indicator", "pattern": "[url:value = 'http://x.example/']"}`), "indicator.error.stix"},
		{"an object that does not decode", []byte(`{"type": "bundle", "objects": [{"type": "ipv4-addr", "value": 7}]}`), "indicator.error.stix"},
		{"an input over 5 MB", bytes.Repeat([]byte("a"), MaxImportSize+1), "indicator.error.too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := ImportIndicators(tt.data)
			if len(got) != 0 || len(problems) != 1 || problems[0].Key != tt.key || problems[0].Line != 1 {
				t.Errorf("ImportIndicators = %+v, %+v; want one %s problem on line 1", got, problems, tt.key)
			}
		})
	}
}

func TestImportIndicatorsReadsAPlainList(t *testing.T) {
	got, problems := ImportIndicators([]byte("\xef\xbb\xbf198[.]51.100.3\nmalware: Emotet\nnonsense\n"))
	want := []Indicator{{IndIPv4, "198.51.100.3"}, {IndMalware, "Emotet"}}
	if !reflect.DeepEqual(got, want) || len(problems) != 1 || problems[0].Line != 3 {
		t.Errorf("ImportIndicators = %+v, %+v", got, problems)
	}
}

func TestSTIXPatternsParse(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    []comparison // nil: unsupported
	}{
		{"one comparison", "[ipv4-addr:value = '192.0.2.1']", []comparison{{IndIPv4, "192.0.2.1"}}},
		{"no spaces", "[domain-name:value='a.example']", []comparison{{IndDomain, "a.example"}}},
		{"OR inside brackets", "[url:value = 'http://a.example/' OR url:value = 'http://b.example/']", []comparison{{IndURL, "http://a.example/"}, {IndURL, "http://b.example/"}}},
		{"AND between brackets", "[email-addr:value = 'a@b.example'] AND [autonomous-system:number = 64500]", []comparison{{IndEmail, "a@b.example"}, {IndASN, "64500"}}},
		{"parentheses", "([file:hashes.'SHA-1' = 'x'] OR [(file:hashes.SHA256 = 'y')])", []comparison{{IndSHA1, "x"}, {IndSHA256, "y"}}},
		{"a hash name in lower case, as OASIS's examples write it", "[file:hashes.md5 = 'd41d8cd98f00b204e9800998ecf8427e']", []comparison{{IndMD5, "d41d8cd98f00b204e9800998ecf8427e"}}},
		{"hash names in any case, with or without the dash", "[file:hashes.'sha-256' = 'a' OR artifact:hashes.Sha1 = 'b' OR file:hashes.'SHA-1' = 'c']",
			[]comparison{{IndSHA256, "a"}, {IndSHA1, "b"}, {IndSHA1, "c"}}},
		{"unbalanced parentheses", "([ipv4-addr:value = '192.0.2.1']", nil},
		{"a parenthesis closing across a bracket", "[(ipv4-addr:value = '192.0.2.1']) ", nil},
		{"escaped quote and backslash", `[url:value = 'http://a.example/\'\\']`, []comparison{{IndURL, `http://a.example/'\`}}},
		{"another operator", "[ipv4-addr:value != '192.0.2.1']", nil},
		{"ISSUBSET", "[ipv4-addr:value ISSUBSET '192.0.2.0/24']", nil},
		{"a qualifier", "[ipv4-addr:value = '192.0.2.1'] WITHIN 300 SECONDS", nil},
		{"NOT", "[NOT ipv4-addr:value = '192.0.2.1']", nil},
		{"an unsupported path", "[process:name = 'evil.exe']", nil},
		{"a string for a number", "[autonomous-system:number = '64500']", nil},
		{"a number for a string", "[ipv4-addr:value = 3]", nil},
		{"a timestamp literal", "[ipv4-addr:value = t'2026-01-01T00:00:00Z']", nil},
		{"an unterminated string", "[ipv4-addr:value = '192.0.2.1]", nil},
		{"no brackets", "ipv4-addr:value = '192.0.2.1'", nil},
		{"nested brackets", "[[ipv4-addr:value = '192.0.2.1']]", nil},
		{"a dangling OR", "[ipv4-addr:value = '192.0.2.1' OR]", nil},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, ok := parsePattern(tt.pattern)
			if ok != (tt.want != nil) || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parsePattern(%q) = %+v, %v; want %+v", tt.pattern, got, ok, tt.want)
			}
		})
	}
}

// The STIX 2.1 JSON schemas, copied under testdata/stix2-schemas (see
// SOURCE.md there), are loaded from disk: schemaBases maps the URLs they
// are known by to that folder, so nothing is fetched over the network.
const schemaBase = "https://raw.githubusercontent.com/707eric/cti-stix2-json-schemas/refs/heads/master/schemas/"

var schemaBases = map[string]string{
	schemaBase: "stix2-schemas",
	"http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/":                            "stix2-schemas",
	"https://raw.githubusercontent.com/oasis-open/cti-stix-common-objects/main/extension-definition-specifications/": "stix2-schemas/",
}

// schemaLoader serves the schemas from testdata and refuses everything else.
type schemaLoader struct{}

func (schemaLoader) Load(url string) (any, error) {
	for prefix, dir := range schemaBases {
		if rest, ok := strings.CutPrefix(url, prefix); ok {
			f, err := os.Open(filepath.Join("testdata", dir, filepath.FromSlash(rest)))
			if err != nil {
				return nil, err
			}
			defer f.Close()
			return jsonschema.UnmarshalJSON(f)
		}
	}
	return nil, fmt.Errorf("%s is not in testdata: no schema is fetched over the network", url)
}

// compileSchema compiles one schema (a path under schemaBase, or a full
// URL) with its own compiler.
func compileSchema(t *testing.T, loc string) *jsonschema.Schema {
	t.Helper()
	if !strings.Contains(loc, "://") {
		loc = schemaBase + loc
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(schemaLoader{})
	c.AssertFormat()
	sch, err := c.Compile(loc)
	if err != nil {
		t.Fatalf("compiling %s: %v", loc, err)
	}
	return sch
}

func TestExportSTIXMatchesTheSTIX21Schemas(t *testing.T) {
	bundleSchema := compileSchema(t, "common/bundle.json")
	byType := map[string]*jsonschema.Schema{
		"marking-definition": compileSchema(t, "common/marking-definition.json"),
		"identity":           compileSchema(t, "sdos/identity.json"),
		"indicator":          compileSchema(t, "sdos/indicator.json"),
		"malware":            compileSchema(t, "sdos/malware.json"),
		"observed-data":      compileSchema(t, "sdos/observed-data.json"),
		"report":             compileSchema(t, "sdos/report.json"),
		"ipv4-addr":          compileSchema(t, "observables/ipv4-addr.json"),
		"ipv6-addr":          compileSchema(t, "observables/ipv6-addr.json"),
		"domain-name":        compileSchema(t, "observables/domain-name.json"),
		"url":                compileSchema(t, "observables/url.json"),
		"email-addr":         compileSchema(t, "observables/email-addr.json"),
		"file":               compileSchema(t, "observables/file.json"),
		"autonomous-system":  compileSchema(t, "observables/autonomous-system.json"),
	}
	tlp2 := compileSchema(t, "https://raw.githubusercontent.com/oasis-open/cti-stix-common-objects/main/extension-definition-specifications/tlp-2.0/extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d.json")

	for _, tlp := range []string{TLPClear, TLPGreen, TLPAmber, TLPAmberStrict} {
		t.Run("a "+tlp+" bundle and each of its objects validate", func(t *testing.T) {
			out, err := ExportSTIX(stixSample(tlp))
			if err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			if err := bundleSchema.Validate(inst); err != nil {
				t.Errorf("the bundle does not validate: %v", err)
			}
			seen := map[string]bool{}
			for _, o := range inst.(map[string]any)["objects"].([]any) {
				typ := o.(map[string]any)["type"].(string)
				seen[typ] = true
				sch, ok := byType[typ]
				if !ok {
					t.Errorf("no schema for %s", typ)
					continue
				}
				if err := sch.Validate(o); err != nil {
					t.Errorf("%s does not validate: %v", typ, err)
				}
				if typ == "marking-definition" {
					if err := tlp2.Validate(o); err != nil {
						t.Errorf("the marking does not validate against the TLP 2.0 extension: %v", err)
					}
				}
			}
			for typ := range byType {
				if !seen[typ] {
					t.Errorf("the sample bundle has no %s to validate", typ)
				}
			}
		})
	}
}

func TestSTIXSchemasRefuseABrokenObject(t *testing.T) {
	// A check on the check: the schemas are strict enough to catch the
	// mistakes ExportSTIX could make.
	const tlp2 = "https://raw.githubusercontent.com/oasis-open/cti-stix-common-objects/main/extension-definition-specifications/tlp-2.0/extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d.json"
	tests := []struct {
		name, schema, obj string
	}{
		{"an indicator without a pattern", "sdos/indicator.json", `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`},
		{"an indicator with a second-precision created", "sdos/indicator.json", `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[url:value = 'x']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`},
		{"an indicator with a bad id", "sdos/indicator.json", `{"type":"indicator","spec_version":"2.1","id":"indicator--1","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[url:value = 'x']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`},
		{"a URL that is not a URI", "observables/url.json", `{"type":"url","spec_version":"2.1","id":"url--dd9d4fcc-9a4a-5fc3-9ee4-6ea5a64bde8a","value":"not a URL"}`},
		{"an email address that is not one", "observables/email-addr.json", `{"type":"email-addr","spec_version":"2.1","id":"email-addr--dd9d4fcc-9a4a-5fc3-9ee4-6ea5a64bde8a","value":"nobody"}`},
		{"a TLP 2.0 marking with a made-up colour", tlp2, `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb","created":"2022-10-01T00:00:00.000Z","name":"TLP:GREEN","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"blue"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			sch := compileSchema(t, tt.schema)
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.obj))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err == nil {
				t.Error("it validates")
			}
		})
	}
}

func FuzzImportIndicators(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("testdata", "stix", "import.json")); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"type":"bundle","objects":[{"type":"indicator","pattern":"[file:hashes.'SHA-1' = 'a\\'b' OR (url:value = 'x')]"}]}`))
	f.Add([]byte("198.51.100.3\nmalware: Emotet\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inds, problems := ImportIndicators(data)
		if len(inds) > MaxIndicators {
			t.Fatalf("%d indicators, more than the limit", len(inds))
		}
		for _, p := range problems {
			if !strings.HasPrefix(p.Key, "indicator.error.") || p.Message == "" || p.Line < 1 {
				t.Fatalf("malformed problem %+v", p)
			}
		}
		if ps := ValidateIndicators(inds); len(ps) > 0 {
			t.Fatalf("ImportIndicators gave %+v, which does not validate: %+v", inds, ps)
		}
	})
}
