package export_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/demo"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/export"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestPDFOfTheDemoDirectory makes the PDF of the whole directory from the
// demo's data (and, unless -short, from the full directory: 193 States
// with four PoCs each), checks that every State is in it, and that it
// stays small: the fonts are subset, the pages compressed. The README's
// figures come from its log (go test -v -run TestPDFOfTheDemoDirectory).
func TestPDFOfTheDemoDirectory(t *testing.T) {
	tests := []struct {
		name     string
		full     bool
		maxBytes int
	}{
		{"the demo directory's PDF holds every State and is small", false, 1 << 20},
		{"the full directory's PDF holds its 193 States and stays under 3 MB", true, 3 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.full && testing.Short() {
				t.Skip("the full directory is seeded without -short only")
			}
			sys := testkit.New(t, testkit.Engines()[0])
			if err := demo.Seed(context.Background(), sys.Directory, sys.Accounts, tc.full); err != nil {
				t.Fatal(err)
			}
			exports := sys.Offline.Export
			for _, lang := range []string{"en", "ar", "zh"} {
				a := *sys.User(t, lang+"@un.example", app.RoleSecretariat, "").Actor()
				a.Language = lang
				ctx := app.WithActor(context.Background(), &a)
				start := time.Now()
				states, err := exports.Entries(ctx, directory.Filter{})
				if err != nil {
					t.Fatal(err)
				}
				read := time.Since(start)
				f, err := exports.Directory(ctx, directory.Filter{}, export.PDFFormat)
				if err != nil {
					t.Fatal(err)
				}
				took := time.Since(start) - read
				t.Logf("%s: %d States, %d PoCs: %d pages, %d bytes in %v (and reading the entries %v)", lang, len(states), pocs(states),
					bytes.Count(f.Body, []byte("/Type /Page ")), len(f.Body), took.Round(time.Millisecond), read.Round(time.Millisecond))
				if dir := os.Getenv("POCDIR_PDF_KEEP"); dir != "" {
					name := filepath.Join(dir, fmt.Sprintf("%s-demo-full-%v.pdf", lang, tc.full))
					if err := os.WriteFile(name, f.Body, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				if len(f.Body) > tc.maxBytes {
					t.Errorf("%s: %d bytes, want at most %d", lang, len(f.Body), tc.maxBytes)
				}
				if lang != "en" {
					continue
				}
				text := testkit.PDFText(t, f.Body)
				for _, e := range states {
					if !strings.Contains(text, e.Name+" ("+e.Code+")") {
						t.Errorf("the PDF lacks %s (%s)", e.Name, e.Code)
					}
				}
			}
		})
	}
}

func pocs(entries []*directory.Entry) int {
	n := 0
	for _, e := range entries {
		n += len(e.PoCs)
	}
	return n
}
