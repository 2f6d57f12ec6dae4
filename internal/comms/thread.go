package comms

import (
	"context"
	"slices"
	"strings"

	"github.com/pocdir/pocdir/internal/app"
)

// Thread returns an exchange as the actor may see it: the communications
// it may read and the events that concern its State. The Secretariat sees
// metadata and no notes.
func (s *Service) Thread(ctx context.Context, id int64) (*Thread, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.visible(ctx, a, id)
	if err != nil {
		return nil, err
	}
	t := &Thread{ID: c.ThreadID}
	if c.ThreadID == 0 {
		return t, nil
	}
	ids, err := threadIDs(ctx, s.DB, c.ThreadID, a.State)
	if err != nil {
		return nil, err
	}
	visible := map[int64]*Communication{}
	for _, cid := range ids {
		x := c
		if cid != c.ID {
			if x, err = s.load(ctx, cid); err != nil {
				return nil, err
			}
			if err := s.fill(ctx, a, x); err != nil {
				if app.ErrorCode(err) == app.NotFound {
					continue
				}
				return nil, err
			}
		}
		visible[cid] = x
		t.Comms = append(t.Comms, x)
	}
	evs, err := threadEvents(ctx, s.DB, c.ThreadID)
	if err != nil {
		return nil, err
	}
	requester := map[int64]string{} // consent request → the State that asked
	for _, e := range evs {
		if e.Kind == EvConsentRequested {
			requester[e.ID] = e.State
		}
	}
	for _, e := range evs {
		x := visible[e.CommID]
		if x == nil {
			continue
		}
		// Sharing with a third State concerns the sender State and the
		// State that asked, no other recipient, and not the Secretariat.
		switch e.Kind {
		case EvConsentRequested, EvConsentGranted, EvConsentRefused, EvForwarded:
			if x.Viewer.Metadata {
				continue
			}
			asker := e.State
			if e.Kind == EvConsentGranted || e.Kind == EvConsentRefused {
				asker = requester[e.RefID]
			}
			if x.Viewer.Recipient && asker != a.State {
				continue
			}
		}
		// A recipient State sees its own acts and the sender's; the sender
		// sees all; the Secretariat sees every act without its note.
		if x.Viewer.Recipient && e.State != a.State && e.State != x.SenderState && e.Target != a.State {
			continue
		}
		if !x.Viewer.Metadata && e.sealed != "" {
			b, err := s.seal.Open(noteAAD(e.ID), e.sealed)
			if err != nil {
				return nil, err
			}
			e.Note = string(b)
		}
		if x.Viewer.Metadata {
			e.Actor = ""
		}
		t.Events = append(t.Events, e)
	}
	return t, nil
}

// Comms returns the first page of the actor's State's communications
// (CommsPage): the newest, filtered.
func (s *Service) Comms(ctx context.Context, f Filter) ([]*Communication, error) {
	p, err := s.CommsPage(ctx, f)
	if err != nil {
		return nil, err
	}
	return p.List, nil
}

// CommPage is one page of a list of communications, newest first.
type CommPage struct {
	List []*Communication
	// Older is the cursor of the page after this one (older
	// communications), nil at the end of the list; Newer that of the page
	// before it (After set), nil on the first page. A Newer that is zero
	// is the first page.
	Older, Newer *app.Cursor
}

// scanBatch is how many rows a filtered list reads at a time, and maxScan
// how many a page examines at most: a search that matches little answers
// with a shorter page and a cursor to go on from, rather than reading ten
// years of communications in one request.
const (
	scanBatch = 100
	maxScan   = 1000
)

// CommsPage returns a page of the actor's State's communications (sent,
// received, drafts), newest first, filtered, of f.Limit (app.PageSize when
// zero) from f.Cursor; the Secretariat gets every sent communication's
// metadata and can filter only by date.
func (s *Service) CommsPage(ctx context.Context, f Filter) (*CommPage, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() && a.State == "" {
		return nil, app.ErrForbidden()
	}
	var v app.Validation
	if len([]rune(f.Query)) > 200 {
		v.Add("q", "error.too_long", "too long", map[string]any{"Max": 200})
	}
	if f.Stage != "" && !inList(Stages, f.Stage) {
		v.Add("stage", "error.comms_stage", "unknown stage", nil)
	}
	if f.Limit < 0 || f.Limit > app.MaxPageSize {
		v.Add("limit", "error.page_limit", "give a number from 1 to {{.Max}}", map[string]any{"Max": app.MaxPageSize})
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit == 0 {
		limit = app.PageSize
	}
	box := f.Box
	if a.IsSecretariat() {
		box = "all-sent" // every sent communication's metadata
	}
	// The Secretariat cannot search what it cannot read: its query is
	// ignored, never answered from content.
	query := strings.ToLower(strings.TrimSpace(f.Query))
	if a.IsSecretariat() {
		query = ""
	}
	filtered := query != "" || f.Stage != ""
	// Rows are read in the walk's order (older, or newer with After) until
	// the page and one more are found, the rows run out, or maxScan rows
	// were examined.
	var out []*Communication
	k, scanned, more, capped := f.Cursor, 0, false, false
	for {
		n := limit + 1 - len(out)
		if filtered {
			n = scanBatch
		}
		list, err := listComms(ctx, s.DB, a.State, box, f.From, f.To, k, n)
		if err != nil {
			return nil, err
		}
		if err := s.fillList(ctx, a, list, f.StagesOnly); err != nil {
			return nil, err
		}
		for _, c := range list {
			if (query != "" && (c.Content == nil || !c.Content.matches(query))) || (f.Stage != "" && !hasStage(c, f.Stage)) {
				continue
			}
			out = append(out, c)
			if len(out) > limit {
				break
			}
		}
		scanned += len(list)
		if len(out) > limit {
			more, out = true, out[:limit]
			break
		}
		if len(list) < n {
			break
		}
		k = app.Cursor{At: list[len(list)-1].CreatedAt, ID: list[len(list)-1].ID, After: f.Cursor.After}
		if scanned >= maxScan {
			more, capped = true, true
			break
		}
	}
	// next is where the following page in the walk's direction begins: after
	// the last row shown, or, when the reading stopped at maxScan, after the
	// last row examined.
	var next *app.Cursor
	if more {
		next = &k
		if !capped {
			x := app.CursorAt(out[len(out)-1].CreatedAt, out[len(out)-1].ID)
			next = &x
		}
	}
	if f.Cursor.After {
		slices.Reverse(out)
	}
	p := &CommPage{List: out}
	var first, last *app.Cursor
	if len(out) > 0 {
		x, y := app.CursorAt(out[0].CreatedAt, out[0].ID), app.CursorAt(out[len(out)-1].CreatedAt, out[len(out)-1].ID)
		first, last = &x, &y
	}
	p.Older, p.Newer = app.Around(f.Cursor, first, last, next)
	if p.List == nil {
		p.List = []*Communication{}
	}
	return p, nil
}

// fillList is fill for a list: the query already kept what the actor may
// see, the recipients of all are read in a few queries (their States and
// stages only when stagesOnly), and attachments are left for the
// communication's own page.
func (s *Service) fillList(ctx context.Context, a *app.Actor, list []*Communication, stagesOnly bool) error {
	byID := map[int64]*Communication{}
	// A recipient State sees its own lines only: only those are read.
	var all, own []int64
	for _, c := range list {
		view(a, c)
		byID[c.ID] = c
		if c.Viewer.Recipient {
			own = append(own, c.ID)
		} else {
			all = append(all, c.ID)
		}
	}
	// visible is the communication cid when the actor sees its lines of
	// State st.
	visible := func(cid int64, st string) *Communication {
		if c := byID[cid]; c != nil && (!c.Viewer.Recipient || st == a.State) {
			return c
		}
		return nil
	}
	read := func(state string, ids []int64) error {
		if stagesOnly {
			return stagesOfMany(ctx, s.DB, state, ids, func(cid int64, l LineStage) {
				if c := visible(cid, l.State); c != nil {
					c.Stages = append(c.Stages, l)
				}
			})
		}
		return recipientsOfMany(ctx, s.DB, state, ids, func(cid int64, r *Recipient) {
			if c := visible(cid, r.State); c != nil {
				c.Recipients = append(c.Recipients, r)
			}
		})
	}
	if err := read("", all); err != nil {
		return err
	}
	if err := read(a.State, own); err != nil {
		return err
	}
	return s.fillHeads(ctx, list)
}

// view says who the actor is to c (sender, recipient or the Secretariat's
// view of metadata), before c's recipients are read.
func view(a *app.Actor, c *Communication) {
	c.Viewer = Viewer{Sender: a.State != "" && a.State == c.SenderState, Metadata: a.IsSecretariat()}
	c.Viewer.Recipient = !c.Viewer.Sender && !c.Viewer.Metadata
	c.Recipients = []*Recipient{}
}

// fillHeads gives each communication of list, viewed, its template's name
// and its content as its viewer may see it.
func (s *Service) fillHeads(ctx context.Context, list []*Communication) error {
	for _, c := range list {
		if tpl, err := s.templateAt(ctx, c.TemplateID, c.TemplateVersion); err == nil {
			c.TemplateSlug, c.TemplateName = tpl.Slug, tpl.Name
		}
		s.mask(c)
		if !c.Viewer.Metadata {
			if err := s.openContent(c); err != nil {
				return err
			}
		}
	}
	return nil
}

func hasStage(c *Communication, stage string) bool {
	for _, r := range c.Recipients {
		if r.Stage() == stage {
			return true
		}
	}
	for _, l := range c.Stages {
		if l.Stage == stage {
			return true
		}
	}
	return false
}

func (ct *Content) matches(q string) bool {
	if strings.Contains(strings.ToLower(ct.Subject), q) {
		return true
	}
	for _, v := range ct.Fields {
		if strings.Contains(strings.ToLower(v), q) {
			return true
		}
	}
	for _, i := range ct.Indicators {
		if strings.Contains(strings.ToLower(i.Value), q) {
			return true
		}
	}
	return false
}

// Summary counts communications for the Secretariat's overview: how many
// were sent, and how many recipient lines are at each stage.
type Summary struct {
	Sent    int            `json:"sent"`
	ByStage map[string]int `json:"recipients_by_stage"`
}

// Overview counts every sent communication and recipient line, in the
// database (the lists stop at 500): the Secretariat's figures.
func (s *Service) Overview(ctx context.Context) (*Summary, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() {
		return nil, app.ErrForbidden()
	}
	sum := &Summary{}
	if sum.Sent, err = countSent(ctx, s.DB); err != nil {
		return nil, err
	}
	if sum.ByStage, err = countStages(ctx, s.DB); err != nil {
		return nil, err
	}
	return sum, nil
}
