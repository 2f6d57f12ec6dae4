// Package checks runs communication checks ("ping tests", capability C5):
// campaigns that send each selected PoC a message with a one-time answer
// link, record answers, bounces and silences, remind the silent ones once,
// tell the States and the Secretariat who did not answer, and keep the
// results over time. A State may run a bilateral check of a counterpart's
// PoCs, whose results only the two States see.
package checks

import (
	"time"
)

// The campaign kinds.
const (
	KindSecretariat = "secretariat"
	KindBilateral   = "bilateral"
)

// The campaign states.
const (
	StatusScheduled = "scheduled"
	StatusRunning   = "running"
	StatusClosed    = "closed"
	StatusCancelled = "cancelled"
)

// The channels. Email is sent through the outbox; on the manual channel the
// Secretariat records the outcome of a call by hand. SMS or voice through a
// provider would be further channels with their own sender.
const (
	ChannelEmail  = "email"
	ChannelManual = "manual"
)

// Scopes say which PoCs a campaign checks.
var Scopes = []string{"all", "group", "body", "level", "states", "failed"}

// Grace is how long after the window an answer link still works; answers
// after the window count as late.
const Grace = 7 * 24 * time.Hour

// MaxWindow bounds the response window.
const MaxWindow = 30 * 24

// Input is what the Secretariat (or a State, for a bilateral check) asks
// for.
type Input struct {
	Title   string `json:"title"`
	Message string `json:"message"`
	// Scope and Value select the PoCs: all; group (a UN regional group);
	// body (a regional body); level; states (codes separated by commas);
	// failed (those that did not answer the last closed campaign).
	Scope   string `json:"scope"`
	Value   string `json:"value"`
	Channel string `json:"channel"`
	// WindowHours is the response window; StartAt (RFC 3339, or
	// YYYY-MM-DDTHH:MM in UTC) when it starts, now when empty.
	WindowHours  int    `json:"window_hours"`
	StartAt      string `json:"start_at"`
	RepeatMonths int    `json:"repeat_months"`
	// Counterpart is, for a bilateral check, the State whose PoCs are
	// checked; empty for the Secretariat's campaigns.
	Counterpart string `json:"counterpart"`
}

// Campaign is a check campaign with its progress and results in brief.
type Campaign struct {
	ID           int64      `json:"id"`
	Kind         string     `json:"kind"`
	OwnerState   string     `json:"owner_state,omitempty"`
	Counterpart  string     `json:"counterpart,omitempty"`
	Title        string     `json:"title"`
	Message      string     `json:"message"`
	Scope        string     `json:"scope"`
	Value        string     `json:"value"`
	Channel      string     `json:"channel"`
	WindowHours  int        `json:"window_hours"`
	RepeatMonths int        `json:"repeat_months"`
	Status       string     `json:"status"`
	StartAt      time.Time  `json:"start_at"`
	WindowEnd    time.Time  `json:"window_end"`
	RemindedAt   *time.Time `json:"reminded_at,omitempty"`
	ClosedAt     *time.Time `json:"closed_at,omitempty"`
	CancelledAt  *time.Time `json:"cancelled_at,omitempty"`
	CreatedBy    string     `json:"created_by"`
	CreatedAt    time.Time  `json:"created_at"`
	Tally
}

// Tally counts a campaign's (or a group's) targets by outcome.
type Tally struct {
	Targets  int `json:"targets"`
	Queued   int `json:"queued"`
	Answered int `json:"answered"` // within the window
	Late     int `json:"late"`
	Bounced  int `json:"bounced"`
	Silent   int `json:"silent"` // no answer (yet)
}

// Rate is the share of targets that answered within the window, in percent.
func (t Tally) Rate() int {
	if t.Targets == 0 {
		return 0
	}
	return t.Answered * 100 / t.Targets
}

// Progress is the share of targets whose message is queued, in percent.
func (t Tally) Progress() int {
	if t.Targets == 0 {
		return 100
	}
	return t.Queued * 100 / t.Targets
}

// Target is one PoC checked on one channel, with its outcome.
type Target struct {
	ID         int64      `json:"id"`
	CampaignID int64      `json:"campaign_id"`
	PoCID      int64      `json:"poc_id,omitempty"`
	State      string     `json:"state"`
	Level      string     `json:"level"`
	Agency     string     `json:"agency"`
	Channel    string     `json:"channel"`
	Address    string     `json:"address,omitempty"`
	QueuedAt   *time.Time `json:"queued_at,omitempty"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
	AnsweredBy string     `json:"answered_by,omitempty"`
	Via        string     `json:"answered_via,omitempty"`
	BouncedAt  *time.Time `json:"bounced_at,omitempty"`
	NoAnswerAt *time.Time `json:"no_answer_at,omitempty"`
	// Outcome is answered, late, bounced, no-answer or waiting; Seconds the
	// time to answer.
	Outcome string `json:"outcome"`
	Seconds int64  `json:"seconds_to_answer,omitempty"`
	// Campaign and WindowEnd, in the list of checks waiting for a State's
	// answer (Pending), are the campaign's title and when it closes.
	Campaign  string     `json:"campaign,omitempty"`
	WindowEnd *time.Time `json:"window_end,omitempty"`

	// language is the one the PoC is written to in (English below).
	language string
}

// The outcomes of a target.
const (
	OutcomeAnswered = "answered"
	OutcomeLate     = "late"
	OutcomeBounced  = "bounced"
	OutcomeNoAnswer = "no-answer"
	OutcomeWaiting  = "waiting"
)

// outcome says how a target ended, or stands, at now.
func (t *Target) outcome(c *Campaign, now time.Time) {
	start := c.StartAt
	if t.QueuedAt != nil {
		start = *t.QueuedAt
	}
	switch {
	case t.AnsweredAt != nil:
		t.Outcome = OutcomeAnswered
		if t.AnsweredAt.After(c.WindowEnd) {
			t.Outcome = OutcomeLate
		}
		t.Seconds = int64(t.AnsweredAt.Sub(start).Seconds())
	case t.BouncedAt != nil:
		t.Outcome = OutcomeBounced
	case t.NoAnswerAt != nil || now.After(c.WindowEnd) || c.Status == StatusClosed || c.Status == StatusCancelled:
		t.Outcome = OutcomeNoAnswer
	default:
		t.Outcome = OutcomeWaiting
	}
}

func (t *Tally) add(tg *Target) {
	t.Targets++
	if tg.QueuedAt != nil {
		t.Queued++
	}
	switch tg.Outcome {
	case OutcomeAnswered:
		t.Answered++
	case OutcomeLate:
		t.Late++
	case OutcomeBounced:
		t.Bounced++
	default:
		t.Silent++
	}
}

// Group is a line of the results by State, UN group or regional body.
type Group struct {
	Name string `json:"name"`
	Tally
}

// Results are a campaign's targets and their tallies.
type Results struct {
	Campaign *Campaign `json:"campaign"`
	Targets  []*Target `json:"targets"`
	ByState  []Group   `json:"by_state"`
	ByGroup  []Group   `json:"by_un_group"`
	ByBody   []Group   `json:"by_regional_body"`
}
