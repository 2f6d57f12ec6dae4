package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/export"
)

// Communication checks: the campaigns, their results, answering in the
// portal, and the answer page that a one-time link opens without a login.

// checkAnswer shows what an answer link is about (GET never records: mail
// scanners follow links) with a button that answers.
func (s *Server) checkAnswer(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	var lc *checks.LinkCheck
	var err error
	if r.Method == http.MethodPost {
		lc, err = s.Checks.AnswerLink(r.Context(), token, s.clientIP(r))
	} else {
		lc, err = s.Checks.LookupLink(r.Context(), token, s.clientIP(r))
	}
	status := http.StatusOK
	pg := s.page(r, "check.answer_title", lc)
	if err != nil {
		status = s.errorStatus(r, err)
		pg.withError(err)
		pg.Data = (*checks.LinkCheck)(nil)
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.render(w, r, status, "check_answer.html", pg)
}

type checksData struct {
	Campaigns []*checks.Campaign
	// Older and Newer are the links to the pages of campaigns around this
	// one (query strings; empty at either end).
	Older, Newer template.URL
	Pending      []*checks.Target
	CanCreate    bool
	Trend        template.HTML
}

func canCreateCheck(a *app.Actor) bool {
	return a != nil && !a.ReadOnly && (a.IsSecretariat() || (a.Role == app.RoleFocalPoint && a.State != ""))
}

func (s *Server) checksPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	k, err := pageCursor(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := s.Checks.Campaigns(r.Context(), k, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pending, err := s.Checks.Pending(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a := app.ActorFrom(r.Context())
	p := s.page(r, "check.list_title", nil)
	d := &checksData{Campaigns: page.List, Older: pageLink(q, page.Older), Newer: pageLink(q, page.Newer), Pending: pending, CanCreate: canCreateCheck(a)}
	// The trend is the Secretariat's, above the first page of campaigns.
	if a.IsSecretariat() && k.IsZero() {
		trend, err := s.Checks.Trend(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Trend = trendChart(p, trend)
	}
	p.Data = d
	s.render(w, r, http.StatusOK, "checks.html", p)
}

// trendChart draws the share of PoCs that answered in time, campaign by
// campaign (Trend: the last checks.TrendLength).
func trendChart(p *Page, list []*checks.Campaign) template.HTML {
	if len(list) == 0 {
		return ""
	}
	const w, h, left, bottom, top = 640.0, 200.0, 36.0, 28.0, 10.0
	y := func(pct int) float64 { return top + (h-top-bottom)*(1-float64(pct)/100) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="trend-title" xmlns="http://www.w3.org/2000/svg">`, w, h)
	fmt.Fprintf(&b, `<title id="trend-title">%s</title>`, template.HTMLEscapeString(p.T("check.trend_title")))
	for _, v := range []int{0, 25, 50, 75, 100} {
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#dddddd"/><text x="%.0f" y="%.1f" text-anchor="end">%d%%</text>`,
			left, w, y(v), y(v), left-4, y(v)+3, v)
	}
	bw := (w - left) / float64(len(list))
	for i, c := range list {
		x := left + float64(i)*bw
		rate := c.Rate()
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#2c5d8f"><title>%s (%s): %d%%</title></rect>`,
			x+bw*0.15, y(rate), bw*0.7, y(0)-y(rate), template.HTMLEscapeString(c.Title), c.StartAt.Format("2006-01-02"), rate)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`, x+bw/2, h-10, c.StartAt.Format("01/06"))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

type checkFormData struct {
	Secretariat bool
	Scopes      []string
	Groups      []string
	Bodies      []string
	Levels      []directory.Level
	States      []*directory.Summary
}

func (s *Server) checkForm(w http.ResponseWriter, r *http.Request, status int, f map[string][]string, err error) {
	a := app.ActorFrom(r.Context())
	if !canCreateCheck(a) {
		s.fail(w, r, app.ErrForbidden())
		return
	}
	states, lerr := s.Directory.List(r.Context(), directory.Filter{})
	if lerr != nil {
		s.fail(w, r, lerr)
		return
	}
	pg := s.page(r, "check.new_title", &checkFormData{Secretariat: a.IsSecretariat(), Scopes: checks.Scopes, Groups: directory.Groups,
		Bodies: directory.Bodies, Levels: directory.Levels, States: states})
	pg.Form = f
	if err != nil {
		pg.withError(err)
	}
	s.render(w, r, status, "check_new.html", pg)
}

func (s *Server) checkNewForm(w http.ResponseWriter, r *http.Request) {
	s.checkForm(w, r, http.StatusOK, map[string][]string{"window_hours": {"72"}, "channel": {"email"}, "scope": {"all"}}, nil)
}

func (s *Server) checkNewSubmit(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 16<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	in := checks.Input{Title: f.Get("title"), Message: f.Get("message"), Scope: f.Get("scope"), Channel: f.Get("channel"),
		WindowHours: atoi(f.Get("window_hours")), StartAt: f.Get("start_at"), RepeatMonths: atoi(f.Get("repeat_months")), Counterpart: f.Get("counterpart")}
	// Each scope has its own field, so that the form works without script.
	switch in.Scope {
	case "group", "body", "level", "states":
		in.Value = f.Get("value_" + in.Scope)
	}
	c, err := s.Checks.Create(r.Context(), in)
	if err != nil {
		if e := app.AsError(err); e.Field == "value" {
			e.Field = "value_" + in.Scope
		}
		s.checkForm(w, r, s.errorStatus(r, err), f, err)
		return
	}
	s.done(w, r, "check.flash_created", "/checks/"+strconv.FormatInt(c.ID, 10))
}

type checkData struct {
	R         *checks.Results
	CanManage bool
	Running   bool
}

// checkResults loads the results of the campaign in the path through load
// (Results to show them, Export to take them away).
func (s *Server) checkResults(w http.ResponseWriter, r *http.Request, load func(context.Context, int64) (*checks.Results, error)) (*checks.Results, bool) {
	id, err := pathID(r, "id", "campaign")
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	res, err := load(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return res, true
}

func (s *Server) checkPage(w http.ResponseWriter, r *http.Request) {
	res, ok := s.checkResults(w, r, s.Checks.Results)
	if !ok {
		return
	}
	c := res.Campaign
	d := &checkData{R: res, CanManage: checks.CanManage(app.ActorFrom(r.Context()), c),
		Running: c.Status == checks.StatusRunning && c.Queued < c.Targets}
	if d.Running {
		// The page follows the dispatch's progress without script.
		w.Header().Set("Refresh", "5")
	}
	s.render(w, r, http.StatusOK, "check_campaign.html", s.page(r, "check.title", d))
}

// checkCSV exports a campaign's results, one line per PoC checked; the
// export is logged.
func (s *Server) checkCSV(w http.ResponseWriter, r *http.Request) {
	res, ok := s.checkResults(w, r, s.Checks.Export)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", export.CSVType)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="pocdir-check-%d.csv"`, res.Campaign.ID))
	cw := export.NewCSV(w)
	cw.Write([]string{"campaign", "state", "level", "agency", "channel", "address", "outcome", "queued_at", "answered_at", "answered_via", "seconds_to_answer"})
	stamp := func(t interface{ Format(string) string }, ok bool) string {
		if !ok {
			return ""
		}
		return t.Format("2006-01-02T15:04:05Z")
	}
	for _, t := range res.Targets {
		secs := ""
		if t.AnsweredAt != nil {
			secs = strconv.FormatInt(t.Seconds, 10)
		}
		row := []string{strconv.FormatInt(res.Campaign.ID, 10), t.State, t.Level, t.Agency, t.Channel, t.Address, t.Outcome,
			stamp(t.QueuedAt, t.QueuedAt != nil), stamp(t.AnsweredAt, t.AnsweredAt != nil), t.Via, secs}
		cw.Write(row)
	}
	cw.Flush()
}

func (s *Server) checkCancel(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "campaign")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.Checks.Cancel(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "check.flash_cancelled", "/checks/"+strconv.FormatInt(id, 10))
}

// checkTargetAnswer answers in the portal (a State's user) or records a
// call's outcome (manual channel).
func (s *Server) checkTargetAnswer(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "target")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := parseForm(w, r, 1<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	back := "/checks"
	switch r.PathValue("how") {
	case "answer":
		err = s.Checks.AnswerInPortal(r.Context(), id)
	case "manual":
		err = s.Checks.RecordManual(r.Context(), id, r.PostForm.Get("answered") == "1")
		if c := atoi(r.PostForm.Get("campaign")); c > 0 {
			back = "/checks/" + strconv.Itoa(c)
		}
	default:
		err = app.ErrNotFound("page")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "check.flash_answered", back)
}
