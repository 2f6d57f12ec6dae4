package mailin

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds Parse what anyone on the Internet can send pocdir. It
// must never panic, every error must wrap ErrMalformed, and no attachment
// may come out larger than twice the input: a parser that inflates its
// input can be made to exhaust memory.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 30s ./internal/mailin/
func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range seeds {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		StripQuoted(string(raw))
		m, err := Parse(raw, Limits{})
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		StripQuoted(m.Text)
		for _, a := range m.Attachments {
			if len(a.Data) > 2*len(raw) {
				t.Fatalf("attachment %q of %d bytes from %d bytes of input", a.Name, len(a.Data), len(raw))
			}
		}
		if m.Encrypted != "" {
			if err := ParseEntity(m, []byte(m.Encrypted), Limits{}); err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseEntity error %v does not wrap ErrMalformed", err)
			}
		}
	})
}
