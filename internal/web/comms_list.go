package web

import (
	"html/template"
	"net/http"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
)

// The list and search of communications, and where each stands with each
// State it reached.

type commsData struct {
	List []*comms.Communication
	// Rows are List as its lines show it.
	Rows []commRow
	// Older and Newer are the links to the pages around this one (query
	// strings), empty at either end.
	Older, Newer template.URL
	Box          string
	Query        string
	From         string
	To           string
	Stage        string
	Stages       []string
	Member       bool
	// Overview counts the recipients' lines by stage (the Secretariat).
	Overview map[string]int
	Sent     int
}

// commRow is a communication as a line of the list shows it, its names,
// date and stages put together in Go: a page of fifty spent most of its
// time in the template's calls, a dozen for each State a line reached.
type commRow struct {
	*comms.Communication
	Sender, To, When string
	Progress         []progressLine
}

// progressLine is where a communication stands with one State.
type progressLine struct {
	State, Stage string
	Class        string // "bad", "ok" or empty
}

// commRows puts together the lines of a list of communications.
func commRows(p *Page, list []*comms.Communication) []commRow {
	rows := make([]commRow, len(list))
	for i, c := range list {
		row := commRow{Communication: c, Sender: p.NameOf(c.SenderState), To: p.NamesOf(c.ToStates)}
		if c.SentAt != nil {
			row.When = p.DateTime(c.SentAt)
		} else {
			row.When = p.DateTime(c.UpdatedAt)
		}
		for _, l := range byState(c) {
			line := progressLine{State: p.NameOf(l.State), Stage: p.T("comm.stage_" + l.Stage)}
			switch l.Stage {
			case "disputed", "more-info", "bounced":
				line.Class = "bad"
			case "acknowledged", "responded":
				line.Class = "ok"
			}
			row.Progress = append(row.Progress, line)
		}
		rows[i] = row
	}
	return rows
}

// commStages are the stages a list can be filtered by, in order.
var commStages = []string{"notified", "delivered", "bounced", "opened", "acknowledged", "responded", "declined", "disputed", "more-info"}

func (s *Server) commsPage(w http.ResponseWriter, r *http.Request) {
	a := app.ActorFrom(r.Context())
	q := r.URL.Query()
	f := comms.Filter{Query: q.Get("q"), Stage: q.Get("stage"), Box: q.Get("box"), StagesOnly: true}
	if t, err := time.Parse(time.DateOnly, q.Get("from")); err == nil {
		f.From = t
	}
	if t, err := time.Parse(time.DateOnly, q.Get("to")); err == nil {
		f.To = t.AddDate(0, 0, 1)
	}
	var err error
	if f.Cursor, err = pageCursor(q); err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := s.Comms.CommsPage(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &commsData{List: page.List, Older: pageLink(q, page.Older), Newer: pageLink(q, page.Newer), Box: f.Box, Query: f.Query, From: q.Get("from"), To: q.Get("to"), Stage: f.Stage, Stages: commStages,
		Member: a.State != "" && !a.IsSecretariat()}
	if a.IsSecretariat() {
		sum, err := s.Comms.Overview(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Overview, d.Sent = sum.ByStage, sum.Sent
	}
	p := s.page(r, "comm.list_title", d)
	d.Rows = commRows(p, page.List)
	s.render(w, r, http.StatusOK, "comms.html", p)
}

// stateLine is a recipient State at a glance: how far its furthest PoC got.
type stateLine struct {
	State string
	Stage string
	Lines []*comms.Recipient
}

var stageRank = map[string]int{"pending": 0, "moved": 0, "notified": 1, "bounced": 1, "delivered": 2, "opened": 3, "acknowledged": 4,
	"more-info": 5, "declined": 5, "disputed": 5, "responded": 5}

// byState groups a communication's recipient lines by State (or, in a
// list read with their stages only, their stages).
func byState(c *comms.Communication) []stateLine {
	var out []stateLine
	idx := map[string]int{}
	add := func(state, stage string, r *comms.Recipient) {
		i, ok := idx[state]
		if !ok {
			i = len(out)
			idx[state] = i
			out = append(out, stateLine{State: state, Stage: "pending"})
		}
		if r != nil {
			out[i].Lines = append(out[i].Lines, r)
		}
		if stageRank[stage] > stageRank[out[i].Stage] || (stageRank[stage] == stageRank[out[i].Stage] && stage != "moved") {
			out[i].Stage = stage
		}
	}
	for _, r := range c.Recipients {
		add(r.State, r.Stage(), r)
	}
	for _, l := range c.Stages {
		add(l.State, l.Stage, nil)
	}
	return out
}
