package export

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/language"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/math/fixed"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/i18n"
)

// PDFType is the media type of the PDF export.
const PDFType = "application/pdf"

// The layout of a page, in points: margins, the footer's baseline, the
// width of the labels' column.
const (
	pdfMargin      = 56.0
	pdfFooter      = 36.0
	pdfBottom      = 64.0
	pdfLabelWidth  = 130.0
	pdfColumnSpace = 10.0
)

// pdfStyle is a paragraph's type: its size and weight, and its grey (0
// black, 1 white).
type pdfStyle struct {
	size float64
	bold bool
	grey float64
}

var (
	styleTitle   = pdfStyle{size: 17, bold: true}
	styleState   = pdfStyle{size: 14, bold: true}
	styleLevel   = pdfStyle{size: 10.5, bold: true}
	styleLabel   = pdfStyle{size: 9, bold: true, grey: 0.3}
	styleValue   = pdfStyle{size: 9}
	styleNote    = pdfStyle{size: 9, grey: 0.35}
	styleFooter  = pdfStyle{size: 8, grey: 0.4}
	pdfLineScale = 1.55 // the line height, in sizes of the type
)

// faces is a fontmap: the face for a rune, Arabic from Noto Naskh Arabic,
// ideographs from Droid Sans Fallback, the rest from Noto Sans; a rune
// that the first lacks is looked for in the others.
type faces struct {
	latin, arabic, ideographs *font.Face
	script                    language.Script
}

// SetScript is told the script of the runes to come, which for digits,
// spaces and punctuation is that of the text around them: they take its
// font, so that a date in Chinese or Arabic is set in one face.
func (f *faces) SetScript(s language.Script) { f.script = s }

func (f *faces) ResolveFace(r rune) *font.Face {
	order := [3]*font.Face{f.latin, f.arabic, f.ideographs}
	switch {
	case unicode.Is(unicode.Arabic, r) || f.script == language.Arabic:
		order = [3]*font.Face{f.arabic, f.latin, f.ideographs}
	case f.script == language.Han || f.script == language.Hiragana || f.script == language.Katakana || f.script == language.Hangul || f.script == language.Bopomofo:
		order = [3]*font.Face{f.ideographs, f.latin, f.arabic}
	}
	for _, face := range order {
		if _, ok := face.NominalGlyph(r); ok {
			return face
		}
	}
	return f.latin
}

// pdfDoc lays out a document: paragraphs shaped (HarfBuzz's rules, from
// go-text/typesetting) and ordered (the Unicode bidirectional algorithm)
// in the reader's language and direction, wrapped to the page, and the
// pages numbered at the end.
type pdfDoc struct {
	t       *i18n.Localizer
	lang    language.Language
	rtl     bool
	regular faces
	bold    faces
	files   map[*font.Face]*ttf
	shaper  shaping.HarfbuzzShaper
	seg     shaping.Segmenter
	wrapper shaping.LineWrapper
	w       pdfWriter
	page    *bytes.Buffer
	y       float64 // the top of the next line
}

func newPDFDoc(t *i18n.Localizer) (*pdfDoc, error) {
	fonts, err := loadFonts()
	if err != nil {
		return nil, err
	}
	d := &pdfDoc{t: t, lang: language.NewLanguage(t.Lang()), rtl: t.Dir() == "rtl", files: map[*font.Face]*ttf{}}
	d.w.byFace = map[*font.Face]int{}
	face := func(name string) *font.Face {
		f := font.NewFace(fonts[name].font)
		d.files[f] = fonts[name]
		return f
	}
	ideographs := face(fontIdeographs)
	d.regular = faces{latin: face(fontSans), arabic: face(fontArabic), ideographs: ideographs}
	d.bold = faces{latin: face(fontSansBold), arabic: face(fontArabicBold), ideographs: ideographs}
	return d, nil
}

// shapedPara is a paragraph shaped and wrapped.
type shapedPara struct {
	text  []rune
	lines []shaping.Line
	style pdfStyle
}

func (p *shapedPara) height() float64 {
	return float64(len(p.lines)) * p.style.size * pdfLineScale
}

// shape shapes a paragraph and wraps it to a width.
func (d *pdfDoc) shape(s string, st pdfStyle, width float64) *shapedPara {
	text := []rune(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
	// The paragraph's direction is that of its first strong letter, as
	// HTML's dir="auto": a fingerprint or an address reads left to right
	// in an Arabic document; it is still aligned at the right.
	dir := di.DirectionLTR
	if strong(text, d.rtl) {
		dir = di.DirectionRTL
	}
	fm := &d.regular
	if st.bold {
		fm = &d.bold
	}
	size := fixed.Int26_6(st.size * 64)
	in := shaping.Input{Text: text, RunEnd: len(text), Direction: dir, Size: size, Language: d.lang}
	var outs []shaping.Output
	for _, run := range d.seg.Split(in, fm) {
		outs = append(outs, d.shaper.Shape(run))
	}
	p := &shapedPara{text: text, style: st}
	if len(outs) == 0 {
		return p
	}
	lines, _ := d.wrapper.WrapParagraphF(shaping.WrapConfig{Direction: dir}, fixed.Int26_6(width*64), text, shaping.NewSliceIterator(outs))
	for _, l := range lines {
		p.lines = append(p.lines, append(shaping.Line(nil), l...))
	}
	return p
}

// draw draws a shaped paragraph with its top at y, in the column from x
// of the width: at its start, which is the right for a right-to-left
// document, or centred.
func (d *pdfDoc) draw(p *shapedPara, x, width, y float64, centre bool) {
	lead := p.style.size * pdfLineScale
	if p.style.grey != 0 {
		fmt.Fprintf(d.page, "%s g\n", num(p.style.grey))
	}
	for i, l := range p.lines {
		var w fixed.Int26_6
		for _, run := range l {
			w += run.Advance
		}
		lx := x
		switch {
		case centre:
			lx = x + (width-float64(w)/64)/2
		case d.rtl:
			lx = x + width - float64(w)/64
		}
		baseline := y - float64(i)*lead - p.style.size*1.1
		d.w.drawLine(d.page, l, p.text, lx, baseline, p.style.size, d.files)
	}
	if p.style.grey != 0 {
		d.page.WriteString("0 g\n")
	}
}

func (d *pdfDoc) newPage() {
	d.page = &bytes.Buffer{}
	d.w.pages = append(d.w.pages, d.page)
	d.y = pageHeight - pdfMargin
}

// room starts a new page unless h points are left on this one.
func (d *pdfDoc) room(h float64) {
	if d.page == nil || d.y-h < pdfBottom {
		d.newPage()
	}
}

// para writes a paragraph across the page, a line at a time.
func (d *pdfDoc) para(s string, st pdfStyle, space float64) {
	width := pageWidth - 2*pdfMargin
	p := d.shape(s, st, width)
	lead := st.size * pdfLineScale
	for i := range p.lines {
		d.room(lead)
		one := &shapedPara{text: p.text, lines: p.lines[i : i+1], style: st}
		d.draw(one, pdfMargin, width, d.y, false)
		d.y -= lead
	}
	d.y -= space
}

// field writes a label and its values side by side, the label at the
// start of the line; values may wrap.
func (d *pdfDoc) field(label string, values ...string) {
	width := pageWidth - 2*pdfMargin
	lp := d.shape(label, styleLabel, pdfLabelWidth)
	var vps []*shapedPara
	vh := 0.0
	valueWidth := width - pdfLabelWidth - pdfColumnSpace
	for _, v := range values {
		vp := d.shape(v, styleValue, valueWidth)
		vps = append(vps, vp)
		vh += vp.height()
	}
	d.room(max(lp.height(), min(vh, 200)))
	lx, vx := pdfMargin, pdfMargin+pdfLabelWidth+pdfColumnSpace
	if d.rtl {
		lx, vx = pdfMargin+width-pdfLabelWidth, pdfMargin
	}
	d.draw(lp, lx, pdfLabelWidth, d.y, false)
	top := d.y
	for _, vp := range vps {
		if d.y-vp.height() < pdfBottom {
			d.newPage()
			top = d.y
		}
		d.draw(vp, vx, valueWidth, d.y, false)
		d.y -= vp.height()
	}
	d.y = min(d.y, top-lp.height()) - 2
}

// rule draws a thin line across the page.
func (d *pdfDoc) rule() {
	d.room(8)
	fmt.Fprintf(d.page, "0.6 G 0.5 w %s %s m %s %s l S 0 G\n", num(pdfMargin), num(d.y-3), num(pageWidth-pdfMargin), num(d.y-3))
	d.y -= 10
}

// footers numbers the pages and dates them.
func (d *pdfDoc) footers(title, exported string) {
	width := pageWidth - 2*pdfMargin
	for i, page := range d.w.pages {
		d.page = page
		s := title + " · " + exported + " · " + d.t.T("export.pdf.page", "Page", i+1, "Pages", len(d.w.pages))
		d.draw(d.shape(s, styleFooter, width), pdfMargin, width, pdfFooter+styleFooter.size*1.4, true)
	}
}

// date writes a date in the reader's language.
func (d *pdfDoc) date(t time.Time) string {
	t = t.UTC()
	return d.t.T("format.date", "Day", t.Day(), "Month", d.t.T("month."+strconv.Itoa(int(t.Month()))), "Year", t.Year())
}

// validatedAsOf is the date of the last validated change to an entry: its
// own, its reconfirmation's, or a PoC's.
func validatedAsOf(e *directory.Entry) time.Time {
	var last time.Time
	for _, t := range []*time.Time{e.UpdatedAt, e.ConfirmedAt} {
		if t != nil && t.After(last) {
			last = *t
		}
	}
	for _, p := range e.PoCs {
		if p.UpdatedAt.After(last) {
			last = p.UpdatedAt
		}
	}
	return last
}

// writePDF lays out the entries as a printable A4 document in the reader's
// language: the directory, or one State's entry when what starts with
// "state/".
func (s *Service) writePDF(ctx context.Context, what string, entries []*directory.Entry, now time.Time) ([]byte, error) {
	lang := "en"
	if a := app.ActorFrom(ctx); a != nil && a.Language != "" && s.Catalog.Has(a.Language) {
		lang = a.Language
	}
	t := s.Catalog.For(lang)
	d, err := newPDFDoc(t)
	if err != nil {
		return nil, err
	}
	d.newPage()
	stateName := func(e *directory.Entry) string { return i18n.StateName(lang, e.ISO2, e.Name) }
	title := t.T("directory.title")
	if strings.HasPrefix(what, "state/") && len(entries) == 1 {
		title = stateName(entries[0])
	} else {
		d.para(title, styleTitle, 4)
		d.para(t.T("export.pdf.states", "Count", len(entries)), styleNote, 8)
	}
	for i, e := range entries {
		if i > 0 {
			d.room(140)
		}
		d.writeEntry(e, stateName(e))
	}
	exported := t.T("export.pdf.exported_on", "Date", d.date(now))
	d.footers(title, exported)
	return d.w.write(title, lang, d.rtl, now)
}

// writeEntry writes a State's entry: its name, the date it is validated
// as of, and its PoCs.
func (d *pdfDoc) writeEntry(e *directory.Entry, name string) {
	t := d.t
	d.room(80)
	d.para(name+" ("+e.Code+")", styleState, 2)
	if v := validatedAsOf(e); !v.IsZero() {
		d.para(t.T("export.pdf.validated_as_of", "Date", d.date(v)), styleNote, 0)
	}
	if e.ConfirmedAt != nil {
		d.para(t.T("field.confirmed_at")+" "+d.date(*e.ConfirmedAt), styleNote, 0)
	}
	if e.InitiateVia != "" {
		d.field(t.T("field.initiate_via"), e.InitiateVia)
	}
	d.y -= 4
	if len(e.PoCs) == 0 {
		d.para(t.T("state.no_pocs"), styleValue, 0)
	}
	for _, p := range e.PoCs {
		level := t.T("level." + string(p.Level))
		if p.Alternate {
			level += " · " + t.T("poc.alternate")
		}
		d.room(60)
		d.y -= 4
		d.para(level, styleLevel, 1)
		pairs := []struct{ label, value string }{
			{"field.agency", p.Agency}, {"field.function_title", p.FunctionTitle}, {"field.person_name", p.PersonName},
		}
		for _, f := range pairs {
			if f.value != "" {
				d.field(t.T(f.label), f.value)
			}
		}
		var channels []string
		for _, ch := range p.Channels {
			// The value is isolated (LRI … PDI) as written: a telephone
			// number's groups of digits keep their order in Arabic.
			c := t.T("channel."+string(ch.Kind)) + ": \u2066" + ch.Value + "\u2069"
			if ch.Preferred {
				c += " (" + t.T("poc.preferred") + ")"
			}
			channels = append(channels, c)
		}
		if len(channels) > 0 {
			d.field(t.T("field.channels"), channels...)
		}
		if len(p.Languages) > 0 {
			d.field(t.T("field.languages"), strings.Join(p.Languages, ", "))
		}
		if p.TimeZone != "" {
			d.field(t.T("field.time_zone"), p.TimeZone)
		}
		var hours []string
		if p.Available247 {
			hours = append(hours, t.T("poc.available_247"))
		}
		for _, h := range []string{p.Hours, p.WorkingHours} {
			if h != "" {
				hours = append(hours, h)
			}
		}
		if len(hours) > 0 {
			d.field(t.T("field.hours"), hours...)
		}
		if p.PGPFingerprint != "" {
			d.field(t.T("field.openpgp_fingerprint"), groupFingerprint(p.PGPFingerprint))
		}
	}
	d.y -= 6
	d.rule()
}

// strong says whether a text is right to left: whether its first letter
// of strong direction is Arabic or Hebrew; def when it has none.
func strong(text []rune, def bool) bool {
	for _, r := range text {
		switch {
		case unicode.In(r, unicode.Arabic, unicode.Hebrew, unicode.Syriac, unicode.Thaana, unicode.Nko):
			return true
		case unicode.IsLetter(r):
			return false
		}
	}
	return def
}

// groupFingerprint writes a fingerprint in groups of four, as it is read
// aloud to check it.
func groupFingerprint(fp string) string {
	var b strings.Builder
	for i, r := range fp {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
