// Package inbox is what waits for the signed-in user, across the
// capabilities: received communications to acknowledge or answer, disputes,
// requests for more information and requests to share on what the user's
// State sent, checks to answer, changes to the directory to decide or to
// revise, the entry's reconfirmation when due, OpenPGP keys about to expire,
// second-factor resets to approve, capacity-building matches to accept or
// decline, and exercises proposed by a group of States that wait for the
// Secretariat's agreement or its confirmation. It owns no table: each capability
// says what waits for the actor, under its own authorization; the inbox puts
// it in one list, most pressing first.
package inbox

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/exercises"
	"github.com/pocdir/pocdir/internal/notify"
)

// The kinds of item.
const (
	KindCommunication  = "communication"  // Need says what: acknowledge, answer, follow-up, consent
	KindCheck          = "check"          // a communication check to answer for a PoC
	KindNomination     = "nomination"     // a change to decide
	KindReturned       = "returned"       // a change of the State returned to it
	KindReconfirmation = "reconfirmation" // the State's entry is due for reconfirmation
	KindKey            = "key"            // a PoC's OpenPGP key expires soon
	KindReset          = "reset"          // a second-factor reset to approve or refuse
	KindCapacityMatch  = "capacity-match" // a proposed capacity-building match to accept or decline
	// A group of States' proposed exercise, for the Secretariat: to agree
	// to, or another officer's agreement to confirm (four eyes).
	KindExerciseAgreement    = "exercise-agreement"
	KindExerciseConfirmation = "exercise-confirmation"
)

// Item is one thing that waits for the user.
type Item struct {
	Kind string `json:"kind"`
	// Need, for a communication, is what is asked (comms.Need*).
	Need string `json:"need,omitempty"`
	// ID is the communication's, the check target's, the nomination's, the
	// PoC's or the reset's.
	ID int64 `json:"id"`
	// Ref and Subject name a communication (Subject only for who may read
	// it); Urgency and TLP are its own. Subject names a proposed exercise.
	Ref     string `json:"ref,omitempty"`
	Subject string `json:"subject,omitempty"`
	Urgency string `json:"urgency,omitempty"`
	TLP     string `json:"tlp,omitempty"`
	// State is the other State (the sender of a communication received,
	// the recipient that disputes, the State of a change) or the user's.
	State string `json:"state,omitempty"`
	// Detail says more, by kind: a recipient's outcome (disputed,
	// more-info), the third State of a request to share, a check's
	// campaign, whose decision a change awaits, the person of a reset.
	Detail string `json:"detail,omitempty"`
	// Action is a change's action (poc.create, …); Agency the PoC's, for a
	// check or a key.
	Action string     `json:"action,omitempty"`
	Agency string     `json:"agency,omitempty"`
	Since  time.Time  `json:"since"`
	Due    *time.Time `json:"due,omitempty"`
	// Path is the page where it is done.
	Path string `json:"path"`
	// wait is a communication's reference, read for the page shown.
	wait *comms.Awaiting
}

// Inbox is a page of the user's list, most pressing first: what has a
// deadline, the nearest first; then by urgency; then the newest.
type Inbox struct {
	Items []*Item `json:"items"`
	// Count is how many items wait in all, on every page.
	Count int `json:"count"`
	// Next is the cursor of the following page (less pressing), absent on
	// the last; Previous that of the page before, absent on the first.
	Next     string `json:"next,omitempty"`
	Previous string `json:"previous,omitempty"`
}

// Service reads each capability's part.
type Service struct {
	Comms     *comms.Service
	Capacity  *capacity.Service
	Exercises *exercises.Service
	Checks    *checks.Service
	Directory *directory.Service
	Accounts  *account.Service
	// DB and Mail serve the daily digests.
	DB   *db.DB
	Mail *notify.Writer
}

// For returns the first page of the inbox of the actor in ctx (Page).
func (s *Service) For(ctx context.Context) (*Inbox, error) { return s.Page(ctx, "", 0) }

// Page returns a page of the inbox of the actor in ctx, of its user, also
// for a read-only token (acting on an item needs one that may write): at
// most limit items (app.PageSize when zero) from the cursor (a Next or
// Previous of another page; the first page when empty). What waits beside
// the communications received is little, and read whole; of those received
// (a State that never acknowledges has thousands after some years) only a
// window around the page is read, in the inbox's order along an index
// (received), and only the communications of the page are opened.
func (s *Service) Page(ctx context.Context, cursor string, limit int) (*Inbox, error) {
	if _, err := app.RequireActor(ctx); err != nil {
		return nil, err
	}
	at, err := parseCursor(cursor)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = app.PageSize
	}
	others, err := s.others(ctx)
	if err != nil {
		return nil, err
	}
	count, err := s.Comms.AwaitingCount(ctx)
	if err != nil {
		return nil, err
	}
	// AwaitingCount counts the communications of others (disputes,
	// requests to share) with those received.
	count += len(others)
	for _, it := range others {
		if it.wait != nil {
			count--
		}
	}
	box := &Inbox{Count: count}
	if box.Items, box.Previous, box.Next, err = s.pageOf(ctx, others, at, limit); err != nil {
		return nil, err
	}
	var ws []*comms.Awaiting
	for _, it := range box.Items {
		if it.wait != nil {
			ws = append(ws, it.wait)
		}
	}
	if err := s.Comms.FillAwaiting(ctx, ws); err != nil {
		return nil, err
	}
	for _, it := range box.Items {
		if c := it.wait; c != nil && c.Comm != nil {
			it.Ref, it.TLP = c.Comm.Ref, c.Comm.TLP
			if c.Comm.Content != nil {
				it.Subject = c.Comm.Content.Subject
			}
		}
	}
	return box, nil
}

// commItem is the item of a communication that waits.
func commItem(w *comms.Awaiting) *Item {
	it := &Item{Kind: KindCommunication, Need: w.Need, ID: w.CommID, Urgency: w.Urgency, State: w.State,
		Since: w.Since, Due: w.Due, Path: "/comms/" + strconv.FormatInt(w.CommID, 10), wait: w}
	switch w.Need {
	case comms.NeedFollowUp:
		it.Detail = w.Outcome
	case comms.NeedConsent:
		it.Detail = w.Third
	}
	return it
}

// others lists what waits beside the communications received, unsorted:
// what waits on what the State sent, checks, changes to the directory,
// resets, capacity-building matches and exercises.
func (s *Service) others(ctx context.Context) ([]*Item, error) {
	var items []*Item
	add := func(it *Item) { items = append(items, it) }

	waits, err := s.Comms.AwaitingOnSent(ctx)
	if err != nil {
		return nil, err
	}
	for _, w := range waits {
		add(commItem(w))
	}

	targets, err := s.Checks.Pending(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		since := time.Time{}
		if t.QueuedAt != nil {
			since = *t.QueuedAt
		}
		add(&Item{Kind: KindCheck, ID: t.ID, State: t.State, Detail: t.Campaign, Agency: t.Agency, Since: since, Due: t.WindowEnd,
			Path: "/checks#target-" + strconv.FormatInt(t.ID, 10)})
	}

	dir, err := s.Directory.Awaiting(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range dir.Decide {
		add(&Item{Kind: KindNomination, ID: n.ID, State: n.State, Action: string(n.Action), Agency: n.Agency(), Detail: n.Awaiting, Since: submittedAt(n),
			Path: "/nominations/" + strconv.FormatInt(n.ID, 10)})
	}
	for _, n := range dir.Returned {
		add(&Item{Kind: KindReturned, ID: n.ID, State: n.State, Action: string(n.Action), Agency: n.Agency(), Since: n.UpdatedAt,
			Path: "/nominations/" + strconv.FormatInt(n.ID, 10)})
	}
	if st := dir.Reconfirm; st != nil {
		add(&Item{Kind: KindReconfirmation, State: st.Code, Due: st.DueAt(), Path: "/states/" + st.Code})
	}
	for _, p := range dir.Keys {
		add(&Item{Kind: KindKey, ID: p.ID, State: p.State, Agency: p.Agency, Due: p.PGPExpiresAt, Path: "/pocs/" + strconv.FormatInt(p.ID, 10) + "/edit"})
	}

	resets, err := s.Accounts.FactorResets(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range resets {
		add(&Item{Kind: KindReset, ID: r.ID, State: r.State, Detail: r.Email, Since: r.RequestedAt, Path: "/users#resets"})
	}

	matches, err := s.Capacity.Awaiting(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range matches {
		add(&Item{Kind: KindCapacityMatch, ID: m.ID, State: m.NeedState, Since: m.ProposedAt, Path: "/capacity#match-" + strconv.FormatInt(m.ID, 10)})
	}

	proposals, err := s.Exercises.Awaiting(ctx)
	if err != nil {
		return nil, err
	}
	for _, e := range proposals {
		// Before it starts: the exercise's start is its deadline.
		kind, since, due := KindExerciseAgreement, e.CreatedAt, e.StartsAt
		if e.Status == exercises.Agreeing {
			kind, since = KindExerciseConfirmation, *e.FirstAgreedAt
		}
		add(&Item{Kind: kind, ID: e.ID, State: e.ProposedBy, Subject: e.Name, Since: since, Due: &due,
			Path: "/exercises/" + strconv.FormatInt(e.ID, 10)})
	}
	return items, nil
}

// Count is how many items wait for the actor, for the navigation on every
// page: as For counts them, without reading the communications' content.
func (s *Service) Count(ctx context.Context) (int, error) {
	n, err := s.Comms.AwaitingCount(ctx)
	if err != nil {
		return 0, err
	}
	targets, err := s.Checks.Pending(ctx)
	if err != nil {
		return 0, err
	}
	dir, err := s.Directory.Awaiting(ctx)
	if err != nil {
		return 0, err
	}
	resets, err := s.Accounts.FactorResets(ctx)
	if err != nil {
		return 0, err
	}
	matches, err := s.Capacity.Awaiting(ctx)
	if err != nil {
		return 0, err
	}
	proposals, err := s.Exercises.Awaiting(ctx)
	if err != nil {
		return 0, err
	}
	n += len(targets) + len(dir.Decide) + len(dir.Returned) + len(dir.Keys) + len(resets) + len(matches) + len(proposals)
	if dir.Reconfirm != nil {
		n++
	}
	return n, nil
}

func submittedAt(n *directory.Nomination) time.Time {
	if n.SubmittedAt != nil {
		return *n.SubmittedAt
	}
	return n.UpdatedAt
}

// urgency ranks an urgency: the higher, the more urgent; 0 for none (an
// item that is not a communication).
func urgency(u string) int { return slices.Index(comms.Urgencies, u) + 1 }

func sortItems(items []*Item) { slices.SortFunc(items, compareItems) }

// compareItems orders the inbox: a deadline, the nearest first; the most
// urgent; the newest; then, so that a page ends at a place the next one can
// start from, by kind, need, id, State and detail.
func compareItems(x, y *Item) int {
	switch {
	case x.Due != nil && y.Due == nil:
		return -1
	case x.Due == nil && y.Due != nil:
		return 1
	case x.Due != nil && !x.Due.Equal(*y.Due):
		return x.Due.Compare(*y.Due)
	}
	if ux, uy := urgency(x.Urgency), urgency(y.Urgency); ux != uy {
		return uy - ux
	}
	return cmp.Or(y.Since.Compare(x.Since), cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Need, y.Need), cmp.Compare(x.ID, y.ID),
		cmp.Compare(x.State, y.State), cmp.Compare(x.Detail, y.Detail))
}

// position is a place in the inbox's order: the sort key of an item, which
// a cursor carries (the item itself may be gone by the next request).
type position struct {
	Due     *time.Time `json:"d,omitempty"`
	Urgency string     `json:"u,omitempty"`
	Since   time.Time  `json:"s"`
	Kind    string     `json:"k"`
	Need    string     `json:"n,omitempty"`
	ID      int64      `json:"i,omitempty"`
	State   string     `json:"t,omitempty"`
	Detail  string     `json:"x,omitempty"`
	// Back asks for the page before the position, not after it.
	Back bool `json:"-"`
}

func (p *position) item() *Item {
	return &Item{Due: p.Due, Urgency: p.Urgency, Since: p.Since, Kind: p.Kind, Need: p.Need, ID: p.ID, State: p.State, Detail: p.Detail}
}

// cursorOf is the cursor of the page after it (or, back, before it).
func cursorOf(it *Item, back bool) string {
	b, _ := json.Marshal(position{Due: it.Due, Urgency: it.Urgency, Since: it.Since, Kind: it.Kind, Need: it.Need, ID: it.ID, State: it.State, Detail: it.Detail})
	dir := "n"
	if back {
		dir = "p"
	}
	return dir + base64.RawURLEncoding.EncodeToString(b)
}

// maxCursor bounds a cursor's length (a detail is an e-mail address at
// most).
const maxCursor = 800

func parseCursor(s string) (*position, error) {
	if s == "" {
		return nil, nil
	}
	bad := app.FieldError("cursor", "error.cursor", "not a position in this list", nil)
	if len(s) > maxCursor || (s[0] != 'n' && s[0] != 'p') {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s[1:])
	if err != nil {
		return nil, bad
	}
	var p position
	if err := json.Unmarshal(b, &p); err != nil || p.Kind == "" {
		return nil, bad
	}
	p.Back = s[0] == 'p'
	return &p, nil
}

// pageOf is the page of the inbox at the position (the first when nil),
// with the cursors of the pages before and after it: the items beside the
// communications received are all in others; of those received, a window
// beyond the position is read, and whether any lies on the other side of
// it when others do not say so already.
func (s *Service) pageOf(ctx context.Context, others []*Item, at *position, limit int) (page []*Item, prev, next string, err error) {
	back := at != nil && at.Back
	// beyond: the items past the position in the page's direction (every
	// item when there is none); behind: whether any is on the other side.
	beyond, err := s.received(ctx, at, back, false, limit+1)
	if err != nil {
		return nil, "", "", err
	}
	behind := false
	for _, it := range others {
		if at == nil {
			beyond = append(beyond, it)
			continue
		}
		c := compareItems(it, at.item())
		if (!back && c > 0) || (back && c < 0) {
			beyond = append(beyond, it)
		} else {
			behind = true
		}
	}
	sortItems(beyond)
	more := len(beyond) > limit
	if back {
		page = beyond[max(0, len(beyond)-limit):]
	} else {
		page = beyond[:min(limit, len(beyond))]
	}
	// An empty page (its items were done meanwhile) has no neighbours:
	// the inbox's first page is the way back.
	if len(page) == 0 {
		return []*Item{}, "", "", nil
	}
	if at != nil && !behind {
		// Forward: an item at the position or before it; back: at it or
		// after it.
		r, err := s.received(ctx, at, !back, true, 1)
		if err != nil {
			return nil, "", "", err
		}
		behind = len(r) > 0
	}
	if back {
		more, behind = behind, more
	}
	// Now more says whether items follow the page, behind whether items
	// precede it.
	if behind {
		prev = cursorOf(page[0], true)
	}
	if more {
		next = cursorOf(page[len(page)-1], false)
	}
	return page, prev, next, nil
}

// received reads up to n of the communications received that wait for
// the actor's State, as items, the nearest to the position first: past it
// in the inbox's order (back: before it), or, inclusive, at it too; from
// either end when it is nil. The communications' walk (AwaitingReceived)
// orders them as the inbox does but for two that share a deadline, an
// urgency and a time sent (a place), which it orders by id where the inbox
// orders by need first: the window is read until the n nearest lie before
// the last place read, and ordered here.
func (s *Service) received(ctx context.Context, at *position, back, inclusive bool, n int) ([]*Item, error) {
	var k *Item
	var mark *comms.WaitMark
	if at != nil {
		// From the start of the position's place (back: its end).
		k = at.item()
		mark = &comms.WaitMark{Due: at.Due, Urgency: at.Urgency, Since: at.Since}
		if back {
			mark.ID = math.MaxInt64
		}
	}
	// One more than n: when the last read is in a place of its own, the n
	// before it are settled, and one read is enough.
	batch := max(n+1, 8)
	var out []*Item
	for {
		ws, err := s.Comms.AwaitingReceived(ctx, mark, back, batch)
		if err != nil {
			return nil, err
		}
		for _, w := range ws {
			it := commItem(w)
			if k != nil {
				c := compareItems(it, k)
				if back {
					c = -c
				}
				if c < 0 || (c == 0 && !inclusive) {
					continue
				}
			}
			out = append(out, it)
		}
		if len(ws) < batch {
			break
		}
		last := commItem(ws[len(ws)-1])
		settled := 0
		for _, it := range out {
			if !samePlace(it, last) {
				settled++
			}
		}
		if settled >= n {
			break
		}
		mark = &comms.WaitMark{Due: last.Due, Urgency: last.Urgency, Since: last.Since, ID: last.ID}
	}
	sortItems(out)
	if back {
		slices.Reverse(out)
	}
	return out[:min(n, len(out))], nil
}

// samePlace reports whether two items share a deadline, an urgency and a
// time: the order of the communications' walk and the inbox's differ
// within a place only.
func samePlace(x, y *Item) bool {
	return (x.Due == nil) == (y.Due == nil) && (x.Due == nil || x.Due.Equal(*y.Due)) && urgency(x.Urgency) == urgency(y.Urgency) && x.Since.Equal(y.Since)
}
