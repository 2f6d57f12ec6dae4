package app

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"
)

// Text input is refused the same way at every edge (forms, query strings,
// JSON): bytes that are not UTF-8, and control characters other than tab,
// line feed and carriage return (a NUL above all, which some stores cut
// text at and others refuse). Nothing is replaced silently: the sender is
// told where the problem is, and sends again.

// CheckText returns the error of a text input that is not valid UTF-8 or
// holds a control character, naming field and the position; nil if the
// text is fine.
func CheckText(field, s string) *Error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return textError(field, "error.text_utf8", fmt.Sprintf("the text is not valid UTF-8 (at byte %d)", i+1), map[string]any{"At": i + 1})
			}
		}
		if IsControl(r) {
			return ControlError(field, r, i+1)
		}
	}
	return nil
}

// IsControl reports whether r is a control character that text input may
// not hold: C0 controls other than tab, line feed and carriage return, DEL,
// and the C1 controls.
func IsControl(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || (r >= 0x7f && r <= 0x9f)
}

// ControlError is the error of a control character r at byte at (from 1).
func ControlError(field string, r rune, at int) *Error {
	char := fmt.Sprintf("U+%04X", r)
	return textError(field, "error.text_control", fmt.Sprintf("the text holds a control character (%s) at byte %d", char, at),
		map[string]any{"Char": char, "At": at})
}

func textError(field, key, msg string, args map[string]any) *Error {
	if field == "" {
		return &Error{Code: Invalid, Key: key, Message: msg, Args: args}
	}
	return FieldError(field, key, msg, args)
}

// CheckValues checks every name and value of a form or query string with
// CheckText, in name order, and returns the first problem.
func CheckValues(v url.Values) *Error {
	names := make([]string, 0, len(v))
	for k := range v {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if e := CheckText("", k); e != nil {
			return e
		}
		for _, s := range v[k] {
			if e := CheckText(k, s); e != nil {
				return e
			}
		}
	}
	return nil
}

// CheckCharset refuses a body whose media type parameters name another
// character set than UTF-8 (no charset reads as UTF-8).
func CheckCharset(params map[string]string) *Error {
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return &Error{Code: Invalid, Key: "error.charset", Args: map[string]any{"Charset": cs},
			Message: fmt.Sprintf("the body must be UTF-8, not %s (charset=utf-8, or no charset)", cs)}
	}
	return nil
}
