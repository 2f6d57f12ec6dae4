package web

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/export"
)

// The Secretariat's view of capacity-building progress: needs open,
// matched and met by UN regional group, how long help takes, and the
// action plan's measures against their targets; as pictures drawn here
// as SVG (as the dashboard's are), tables, and CSV for the annual report.
// The action plan is kept here too.

// hbar is one row of a horizontal bar chart: values stacked in series
// s0, s1 …, against a band as long as the target (0: none).
type hbar struct {
	Name   string
	Values []int
	Target int
}

type progressData struct {
	*capacity.Progress
	RegionChart  template.HTML
	MeasureChart template.HTML
	Kinds        []string
	CanManage    bool
}

func (s *Server) capacityProgressPage(w http.ResponseWriter, r *http.Request) {
	pr, err := s.Capacity.Progress(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &progressData{Progress: pr, Kinds: capacity.Kinds, CanManage: capacity.CanManage(app.ActorFrom(r.Context()))}
	p := s.page(r, "capacity.progress_title", d)
	var rows []hbar
	for _, g := range pr.Regions {
		rows = append(rows, hbar{Name: p.T("group." + g.Group), Values: []int{g.Open, g.Matched, g.Met}})
	}
	d.RegionChart = hbarChart(p, "cr", p.T("capacity.chart_regions"), rows)
	if pr.Plan != nil && len(pr.Plan.Measures) > 0 {
		rows = nil
		for _, m := range pr.Plan.Measures {
			rows = append(rows, hbar{Name: m.Title, Values: []int{m.Done, m.Planned}, Target: m.Target})
		}
		d.MeasureChart = hbarChart(p, "cm", p.T("capacity.chart_measures"), rows)
	}
	s.render(w, r, http.StatusOK, "capacity_progress.html", p)
}

// hbarChart draws a row per entry, its name above it over the whole width
// (so that the longest, in Russian, fits), its values stacked from the
// start of the reader's lines, against a band for its target. One path
// per series keeps the picture light.
func hbarChart(p *Page, id, title string, rows []hbar) template.HTML {
	const w, rowH, strip, gap = 640, 40, 18, 16
	max := 1
	for _, r := range rows {
		sum := 0
		for _, v := range r.Values {
			sum += v
		}
		max = maxInt(max, maxInt(sum, r.Target))
	}
	h := rowH*len(rows) + 4
	rtl := p.Dir() == "rtl"
	x := func(v int) int { return int(math.Round(float64(w-4) * float64(v) / float64(max))) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t" xmlns="http://www.w3.org/2000/svg"><title id="%s-t">%s</title>`,
		w, h, id, id, template.HTMLEscapeString(title))
	var bands strings.Builder
	paths := make([]bars, 3)
	tx, anchor := 2, ""
	if rtl {
		tx, anchor = w-2, ` text-anchor="end"`
	}
	for k, r := range rows {
		y0 := k * rowH
		sum := 0
		for _, v := range r.Values {
			sum += v
		}
		label := p.T("capacity.chart_row", "Name", r.Name, "Count", p.Num(sum))
		if r.Target > 0 {
			label = p.T("capacity.chart_row_target", "Name", r.Name, "Count", p.Num(r.Values[0]), "Target", p.Num(r.Target))
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d"%s>%s</text>`, tx, y0+12, anchor, template.HTMLEscapeString(label))
		if r.Target > 0 {
			bx := 2
			if rtl {
				bx = w - 2 - x(r.Target)
			}
			fmt.Fprintf(&bands, `M%d %dh%dv%dh-%dz`, bx, y0+gap, x(r.Target), strip, x(r.Target))
		}
		at := 0
		for s, v := range r.Values {
			if v == 0 || s >= len(paths) {
				continue
			}
			bx := 2 + x(at)
			if rtl {
				bx = w - 2 - x(at+v)
			}
			paths[s].add(bx, y0+gap+strip, x(at+v)-x(at), strip)
			at += v
		}
	}
	if bands.Len() > 0 {
		fmt.Fprintf(&b, `<path class="band" d="%s"/>`, bands.String())
	}
	for s := range paths {
		if paths[s].drawn {
			fmt.Fprintf(&b, `<path class="b s%d" d="%s"/>`, s, paths[s].d.String())
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// capacityCSV serves one of the progress figures as CSV; the export is
// logged.
func (s *Server) capacityCSV(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	pr, err := s.Capacity.Progress(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	itoa := strconv.Itoa
	var rows [][]string
	switch name {
	case "needs-by-region.csv":
		rows = append(rows, []string{"un_group", "needs_open", "needs_matched", "needs_met"})
		for _, g := range pr.Regions {
			rows = append(rows, []string{g.Group, itoa(g.Open), itoa(g.Matched), itoa(g.Met)})
		}
	case "activities-per-measure.csv":
		rows = append(rows, []string{"plan", "period_from", "period_to", "measure", "kind", "target", "activities_planned", "activities_done"})
		if pr.Plan != nil {
			for _, m := range pr.Plan.Measures {
				rows = append(rows, []string{pr.Plan.Title, pr.Plan.PeriodFrom, pr.Plan.PeriodTo, m.Title, m.Kind, itoa(m.Target), itoa(m.Planned), itoa(m.Done)})
			}
		}
	case "summary.csv":
		rows = append(rows, []string{"figure", "value"}, []string{"needs_matched", itoa(pr.Matched)}, []string{"activities_done", itoa(pr.Done)},
			[]string{"median_days_need_to_match", itoa(pr.DaysToMatch)}, []string{"median_days_match_to_done", itoa(pr.DaysToDone)})
	case "activities.csv":
		// Every activity the reader sees, a page after another.
		var acts []*capacity.Activity
		for k := (app.Cursor{}); ; {
			page, err := s.Capacity.Activities(r.Context(), k, app.MaxPageSize)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			acts = append(acts, page.List...)
			if page.Older == nil {
				break
			}
			k = *page.Older
		}
		rows = append(rows, []string{"activity_id", "need_state", "offer_state", "partner", "kind", "status", "starts_on", "ends_on", "participants", "measure_id", "done_at"})
		for _, x := range acts {
			done := ""
			if x.DoneAt != nil {
				done = x.DoneAt.Format(time.DateOnly)
			}
			rows = append(rows, []string{strconv.FormatInt(x.ID, 10), x.NeedState, x.OfferState, x.Partner, x.Kind, x.Status, x.StartsOn, x.EndsOn,
				itoa(x.Participants), strconv.FormatInt(x.MeasureID, 10), done})
		}
	default:
		s.fail(w, r, app.ErrNotFound("page"))
		return
	}
	if err := s.Capacity.Exported(r.Context(), name); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", export.CSVType)
	w.Header().Set("Content-Disposition", `attachment; filename="pocdir-capacity-`+name+`"`)
	export.NewCSV(w).WriteAll(rows)
}

func (s *Server) planSubmit(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 8<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	var measures []capacity.MeasureInput
	if t := strings.TrimSpace(f.Get("measure_title")); t != "" {
		measures = append(measures, capacity.MeasureInput{Title: t, Kind: f.Get("measure_kind"), Target: atoi(f.Get("measure_target"))})
	}
	if _, err := s.Capacity.CreatePlan(r.Context(), capacity.PlanInput{Title: f.Get("title"), PeriodFrom: f.Get("period_from"), PeriodTo: f.Get("period_to")}, measures); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "capacity.flash_plan", "/capacity/progress")
}

func (s *Server) measureSubmit(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 8<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	if _, err := s.Capacity.AddMeasure(r.Context(), capacity.MeasureInput{Title: f.Get("measure_title"), Kind: f.Get("measure_kind"), Target: atoi(f.Get("measure_target"))}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "capacity.flash_measure", "/capacity/progress")
}
