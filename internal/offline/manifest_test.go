package offline

import (
	"crypto/sha256"
	"strings"
	"testing"
	"time"
)

func TestManifest(t *testing.T) {
	m := &Manifest{Created: time.Date(2026, 12, 5, 15, 21, 0, 0, time.UTC), Holder: "off@egy.example", Language: "ar",
		Origin: "pocdir.test/log", Size: 42, Root: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
		Files: []FileSum{{Name: "index.html", SHA256: sha256.Sum256([]byte("page"))}}}
	text := m.Text()
	t.Run("a manifest reads back as it was written", func(t *testing.T) {
		got, err := ParseManifest(text)
		if err != nil {
			t.Fatal(err)
		}
		if got.Text() != text {
			t.Errorf("got\n%s\nwant\n%s", got.Text(), text)
		}
	})
	t.Run("a manifest holds no blank line, so its signed text ends at the first one", func(t *testing.T) {
		if strings.Contains(text, "\n\n") {
			t.Errorf("%q", text)
		}
	})
	tests := []struct {
		name, text string
	}{
		{"another format is refused", strings.Replace(text, "v1", "v2", 1)},
		{"a missing line break at the end is refused", strings.TrimSuffix(text, "\n")},
		{"a bad date is refused", strings.Replace(text, "2026-12-05T15:21:00Z", "yesterday", 1)},
		{"a negative tree size is refused", strings.Replace(text, " 42 ", " -1 ", 1)},
		{"a short hash is refused", strings.Replace(text, "sha256 ", "sha256 ab", 1)},
		{"an upper-case hash is refused", text[:strings.Index(text, "sha256 ")] + "sha256 " + strings.Repeat("AB", 32) + " index.html\n"},
		{"a path in a file name is refused", strings.Replace(text, "index.html", "../index.html", 1)},
		{"the manifest listing itself is refused", strings.Replace(text, "index.html", ManifestName, 1)},
		{"a repeated file is refused", text + text[strings.Index(text, "sha256 "):]},
		{"a value with a space is refused", strings.Replace(text, "holder off@egy.example", "holder off @egy.example", 1)},
		{"a missing line is refused", strings.Replace(text, "language ar\n", "", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseManifest(tt.text); err == nil {
				t.Errorf("accepted %q", tt.text)
			}
		})
	}
}

// FuzzParseManifest checks that the parser never panics, and that what it
// accepts it writes back to the same text.
func FuzzParseManifest(f *testing.F) {
	f.Add("pocdir offline copy v1\ncreated 2026-12-05T15:21:00Z\nholder a@b.example\nlanguage en\nlog pocdir.test/log 3 AAAA\nsha256 " + strings.Repeat("0", 64) + " index.html\n")
	f.Add("pocdir offline copy v1\n")
	f.Fuzz(func(t *testing.T, text string) {
		m, err := ParseManifest(text)
		if err != nil {
			return
		}
		if got := m.Text(); got != text {
			// Times may be written differently (an offset for Z, a
			// fraction); everything else must come back as it was.
			if again, err := ParseManifest(got); err != nil || again.Text() != got {
				t.Errorf("%q reads as %q, which does not read back: %v", text, got, err)
			}
		}
	})
}
