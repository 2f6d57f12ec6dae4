package app

import (
	"strconv"
	"strings"
	"testing"
)

func TestAcceptsGzip(t *testing.T) {
	cases := map[string]bool{
		"":                     false,
		"gzip":                 true,
		"gzip, deflate, br":    true,
		"br;q=1.0, gzip;q=0.8": true,
		"gzip;q=0":             false,
		"gzip; q=0.000":        false,
		"identity":             false,
		"*":                    true,
		"*;q=0":                false,
		"deflate, GZIP;q=0.5":  true,
		"notgzip":              false,
	}
	for h, want := range cases {
		if got := AcceptsGzip(h); got != want {
			t.Errorf("AcceptsGzip(%q) = %v, want %v", h, got, want)
		}
	}
}

// acceptsGzipSplit is AcceptsGzip as it was first written, with
// strings.Split: the reference the fuzz target holds the allocation-free
// reading to. Coding names are ASCII tokens compared without case (RFC
// 9110): the first version's strings.ToLower also took "GZİP" (a Turkish
// dotted capital I) for gzip, which the reference no longer does.
func acceptsGzipSplit(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.Map(func(r rune) rune {
			if 'A' <= r && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return r
		}, strings.TrimSpace(name))
		if name != "gzip" && name != "x-gzip" && name != "*" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}

func FuzzAcceptsGzip(f *testing.F) {
	for _, h := range []string{"", "gzip", "br;q=1.0, gzip;q=0.8", "gzip;q=0", "*;q=0", "deflate, GZIP;q=0.5", "x-gzip;q=0.1;level=3", ",,gzip", "gzip;q", "gzip;q=abc", "GZİP"} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if got, want := AcceptsGzip(h), acceptsGzipSplit(h); got != want {
			t.Errorf("AcceptsGzip(%q) = %v, the reference says %v", h, got, want)
		}
	})
}

func TestAcceptsGzipAllocatesNothing(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { AcceptsGzip("br;q=1.0, deflate, gzip;q=0.8") }); n != 0 {
		t.Errorf("AcceptsGzip allocates %v times a call", n)
	}
}

func TestFieldErrorMessageNamesItsArguments(t *testing.T) {
	e := FieldError("fields.x", "error.comms_unknown_field", "this template has no field {{.Key}}", map[string]any{"Key": "x"})
	if e.Message != "this template has no field x" || e.Args["Key"] != "x" {
		t.Errorf("%q %v", e.Message, e.Args)
	}
}
