package comms

import (
	"context"
	"fmt"
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
	Need string         `json:"need"`
	Comm *Communication `json:"communication"`
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

// Awaiting lists what waits for the actor's State: received communications
// to acknowledge or answer, and of those it sent, recipients' disputes and
// requests for more information not yet answered, and requests to share
// with a third State. The Secretariat, which acts for no State, has none.
func (s *Service) Awaiting(ctx context.Context) ([]*Awaiting, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if a.State == "" {
		return []*Awaiting{}, nil
	}
	now := s.Now()
	waits, err := awaitingOf(ctx, s.DB, a.State, now.Add(-followUpFor))
	if err != nil {
		return nil, err
	}
	byComm := map[int64]*Communication{}
	ids := []int64{}
	for _, w := range waits {
		if byComm[w.commID] == nil {
			byComm[w.commID] = nil
			ids = append(ids, w.commID)
		}
	}
	list, err := commsByID(ctx, s.DB, ids)
	if err != nil {
		return nil, err
	}
	if err := s.fillList(ctx, a, list); err != nil {
		return nil, err
	}
	for _, c := range list {
		byComm[c.ID] = c
	}
	out := make([]*Awaiting, 0, len(waits))
	for _, w := range waits {
		c := byComm[w.commID]
		if c == nil {
			continue
		}
		x := &Awaiting{Need: w.need, Comm: c, State: w.state, Outcome: w.outcome, Third: w.third, Request: w.request, Since: w.since.UTC()}
		if w.need == NeedAcknowledge || w.need == NeedAnswer {
			x.Due = c.RespondBy
		}
		out = append(out, x)
	}
	return out, nil
}

// AwaitingCount is how many communications wait for the actor's State (as
// Awaiting lists them), without reading them: the navigation shows it on
// every page.
func (s *Service) AwaitingCount(ctx context.Context) (int, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return 0, err
	}
	if a.State == "" {
		return 0, nil
	}
	waits, err := awaitingOf(ctx, s.DB, a.State, s.Now().Add(-followUpFor))
	return len(waits), err
}

// waiting is one row of awaitingOf.
type waiting struct {
	need, state, outcome, third string
	commID, request             int64
	since                       time.Time
}

// awaitingOf reads what waits for the State (see Awaiting): references,
// which Awaiting fills as the reader may see them.
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
			if err := rows.Scan(&w.need, &w.commID, &w.state, &w.outcome, &w.third, &w.request, &w.since); err != nil {
				return fmt.Errorf("comms store: reading %s: %w", what, err)
			}
			out = append(out, w)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("comms store: reading %s: %w", what, err)
		}
		return nil
	}
	// Received: the State's own lines without an outcome; to acknowledge,
	// or, acknowledged, to answer when an answer is asked.
	if err := read("the communications to acknowledge or answer", `SELECT DISTINCT
		CASE WHEN r.acked_at IS NULL THEN 'acknowledge' ELSE 'answer' END, c.id, c.sender_state, '', '', 0, c.sent_at
		FROM comm_recipients r JOIN comms c ON c.id = r.comm_id
		WHERE r.state_code = $1 AND c.status = 'sent' AND r.moved_at IS NULL AND r.outcome = ''
		AND (r.acked_at IS NULL OR c.respond_by IS NOT NULL)
		ORDER BY c.sent_at DESC LIMIT 500`, state); err != nil {
		return nil, err
	}
	// A State with several PoCs on one communication acknowledges it once
	// (any of its lines): what one line still needs is done.
	acked := map[int64]bool{}
	for _, w := range out {
		if w.need == NeedAnswer {
			acked[w.commID] = true
		}
	}
	kept := out[:0]
	for _, w := range out {
		if w.need != NeedAcknowledge || !acked[w.commID] {
			kept = append(kept, w)
		}
	}
	out = kept
	// Sent: a recipient disputes or asks for more, and the sender State
	// has not written in the thread since.
	if err := read("the disputes and requests for more information", `SELECT
		'follow-up', c.id, r.state_code, r.outcome, '', 0, r.outcome_at
		FROM comm_recipients r JOIN comms c ON c.id = r.comm_id
		WHERE c.sender_state = $1 AND c.status = 'sent' AND r.outcome IN ('disputed', 'more-info') AND r.outcome_at >= $2
		AND NOT EXISTS (SELECT 1 FROM comms x WHERE x.thread_id = c.thread_id AND x.sender_state = $1 AND x.status = 'sent' AND x.sent_at > r.outcome_at)
		ORDER BY r.outcome_at DESC LIMIT 500`, state, since); err != nil {
		return nil, err
	}
	// Sent: a recipient asks to share with a third State.
	if err := read("the requests to share", `SELECT
		'consent', c.id, e.state_code, '', e.target, e.id, e.at
		FROM comm_events e JOIN comms c ON c.id = e.comm_id
		WHERE c.sender_state = $1 AND e.kind = 'consent-requested'
		AND NOT EXISTS (SELECT 1 FROM comm_events x WHERE x.ref_id = e.id AND x.kind IN ('consent-granted', 'consent-refused'))
		ORDER BY e.at DESC LIMIT 500`, state); err != nil {
		return nil, err
	}
	return out, nil
}

// commsByID reads communications by id.
func commsByID(ctx context.Context, q db.Queryer, ids []int64) ([]*Communication, error) {
	var out []*Communication
	err := db.InChunks(ids, 500, 1, func(marks string, args []any) error {
		list, err := queryComms(ctx, q, `SELECT `+commColumns+` FROM comms c WHERE c.id IN (`+marks+`)`, args...)
		out = append(out, list...)
		return err
	})
	return out, err
}
