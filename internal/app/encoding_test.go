package app

import "testing"

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

func TestFieldErrorMessageNamesItsArguments(t *testing.T) {
	e := FieldError("fields.x", "error.comms_unknown_field", "this template has no field {{.Key}}", map[string]any{"Key": "x"})
	if e.Message != "this template has no field x" || e.Args["Key"] != "x" {
		t.Errorf("%q %v", e.Message, e.Args)
	}
}
