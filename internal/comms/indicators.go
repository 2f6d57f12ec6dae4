package comms

import (
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxIndicators is how many indicators one communication may carry.
const MaxIndicators = 5000

// The longest values accepted, so that a pasted blob cannot become one
// enormous indicator.
const (
	maxMalwareRunes = 200
	maxURLLen       = 2048
	maxEmailLen     = 254
	maxDomainLen    = 253
	maxTextRunes    = 200
)

// The reasons an indicator is refused. Each is the last part of a catalog
// key, "indicator.error.<reason>".
const (
	reasonUnknown  = "unknown"
	reasonType     = "type"
	reasonIP       = "ip"
	reasonCIDR     = "cidr"
	reasonURL      = "url"
	reasonEmail    = "email"
	reasonHash     = "hash"
	reasonASN      = "asn"
	reasonTimeZone = "time_zone"
	reasonTime     = "time"
	reasonDomain   = "domain"
	reasonMalware  = "malware"
	reasonTooMany  = "too_many"
)

// reasonMessages holds the English message for each reason; the catalog
// holds the translations under the same keys.
var reasonMessages = map[string]string{
	reasonUnknown:  "not a recognised indicator: prefix it with its type, e.g. malware: Emotet",
	reasonType:     "unknown indicator type: use ipv4-addr, ipv6-addr, domain-name, url, email-addr, md5, sha1, sha256, malware, autonomous-system or time",
	reasonIP:       "not a valid IP address",
	reasonCIDR:     "not a valid address range (CIDR)",
	reasonURL:      "not a valid URL: use http, https or ftp with a host",
	reasonEmail:    "not a valid email address: give the bare address, e.g. cert@example.org",
	reasonHash:     "not a hash: MD5 has 32, SHA-1 40 and SHA-256 64 hexadecimal digits",
	reasonASN:      "not an AS number: write AS64500, between 1 and 4294967295",
	reasonTimeZone: "give the time in UTC with Z, e.g. 2026-11-20T10:00:00Z",
	reasonTime:     "not a time: use RFC 3339, e.g. 2026-11-20T10:00:00Z",
	reasonDomain:   "not a valid domain name",
	reasonMalware:  "a malware name is printable text of at most 200 characters",
	reasonTooMany:  "too many indicators: at most 5,000",

	reasonSTIX:        "not a STIX 2.1 bundle: the JSON does not parse or is not a bundle",
	reasonSTIXPattern: "unsupported STIX pattern: only = comparisons of addresses, domains, URLs, email addresses, file hashes and AS numbers, joined by AND or OR",
	reasonSTIXHash:    "a hash of an algorithm pocdir does not read: MD5, SHA-1 and SHA-256 are read",
	reasonSTIXObject:  "unsupported STIX object: only addresses, domains, URLs, email addresses, file hashes, AS numbers and malware are read",
	reasonTooLarge:    "the file is larger than 5 MB",
}

// problem builds the Problem for a line and a reason.
func problem(line int, text, reason string) Problem {
	return Problem{Line: line, Text: cutRunes(text, maxTextRunes), Key: "indicator.error." + reason, Message: reasonMessages[reason]}
}

// cutRunes cuts s to at most n runes.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// typeNames maps what people write before the colon to an indicator type.
// An empty type ("ip", "cidr", "hash") means the kind is known but the
// exact type follows from the value.
var typeNames = map[string]string{
	IndIPv4: IndIPv4, "ipv4": IndIPv4, "ip4": IndIPv4,
	IndIPv6: IndIPv6, "ipv6": IndIPv6, "ip6": IndIPv6,
	"ip": "ip", "cidr": "ip", "ip-addr": "ip",
	IndDomain: IndDomain, "domain": IndDomain, "hostname": IndDomain, "fqdn": IndDomain,
	IndURL: IndURL, "uri": IndURL,
	IndEmail: IndEmail, "email": IndEmail, "e-mail": IndEmail, "mail": IndEmail,
	IndMD5:  IndMD5,
	IndSHA1: IndSHA1, "sha-1": IndSHA1,
	IndSHA256: IndSHA256, "sha-256": IndSHA256,
	"hash":     "hash",
	IndMalware: IndMalware, "malware-family": IndMalware, "family": IndMalware,
	IndASN: IndASN, "asn": IndASN, "as": IndASN,
	IndTime: IndTime, "timestamp": IndTime, "datetime": IndTime,
}

var (
	prefixRE  = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9-]*)\s*:\s*(.*)$`)
	asnRE     = regexp.MustCompile(`^(?i)asn?\s?([0-9]{1,20})$`)
	hexRE     = regexp.MustCompile(`^[0-9A-Fa-f]+$`)
	timeishRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ].*)?$`)
	ipishRE   = regexp.MustCompile(`^[0-9]+(\.[0-9]*)+(/.*)?$|^[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*(%[^/\s]*)?(/.*)?$`)
	domainish = regexp.MustCompile(`^[^\s/@:]+\.[^\s/@:]+$`)
)

// ParseIndicators reads indicators typed one per line. Blank lines and
// lines starting with # are skipped; "defanged" forms (hxxp://, [.], (.),
// [@]) are restored; a "type:" prefix forces the type, otherwise it is
// detected. Every refused line comes back as a Problem; identical
// indicators are kept once, in the order first typed.
func ParseIndicators(text string) ([]Indicator, []Problem) {
	var (
		out      []Indicator
		problems []Problem
		seen     = map[Indicator]bool{}
	)
	for i, raw := range strings.Split(text, "\n") {
		raw = strings.TrimSuffix(raw, "\r")
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ind, reason := parseLine(line)
		if reason != "" {
			problems = append(problems, problem(i+1, raw, reason))
			continue
		}
		if seen[ind] {
			continue
		}
		if len(out) == MaxIndicators {
			problems = append(problems, problem(i+1, raw, reasonTooMany))
			break
		}
		seen[ind] = true
		out = append(out, ind)
	}
	return out, problems
}

// parseLine reads one trimmed, non-empty line.
func parseLine(line string) (Indicator, string) {
	if m := prefixRE.FindStringSubmatch(line); m != nil {
		if typ, ok := typeNames[strings.ToLower(m[1])]; ok {
			value := strings.TrimSpace(m[2])
			if typ != IndMalware {
				value = refang(value)
			}
			return normalise(typ, value)
		}
	}
	ind, reason := detect(refang(line))
	if reason == reasonUnknown {
		// "word: something" that is not an address, a URL or a time reads
		// as a type prefix nobody knows.
		if m := prefixRE.FindStringSubmatch(line); m != nil && !strings.HasPrefix(m[2], "/") && strings.Contains(line, ": ") {
			return Indicator{}, reasonType
		}
	}
	return ind, reason
}

// refangs lists the defanged spellings and what they stand for.
var refangs = strings.NewReplacer(
	"[.]", ".", "(.)", ".", "{.}", ".", "[dot]", ".", "(dot)", ".", "[DOT]", ".", "(DOT)", ".",
	"[@]", "@", "(@)", "@", "{@}", "@", "[at]", "@", "(at)", "@", "[AT]", "@", "(AT)", "@",
	"[:]", ":", "[://]", "://", "[/]", "/",
)

// refang undoes the usual ways of defanging an indicator so that nobody
// clicks it by mistake. It repeats until nothing changes, so that "[(.)]"
// does not turn into a new "[.]": what it returns it leaves alone.
func refang(s string) string {
	// Every replacement is shorter than what it replaces, so this ends.
	for t := refangs.Replace(s); t != s; t = refangs.Replace(s) {
		s = t
	}
	lower := strings.ToLower(s)
	for _, p := range []struct{ from, to string }{
		{"hxxps://", "https://"}, {"hxxp://", "http://"}, {"hxxps:", "https:"}, {"hxxp:", "http:"},
		{"fxp://", "ftp://"}, {"ftx://", "ftp://"},
	} {
		if strings.HasPrefix(lower, p.from) {
			return p.to + s[len(p.from):]
		}
	}
	return s
}

// detect finds the type of a value given without a prefix.
func detect(v string) (Indicator, string) {
	switch {
	case asnRE.MatchString(v):
		return normalise(IndASN, v)
	case timeishRE.MatchString(v):
		return normalise(IndTime, v)
	case hexRE.MatchString(v) && (len(v) == 32 || len(v) == 40 || len(v) == 64):
		return normalise("hash", v)
	case strings.Contains(v, "://"):
		return normalise(IndURL, v)
	case ipishRE.MatchString(v):
		return normalise("ip", v)
	case strings.Contains(v, "@") && !strings.ContainsAny(v, " \t"):
		return normalise(IndEmail, v)
	case domainish.MatchString(v):
		return normalise(IndDomain, v)
	}
	return Indicator{}, reasonUnknown
}

// normalise checks v as an indicator of type typ (or of the kind "ip" or
// "hash") and returns it in its canonical form.
func normalise(typ, v string) (Indicator, string) {
	switch typ {
	case IndIPv4, IndIPv6, "ip":
		return normaliseIP(typ, v)
	case IndDomain:
		d, ok := normaliseDomain(v)
		if !ok {
			return Indicator{}, reasonDomain
		}
		return Indicator{Type: IndDomain, Value: d}, ""
	case IndURL:
		u, ok := normaliseURL(v)
		if !ok {
			return Indicator{}, reasonURL
		}
		return Indicator{Type: IndURL, Value: u}, ""
	case IndEmail:
		e, ok := normaliseEmail(v)
		if !ok {
			return Indicator{}, reasonEmail
		}
		return Indicator{Type: IndEmail, Value: e}, ""
	case IndMD5, IndSHA1, IndSHA256, "hash":
		return normaliseHash(typ, v)
	case IndMalware:
		if v == "" || utf8.RuneCountInString(v) > maxMalwareRunes || !utf8.ValidString(v) || v != strings.TrimSpace(v) {
			return Indicator{}, reasonMalware
		}
		for _, r := range v {
			if !unicode.IsPrint(r) {
				return Indicator{}, reasonMalware
			}
		}
		return Indicator{Type: IndMalware, Value: v}, ""
	case IndASN:
		m := asnRE.FindStringSubmatch(v)
		digits := v
		if m != nil {
			digits = m[1]
		}
		n, err := strconv.ParseUint(digits, 10, 64)
		if err != nil || n == 0 || n > 1<<32-1 {
			return Indicator{}, reasonASN
		}
		return Indicator{Type: IndASN, Value: "AS" + strconv.FormatUint(n, 10)}, ""
	case IndTime:
		return normaliseTime(v)
	}
	return Indicator{}, reasonType
}

// normaliseIP reads an address or a CIDR range; a range keeps only its
// network bits, so 192.0.2.7/24 becomes 192.0.2.0/24.
func normaliseIP(typ, v string) (Indicator, string) {
	reason := reasonIP
	var s string
	var is4 bool
	if strings.Contains(v, "/") {
		reason = reasonCIDR
		p, err := netip.ParsePrefix(v)
		if err != nil || p.Addr().Zone() != "" {
			return Indicator{}, reason
		}
		p = p.Masked()
		s, is4 = p.String(), p.Addr().Is4()
	} else {
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return Indicator{}, reason
		}
		s, is4 = a.String(), a.Is4()
	}
	switch {
	case is4 && typ != IndIPv6:
		return Indicator{Type: IndIPv4, Value: s}, ""
	case !is4 && typ != IndIPv4:
		return Indicator{Type: IndIPv6, Value: s}, ""
	}
	return Indicator{}, reason
}

// normaliseDomain accepts ASCII names of letters, digits and hyphens (and
// punycode xn-- labels), at least two labels, with an alphabetic or
// punycode top-level label; it lower-cases them and drops a final dot.
func normaliseDomain(v string) (string, bool) {
	d := strings.ToLower(strings.TrimSuffix(v, "."))
	if d == "" || len(d) > maxDomainLen {
		return "", false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "", false
	}
	for _, l := range labels {
		if len(l) < 1 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", false
			}
		}
	}
	tld := labels[len(labels)-1]
	if strings.HasPrefix(tld, "xn--") {
		return d, len(tld) > 4
	}
	for i := 0; i < len(tld); i++ {
		if tld[i] < 'a' || tld[i] > 'z' {
			return "", false
		}
	}
	return d, len(tld) >= 2
}

// normaliseURL accepts http, https and ftp URLs with a host. It keeps the
// URL as given except for the scheme and host, which it lower-cases.
func normaliseURL(v string) (string, bool) {
	if len(v) > maxURLLen || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return "", false
	}
	i := strings.Index(v, "://")
	if i <= 0 {
		return "", false
	}
	scheme := strings.ToLower(v[:i])
	if scheme != "http" && scheme != "https" && scheme != "ftp" {
		return "", false
	}
	rest := v[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo := ""
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo, authority = authority[:at+1], authority[at+1:]
	}
	host, port := authority, ""
	if strings.HasPrefix(host, "[") {
		j := strings.Index(host, "]")
		if j < 0 {
			return "", false
		}
		host, port = host[:j+1], host[j+1:]
		a, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", false
		}
	} else {
		if c := strings.LastIndex(host, ":"); c >= 0 {
			host, port = host[:c], host[c:]
		}
		if _, err := netip.ParseAddr(host); err != nil {
			if _, ok := normaliseDomain(host); !ok {
				return "", false
			}
		}
	}
	if port != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(port, ":"))
		if !strings.HasPrefix(port, ":") || err != nil || n < 1 || n > 65535 {
			return "", false
		}
	}
	out := scheme + "://" + userinfo + strings.ToLower(host) + port + tail
	u, err := url.Parse(out)
	if err != nil || u.Host == "" {
		return "", false
	}
	return out, true
}

// normaliseEmail accepts a bare address (no display name, no angle
// brackets) with a valid domain, which it lower-cases.
func normaliseEmail(v string) (string, bool) {
	if len(v) > maxEmailLen {
		return "", false
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v {
		return "", false
	}
	at := strings.LastIndex(v, "@")
	if at <= 0 {
		return "", false
	}
	d, ok := normaliseDomain(v[at+1:])
	if !ok || strings.HasSuffix(v, ".") {
		return "", false
	}
	return v[:at+1] + d, true
}

// normaliseHash lower-cases a hash and checks its length against its type.
func normaliseHash(typ, v string) (Indicator, string) {
	if !hexRE.MatchString(v) {
		return Indicator{}, reasonHash
	}
	byLen := map[int]string{32: IndMD5, 40: IndSHA1, 64: IndSHA256}[len(v)]
	if byLen == "" || (typ != "hash" && typ != byLen) {
		return Indicator{}, reasonHash
	}
	return Indicator{Type: byLen, Value: strings.ToLower(v)}, ""
}

// zoneless are layouts that people type without a time zone; a time read
// with one of them is refused, since its meaning depends on where it was
// typed.
var zoneless = []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04"}

// normaliseTime reads an RFC 3339 time and gives it in UTC.
func normaliseTime(v string) (Indicator, string) {
	s := v
	if len(s) > 10 && (s[10] == ' ' || s[10] == 't') {
		s = s[:10] + "T" + s[11:]
	}
	if strings.HasSuffix(s, "z") {
		s = s[:len(s)-1] + "Z"
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		for _, layout := range zoneless {
			if _, err := time.Parse(layout, v); err == nil {
				return Indicator{}, reasonTimeZone
			}
		}
		return Indicator{}, reasonTime
	}
	return Indicator{Type: IndTime, Value: t.UTC().Format(time.RFC3339Nano)}, ""
}

// FormatIndicators gives indicators back as text, one per line, with a
// "type: " prefix only where ParseIndicators would not find the type by
// itself (malware names, for one), so that the text parses back to the
// same indicators.
func FormatIndicators(inds []Indicator) string {
	var b strings.Builder
	for _, ind := range inds {
		// A value that would read back as something else, or as a comment
		// ("#ops@example.org" is an address), keeps its type's prefix.
		if got, reason := detect(ind.Value); reason != "" || got != ind || strings.HasPrefix(ind.Value, "#") {
			b.WriteString(ind.Type)
			b.WriteString(": ")
		}
		b.WriteString(ind.Value)
		b.WriteByte('\n')
	}
	return b.String()
}

// ValidateIndicators checks indicators given structured (through the API):
// each must have a known type and a value already in its canonical form.
// Problems count lines from 1 in the order given.
func ValidateIndicators(inds []Indicator) []Problem {
	var problems []Problem
	if len(inds) > MaxIndicators {
		problems = append(problems, problem(MaxIndicators+1, inds[MaxIndicators].Type+": "+inds[MaxIndicators].Value, reasonTooMany))
		inds = inds[:MaxIndicators]
	}
	for i, ind := range inds {
		text := ind.Type + ": " + ind.Value
		if !slices.Contains(IndicatorTypes, ind.Type) {
			problems = append(problems, problem(i+1, text, reasonType))
			continue
		}
		got, reason := normalise(ind.Type, ind.Value)
		if reason == "" && got != ind {
			reason = reasonFor(ind.Type)
		}
		if reason != "" {
			problems = append(problems, problem(i+1, text, reason))
		}
	}
	return problems
}

// reasonFor is the reason to give when a value of type typ parses but is
// not in its canonical form.
func reasonFor(typ string) string {
	switch typ {
	case IndIPv4, IndIPv6:
		return reasonIP
	case IndDomain:
		return reasonDomain
	case IndURL:
		return reasonURL
	case IndEmail:
		return reasonEmail
	case IndMD5, IndSHA1, IndSHA256:
		return reasonHash
	case IndASN:
		return reasonASN
	case IndTime:
		return reasonTime
	}
	return reasonMalware
}
