package comms

import (
	"context"
	"database/sql"
	"fmt"
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

// MaxAwaiting is how many items of each need Awaiting reads at most, the
// most pressing: a State that never acknowledges still gets an inbox that
// opens at once (AwaitingCount counts them all).
const MaxAwaiting = 500

// Awaiting lists what waits for the actor's State: received communications
// to acknowledge or answer, and of those it sent, recipients' disputes and
// requests for more information not yet answered, and requests to share
// with a third State. The Secretariat, which acts for no State, has none.
// It gives references, which an inbox orders and pages: FillAwaiting reads
// the communications of the page shown.
func (s *Service) Awaiting(ctx context.Context) ([]*Awaiting, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if a.State == "" {
		return []*Awaiting{}, nil
	}
	waits, err := awaitingOf(ctx, s.DB, a.State, s.Now().Add(-followUpFor))
	if err != nil {
		return nil, err
	}
	out := make([]*Awaiting, 0, len(waits))
	for _, w := range waits {
		x := &Awaiting{Need: w.need, CommID: w.commID, Urgency: w.urgency, State: w.state, Outcome: w.outcome, Third: w.third, Request: w.request, Since: w.since.UTC()}
		if (w.need == NeedAcknowledge || w.need == NeedAnswer) && w.due.Valid {
			due := w.due.Time.UTC()
			x.Due = &due
		}
		out = append(out, x)
	}
	return out, nil
}

// FillAwaiting reads the communications of ws as the actor may see them
// (one of its State's, sent or received), with their recipients and
// content; an item whose communication the actor may not see keeps a nil
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
	if err := s.fillList(ctx, a, list); err != nil {
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
// Awaiting lists them, all of them), counted in the database: the
// navigation shows it on every page.
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

// waiting is one row of awaitingOf.
type waiting struct {
	need, state, outcome, third, urgency string
	commID, request                      int64
	since                                time.Time
	due                                  sql.NullTime
}

// The three kinds of waiting, as SQL: the rows of one need, each with the
// columns of a waiting. Received: the State's own lines without an
// outcome, to acknowledge, or, acknowledged, to answer when an answer is
// asked; a State with several PoCs on one communication acknowledges it
// once (any of its lines), so a communication is one row, to answer when
// any line is acknowledged. Sent: a recipient disputes or asks for more,
// and the sender State has not written in the thread since; a recipient
// asks to share with a third State.
const (
	waitingReceived = `SELECT CASE WHEN MAX(r.acked_at) IS NULL THEN 'acknowledge' ELSE 'answer' END, c.id, c.sender_state, '', '', 0, c.sent_at, c.respond_by, c.urgency
		FROM comm_recipients r JOIN comms c ON c.id = r.comm_id
		WHERE r.state_code = $1 AND r.moved_at IS NULL AND r.outcome = '' AND (r.acked_at IS NULL OR r.respond_by IS NOT NULL)
		AND c.status = 'sent'
		GROUP BY c.id, c.sender_state, c.sent_at, c.respond_by, c.urgency`
	// The disputes are few (an index holds them): SQLite is told to start
	// from them (CROSS JOIN), not from every line the State sent.
	waitingFollowUp = `SELECT 'follow-up', c.id, r.state_code, r.outcome, '', 0, r.outcome_at, c.respond_by, c.urgency
		FROM comm_recipients r CROSS JOIN comms c
		WHERE c.id = r.comm_id AND c.sender_state = $1 AND c.status = 'sent' AND r.outcome IN ('disputed', 'more-info') AND r.outcome_at >= $2
		AND NOT EXISTS (SELECT 1 FROM comms x WHERE x.thread_id = c.thread_id AND x.sender_state = $1 AND x.status = 'sent' AND x.sent_at > r.outcome_at)`
	waitingConsent = `SELECT 'consent', c.id, e.state_code, '', e.target, e.id, e.at, c.respond_by, c.urgency
		FROM comm_events e JOIN comms c ON c.id = e.comm_id
		WHERE c.sender_state = $1 AND e.kind = 'consent-requested'
		AND NOT EXISTS (SELECT 1 FROM comm_events x WHERE x.ref_id = e.id AND x.kind IN ('consent-granted', 'consent-refused'))`
	// urgencyRank orders by urgency, the most urgent first (Urgencies).
	urgencyRank = `CASE c.urgency WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END`
)

// awaitingOf reads what waits for the State (see Awaiting): references,
// at most MaxAwaiting of each kind, the most pressing as the inbox orders
// them (a deadline, the nearest first; the most urgent; the newest).
func awaitingOf(ctx context.Context, q db.Queryer, state string, since time.Time) ([]waiting, error) {
	var out []waiting
	read := func(what, query string, args ...any) error {
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("comms store: reading %s: %w", what, err)
		}
		defer rows.Close()
		for rows.Next() {
			var w waiting
			if err := rows.Scan(&w.need, &w.commID, &w.state, &w.outcome, &w.third, &w.request, &w.since, &w.due, &w.urgency); err != nil {
				return fmt.Errorf("comms store: reading %s: %w", what, err)
			}
			out = append(out, w)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("comms store: reading %s: %w", what, err)
		}
		return nil
	}
	limit := ` LIMIT ` + strconv.Itoa(MaxAwaiting)
	if err := read("the communications to acknowledge or answer", waitingReceived+
		` ORDER BY CASE WHEN c.respond_by IS NULL THEN 1 ELSE 0 END, c.respond_by, `+urgencyRank+`, c.sent_at DESC, c.id DESC`+limit, state); err != nil {
		return nil, err
	}
	if err := read("the disputes and requests for more information", waitingFollowUp+
		` ORDER BY `+urgencyRank+`, r.outcome_at DESC, c.id DESC`+limit, state, since); err != nil {
		return nil, err
	}
	if err := read("the requests to share", waitingConsent+` ORDER BY `+urgencyRank+`, e.at DESC, e.id DESC`+limit, state); err != nil {
		return nil, err
	}
	return out, nil
}

// countReceived counts the communications of waitingReceived from the
// index of the lines that wait (comm_recipients_waiting) alone: a line
// carries its communication's respond_by, and every line is of a sent
// communication (lines are written when it is sent).
const countReceived = `SELECT COUNT(DISTINCT r.comm_id) FROM comm_recipients r
	WHERE r.state_code = $1 AND r.moved_at IS NULL AND r.outcome = '' AND (r.acked_at IS NULL OR r.respond_by IS NOT NULL)`

// countAwaiting counts what awaitingOf reads, all of it.
func countAwaiting(ctx context.Context, q db.Queryer, state string, since time.Time) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT (`+countReceived+`) + (SELECT COUNT(*) FROM (`+waitingFollowUp+`) w2) + (SELECT COUNT(*) FROM (`+waitingConsent+`) w3)`,
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
