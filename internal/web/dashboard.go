package web

import (
	"bufio"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/export"
)

// The Secretariat's dashboard: figures, a world map of coverage and a chart
// of nominations over time, drawn here as SVG so that they need no script,
// print, and weigh little. Every figure also downloads as CSV.

//go:embed mapdata/world.txt
var worldTxt string

// mapShape is one State on the map: an outline, or a dot for the States too
// small to see at this scale.
type mapShape struct {
	path string
	x, y string
}

var worldShapes, worldLand = func() (map[string]mapShape, string) {
	shapes := map[string]mapShape{}
	land := ""
	sc := bufio.NewScanner(strings.NewReader(worldTxt))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), "\t", 3)
		if len(f) != 3 {
			continue
		}
		switch f[1] {
		case "path":
			shapes[f[0]] = mapShape{path: f[2]}
		case "dot":
			xy := strings.Fields(f[2])
			if len(xy) == 2 {
				shapes[f[0]] = mapShape{x: xy[0], y: xy[1]}
			}
		case "land":
			land = f[2]
		}
	}
	return shapes, land
}()

// Map colours: light to dark, and overdue hatched, so that the map reads in
// grey print too.
var freshFill = map[directory.Freshness]string{
	directory.FreshNone:    "#ffffff",
	directory.FreshCurrent: "#1d6b3a",
	directory.FreshDueSoon: "#e3a21a",
	directory.FreshOverdue: "url(#overdue)",
}

type dashboardData struct {
	D       *directory.Dashboard
	Map     template.HTML
	Chart   template.HTML
	Fresh   []freshRow
	Overdue []directory.StateFigures
	Volumes *volumesView
	Rates   *ratesView
}

type freshRow struct {
	F     directory.Freshness
	Count int
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) (*directory.Dashboard, bool) {
	d, err := s.Directory.Dashboard(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return d, true
}

func (s *Server) dashboardPage(w http.ResponseWriter, r *http.Request) {
	d, ok := s.dashboard(w, r)
	if !ok {
		return
	}
	vol, err := s.Comms.Volumes(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rates, err := s.Checks.AnswerRatesNewest(r.Context(), shownCampaigns)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "dashboard.title", nil)
	data := &dashboardData{D: d, Map: worldMap(p, d), Chart: timelineChart(p, d), Volumes: volumesOf(p, vol), Rates: ratesOf(p, rates)}
	counts := map[directory.Freshness]int{}
	for _, st := range d.States {
		counts[st.Freshness]++
		if st.Freshness == directory.FreshOverdue {
			data.Overdue = append(data.Overdue, st)
		}
	}
	for _, f := range []directory.Freshness{directory.FreshCurrent, directory.FreshDueSoon, directory.FreshOverdue, directory.FreshNone} {
		data.Fresh = append(data.Fresh, freshRow{F: f, Count: counts[f]})
	}
	p.Data = data
	zw, done := compressHarder(w, r)
	defer done()
	s.render(zw, r, http.StatusOK, "dashboard.html", p)
}

// worldMap draws every State of the directory, coloured by the freshness of
// its entry, each a link to the State's page with its name as title. The
// links are for the pointer only (tabindex -1): 195 tab stops had no way
// past them, and an inland State's focus ring was painted over by its
// neighbours; the keyboard reaches every State from the directory, and the
// overdue ones from the list below the map.
func worldMap(p *Page, d *directory.Dashboard) template.HTML {
	var b strings.Builder
	b.WriteString(`<svg class="map" viewBox="0 0 960 379" role="group" aria-labelledby="map-title" xmlns="http://www.w3.org/2000/svg">`)
	fmt.Fprintf(&b, `<title id="map-title">%s</title>`, template.HTMLEscapeString(p.T("dashboard.map_title")))
	b.WriteString(`<defs><pattern id="overdue" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f6d5d2"/><rect width="3" height="6" fill="#b3261e"/></pattern></defs>`)
	fmt.Fprintf(&b, `<path d="%s" fill="#e4e4e4" stroke="#ffffff" stroke-width="0.4"/>`, worldLand)
	var dots strings.Builder
	for _, st := range d.States {
		sh, ok := worldShapes[st.M49]
		if !ok {
			continue
		}
		label := template.HTMLEscapeString(p.StateName(st.ISO2, st.Name) + " — " + p.T("freshness."+string(st.Freshness)))
		fill := freshFill[st.Freshness]
		if sh.path != "" {
			fmt.Fprintf(&b, `<a href="/states/%s" data-state="%s" tabindex="-1"><title>%s</title><path d="%s" fill="%s" stroke="#555555" stroke-width="0.5"/></a>`,
				st.Code, st.Code, label, sh.path, fill)
		} else {
			fmt.Fprintf(&dots, `<a href="/states/%s" data-state="%s" tabindex="-1"><title>%s</title><circle cx="%s" cy="%s" r="3.2" fill="%s" stroke="#333333" stroke-width="0.8"/></a>`,
				st.Code, st.Code, label, sh.x, sh.y, fill)
		}
	}
	b.WriteString(dots.String()) // small States on top
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// timelineChart draws the number of States that had nominated, month by
// month, with the operational threshold.
func timelineChart(p *Page, d *directory.Dashboard) template.HTML {
	const w, h, left, bottom, top = 640.0, 220.0, 36.0, 28.0, 10.0
	months := d.Timeline
	max := d.Status.States
	if max == 0 {
		max = 1
	}
	y := func(v int) float64 { return top + (h-top-bottom)*(1-float64(v)/float64(max)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">`, w, h)
	fmt.Fprintf(&b, `<title id="chart-title">%s</title>`, template.HTMLEscapeString(p.T("dashboard.chart_title")))
	for _, v := range []int{0, 50, 100, 150, max} {
		if v > max {
			continue
		}
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#dddddd"/><text x="%.0f" y="%.1f" text-anchor="end">%d</text>`,
			left, w, y(v), y(v), left-4, y(v)+3, v)
	}
	if n := len(months); n > 0 {
		bw := (w - left) / float64(n)
		for i, m := range months {
			x := left + float64(i)*bw
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#2c5d8f"><title>%s: %d</title></rect>`,
				x+bw*0.15, y(m.States), bw*0.7, y(0)-y(m.States), m.Month, m.States)
			if i%3 == 0 || i == n-1 {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`, x+bw/2, h-10, m.Month)
			}
		}
	}
	t := d.Status.Threshold
	fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#b3261e" stroke-dasharray="6 3" stroke-width="1.5"/>`, left, w, y(t), y(t))
	fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" class="warn">%s</text>`, left+4, y(t)-4,
		template.HTMLEscapeString(p.T("dashboard.threshold", "Count", t)))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// dashboardCSV serves one figure of the dashboard as CSV.
func (s *Server) dashboardCSV(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var rows [][]string
	var err error
	switch name {
	case "communications-by-month.csv":
		rows, err = s.volumesCSV(r)
	case "check-answer-rates.csv":
		rows, err = s.ratesCSV(r)
	default:
		rows, err = s.directoryCSV(r, name)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// A copy of directory data that leaves pocdir is in the log.
	if err := s.Directory.Exported(r.Context(), "dashboard/"+name); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", export.CSVType)
	w.Header().Set("Content-Disposition", `attachment; filename="pocdir-`+name+`"`)
	export.NewCSV(w).WriteAll(rows)
}

// directoryCSV returns the rows of one of the directory's figures.
func (s *Server) directoryCSV(r *http.Request, name string) ([][]string, error) {
	d, err := s.Directory.Dashboard(r.Context())
	if err != nil {
		return nil, err
	}
	var rows [][]string
	itoa := strconv.Itoa
	coverage := func(list []directory.Coverage, first string) {
		rows = append(rows, []string{first, "states", "nominated", "with_technical_poc", "with_diplomatic_poc"})
		for _, c := range list {
			rows = append(rows, []string{c.Name, itoa(c.States), itoa(c.Nominated), itoa(c.Technical), itoa(c.Diplomatic)})
		}
	}
	switch name {
	case "coverage-un-groups.csv":
		coverage(d.ByGroup, "un_group")
	case "coverage-regional-bodies.csv":
		coverage(d.ByBody, "regional_body")
	case "nominations-over-time.csv":
		rows = append(rows, []string{"month", "states_nominated"})
		for _, m := range d.Timeline {
			rows = append(rows, []string{m.Month, itoa(m.States)})
		}
	case "states.csv":
		rows = append(rows, []string{"code", "m49", "name", "un_group", "regional_bodies", "pocs", "freshness", "due_date", "changes", "late_changes", "pending_nominations"})
		for _, st := range d.States {
			due := ""
			if st.DueAt != nil {
				due = st.DueAt.Format(time.DateOnly)
			}
			rows = append(rows, []string{st.Code, st.M49, st.Name, st.Group, strings.Join(st.Bodies, ";"), itoa(st.PoCs), string(st.Freshness), due,
				itoa(st.Changes), itoa(st.Late), itoa(st.Pending)})
		}
	case "summary.csv":
		rows = append(rows, []string{"figure", "value"},
			[]string{"states", itoa(d.Status.States)}, []string{"nominated", itoa(d.Status.Nominated)},
			[]string{"threshold", itoa(d.Status.Threshold)}, []string{"operational", strconv.FormatBool(d.Status.Operational)},
			[]string{"changes", itoa(d.Compliance.Changes)}, []string{"late_changes", itoa(d.Compliance.Late)},
			[]string{"pending_nominations", itoa(d.Pending)})
		for _, f := range []directory.Freshness{directory.FreshCurrent, directory.FreshDueSoon, directory.FreshOverdue} {
			rows = append(rows, []string{"freshness_" + string(f), itoa(d.Status.Fresh[f])})
		}
	default:
		return nil, app.ErrNotFound("page")
	}
	return rows, nil
}
