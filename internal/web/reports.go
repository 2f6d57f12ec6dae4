package web

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
)

// The Secretariat's reports on the dashboard (C12): how many
// communications the States sent, month by month, by kind and by UN
// regional group; and how many PoCs answered the Secretariat's
// communication checks in time, by UN regional group. Each is a picture
// drawn here as SVG, its figures as a table, and a CSV file. The pictures
// keep to a few elements (one path per series) so that the dashboard stays
// light, and take their colours and text from the stylesheet, so that
// their labels follow forced colours.

// shownCampaigns is how many campaigns the picture and table of answer
// rates show, the newest; the CSV file has them all.
const shownCampaigns = 12

// series is one colour of a stacked chart: a kind, a group, or exercises.
type series struct {
	Name  string // in the page's language
	Class string // its colour: s0 … s7, or ex (hatched) for exercises
}

// volumeRow is one month of a volume table: a count per series.
type volumeRow struct {
	Month  string
	Values []int
	Total  int
}

// volumeTable is a stacked chart of the volumes with its figures.
type volumeTable struct {
	ID     string
	Title  string
	Series []series
	Rows   []volumeRow
	Chart  template.HTML
}

// volumesView is the volumes as the dashboard shows them.
type volumesView struct {
	Tables          []*volumeTable
	Total, Exercise int
	From, To        string
}

// volumesOf arranges the counts by month and kind, and by month and UN
// regional group; every message of an exercise is counted apart, in a
// hatched series of its own. Nil when nothing was ever sent.
func volumesOf(p *Page, v *comms.Volumes) *volumesView {
	if len(v.Months) == 0 {
		return nil
	}
	lang := p.Lang()
	exercises := series{Name: p.T("dashboard.exercises"), Class: "ex"}
	byKind := &volumeTable{ID: "vk", Title: p.T("dashboard.volumes_by_kind")}
	kinds := map[string]int{}
	for _, k := range v.Kinds {
		if k.Slug != comms.ExerciseSlug {
			kinds[k.Slug] = len(byKind.Series)
			byKind.Series = append(byKind.Series, series{Name: k.Name.In(lang), Class: "s" + strconv.Itoa(len(byKind.Series)%8)})
		}
	}
	byKind.Series = append(byKind.Series, exercises)
	byGroup := &volumeTable{ID: "vg", Title: p.T("dashboard.volumes_by_group")}
	groups := map[string]int{}
	for i, g := range directory.Groups {
		groups[g] = i
		byGroup.Series = append(byGroup.Series, series{Name: p.T("group." + g), Class: "s" + strconv.Itoa(i)})
	}
	byGroup.Series = append(byGroup.Series, exercises)
	months := map[string]int{}
	for i, m := range v.Months {
		months[m] = i
		byKind.Rows = append(byKind.Rows, volumeRow{Month: m, Values: make([]int, len(byKind.Series))})
		byGroup.Rows = append(byGroup.Rows, volumeRow{Month: m, Values: make([]int, len(byGroup.Series))})
	}
	view := &volumesView{Tables: []*volumeTable{byKind, byGroup}, From: v.Months[0], To: v.Months[len(v.Months)-1]}
	for _, c := range v.Counts {
		m, ok := months[c.Month]
		if !ok {
			continue
		}
		k, g := len(byKind.Series)-1, len(byGroup.Series)-1
		if c.Exercise {
			view.Exercise += c.Count
		} else {
			kk, ok1 := kinds[c.Kind]
			gg, ok2 := groups[c.Group]
			if !ok1 || !ok2 {
				continue // not a template or a group of the report: cannot happen
			}
			k, g = kk, gg
		}
		view.Total += c.Count
		byKind.Rows[m].Values[k] += c.Count
		byKind.Rows[m].Total += c.Count
		byGroup.Rows[m].Values[g] += c.Count
		byGroup.Rows[m].Total += c.Count
	}
	for _, t := range view.Tables {
		t.Chart = stackedChart(p, t)
	}
	return view
}

// niceStep returns a step of 1, 2 or 5 times a power of ten that divides
// max into at most four.
func niceStep(max int) int {
	step := 1
	for {
		for _, f := range []int{1, 2, 5} {
			if max <= 4*step*f {
				return step * f
			}
		}
		step *= 10
	}
}

// bars writes bars standing on a line as one path: each a subpath that
// starts at its bottom left corner, the next one moved to relative to it,
// in whole units, so that the path data is short and repeats.
type bars struct {
	d     strings.Builder
	x, y  int
	drawn bool
}

func (b *bars) add(x, bottom, w, h int) {
	if h <= 0 {
		return
	}
	if !b.drawn {
		fmt.Fprintf(&b.d, "M%d %d", x, bottom)
	} else {
		fmt.Fprintf(&b.d, "m%d %d", x-b.x, bottom-b.y)
	}
	fmt.Fprintf(&b.d, "h%dv-%dh-%dz", w, h, w)
	b.x, b.y, b.drawn = x, bottom, true
}

// stackedChart draws a table's months as stacked bars: one path per
// series, the exercises hatched on top.
func stackedChart(p *Page, t *volumeTable) template.HTML {
	const w, h, left, bottom, top = 640, 200, 40, 22, 8
	max := 1
	for _, r := range t.Rows {
		max = maxInt(max, r.Total)
	}
	step := niceStep(max)
	ceil := (max + step - 1) / step * step
	y := func(v int) int { return top + int(math.Round(float64(h-top-bottom)*(1-float64(v)/float64(ceil)))) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t" xmlns="http://www.w3.org/2000/svg"><title id="%s-t">%s</title>`,
		w, h, t.ID, t.ID, template.HTMLEscapeString(t.Title))
	fmt.Fprintf(&b, `<defs><pattern id="%s-x" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="2" height="5" fill="#6b3fa0"/></pattern></defs>`, t.ID)
	b.WriteString(`<path class="grid" d="`)
	for v := 0; v <= ceil; v += step {
		fmt.Fprintf(&b, `M%d %dH%d`, left, y(v), w)
	}
	b.WriteString(`"/>`)
	for v := 0; v <= ceil; v += step {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, left-4, y(v)+3, p.Num(v))
	}
	bw := float64(w-left) / float64(len(t.Rows))
	barW := int(math.Round(bw * 0.7))
	base := make([]int, len(t.Rows))
	for s, se := range t.Series {
		var path bars
		for i, r := range t.Rows {
			v := r.Values[s]
			if v == 0 {
				continue
			}
			path.add(left+int(math.Round(float64(i)*bw+bw*0.15)), y(base[i]), barW, y(base[i])-y(base[i]+v))
			base[i] += v
		}
		switch {
		case !path.drawn:
		case se.Class == "ex":
			fmt.Fprintf(&b, `<path class="b ex" fill="url(#%s-x)" d="%s"/>`, t.ID, path.d.String())
		default:
			fmt.Fprintf(&b, `<path class="b %s" d="%s"/>`, se.Class, path.d.String())
		}
	}
	every := (len(t.Rows) + 11) / 12
	for i, r := range t.Rows {
		if i%every == 0 {
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`, left+int(math.Round(float64(i)*bw+bw/2)), h-6, r.Month)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// rateRow is a campaign's answer rates: overall, then by group.
type rateRow struct {
	ID    int64
	Title string
	Start time.Time
	Cells []checks.Tally
}

// ratesView is the answer rates as the dashboard shows them: the newest
// campaigns, and their tallies added up.
type ratesView struct {
	Groups []string
	Rows   []rateRow
	Pooled []checks.Tally
	Chart  template.HTML
}

// ratesOf keeps the newest campaigns and adds them up; nil when none ran.
func ratesOf(p *Page, r *checks.Rates) *ratesView {
	list := r.Campaigns
	if len(list) == 0 {
		return nil
	}
	if len(list) > shownCampaigns {
		list = list[len(list)-shownCampaigns:]
	}
	v := &ratesView{Groups: directory.Groups, Pooled: make([]checks.Tally, len(directory.Groups)+1)}
	for _, c := range list {
		row := rateRow{ID: c.Campaign.ID, Title: c.Campaign.Title, Start: c.Campaign.StartAt, Cells: []checks.Tally{c.Campaign.Tally}}
		for _, g := range c.ByGroup {
			row.Cells = append(row.Cells, g.Tally)
		}
		for i, t := range row.Cells {
			v.Pooled[i] = addTally(v.Pooled[i], t)
		}
		v.Rows = append(v.Rows, row)
	}
	v.Chart = ratesChart(p, v)
	return v
}

func addTally(a, b checks.Tally) checks.Tally {
	return checks.Tally{Targets: a.Targets + b.Targets, Queued: a.Queued + b.Queued, Answered: a.Answered + b.Answered,
		Late: a.Late + b.Late, Bounced: a.Bounced + b.Bounced, Silent: a.Silent + b.Silent}
}

// ratesChart draws small multiples: a strip per region (all States first),
// a bar per campaign, the oldest on the left, against a band that stands
// for 100 %; each strip is named with the region's rate over the campaigns
// shown. Names sit above their strip, over the whole width, so that the
// longest (in Russian) fits.
func ratesChart(p *Page, v *ratesView) template.HTML {
	const w, rowH, strip, gap = 640, 48, 28, 16
	names := []string{p.T("dashboard.rates_all")}
	for _, g := range v.Groups {
		names = append(names, p.T("group."+g))
	}
	h := rowH*len(names) + 14
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="rt-t" xmlns="http://www.w3.org/2000/svg"><title id="rt-t">%s</title>`,
		w, h, template.HTMLEscapeString(p.T("dashboard.rates_chart")))
	bw := float64(w) / float64(len(v.Rows))
	barW := int(math.Round(bw * 0.7))
	var bands strings.Builder
	var path bars
	// The names start where the reader's lines start: on the right in
	// Arabic.
	x, anchor := 2, ""
	if p.Dir() == "rtl" {
		x, anchor = w-2, ` text-anchor="end"`
	}
	for k, name := range names {
		y0 := k * rowH
		label := p.T("dashboard.rate_of", "Name", name, "Rate", p.Num(v.Pooled[k].Rate()))
		if v.Pooled[k].Targets == 0 {
			label = p.T("dashboard.rate_none", "Name", name)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d"%s>%s</text>`, x, y0+12, anchor, template.HTMLEscapeString(label))
		fmt.Fprintf(&bands, `M0 %dh%dv%dh-%dz`, y0+gap, w, strip, w)
		for i, row := range v.Rows {
			if t := row.Cells[k]; t.Targets > 0 {
				// A rate of nought is a line, where no PoC checked is nothing.
				bh := maxInt(int(math.Round(strip*float64(t.Answered)/float64(t.Targets))), 1)
				path.add(int(math.Round(float64(i)*bw+bw*0.15)), y0+gap+strip, barW, bh)
			}
		}
	}
	fmt.Fprintf(&b, `<path class="band" d="%s"/><path class="b s0" d="%s"/>`, bands.String(), path.d.String())
	// A date is some 60 units wide: the first and the last keep within
	// the picture.
	every := (len(v.Rows) + 5) / 6
	for i, row := range v.Rows {
		if i%every != 0 {
			continue
		}
		x, anchor := float64(i)*bw+bw/2, "middle"
		switch {
		case x < 32:
			x, anchor = float64(i)*bw+bw*0.15, "start"
		case x > w-32:
			x, anchor = float64(i)*bw+bw*0.85, "end"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="%s">%s</text>`, int(math.Round(x)), h-3, anchor, row.Start.Format(time.DateOnly))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// volumesCSV lists the counts of communications sent: one line per month,
// sender's UN regional group, kind, and whether it belongs to an exercise.
func (s *Server) volumesCSV(r *http.Request) ([][]string, error) {
	v, err := s.Comms.Volumes(r.Context())
	if err != nil {
		return nil, err
	}
	rows := [][]string{{"month", "un_group", "kind", "exercise", "communications"}}
	for _, c := range v.Counts {
		rows = append(rows, []string{c.Month, c.Group, c.Kind, strconv.FormatBool(c.Exercise), strconv.Itoa(c.Count)})
	}
	return rows, nil
}

// ratesCSV lists the answers to each of the Secretariat's campaigns that
// ran, oldest first: a line for all its targets, then one per UN regional
// group; the last lines add every campaign up.
func (s *Server) ratesCSV(r *http.Request) ([][]string, error) {
	rates, err := s.Checks.AnswerRates(r.Context())
	if err != nil {
		return nil, err
	}
	itoa := strconv.Itoa
	rows := [][]string{{"campaign_id", "campaign", "start", "status", "un_group", "targets", "answered_in_time", "late", "bounced", "no_answer", "answer_rate_percent"}}
	add := func(id, title, start, status, group string, t checks.Tally) {
		rows = append(rows, []string{id, title, start, status, group, itoa(t.Targets), itoa(t.Answered), itoa(t.Late), itoa(t.Bounced), itoa(t.Silent), itoa(t.Rate())})
	}
	for _, cr := range rates.Campaigns {
		c := cr.Campaign
		id, start := strconv.FormatInt(c.ID, 10), c.StartAt.Format(time.DateOnly)
		add(id, c.Title, start, c.Status, "all", c.Tally)
		for _, g := range cr.ByGroup {
			add(id, c.Title, start, c.Status, g.Name, g.Tally)
		}
	}
	add("all", "", "", "", "all", rates.Tally)
	for _, g := range rates.ByGroup {
		add("all", "", "", "", g.Name, g.Tally)
	}
	return rows, nil
}
