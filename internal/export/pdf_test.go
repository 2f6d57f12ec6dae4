package export

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-text/typesetting/font"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/i18n"
)

// needTool fails the test where CI requires the tools (POCDIR_REQUIRE_BROWSER=1)
// and skips it elsewhere when a program or the fonts are missing.
func needTool(t *testing.T, tools ...string) {
	t.Helper()
	missing := func(what string) {
		if os.Getenv("POCDIR_REQUIRE_BROWSER") == "1" {
			t.Fatalf("%s is required (CI installs it)", what)
		}
		t.Skipf("%s is not installed", what)
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing(tool + " (poppler-utils)")
		}
	}
	if _, err := loadFonts(); err != nil {
		missing("the PDF fonts (fonts-noto-core, fonts-droid-fallback): " + err.Error())
	}
}

// pdfEntries are two States' entries with Arabic, Chinese, Russian and
// Latin text, as the directory service returns them.
func pdfEntries() []*directory.Entry {
	confirmed := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	updated := time.Date(2026, 5, 14, 9, 0, 0, 0, time.UTC)
	return []*directory.Entry{
		{State: directory.State{Code: "SAU", ISO2: "SA", Name: "Saudi Arabia", ConfirmedAt: &confirmed},
			PoCs: []*directory.PoC{{ID: 1, Level: directory.LevelTechnical, Agency: "الهيئة الوطنية للأمن السيبراني", FunctionTitle: "مدير الاستجابة للحوادث",
				PersonName: "سارة العتيبي", Languages: []string{"ar", "en"}, TimeZone: "Asia/Riyadh", Available247: true,
				Channels:       []directory.Channel{{Kind: directory.ChannelEmail, Value: "cert@nca.example", Preferred: true}, {Kind: directory.ChannelPhone, Value: "+966 11 000 0000"}},
				PGPFingerprint: "0123456789ABCDEF0123456789ABCDEF01234567", UpdatedAt: updated}}},
		{State: directory.State{Code: "CHN", ISO2: "CN", Name: "China", UpdatedAt: &confirmed},
			PoCs: []*directory.PoC{{ID: 2, Level: directory.LevelPolicy, Alternate: true, Agency: "国家互联网应急中心", FunctionTitle: "国际合作处处长",
				PersonName: "王丽华", Languages: []string{"zh", "en"}, TimeZone: "Asia/Shanghai", Hours: "Mo-Fr 09:00-17:00",
				Channels: []directory.Channel{{Kind: directory.ChannelEmail, Value: "intl@cert.example"}}, UpdatedAt: confirmed}}},
	}
}

// pdfText extracts a PDF's text with pdftotext.
func extractText(t *testing.T, pdf []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	// pdftotext marks the direction of runs with Unicode's bidi controls,
	// which are no part of the text.
	return strings.Map(func(r rune) rune {
		if r == '\u200e' || r == '\u200f' || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') {
			return -1
		}
		return r
	}, string(out))
}

func TestPDF(t *testing.T) {
	needTool(t, "pdftotext", "pdftoppm")
	s := &Service{Catalog: i18n.MustLoad()}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, lang, what string
		want             []string
	}{
		{"the directory in Arabic holds the Arabic State name and the Chinese names, in logical order", "ar", "directory",
			[]string{i18n.StateName("ar", "SA", "Saudi Arabia"), i18n.StateName("ar", "CN", "China"), "سارة العتيبي", "الهيئة الوطنية للأمن السيبراني", "国家互联网应急中心", "王丽华",
				"cert@nca.example", "0123 4567 89AB CDEF", "+966 11 000 0000",
				// pdftotext (poppler 22.12) reverses a right-to-left word's
				// letters with their marks, putting the shadda of مفضّلة
				// before its letter: the letters are compared without it (a
				// rendering shows it above its letter).
				strings.ReplaceAll(i18n.MustLoad().For("ar").T("poc.preferred"), "\u0651", "")}},
		{"the directory in Chinese names the States in Chinese and dates the export", "zh", "directory",
			[]string{i18n.StateName("zh", "CN", "China"), i18n.StateName("zh", "SA", "Saudi Arabia"), "王丽华", "سارة العتيبي", "于 2026 年 6 月 1 日 从 pocdir 导出"}},
		{"a State's entry in English says what it is validated as of", "en", "state/SAU",
			[]string{"Saudi Arabia (SAU)", "Validated as of 14 May 2026", "Exported from pocdir on 1 June 2026", "Email: cert@nca.example (preferred)", "Asia/Riyadh"}},
		{"a State's entry in Russian has its Cyrillic words", "ru", "state/CHN",
			[]string{i18n.StateName("ru", "CN", "China"), "Страница 1 из 1", "王丽华"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := app.WithActor(context.Background(), &app.Actor{UserID: 1, Role: app.RoleSecretariat, Language: tc.lang})
			entries := pdfEntries()
			if tc.what == "state/SAU" {
				entries = entries[:1]
			} else if tc.what == "state/CHN" {
				entries = entries[1:]
			}
			pdf, err := s.writePDF(ctx, tc.what, entries, now)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(pdf, []byte("%PDF-1.7")) {
				t.Fatalf("not a PDF: %q", pdf[:20])
			}
			if dir := os.Getenv("POCDIR_PDF_KEEP"); dir != "" {
				// To look at: pdftoppm -png -r 80 -f 1 -l 1 FILE.pdf FILE
				name := filepath.Join(dir, tc.lang+"-"+strings.ReplaceAll(tc.what, "/", "-")+".pdf")
				if err := os.WriteFile(name, pdf, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got := extractText(t, pdf)
			if tc.lang == "ar" {
				got = strings.ReplaceAll(got, "\u0651", "")
			}
			// pdftotext breaks lines where the layout does; the names are
			// each on one line.
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("the text lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestPDFWithoutItsFonts(t *testing.T) {
	t.Setenv(FontsEnv, t.TempDir())
	s := &Service{Catalog: i18n.MustLoad()}
	ctx := app.WithActor(context.Background(), &app.Actor{UserID: 1, Role: app.RoleOfficer, Language: "fr"})
	t.Run("a missing font is an unavailable service that names it, not a crash", func(t *testing.T) {
		_, err := s.writePDF(ctx, "directory", pdfEntries(), time.Now())
		if app.ErrorCode(err) != app.Unavailable || !strings.Contains(err.Error(), fontSans) || !strings.Contains(err.Error(), FontsEnv) {
			t.Errorf("%v (code %s)", err, app.ErrorCode(err))
		}
	})
}

// FuzzSubset subsets a font file's glyphs 0, 1 and 5: whatever the file
// holds, it must be an error, never a panic. The seed is a subset of Noto
// Sans with a composite glyph.
func FuzzSubset(f *testing.F) {
	if fonts, err := loadFonts(); err == nil {
		s := newSubset(fonts[fontSans])
		for _, r := range "Aé" {
			g, _ := s.face.NominalGlyph(r)
			s.id(g)
		}
		if seed, err := s.font(); err == nil {
			f.Add(seed)
		}
	}
	f.Add([]byte("\x00\x01\x00\x00\x00\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tables, err := ttfTables(data)
		if err != nil {
			return
		}
		s := &subset{ttf: &ttf{name: "fuzz", tables: tables}, ids: map[font.GID]uint16{}, text: map[uint16]string{}}
		for _, g := range []font.GID{0, 1, 5} {
			s.id(g)
		}
		out, err := s.font()
		if err != nil {
			return
		}
		if _, err := ttfTables(out); err != nil {
			t.Errorf("the subset's own tables do not read: %v", err)
		}
	})
}

// TestPDFsAtOnce makes PDFs in parallel, as concurrent downloads do: the
// fonts are read once and shared, each document has its own faces and
// shaper (go test -race checks it).
func TestPDFsAtOnce(t *testing.T) {
	needTool(t)
	s := &Service{Catalog: i18n.MustLoad()}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	want := map[string][]byte{}
	for _, lang := range []string{"ar", "zh", "ru", "fr"} {
		ctx := app.WithActor(context.Background(), &app.Actor{UserID: 1, Role: app.RoleOfficer, Language: lang})
		pdf, err := s.writePDF(ctx, "directory", pdfEntries(), now)
		if err != nil {
			t.Fatal(err)
		}
		want[lang] = pdf
	}
	for lang := range want {
		t.Run("the "+lang+" PDF made alongside others is the same as alone", func(t *testing.T) {
			t.Parallel()
			ctx := app.WithActor(context.Background(), &app.Actor{UserID: 1, Role: app.RoleOfficer, Language: lang})
			for range 3 {
				pdf, err := s.writePDF(ctx, "directory", pdfEntries(), now)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(pdf, want[lang]) {
					t.Fatal("the PDF differs")
				}
			}
		})
	}
}
