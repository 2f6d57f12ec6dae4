package app

import (
	"net/mail"
	"strings"
)

// ValidEmail reports whether s is a plain email address (no display name).
func ValidEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " <>\"") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	// Characters that a mailto: link would read as URL syntax (a hidden Bcc
	// through "?bcc=", an escaped "@") are refused, though RFC 5322 allows
	// some of them: no real PoC address needs them.
	return at > 0 && strings.Contains(s[at+1:], ".") && !strings.ContainsAny(s, "?%&/#=")
}
