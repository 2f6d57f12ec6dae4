package web

import (
	"net/http"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/inbox"
)

// inboxPage is the page after sign-in: what waits for the user.
func (s *Server) inboxPage(w http.ResponseWriter, r *http.Request) {
	// An observer has no inbox (it never sees communications or checks):
	// its first page is the directory of the States granted to it.
	if app.ActorFrom(r.Context()).IsObserver() {
		seeOther(w, r, "/directory")
		return
	}
	in, err := s.Inbox.Page(r.Context(), r.URL.Query().Get("cursor"), 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &inboxData{Inbox: in}
	p := s.page(r, "inbox.title", d)
	p.inboxCount = &in.Count
	d.Rows = inboxRows(p, in.Items)
	s.render(w, r, http.StatusOK, "inbox.html", p)
}

type inboxData struct {
	*inbox.Inbox
	// Rows are the items as the page's lines show them.
	Rows []inboxRow
}

// inboxRow is an item of the inbox as its line shows it, its words put
// together in Go (see commRow): what is asked, the line below it, the
// State's name, the urgency, the time left.
type inboxRow struct {
	*inbox.Item
	// What is the link's words: what is asked.
	What string
	// The kind of line below it: a communication's reference (Note: the
	// stage followed up or the State to share with), a check's campaign, a
	// change (Change: its action, Awaiting: whose decision), a key, a
	// reset, an exercise.
	IsComm, IsCheck, IsChange, IsKey, IsReset, IsExercise bool
	Note, Change, Awaiting                                string
	StateName, UrgencyText, Left, When                    string
}

// inboxRows puts together the lines of the inbox.
func inboxRows(p *Page, items []*inbox.Item) []inboxRow {
	rows := make([]inboxRow, len(items))
	for i, it := range items {
		row := inboxRow{Item: it}
		if it.Kind == inbox.KindCommunication {
			row.What = p.T("inbox.need_" + it.Need)
		} else {
			row.What = p.T("inbox.kind_" + it.Kind)
		}
		switch it.Kind {
		case inbox.KindCommunication:
			row.IsComm = true
			switch it.Need {
			case comms.NeedFollowUp:
				row.Note = p.T("comm.stage_" + it.Detail)
			case comms.NeedConsent:
				row.Note = p.T("inbox.share_with", "State", p.NameOf(it.Detail))
			}
		case inbox.KindCheck:
			row.IsCheck = true
		case inbox.KindNomination, inbox.KindReturned:
			row.IsChange, row.Change = true, p.T("action."+it.Action)
			if it.Detail != "" {
				row.Awaiting = p.T("nomination.awaiting") + " " + p.T("nomination.awaiting_"+it.Detail)
			}
		case inbox.KindKey:
			row.IsKey = true
		case inbox.KindReset:
			row.IsReset = true
		case inbox.KindExerciseAgreement, inbox.KindExerciseConfirmation:
			row.IsExercise = true
		}
		if it.State != "" {
			row.StateName = p.NameOf(it.State)
		}
		if it.Urgency != "" {
			row.UrgencyText = p.T("comm.urgency_" + it.Urgency)
		}
		if it.Due != nil {
			row.Left, row.When = p.Left(it.Due), p.DateTime(it.Due)
		}
		rows[i] = row
	}
	return rows
}

// Left says how long remains until t, coarsely (hours under two days,
// else days), or that it has passed.
func (p *Page) Left(t *time.Time) string {
	if t == nil {
		return ""
	}
	left := t.Sub(p.now)
	switch {
	case left <= 0:
		return p.T("inbox.overdue")
	case left < 48*time.Hour:
		return p.T("inbox.left_hours", "Count", p.Num(int((left+time.Hour-1)/time.Hour)))
	}
	return p.T("inbox.left_days", "Count", p.Num(int(left/(24*time.Hour))))
}
