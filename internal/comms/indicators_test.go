package comms

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseIndicatorsAcceptsEachType(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Indicator
	}{
		{"an IPv4 address", "203.0.113.7", Indicator{IndIPv4, "203.0.113.7"}},
		{"an IPv4 range", "203.0.113.0/24", Indicator{IndIPv4, "203.0.113.0/24"}},
		{"an IPv4 range with host bits keeps the network", "203.0.113.77/24", Indicator{IndIPv4, "203.0.113.0/24"}},
		{"an IPv6 address is written canonically", "2001:DB8:0:0:0:0:0:1", Indicator{IndIPv6, "2001:db8::1"}},
		{"an IPv6 range", "2001:db8::/32", Indicator{IndIPv6, "2001:db8::/32"}},
		{"an IPv6 range with host bits keeps the network", "2001:db8::1/64", Indicator{IndIPv6, "2001:db8::/64"}},
		{"a domain is lower-cased", "Evil.Example.COM", Indicator{IndDomain, "evil.example.com"}},
		{"a domain loses its final dot", "evil.example.com.", Indicator{IndDomain, "evil.example.com"}},
		{"a punycode domain", "xn--bcher-kva.example", Indicator{IndDomain, "xn--bcher-kva.example"}},
		{"a punycode top-level domain", "example.xn--p1ai", Indicator{IndDomain, "example.xn--p1ai"}},
		{"a URL keeps its path but lower-cases scheme and host", "HTTPS://Evil.Example.com/Path?Q=A#F", Indicator{IndURL, "https://evil.example.com/Path?Q=A#F"}},
		{"an ftp URL with user and port", "ftp://user@files.example.org:2121/x", Indicator{IndURL, "ftp://user@files.example.org:2121/x"}},
		{"a URL with an IPv6 host", "http://[2001:db8::1]:8080/", Indicator{IndURL, "http://[2001:db8::1]:8080/"}},
		{"a URL with an IPv4 host", "http://198.51.100.3/a", Indicator{IndURL, "http://198.51.100.3/a"}},
		{"an email address keeps its local part but lower-cases its domain", "Phish.Master@Example.ORG", Indicator{IndEmail, "Phish.Master@example.org"}},
		{"an MD5 hash is lower-cased", "D41D8CD98F00B204E9800998ECF8427E", Indicator{IndMD5, "d41d8cd98f00b204e9800998ecf8427e"}},
		{"a SHA-1 hash", "da39a3ee5e6b4b0d3255bfef95601890afd80709", Indicator{IndSHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"}},
		{"a SHA-256 hash", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Indicator{IndSHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
		{"an AS number", "AS64500", Indicator{IndASN, "AS64500"}},
		{"an AS number written ASN", "asn64500", Indicator{IndASN, "AS64500"}},
		{"the largest AS number", "AS4294967295", Indicator{IndASN, "AS4294967295"}},
		{"a time in UTC", "2026-11-20T10:00:00Z", Indicator{IndTime, "2026-11-20T10:00:00Z"}},
		{"a time with an offset is converted to UTC", "2026-11-20T10:00:00+02:00", Indicator{IndTime, "2026-11-20T08:00:00Z"}},
		{"a time with fractions keeps them", "2026-11-20T10:00:00.250Z", Indicator{IndTime, "2026-11-20T10:00:00.25Z"}},
		{"a malware name needs its prefix", "malware: Emotet", Indicator{IndMalware, "Emotet"}},
		{"a malware name may hold spaces and any script", "malware:  Cobalt Strike «beacon» 木马 ", Indicator{IndMalware, "Cobalt Strike «beacon» 木马"}},
		{"a prefix is case-insensitive", "MD5: d41d8cd98f00b204e9800998ecf8427e", Indicator{IndMD5, "d41d8cd98f00b204e9800998ecf8427e"}},
		{"an asn prefix takes a bare number", "asn: 64500", Indicator{IndASN, "AS64500"}},
		{"a time prefix", "time: 2026-11-20T10:00:00Z", Indicator{IndTime, "2026-11-20T10:00:00Z"}},
		{"a domain prefix", "domain: example.net", Indicator{IndDomain, "example.net"}},
		{"an ip prefix finds the family", "ip: 2001:db8::1", Indicator{IndIPv6, "2001:db8::1"}},
		{"a hash prefix finds the algorithm", "hash: da39a3ee5e6b4b0d3255bfef95601890afd80709", Indicator{IndSHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"}},
		{"surrounding space is trimmed", "  \t198.51.100.3 \r", Indicator{IndIPv4, "198.51.100.3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := ParseIndicators(tt.in)
			if len(problems) > 0 {
				t.Fatalf("ParseIndicators(%q) problems = %+v", tt.in, problems)
			}
			if want := []Indicator{tt.want}; !reflect.DeepEqual(got, want) {
				t.Errorf("ParseIndicators(%q) = %+v, want %+v", tt.in, got, want)
			}
		})
	}
}

func TestParseIndicatorsRefusesBadLines(t *testing.T) {
	tests := []struct {
		name, in, key string
	}{
		{"a word without a prefix is unknown", "Emotet", "indicator.error.unknown"},
		{"an unknown prefix is a type error", "colour: blue", "indicator.error.type"},
		{"an IPv4 address out of range", "256.1.1.1", "indicator.error.ip"},
		{"an IPv4 address with leading zeros", "010.1.1.1", "indicator.error.ip"},
		{"an IPv4 address with three parts", "10.1.1", "indicator.error.ip"},
		{"an IPv6 address with a zone", "fe80::1%eth0", "indicator.error.ip"},
		{"a range with a bad length", "10.0.0.0/33", "indicator.error.cidr"},
		{"a range with no length", "10.0.0.0/", "indicator.error.cidr"},
		{"an IPv6 address under the ipv4-addr prefix", "ipv4-addr: 2001:db8::1", "indicator.error.ip"},
		{"an IPv4 address under the ipv6-addr prefix", "ipv6: 192.0.2.1", "indicator.error.ip"},
		{"a URL with another scheme", "gopher://example.com/", "indicator.error.url"},
		{"a URL without a host", "http:///path", "indicator.error.url"},
		{"a URL with a space", "url: http://example.com/a b", "indicator.error.url"},
		{"a URL with a bad port", "http://example.com:99999/", "indicator.error.url"},
		{"a URL with a bad host", "http://exa_mple.com/", "indicator.error.url"},
		{"an email address with a display name", "email: Bob <bob@example.com>", "indicator.error.email"},
		{"an email address without a domain", "bob@", "indicator.error.email"},
		{"an email address with a one-label domain", "bob@localhost", "indicator.error.email"},
		{"a hash of the wrong length", "md5: da39a3ee5e6b4b0d3255bfef95601890afd80709", "indicator.error.hash"},
		{"a hash that is not hexadecimal", "sha256: zz", "indicator.error.hash"},
		{"AS number zero", "AS0", "indicator.error.asn"},
		{"an AS number too large", "AS4294967296", "indicator.error.asn"},
		{"an AS prefix with a word", "asn: sixty", "indicator.error.asn"},
		{"a time without a zone", "2026-11-20T10:00:00", "indicator.error.time_zone"},
		{"a time with a space and no zone", "2026-11-20 10:00", "indicator.error.time_zone"},
		{"a date alone", "2026-11-20", "indicator.error.time"},
		{"an impossible time", "2026-13-45T10:00:00Z", "indicator.error.time"},
		{"a domain with one label", "domain: localhost", "indicator.error.domain"},
		{"a domain with a numeric top-level label", "example.123", "indicator.error.domain"},
		{"a domain with an underscore", "bad_name.example.com", "indicator.error.domain"},
		{"a domain label starting with a hyphen", "-bad.example.com", "indicator.error.domain"},
		{"a domain label of 64 characters", strings.Repeat("a", 64) + ".example", "indicator.error.domain"},
		{"a domain longer than 253 characters", strings.Repeat("abcdefghi.", 26) + "com", "indicator.error.domain"},
		{"an empty malware name", "malware:", "indicator.error.malware"},
		{"a malware name of 201 characters", "malware: " + strings.Repeat("x", 201), "indicator.error.malware"},
		{"a malware name with a control character", "malware: bad\x07name", "indicator.error.malware"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := ParseIndicators("# a comment\n\n" + tt.in)
			if len(got) != 0 {
				t.Errorf("ParseIndicators(%q) = %+v, want nothing", tt.in, got)
			}
			if len(problems) != 1 {
				t.Fatalf("ParseIndicators(%q) problems = %+v, want one", tt.in, problems)
			}
			p := problems[0]
			if p.Key != tt.key || p.Line != 3 || p.Message == "" {
				t.Errorf("problem = %+v, want key %s on line 3 with a message", p, tt.key)
			}
		})
	}
}

func TestParseIndicatorsCutsTheTextOfAProblem(t *testing.T) {
	_, problems := ParseIndicators("malware: " + strings.Repeat("é", 300))
	if len(problems) != 1 {
		t.Fatalf("problems = %+v, want one", problems)
	}
	if got := len([]rune(problems[0].Text)); got != 200 {
		t.Errorf("the text has %d runes, want 200", got)
	}
}

func TestParseIndicatorsRefangs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Indicator
	}{
		{"hxxp and [.] in a URL", "hxxp://evil[.]example[.]com/payload", Indicator{IndURL, "http://evil.example.com/payload"}},
		{"hxxps in capitals", "HXXPS://evil(.)example.com/", Indicator{IndURL, "https://evil.example.com/"}},
		{"a defanged colon", "hxxp[:]//evil.example.com/", Indicator{IndURL, "http://evil.example.com/"}},
		{"a domain with [dot]", "evil[dot]example[dot]com", Indicator{IndDomain, "evil.example.com"}},
		{"an email address with [@] and [.]", "phish[@]example[.]org", Indicator{IndEmail, "phish@example.org"}},
		{"an address with [.]", "198[.]51[.]100[.]3", Indicator{IndIPv4, "198.51.100.3"}},
		{"a prefixed URL", "url: hxxp://evil[.]example/", Indicator{IndURL, "http://evil.example/"}},
		{"nested brackets refang completely", "evil[(.)]example.com", Indicator{IndDomain, "evil.example.com"}},
		{"a malware name is left as typed", "malware: Foo[.]Bar", Indicator{IndMalware, "Foo[.]Bar"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := ParseIndicators(tt.in)
			if len(problems) > 0 {
				t.Fatalf("problems = %+v", problems)
			}
			if want := []Indicator{tt.want}; !reflect.DeepEqual(got, want) {
				t.Errorf("ParseIndicators(%q) = %+v, want %+v", tt.in, got, want)
			}
		})
	}
}

func TestParseIndicatorsKeepsTheFirstOfIdenticalIndicators(t *testing.T) {
	in := "198.51.100.3\nevil.example.com\n198[.]51.100.3\nEVIL.example.com.\nmalware: Emotet\nmalware: Emotet\nmalware: emotet\n"
	got, problems := ParseIndicators(in)
	want := []Indicator{{IndIPv4, "198.51.100.3"}, {IndDomain, "evil.example.com"}, {IndMalware, "Emotet"}, {IndMalware, "emotet"}}
	if len(problems) > 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseIndicators = %+v, %+v, want %+v and no problems", got, problems, want)
	}
}

func TestParseIndicatorsCountsLinesAcrossBlanksAndComments(t *testing.T) {
	_, problems := ParseIndicators("# list\r\n\r\n198.51.100.3\r\nnonsense\r\n")
	if len(problems) != 1 || problems[0].Line != 4 || problems[0].Text != "nonsense" {
		t.Errorf("problems = %+v, want one on line 4 reading \"nonsense\"", problems)
	}
}

func TestParseIndicatorsStopsAtTheLimit(t *testing.T) {
	tests := []struct {
		name         string
		n            int
		wantKept     int
		wantProblems int
	}{
		{"exactly the limit is accepted", MaxIndicators, MaxIndicators, 0},
		{"one more than the limit is a problem", MaxIndicators + 1, MaxIndicators, 1},
		{"far more than the limit is one problem", MaxIndicators + 100, MaxIndicators, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			for i := range tt.n {
				fmt.Fprintf(&b, "10.%d.%d.%d\n", i>>16&255, i>>8&255, i&255)
			}
			got, problems := ParseIndicators(b.String())
			if len(got) != tt.wantKept || len(problems) != tt.wantProblems {
				t.Fatalf("kept %d with %d problems, want %d with %d", len(got), len(problems), tt.wantKept, tt.wantProblems)
			}
			if tt.wantProblems > 0 && (problems[0].Key != "indicator.error.too_many" || problems[0].Line != MaxIndicators+1) {
				t.Errorf("problem = %+v, want too_many on line %d", problems[0], MaxIndicators+1)
			}
		})
	}
}

func TestFormatIndicatorsParsesBackToTheSameIndicators(t *testing.T) {
	inds := []Indicator{
		{IndIPv4, "203.0.113.0/24"},
		{IndIPv6, "2001:db8::1"},
		{IndDomain, "evil.example.com"},
		{IndURL, "http://evil.example.com/it's?a=1&b=2"},
		{IndEmail, "Phish@example.org"},
		{IndMD5, "d41d8cd98f00b204e9800998ecf8427e"},
		{IndSHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		{IndSHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{IndMalware, "Emotet"},
		{IndMalware, "url: not a URL"},
		{IndMalware, "#hashtag"},
		{IndASN, "AS64500"},
		{IndTime, "2026-11-20T10:00:00Z"},
	}
	text := FormatIndicators(inds)
	got, problems := ParseIndicators(text)
	if len(problems) > 0 || !reflect.DeepEqual(got, inds) {
		t.Errorf("ParseIndicators(FormatIndicators(x)) = %+v, %+v, want x:\n%s", got, problems, text)
	}
	if !strings.Contains(text, "malware: Emotet\n") || strings.Contains(text, "ipv4-addr:") {
		t.Errorf("FormatIndicators should prefix malware names only where needed:\n%s", text)
	}
}

func TestValidateIndicators(t *testing.T) {
	tests := []struct {
		name string
		in   []Indicator
		want []string // keys, in order
	}{
		{"canonical indicators pass", []Indicator{{IndIPv4, "192.0.2.1"}, {IndMalware, "Emotet"}, {IndTime, "2026-11-20T10:00:00Z"}}, nil},
		{"an unknown type is refused", []Indicator{{"ip", "192.0.2.1"}}, []string{"indicator.error.type"}},
		{"an alias of a type is refused", []Indicator{{"domain", "example.com"}}, []string{"indicator.error.type"}},
		{"a value not in canonical form is refused", []Indicator{{IndDomain, "Example.com"}}, []string{"indicator.error.domain"}},
		{"a range with host bits is refused", []Indicator{{IndIPv4, "192.0.2.1/24"}}, []string{"indicator.error.ip"}},
		{"an upper-case hash is refused", []Indicator{{IndMD5, "D41D8CD98F00B204E9800998ECF8427E"}}, []string{"indicator.error.hash"}},
		{"a hash of the wrong type is refused", []Indicator{{IndSHA1, "d41d8cd98f00b204e9800998ecf8427e"}}, []string{"indicator.error.hash"}},
		{"a time with an offset is refused", []Indicator{{IndTime, "2026-11-20T10:00:00+01:00"}}, []string{"indicator.error.time"}},
		{"a bare AS number is refused", []Indicator{{IndASN, "64500"}}, []string{"indicator.error.asn"}},
		{"a padded malware name is refused", []Indicator{{IndMalware, " Emotet"}}, []string{"indicator.error.malware"}},
		{"a defanged URL is refused", []Indicator{{IndURL, "hxxp://example.com/"}}, []string{"indicator.error.url"}},
		{"each bad one counts", []Indicator{{IndIPv4, "x"}, {IndIPv4, "192.0.2.1"}, {IndEmail, "x"}}, []string{"indicator.error.ip", "indicator.error.email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range ValidateIndicators(tt.in) {
				got = append(got, p.Key)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ValidateIndicators(%+v) keys = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidateIndicatorsRefusesMoreThanTheLimit(t *testing.T) {
	inds := make([]Indicator, MaxIndicators+1)
	for i := range inds {
		inds[i] = Indicator{IndASN, fmt.Sprintf("AS%d", i+1)}
	}
	problems := ValidateIndicators(inds)
	if len(problems) != 1 || problems[0].Key != "indicator.error.too_many" {
		t.Errorf("problems = %+v, want one too_many", problems)
	}
}

func FuzzParseIndicators(f *testing.F) {
	for _, s := range []string{
		"198.51.100.3\nevil[.]example.com\nhxxp://evil.example.com/x\nmalware: Emotet",
		"2001:db8::1/64\nAS64500\n2026-11-20T10:00:00+02:00\nd41d8cd98f00b204e9800998ecf8427e",
		"email: a@b.example\n# comment\n\nurl: ftp://[::1]:21/a'b",
		"time: 2026-11-20 10:00\nfoo: bar\n[(.)]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		inds, problems := ParseIndicators(s)
		if len(inds) > MaxIndicators {
			t.Fatalf("%d indicators, more than the limit", len(inds))
		}
		for _, p := range problems {
			if !strings.HasPrefix(p.Key, "indicator.error.") || p.Message == "" || p.Line < 1 {
				t.Fatalf("malformed problem %+v", p)
			}
		}
		if ps := ValidateIndicators(inds); len(ps) > 0 {
			t.Fatalf("ParseIndicators(%q) gave %+v, which does not validate: %+v", s, inds, ps)
		}
		again, ps := ParseIndicators(FormatIndicators(inds))
		if len(ps) > 0 || len(again) != len(inds) || (len(inds) > 0 && !reflect.DeepEqual(again, inds)) {
			t.Fatalf("round trip of %+v gave %+v, %+v", inds, again, ps)
		}
	})
}
