package comms

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
)

// What a State's users are asked to do about a communication (Awaiting).
const (
	NeedAcknowledge = "acknowledge" // received, not yet acknowledged
	NeedAnswer      = "answer"      // acknowledged; an answer is asked by a date
	NeedFollowUp    = "follow-up"   // sent; a recipient State disputes it or asks for more
	NeedConsent     = "consent"     // sent; a recipient State asks to share it with a third
)

// Awaiting is a communication that waits for the actor's State.
type Awaiting struct {
	Need string `json:"need"`
	// CommID is the communication's; Comm is the communication itself once
	// FillAwaiting has read it (Awaiting gives references only).
	CommID int64          `json:"communication_id"`
	Comm   *Communication `json:"communication,omitempty"`
	// Urgency is the communication's, which orders the inbox.
	Urgency string `json:"urgency"`
	// State is the other State: the sender of a received communication,
	// the recipient that disputes or asks, the State that asks to share.
	State string `json:"state"`
	// Outcome, for a follow-up, is what the recipient State did
	// (disputed, more-info); Third, for a consent, is the State it would
	// be shared with; Request is the consent request's id.
	Outcome string     `json:"outcome,omitempty"`
	Third   string     `json:"third_state,omitempty"`
	Request int64      `json:"consent_request,omitempty"`
	Since   time.Time  `json:"since"`
	Due     *time.Time `json:"due,omitempty"`
}

// followUpFor is how long a dispute or a request for more information
// stays in the sender's inbox without an answer in the thread.
const followUpFor = 30 * 24 * time.Hour

// MaxAwaiting is how many disputes, requests for more information and
// requests to share AwaitingOnSent reads at most of each, the most
// pressing (AwaitingCount counts them all). The communications received
// are read a window at a time (AwaitingReceived).
const MaxAwaiting = 500

// AwaitingOnSent lists what waits for the actor's State on what it sent:
// recipients' disputes and requests for more information not yet answered,
// and requests to share with a third State. The Secretariat, which acts
// for no State, has none. It gives references, which an inbox orders and
// pages: FillAwaiting reads the communications of the page shown.
func (s *Service) AwaitingOnSent(ctx context.Context) ([]*Awaiting, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if a.State == "" {
		return []*Awaiting{}, nil
	}
	waits, err := awaitingOnSent(ctx, s.DB, a.State, s.Now().Add(-followUpFor))
	if err != nil {
		return nil, err
	}
	return awaitingOf(waits), nil
}

// WaitMark is a place in the order of the communications that wait for a
// State's acknowledgement or answer (AwaitingReceived): a deadline, the
// nearest first, then none; the most urgent (as comms.Urgencies ranks
// them, any other urgency last); the newest; then by id.
type WaitMark struct {
	Due     *time.Time
	Urgency string
	Since   time.Time
	ID      int64
}

// AwaitingReceived returns, of the communications received that wait for
// the actor's State (not acknowledged, or acknowledged and asked for an
// answer by a date), up to n in WaitMark's order: those after mark, or,
// back, those before it, nearest first; the first (the last) when mark is
// nil. It reads them along an index of the State's lines in that order, so
// that a window costs the same however many wait. A State with several
// PoCs on one communication acknowledges it once (any of its lines): a
// communication is one item, to answer when any of its waiting lines is
// acknowledged. The Secretariat, which acts for no State, has none.
func (s *Service) AwaitingReceived(ctx context.Context, mark *WaitMark, back bool, n int) ([]*Awaiting, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if a.State == "" || n <= 0 {
		return []*Awaiting{}, nil
	}
	waits, err := receivedWindow(ctx, s.DB, a.State, mark, back, n)
	if err != nil {
		return nil, err
	}
	return awaitingOf(waits), nil
}

func awaitingOf(waits []waiting) []*Awaiting {
	out := make([]*Awaiting, 0, len(waits))
	for _, w := range waits {
		x := &Awaiting{Need: w.need, CommID: w.commID, Urgency: w.urgency, State: w.state, Outcome: w.outcome, Third: w.third, Request: w.request, Since: w.since.UTC()}
		if (w.need == NeedAcknowledge || w.need == NeedAnswer) && w.due.Valid {
			due := w.due.Time.UTC()
			x.Due = &due
		}
		out = append(out, x)
	}
	return out
}

// FillAwaiting reads the communications of ws as the actor may see them
// (one of its State's, sent or received), with their content but not
// their recipients' lines: what a line of the inbox shows (reference, TLP,
// subject); an item whose communication the actor may not see keeps a nil
// Comm.
func (s *Service) FillAwaiting(ctx context.Context, ws []*Awaiting) error {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return err
	}
	if a.State == "" || len(ws) == 0 {
		return nil
	}
	ids := []int64{}
	seen := map[int64]bool{}
	for _, w := range ws {
		if !seen[w.CommID] {
			seen[w.CommID] = true
			ids = append(ids, w.CommID)
		}
	}
	list, err := commsOfState(ctx, s.DB, a.State, ids)
	if err != nil {
		return err
	}
	for _, c := range list {
		view(a, c)
	}
	if err := s.fillHeads(ctx, list); err != nil {
		return err
	}
	byID := map[int64]*Communication{}
	for _, c := range list {
		byID[c.ID] = c
	}
	for _, w := range ws {
		w.Comm = byID[w.CommID]
	}
	return nil
}

// AwaitingCount is how many communications wait for the actor's State (as
// AwaitingOnSent and AwaitingReceived list them, all of them), counted in
// the database: the navigation shows it on every page.
func (s *Service) AwaitingCount(ctx context.Context) (int, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return 0, err
	}
	if a.State == "" {
		return 0, nil
	}
	return countAwaiting(ctx, s.DB, a.State, s.Now().Add(-followUpFor))
}

// waiting is one row of awaitingOnSent or receivedWindow.
type waiting struct {
	need, state, outcome, third, urgency string
	commID, request                      int64
	since                                time.Time
	due                                  sql.NullTime
}

// The two kinds of waiting on what a State sent, as SQL: the rows of one
// need, each with the columns of a waiting. A recipient disputes or asks
// for more, and the sender State has not written in the thread since; a
// recipient asks to share with a third State.
const (
	// The disputes are few (an index holds them): SQLite is told to start
	// from them (CROSS JOIN), not from every line the State sent.
	waitingFollowUp = `SELECT 'follow-up', c.id, r.state_code, r.outcome, '', 0, r.outcome_at, c.respond_by, c.urgency
		FROM comm_recipients r CROSS JOIN comms c
		WHERE c.id = r.comm_id AND c.sender_state = $1 AND c.status = 'sent' AND r.outcome IN ('disputed', 'more-info') AND r.outcome_at >= $2
		AND NOT EXISTS (SELECT 1 FROM comms x WHERE x.thread_id = c.thread_id AND x.sender_state = $1 AND x.status = 'sent' AND x.sent_at > r.outcome_at)`
	// The open requests are kept by sender (comm_consent_open).
	waitingConsent = `SELECT 'consent', c.id, e.state_code, '', e.target, e.id, e.at, c.respond_by, c.urgency
		FROM comm_consent_open o JOIN comm_events e ON e.id = o.request_id JOIN comms c ON c.id = o.comm_id
		WHERE o.sender_state = $1`
	// urgencyRank orders by urgency, the most urgent first (Urgencies), as
	// urgencyRankOf does.
	urgencyRank = `CASE c.urgency WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END`
)

// urgencyRankOf ranks an urgency as urgencyRank and the lines'
// urgency_rank do: 0 for the most urgent of Urgencies, 4 for any other.
func urgencyRankOf(u string) int {
	return len(Urgencies) - 1 - slices.Index(Urgencies, u)
}

// scanWaiting reads the rows of a query of waitings, appending them.
func scanWaiting(ctx context.Context, q db.Queryer, out []waiting, what, query string, args ...any) ([]waiting, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("comms store: reading %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var w waiting
		if err := rows.Scan(&w.need, &w.commID, &w.state, &w.outcome, &w.third, &w.request, &w.since, &w.due, &w.urgency); err != nil {
			return nil, fmt.Errorf("comms store: reading %s: %w", what, err)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comms store: reading %s: %w", what, err)
	}
	return out, nil
}

// awaitingOnSent reads what waits for the State on what it sent (see
// AwaitingOnSent): references, at most MaxAwaiting of each kind, the most
// pressing as the inbox orders them (the most urgent; the newest).
func awaitingOnSent(ctx context.Context, q db.Queryer, state string, since time.Time) ([]waiting, error) {
	limit := ` LIMIT ` + strconv.Itoa(MaxAwaiting)
	out, err := scanWaiting(ctx, q, nil, "the disputes and requests for more information", waitingFollowUp+
		` ORDER BY `+urgencyRank+`, r.outcome_at DESC, c.id DESC`+limit, state, since)
	if err != nil {
		return nil, err
	}
	return scanWaiting(ctx, q, out, "the requests to share", waitingConsent+` ORDER BY `+urgencyRank+`, e.at DESC, e.id DESC`+limit, state)
}

// waitingLine is the condition of the lines that wait for their State
// (comm_recipients_waiting): not acknowledged, or acknowledged and asked
// for an answer; not answered; not handed over.
const waitingLine = `r.moved_at IS NULL AND r.outcome = '' AND (r.acked_at IS NULL OR r.respond_by IS NOT NULL)`

// receivedWindow reads up to n of the communications that wait for the
// State's acknowledgement or answer in WaitMark's order, after mark (back:
// before it, nearest first), along comm_recipients_waiting: the State's
// lines are grouped by communication as the index gives them, a deadline
// first (those with one, then those without: SQL sorts no NULL last along
// an index on both engines), so that no line beyond the window is read.
func receivedWindow(ctx context.Context, q db.Queryer, state string, mark *WaitMark, back bool, n int) ([]waiting, error) {
	// The parts to walk, in the walk's order, each from the mark when it
	// is in that part, else from the part's start (back: its end).
	type part struct {
		withDue bool
		from    *WaitMark
	}
	var parts []part
	switch {
	case !back && (mark == nil || mark.Due != nil):
		parts = []part{{true, mark}, {false, nil}}
	case !back:
		parts = []part{{false, mark}}
	case mark == nil || mark.Due == nil:
		parts = []part{{false, mark}, {true, nil}}
	default:
		parts = []part{{true, mark}}
	}
	var out []waiting
	for _, p := range parts {
		var err error
		if out, err = receivedPart(ctx, q, out, state, p.withDue, p.from, back, n-len(out)); err != nil {
			return nil, err
		}
		if len(out) >= n {
			break
		}
	}
	return out, nil
}

// receivedPart reads, of the communications that wait for the State with
// a deadline (withDue) or without, up to n after mark (back: before it),
// appending them to out.
func receivedPart(ctx context.Context, q db.Queryer, out []waiting, state string, withDue bool, mark *WaitMark, back bool, n int) ([]waiting, error) {
	args := []any{state}
	arg := func(v any) string {
		args = append(args, v)
		return `$` + strconv.Itoa(len(args))
	}
	where := `r.state_code = $1 AND ` + waitingLine
	if withDue {
		where += ` AND r.respond_by IS NOT NULL`
	} else {
		where += ` AND r.respond_by IS NULL`
	}
	// after, before: the comparisons in the walk's direction.
	after, before, order := `>`, `<`, `r.respond_by, r.urgency_rank, r.sent_at DESC, r.comm_id`
	if back {
		after, before, order = `<`, `>`, `r.respond_by DESC, r.urgency_rank DESC, r.sent_at, r.comm_id DESC`
	}
	if mark != nil {
		u, since, id := arg(urgencyRankOf(mark.Urgency)), arg(mark.Since.UTC()), arg(mark.ID)
		// The rank, then the time sent (the newest first), then the id.
		rest := `r.urgency_rank ` + after + ` ` + u + ` OR (r.urgency_rank = ` + u + ` AND (r.sent_at ` + before + ` ` + since +
			` OR (r.sent_at = ` + since + ` AND r.comm_id ` + after + ` ` + id + `)))`
		if withDue {
			d := arg(mark.Due.UTC())
			// The first term bounds the walk along the index.
			where += ` AND r.respond_by ` + after + `= ` + d + ` AND (r.respond_by ` + after + ` ` + d + ` OR ` + rest + `)`
		} else {
			where += ` AND r.urgency_rank ` + after + `= ` + u + ` AND (` + rest + `)`
		}
	}
	limit := arg(n)
	return scanWaiting(ctx, q, out, "the communications to acknowledge or answer", `SELECT CASE WHEN r.acked IS NULL THEN 'acknowledge' ELSE 'answer' END,
		c.id, c.sender_state, '', '', 0, r.sent_at, r.respond_by, c.urgency
		FROM (SELECT r.comm_id, MAX(r.acked_at) AS acked, r.respond_by, r.urgency_rank, r.sent_at FROM comm_recipients r WHERE `+where+`
			GROUP BY r.respond_by, r.urgency_rank, r.sent_at, r.comm_id ORDER BY `+order+` LIMIT `+limit+`) r
		JOIN comms c ON c.id = r.comm_id ORDER BY `+order, args...)
}

// countAwaiting counts what awaitingOnSent and receivedWindow read, all
// of it: the communications received that wait, from their count kept in
// comm_waiting (store_waiting.go).
func countAwaiting(ctx context.Context, q db.Queryer, state string, since time.Time) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COALESCE((SELECT n FROM comm_waiting WHERE state_code = $1), 0) + (SELECT COUNT(*) FROM (`+waitingFollowUp+`) w2) + (SELECT COUNT(*) FROM (`+waitingConsent+`) w3)`,
		state, since).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("comms store: counting what waits: %w", err)
	}
	return n, nil
}

// commsOfState reads the communications by id that the State sent or
// received.
func commsOfState(ctx context.Context, q db.Queryer, state string, ids []int64) ([]*Communication, error) {
	var out []*Communication
	err := db.InChunks(ids, 500, 2, func(marks string, args []any) error {
		list, err := queryComms(ctx, q, `SELECT `+commColumns+` FROM comms c WHERE c.id IN (`+marks+`)
			AND (c.sender_state = $1 OR EXISTS (SELECT 1 FROM comm_recipients r WHERE r.comm_id = c.id AND r.state_code = $1))`, append([]any{state}, args...)...)
		out = append(out, list...)
		return err
	})
	return out, err
}
