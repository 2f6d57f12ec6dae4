package web

import (
	"strings"
	"testing"
	"time"
)

func TestParticipants(t *testing.T) {
	for _, tc := range []struct {
		name, technical, diplomatic string
		want                        map[string]string
	}{
		{"codes separated by commas, spaces and lines are read", "FRA, KEN\nBRA", "", map[string]string{"FRA": "technical", "KEN": "technical", "BRA": "technical"}},
		{"each list gives its level", "FRA", "DEU;JPN", map[string]string{"FRA": "technical", "DEU": "diplomatic", "JPN": "diplomatic"}},
		{"empty lists give no participant", " , ", "", map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]string{}
			for _, p := range participants(tc.technical, tc.diplomatic) {
				got[p.State] = p.Level
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// FuzzParticipants: every participant read is a non-empty code without a
// separator, at one of the two levels; a time read from a form is in UTC.
func FuzzParticipants(f *testing.F) {
	for _, s := range []string{"FRA, KEN", "FRA;;KEN\r\nBRA", "", " ,;\n", "2026-03-01T09:00"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, technical, diplomatic string) {
		for _, p := range participants(technical, diplomatic) {
			if p.State == "" || strings.ContainsAny(p.State, ", ;\r\n") || (p.Level != "technical" && p.Level != "diplomatic") {
				t.Fatalf("read %+v", p)
			}
		}
		if tm := formTime(technical); !tm.IsZero() && tm.Location() != time.UTC {
			t.Fatalf("%q read as %v", technical, tm)
		}
	})
}
