package export

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/go-text/typesetting/font"

	"github.com/pocdir/pocdir/internal/app"
)

// FontsEnv names the environment variable that lists the directories where
// the PDF export looks for its fonts (separated as in PATH). Unset, it
// looks where Debian's packages install them: fonts-noto-core (Noto Sans,
// Noto Naskh Arabic) and fonts-droid-fallback (Droid Sans Fallback, the
// Chinese, Japanese and Korean ideographs with TrueType outlines, which a
// PDF embeds as they are; Noto CJK's outlines are CFF).
const FontsEnv = "POCDIR_PDF_FONTS"

// DefaultFontDirs are the directories searched when FontsEnv is unset.
var DefaultFontDirs = []string{"/usr/share/fonts/truetype/noto", "/usr/share/fonts/truetype/droid"}

// The font files the PDF export uses: a regular and a bold face for each
// family, Droid Sans Fallback for both (it has no bold).
const (
	fontSans         = "NotoSans-Regular.ttf"
	fontSansBold     = "NotoSans-Bold.ttf"
	fontArabic       = "NotoNaskhArabic-Regular.ttf"
	fontArabicBold   = "NotoNaskhArabic-Bold.ttf"
	fontIdeographs   = "DroidSansFallbackFull.ttf"
	errPDFFontsKey   = "error.pdf_fonts"
	maxFontFileBytes = 64 << 20
)

var fontFiles = []string{fontSans, fontSansBold, fontArabic, fontArabicBold, fontIdeographs}

// ttf is a TrueType font file, read once: its bytes, tables and parsed
// font (safe to share; each document makes its own faces).
type ttf struct {
	name   string // PostScript-like name, from the file name
	tables map[string][]byte
	font   *font.Font
}

var fontCache sync.Map // dirs (string) -> map[string]*ttf

// fontDirs returns the directories where the fonts are looked for.
func fontDirs() []string {
	if v := os.Getenv(FontsEnv); v != "" {
		return filepath.SplitList(v)
	}
	return DefaultFontDirs
}

// loadFonts finds and reads the font files, once for a set of directories.
// A missing or unreadable font is an Unavailable error that names it and
// where it was looked for.
func loadFonts() (map[string]*ttf, error) {
	dirs := fontDirs()
	key := strings.Join(dirs, string(filepath.ListSeparator))
	if v, ok := fontCache.Load(key); ok {
		return v.(map[string]*ttf), nil
	}
	out := map[string]*ttf{}
	for _, name := range fontFiles {
		var data []byte
		for _, d := range dirs {
			b, err := os.ReadFile(filepath.Join(d, name))
			if err == nil {
				data = b
				break
			}
		}
		if data == nil {
			return nil, app.Errorf(app.Unavailable, errPDFFontsKey, "the PDF export needs the font %s, found in none of %s (set %s, or install fonts-noto-core and fonts-droid-fallback)",
				name, key, FontsEnv)
		}
		f, err := parseTTF(strings.TrimSuffix(name, ".ttf"), data)
		if err != nil {
			return nil, app.Errorf(app.Unavailable, errPDFFontsKey, "the PDF font %s cannot be read: %v", name, err)
		}
		out[name] = f
	}
	fontCache.Store(key, out)
	return out, nil
}

// parseTTF reads a TrueType font's table directory and parses it. It
// refuses a font without TrueType outlines (glyf), which a PDF could not
// embed as FontFile2.
func parseTTF(name string, data []byte) (*ttf, error) {
	if len(data) > maxFontFileBytes {
		return nil, errors.New("font file too large")
	}
	tables, err := ttfTables(data)
	if err != nil {
		return nil, err
	}
	for _, t := range []string{"head", "hhea", "maxp", "hmtx", "loca", "glyf"} {
		if tables[t] == nil {
			return nil, fmt.Errorf("no %s table: not a TrueType-outline font", t)
		}
	}
	face, err := font.ParseTTF(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return &ttf{name: name, tables: tables, font: face.Font}, nil
}

// ttfTables reads the table directory of a TrueType file.
func ttfTables(data []byte) (map[string][]byte, error) {
	if len(data) < 12 {
		return nil, errors.New("truncated font")
	}
	n := int(binary.BigEndian.Uint16(data[4:]))
	if len(data) < 12+16*n {
		return nil, errors.New("truncated table directory")
	}
	tables := map[string][]byte{}
	for i := range n {
		rec := data[12+16*i:]
		off, length := binary.BigEndian.Uint32(rec[8:]), binary.BigEndian.Uint32(rec[12:])
		if uint64(off)+uint64(length) > uint64(len(data)) {
			return nil, fmt.Errorf("table %q out of bounds", rec[:4])
		}
		tables[string(rec[:4])] = data[off : off+length]
	}
	return tables, nil
}

// subset is the part of a font that a document uses, its glyphs numbered
// anew from 0 (.notdef) in the order of first use: the glyph ids of the
// content streams (CIDs, with an identity CIDToGIDMap).
type subset struct {
	ttf  *ttf
	face *font.Face
	ids  map[font.GID]uint16 // the font's glyph id -> the subset's
	gids []font.GID          // the subset's glyph id -> the font's
	text map[uint16]string   // the text a glyph shows, for ToUnicode
}

func newSubset(f *ttf) *subset {
	s := &subset{ttf: f, face: font.NewFace(f.font), ids: map[font.GID]uint16{}, text: map[uint16]string{}}
	s.id(0)
	return s
}

// id returns the subset's id of a glyph, adding it at first use.
func (s *subset) id(g font.GID) uint16 {
	if id, ok := s.ids[g]; ok {
		return id
	}
	id := uint16(len(s.gids))
	s.ids[g] = id
	s.gids = append(s.gids, g)
	return id
}

// glyphData returns a glyph's outline data in the font.
func (t *ttf) glyphData(g font.GID) ([]byte, error) {
	head, loca, glyf := t.tables["head"], t.tables["loca"], t.tables["glyf"]
	if len(head) < 54 {
		return nil, errors.New("short head table")
	}
	long := binary.BigEndian.Uint16(head[50:]) == 1
	var start, end uint32
	i := uint32(g)
	if long {
		if int(i+2)*4 > len(loca) {
			return nil, fmt.Errorf("glyph %d beyond loca", g)
		}
		start, end = binary.BigEndian.Uint32(loca[4*i:]), binary.BigEndian.Uint32(loca[4*i+4:])
	} else {
		if int(i+2)*2 > len(loca) {
			return nil, fmt.Errorf("glyph %d beyond loca", g)
		}
		start, end = 2*uint32(binary.BigEndian.Uint16(loca[2*i:])), 2*uint32(binary.BigEndian.Uint16(loca[2*i+2:]))
	}
	if start > end || int(end) > len(glyf) {
		return nil, fmt.Errorf("glyph %d out of bounds", g)
	}
	return glyf[start:end], nil
}

// Flags of a composite glyph's components.
const (
	compArgWords     = 0x0001
	compScale        = 0x0008
	compMore         = 0x0020
	compXYScale      = 0x0040
	compTwoByTwo     = 0x0080
	compHeaderLength = 10
)

// components calls fn with the offset of each component's glyph id in a
// composite glyph's data; it does nothing for a simple glyph.
func components(data []byte, fn func(at int)) error {
	if len(data) < compHeaderLength || int16(binary.BigEndian.Uint16(data)) >= 0 {
		return nil
	}
	at := compHeaderLength
	for {
		if at+4 > len(data) {
			return errors.New("truncated composite glyph")
		}
		flags := binary.BigEndian.Uint16(data[at:])
		fn(at + 2)
		at += 4
		if flags&compArgWords != 0 {
			at += 4
		} else {
			at += 2
		}
		switch {
		case flags&compScale != 0:
			at += 2
		case flags&compXYScale != 0:
			at += 4
		case flags&compTwoByTwo != 0:
			at += 8
		}
		if flags&compMore == 0 {
			return nil
		}
	}
}

// font writes the subset as a TrueType font: its glyphs (with the
// components of composite glyphs, renumbered), their metrics, and the
// hinting tables; no cmap, which a CIDFontType2 with an identity
// CIDToGIDMap does not read.
func (s *subset) font() ([]byte, error) {
	t := s.ttf
	var glyf []byte
	loca := make([]byte, 0, 4*(len(s.gids)+1))
	// s.gids grows while composite glyphs add their components.
	for i := 0; i < len(s.gids); i++ {
		data, err := t.glyphData(s.gids[i])
		if err != nil {
			return nil, err
		}
		data = append([]byte(nil), data...)
		var cerr error
		err = components(data, func(at int) {
			old := font.GID(binary.BigEndian.Uint16(data[at:]))
			if len(s.gids) >= 0xFFFF {
				cerr = errors.New("too many glyphs")
				return
			}
			binary.BigEndian.PutUint16(data[at:], s.id(old))
		})
		if err != nil {
			return nil, err
		}
		if cerr != nil {
			return nil, cerr
		}
		loca = binary.BigEndian.AppendUint32(loca, uint32(len(glyf)))
		// Each glyph of the font is taken once at most: more than the
		// font's glyf table (with padding) means glyphs that overlap.
		if len(glyf)+len(data) > len(t.tables["glyf"])+4*len(s.gids) {
			return nil, errors.New("overlapping glyphs")
		}
		glyf = append(glyf, data...)
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
	}
	loca = binary.BigEndian.AppendUint32(loca, uint32(len(glyf)))
	n := len(s.gids)

	hmtx := make([]byte, 0, 4*n)
	src, hhea := t.tables["hmtx"], t.tables["hhea"]
	if len(hhea) < 36 {
		return nil, errors.New("short hhea table")
	}
	metrics := int(binary.BigEndian.Uint16(hhea[34:]))
	for _, g := range s.gids {
		i := int(g)
		adv := i
		if adv >= metrics {
			adv = metrics - 1
		}
		if 4*adv+4 > len(src) {
			return nil, errors.New("short hmtx table")
		}
		var lsb []byte
		if i < metrics {
			lsb = src[4*i+2 : 4*i+4]
		} else if at := 4*metrics + 2*(i-metrics); at+2 <= len(src) {
			lsb = src[at : at+2]
		} else {
			lsb = []byte{0, 0}
		}
		hmtx = append(append(hmtx, src[4*adv:4*adv+2]...), lsb...)
	}
	head := append([]byte(nil), t.tables["head"]...)
	binary.BigEndian.PutUint32(head[8:], 0) // checkSumAdjustment
	binary.BigEndian.PutUint16(head[50:], 1)
	hhea = append([]byte(nil), hhea...)
	binary.BigEndian.PutUint16(hhea[34:], uint16(n))
	if len(t.tables["maxp"]) < 6 {
		return nil, errors.New("short maxp table")
	}
	maxp := append([]byte(nil), t.tables["maxp"]...)
	binary.BigEndian.PutUint16(maxp[4:], uint16(n))

	out := map[string][]byte{"head": head, "hhea": hhea, "maxp": maxp, "hmtx": hmtx, "loca": loca, "glyf": glyf}
	for _, k := range []string{"cvt ", "fpgm", "prep"} {
		if b := t.tables[k]; b != nil {
			out[k] = b
		}
	}
	return sfnt(out), nil
}

// sfnt writes tables as a TrueType file, in tag order, each with its
// checksum.
func sfnt(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for k := range tables {
		tags = append(tags, k)
	}
	sort.Strings(tags)
	n := len(tags)
	sel := 0
	for 1<<(sel+1) <= n {
		sel++
	}
	var b []byte
	b = binary.BigEndian.AppendUint32(b, 0x00010000)
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	b = binary.BigEndian.AppendUint16(b, uint16(16<<sel))
	b = binary.BigEndian.AppendUint16(b, uint16(sel))
	b = binary.BigEndian.AppendUint16(b, uint16(16*n-16<<sel))
	off := 12 + 16*n
	for _, tag := range tags {
		data := tables[tag]
		b = append(b, tag...)
		b = binary.BigEndian.AppendUint32(b, checksum(data))
		b = binary.BigEndian.AppendUint32(b, uint32(off))
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		off += (len(data) + 3) &^ 3
	}
	for _, tag := range tags {
		b = append(b, tables[tag]...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	return b
}

func checksum(data []byte) uint32 {
	var sum uint32
	for i := 0; i < len(data); i += 4 {
		var w [4]byte
		copy(w[:], data[i:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}
