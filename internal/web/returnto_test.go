package web

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafeReturn(t *testing.T) {
	for target, want := range map[string]bool{
		"/comms/12":                     true,
		"/directory?q=fra&group=WEO":    true,
		"/":                             false, // the inbox is the default anyway
		"//evil.example/x":              false,
		"/\\evil.example":               false,
		"https://evil.example/":         false,
		"evil.example":                  false,
		"/login/totp":                   false,
		"/logout":                       false,
		"/invite/pdi_secret":            false,
		"/api/v1/me":                    false,
		"/comms/1\r\nSet-Cookie: x":     false,
		"/" + strings.Repeat("a", 1001): false,
	} {
		if got := safeReturn(target); got != want {
			t.Errorf("safeReturn(%q) = %v, want %v", target, got, want)
		}
	}
}

// FuzzSafeReturn: whatever it accepts is a path of this site.
func FuzzSafeReturn(f *testing.F) {
	for _, s := range []string{"/comms/1", "//x", "/\\x", "/%2F%2Fx", "/a?b=//c", "http://x/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		if !safeReturn(target) {
			return
		}
		u, err := url.Parse(target)
		if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(target, "//") {
			t.Fatalf("accepted %q", target)
		}
		// What a browser would follow: the Location header resolved
		// against this site stays on it.
		base, _ := url.Parse("https://pocdir.example.org/x")
		if r := base.ResolveReference(u); r.Host != "pocdir.example.org" {
			t.Fatalf("%q leads to %s", target, r.Host)
		}
	})
}
