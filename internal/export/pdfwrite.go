package export

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"time"
	"unicode/utf16"

	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/shaping"
)

// The page: A4, in PDF points.
const (
	pageWidth  = 595.28
	pageHeight = 841.89
)

// pdfWriter holds the pages of a document as content streams, and the
// subsets of the fonts they draw with, then writes the file: one Type0
// font (CIDFontType2, Identity-H, the subset embedded, a ToUnicode CMap so
// that the text can be extracted and searched) per font used.
type pdfWriter struct {
	subsets []*subset
	byFace  map[*font.Face]int
	pages   []*bytes.Buffer
}

// subsetFor returns the index of the face's subset (the font's resource
// name is F and the index).
func (w *pdfWriter) subsetFor(f *font.Face, t *ttf) int {
	if i, ok := w.byFace[f]; ok {
		return i
	}
	s := newSubset(t)
	s.face = f
	w.subsets = append(w.subsets, s)
	w.byFace[f] = len(w.subsets) - 1
	return len(w.subsets) - 1
}

// num writes a number as PDF does, with at most 2 decimals.
func num(v float64) string {
	v = math.Round(v*100) / 100
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// drawLine draws a shaped line: its runs in visual order from x on the
// baseline y. fonts gives each face's file.
func (w *pdfWriter) drawLine(b *bytes.Buffer, line shaping.Line, text []rune, x, y, size float64, fonts map[*font.Face]*ttf) {
	runs := append(shaping.Line(nil), line...)
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].VisualIndex < runs[j].VisualIndex })
	fmt.Fprintf(b, "BT %s %s Td\n", num(x), num(y))
	for _, run := range runs {
		if len(run.Glyphs) == 0 {
			continue
		}
		fi := w.subsetFor(run.Face, fonts[run.Face])
		s := w.subsets[fi]
		upem := float64(s.ttf.font.Upem())
		fmt.Fprintf(b, "/F%d %s Tf [", fi, num(size))
		rtl := run.Direction.Progression() == di.TowardTopLeft
		// Each glyph's place, in thousandths of the size from the run's
		// start: its pen position plus its offset.
		xs := make([]float64, len(run.Glyphs))
		pen := 0.0
		for gi, g := range run.Glyphs {
			xs[gi] = pen + float64(g.XOffset)/64*1000/size
			pen += float64(g.Advance) / 64 * 1000 / size
		}
		// cur is where the PDF's text position is: after the last glyph
		// drawn, by its width in the font. A TJ number moves it back.
		cur := 0.0
		move := func(to float64) {
			if adj := cur - to; math.Abs(adj) >= 0.01 {
				fmt.Fprintf(b, " %s ", num(adj))
			}
			cur = to
		}
		for _, gi := range drawOrder(run.Glyphs, rtl) {
			g := run.Glyphs[gi]
			id := s.id(g.GlyphID)
			s.mapText(id, g, gi, run, text, rtl)
			move(xs[gi])
			yoff := float64(g.YOffset) / 64
			if yoff != 0 {
				fmt.Fprintf(b, "] TJ %s Ts [", num(yoff))
			}
			fmt.Fprintf(b, "<%04X>", id)
			if yoff != 0 {
				fmt.Fprint(b, "] TJ 0 Ts [")
			}
			cur += float64(s.face.HorizontalAdvance(g.GlyphID)) * 1000 / upem
		}
		move(pen)
		b.WriteString("] TJ\n")
	}
	b.WriteString("ET\n")
}

// drawOrder is the order to draw a run's glyphs in: from left to right,
// but within a cluster of a right-to-left run (a letter and its marks) in
// logical order, the letter first, as text extractors expect a mark after
// its letter.
func drawOrder(glyphs []shaping.Glyph, rtl bool) []int {
	order := make([]int, 0, len(glyphs))
	for i := 0; i < len(glyphs); {
		j := i + 1
		for j < len(glyphs) && glyphs[j].TextIndex() == glyphs[i].TextIndex() {
			j++
		}
		for k := range j - i {
			if rtl {
				order = append(order, j-1-k)
			} else {
				order = append(order, i+k)
			}
		}
		i = j
	}
	return order
}

// mapText records the text a glyph shows, for ToUnicode. A cluster of as
// many glyphs as letters (a letter and its marks) maps them one to one, in
// logical order: text extractors reorder each glyph's text as a whole, and
// a mark given with its letter lands on the wrong side of it. Otherwise
// (a ligature) the cluster's text goes to its first glyph in logical order.
// A glyph keeps the first text it was given.
func (s *subset) mapText(id uint16, g shaping.Glyph, gi int, run shaping.Output, text []rune, rtl bool) {
	if _, ok := s.text[id]; ok {
		return
	}
	at, n := g.TextIndex(), g.RunesCount()
	if at < 0 || n == 0 || at+n > len(text) {
		return
	}
	// k is the glyph's place in its cluster, in logical order.
	k := 0
	for j := gi - 1; j >= 0 && run.Glyphs[j].TextIndex() == at; j-- {
		k++
	}
	if rtl {
		k = 0
		for j := gi + 1; j < len(run.Glyphs) && run.Glyphs[j].TextIndex() == at; j++ {
			k++
		}
	}
	switch {
	case g.GlyphsCount() == n:
		s.text[id] = string(text[at+k])
	case k == 0:
		s.text[id] = string(text[at : at+n])
	}
}

// pdfText writes a text string (UTF-16BE with its byte order mark).
func pdfText(s string) string {
	var b bytes.Buffer
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteString(">")
	return b.String()
}

// pdfObjects collects the numbered objects of the file.
type pdfObjects struct {
	bodies [][]byte
}

// reserve returns the number of a new object, written later with set.
func (o *pdfObjects) reserve() int {
	o.bodies = append(o.bodies, nil)
	return len(o.bodies)
}

func (o *pdfObjects) set(n int, format string, args ...any) {
	o.bodies[n-1] = fmt.Appendf(nil, format, args...)
}

// stream sets an object to a compressed stream with extra dictionary
// entries.
func (o *pdfObjects) stream(n int, dict string, data []byte) {
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.DefaultCompression)
	zw.Write(data)
	zw.Close()
	o.bodies[n-1] = fmt.Appendf(nil, "<< /Length %d /Filter /FlateDecode %s>>\nstream\n%s\nendstream", z.Len(), dict, z.Bytes())
}

// write writes the document: its pages, fonts and information.
func (w *pdfWriter) write(title, lang string, rtl bool, created time.Time) ([]byte, error) {
	var o pdfObjects
	catalog, pages, info := o.reserve(), o.reserve(), o.reserve()
	pageObjs := make([]int, len(w.pages))
	contents := make([]int, len(w.pages))
	for i := range w.pages {
		pageObjs[i], contents[i] = o.reserve(), o.reserve()
	}
	var fontRes bytes.Buffer
	fontRes.WriteString("<< ")
	for i, s := range w.subsets {
		ref, err := w.writeFont(&o, s)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&fontRes, "/F%d %d 0 R ", i, ref)
	}
	fontRes.WriteString(">>")
	var kids bytes.Buffer
	for i, p := range w.pages {
		fmt.Fprintf(&kids, "%d 0 R ", pageObjs[i])
		o.set(pageObjs[i], "<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Resources << /Font %s >> /Contents %d 0 R >>",
			pages, num(pageWidth), num(pageHeight), fontRes.String(), contents[i])
		o.stream(contents[i], "", p.Bytes())
	}
	o.set(pages, "<< /Type /Pages /Kids [%s] /Count %d >>", kids.String(), len(w.pages))
	direction := "L2R"
	if rtl {
		direction = "R2L"
	}
	o.set(catalog, "<< /Type /Catalog /Pages %d 0 R /Lang %s /ViewerPreferences << /Direction /%s /DisplayDocTitle true >> >>",
		pages, pdfText(lang), direction)
	o.set(info, "<< /Title %s /Producer (pocdir) /CreationDate (D:%s) >>", pdfText(title), created.UTC().Format("20060102150405Z"))

	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(o.bodies))
	for i, body := range o.bodies {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, body)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(o.bodies)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(o.bodies)+1, catalog, info, xref)
	return b.Bytes(), nil
}

// writeFont writes a subset's objects and returns its Type0 font's number.
func (w *pdfWriter) writeFont(o *pdfObjects, s *subset) (int, error) {
	data, err := s.font() // first: it adds the components of composite glyphs
	if err != nil {
		return 0, fmt.Errorf("pdf font %s: %w", s.ttf.name, err)
	}
	type0, cid, desc, file, toUnicode := o.reserve(), o.reserve(), o.reserve(), o.reserve(), o.reserve()
	h := fnv.New32a()
	h.Write([]byte(s.ttf.name))
	for _, g := range s.gids {
		binary.Write(h, binary.BigEndian, uint16(g))
	}
	sum := h.Sum32()
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = 'A' + byte(sum%26)
		sum /= 26
	}
	name := string(tag) + "+" + s.ttf.name
	upem := float64(s.ttf.font.Upem())
	scale := func(v int16) string { return num(math.Round(float64(v) * 1000 / upem)) }
	head, hhea := s.ttf.tables["head"], s.ttf.tables["hhea"]
	i16 := func(b []byte, at int) int16 { return int16(binary.BigEndian.Uint16(b[at:])) }
	var widths bytes.Buffer
	for i, g := range s.gids {
		if i > 0 {
			widths.WriteByte(' ')
		}
		widths.WriteString(num(math.Round(float64(s.face.HorizontalAdvance(g)) * 1000 / upem)))
	}
	o.set(type0, "<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>", name, cid, toUnicode)
	o.set(cid, "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R /CIDToGIDMap /Identity /W [0 [%s]] >>",
		name, desc, widths.String())
	o.set(desc, "<< /Type /FontDescriptor /FontName /%s /Flags 4 /FontBBox [%s %s %s %s] /ItalicAngle 0 /Ascent %s /Descent %s /CapHeight %s /StemV 80 /FontFile2 %d 0 R >>",
		name, scale(i16(head, 36)), scale(i16(head, 38)), scale(i16(head, 40)), scale(i16(head, 42)), scale(i16(hhea, 4)), scale(i16(hhea, 6)), scale(i16(hhea, 4)), file)
	o.stream(file, fmt.Sprintf("/Length1 %d ", len(data)), data)
	o.stream(toUnicode, "", s.toUnicode())
	return type0, nil
}

// toUnicode writes the CMap from the subset's glyphs to their text.
func (s *subset) toUnicode() []byte {
	ids := make([]int, 0, len(s.text))
	for id := range s.text {
		ids = append(ids, int(id))
	}
	sort.Ints(ids)
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for len(ids) > 0 {
		n := min(len(ids), 100)
		fmt.Fprintf(&b, "%d beginbfchar\n", n)
		for _, id := range ids[:n] {
			fmt.Fprintf(&b, "<%04X> <", id)
			for _, u := range utf16.Encode([]rune(s.text[uint16(id)])) {
				fmt.Fprintf(&b, "%04X", u)
			}
			b.WriteString(">\n")
		}
		b.WriteString("endbfchar\n")
		ids = ids[n:]
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return b.Bytes()
}
