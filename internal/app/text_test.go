package app

import (
	"net/url"
	"strings"
	"testing"
)

func TestCheckText(t *testing.T) {
	for s, want := range map[string]string{
		"": "",
		"Ministère des Affaires étrangères\tline\r\n": "",
		"中文 العربية русский 🛡":                        "",
		"CERT\xff":       "not valid UTF-8 (at byte 5)",
		"\xed\xa0\x80":   "not valid UTF-8 (at byte 1)", // a surrogate in UTF-8
		"é\xc3":          "not valid UTF-8 (at byte 3)", // cut
		"CERT\x00FR":     "control character (U+0000) at byte 5",
		"bell\a":         "control character (U+0007)",
		"del\x7f":        "control character (U+007F)",
		"next\u0085line": "control character (U+0085)",
	} {
		e := CheckText("agency", s)
		switch {
		case want == "" && e != nil:
			t.Errorf("%q refused: %v", s, e)
		case want != "" && (e == nil || !strings.Contains(e.Message, want) || e.Field != "agency" || e.Code != Invalid):
			t.Errorf("%q: %v, want %q", s, e, want)
		}
	}
	if e := CheckValues(url.Values{"a": {"ok"}, "b\x00": {"x"}}); e == nil || !strings.Contains(e.Message, "U+0000") {
		t.Errorf("a NUL in a name: %v", e)
	}
	if e := CheckValues(url.Values{"z": {"\xff"}, "a": {"\x01"}}); e == nil || e.Field != "a" {
		t.Errorf("the first problem in name order: %v", e)
	}
}
