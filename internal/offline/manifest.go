package offline

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// manifestTitle is the first line of every manifest: it names the format,
// and its version, so that a later format is told apart.
const manifestTitle = "pocdir offline copy v1"

// Manifest is what pocdir signs: the moment of the copy, for whom and in
// which language it was made, the log's checkpoint of that moment, and the
// SHA-256 of each file of the archive. Its text (Text) is line based, so
// that standard tools read it:
//
//	pocdir offline copy v1
//	created 2026-12-05T15:21:00Z
//	holder alice@example.org
//	language ar
//	log pocdir.example.org/log 1234 <base64 root hash>
//	sha256 <64 hex digits> directory.json
//	sha256 <64 hex digits> index.html
//
// The "log" line is the checkpoint's body (origin, tree size, root hash) on
// one line. The text never holds a blank line, so the signed note's text is
// everything before its first blank line.
type Manifest struct {
	Created  time.Time
	Holder   string // the holder's e-mail address
	Language string
	// Origin, Size and Root are the log checkpoint of the moment.
	Origin string
	Size   int64
	Root   string // base64, as in the checkpoint
	Files  []FileSum
}

// FileSum is the SHA-256 of one file of the archive, by its name inside the
// archive's folder.
type FileSum struct {
	Name   string
	SHA256 [32]byte
}

// Limits of a manifest, so that a hostile archive cannot make verify read
// without end.
const (
	maxManifest = 64 << 10
	maxFiles    = 32
)

// Text writes the manifest as it is signed.
func (m *Manifest) Text() string {
	var b strings.Builder
	b.WriteString(manifestTitle + "\n")
	fmt.Fprintf(&b, "created %s\n", m.Created.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "holder %s\n", m.Holder)
	fmt.Fprintf(&b, "language %s\n", m.Language)
	fmt.Fprintf(&b, "log %s %d %s\n", m.Origin, m.Size, m.Root)
	for _, f := range m.Files {
		fmt.Fprintf(&b, "sha256 %s %s\n", hex.EncodeToString(f.SHA256[:]), f.Name)
	}
	return b.String()
}

// word reports whether s is one non-empty word of printable characters:
// what every value of a manifest line is.
func word(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// ParseManifest reads a manifest's text, as Text writes it. It checks the
// form only; Verify checks what it says.
func ParseManifest(text string) (*Manifest, error) {
	if len(text) > maxManifest {
		return nil, errors.New("manifest: too long")
	}
	if !strings.HasSuffix(text, "\n") {
		return nil, errors.New("manifest: does not end with a line break")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 5 || lines[0] != manifestTitle {
		return nil, fmt.Errorf("manifest: does not start with %q and its four lines", manifestTitle)
	}
	m := &Manifest{}
	field := func(i int, key string, n int) ([]string, error) {
		f := strings.Split(lines[i], " ")
		if len(f) != n+1 || f[0] != key {
			return nil, fmt.Errorf("manifest: line %d: want %q and %d values", i+1, key, n)
		}
		for _, v := range f[1:] {
			if !word(v) {
				return nil, fmt.Errorf("manifest: line %d: bad value %q", i+1, v)
			}
		}
		return f[1:], nil
	}
	f, err := field(1, "created", 1)
	if err != nil {
		return nil, err
	}
	if m.Created, err = time.Parse(time.RFC3339, f[0]); err != nil {
		return nil, fmt.Errorf("manifest: line 2: %w", err)
	}
	if f, err = field(2, "holder", 1); err != nil {
		return nil, err
	}
	m.Holder = f[0]
	if f, err = field(3, "language", 1); err != nil {
		return nil, err
	}
	m.Language = f[0]
	if f, err = field(4, "log", 3); err != nil {
		return nil, err
	}
	m.Origin, m.Root = f[0], f[2]
	if m.Size, err = strconv.ParseInt(f[1], 10, 64); err != nil || m.Size < 0 {
		return nil, errors.New("manifest: line 5: bad tree size")
	}
	if len(lines)-5 > maxFiles {
		return nil, errors.New("manifest: too many files")
	}
	seen := map[string]bool{}
	for i := 5; i < len(lines); i++ {
		f, err := field(i, "sha256", 2)
		if err != nil {
			return nil, err
		}
		var fs FileSum
		if h, err := hex.DecodeString(f[0]); err != nil || len(h) != 32 || hex.EncodeToString(h) != f[0] {
			return nil, fmt.Errorf("manifest: line %d: bad SHA-256", i+1)
		} else {
			copy(fs.SHA256[:], h)
		}
		fs.Name = f[1]
		if seen[fs.Name] || strings.ContainsAny(fs.Name, "/\\") || fs.Name == "." || fs.Name == ".." || fs.Name == ManifestName {
			return nil, fmt.Errorf("manifest: line %d: bad or repeated file name %q", i+1, fs.Name)
		}
		seen[fs.Name] = true
		m.Files = append(m.Files, fs)
	}
	return m, nil
}
