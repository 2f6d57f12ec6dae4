// Package capacity owns capacity-building (capability C9): the needs that
// a State records (help to set up a technical PoC, training in incident
// handling …), the offers of States and of partners, the matches that the
// Secretariat proposes and both sides accept, the activities that accepted
// matches become, and the Secretariat's action plan with its progress.
// A need is a State's weakness: who may see it is the need's visibility,
// decided here, in the service, for pages and API alike.
package capacity

import (
	"slices"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
)

// Kinds are the forms a capacity-building measure takes (Iran's paper):
// activities, then tools. Keys are stored; never rename one. Each reads in
// the reader's language as the catalog's list.capacity_kind.<key>.
var Kinds = []string{"workshop", "training_course", "tabletop_exercise", "webinar", "technology_transfer",
	"paper", "guidelines", "sop", "database"}

// Topics are the reference list of what help is about; a need or an offer
// may add its own words (TopicOther). Each reads as
// list.capacity_topic.<key>.
var Topics = []string{"poc_setup", "incident_handling", "forensics", "legal_frameworks", "international_law",
	"norms", "cbms", "critical_infrastructure", "threat_information", "secure_communications",
	"national_strategy", "exercises"}

// Visibility says who, beyond the needing State, sees a need.
type Visibility string

// The visibilities. Secretariat is the default: a State may not want to
// advertise a weakness.
const (
	VisibleSecretariat Visibility = "secretariat" // the Secretariat only
	VisibleOfferers    Visibility = "offerers"    // and States offering help on one of its topics
	VisibleAll         Visibility = "all"         // and every State
)

// Visibilities lists the visibilities, the default first.
var Visibilities = []Visibility{VisibleSecretariat, VisibleOfferers, VisibleAll}

// Formats are how an offer is given.
var Formats = []string{"in-person", "online", "both"}

// The statuses of a need.
const (
	NeedOpen      = "open"      // waiting for help
	NeedMatched   = "matched"   // a match was accepted: an activity is planned
	NeedMet       = "met"       // an activity that serves it is done
	NeedWithdrawn = "withdrawn" // the State no longer needs it
)

// The statuses of an offer.
const (
	OfferOpen      = "open"
	OfferWithdrawn = "withdrawn"
)

// The statuses of a match, and the answers of each side.
const (
	MatchProposed = "proposed"
	MatchAccepted = "accepted"
	MatchDeclined = "declined"
	Accept        = "accepted"
	Decline       = "declined"
)

// The statuses of an activity.
const (
	ActivityPlanned   = "planned"
	ActivityUnderWay  = "under-way"
	ActivityDone      = "done"
	ActivityCancelled = "cancelled"
)

// ActivityStatuses lists the statuses of an activity in their order.
var ActivityStatuses = []string{ActivityPlanned, ActivityUnderWay, ActivityDone, ActivityCancelled}

// Length limits of the fields: generous for real entries, a stop to abuse.
const (
	MaxText      = 4000 // details, outcome
	MaxShort     = 200  // free-text topic, partner, titles
	MaxLanguages = 12
	MaxTopics    = 12
	MaxCapacity  = 100000
	MaxMeasures  = 100
	MaxTarget    = 10000
)

// Text is free text in a UN language with its English translation, as the
// directory's notes are.
type Text = directory.Text

// NeedInput is what a focal point records as a need.
type NeedInput struct {
	Kind       string          `json:"kind"`
	Topics     []string        `json:"topics,omitempty"`
	TopicOther string          `json:"topic_other,omitempty"`
	Level      directory.Level `json:"level"`
	Languages  []string        `json:"languages"`
	// NeededBy is YYYY-MM-DD, or empty.
	NeededBy   string     `json:"needed_by,omitempty"`
	Visibility Visibility `json:"visibility"`
	Details    Text       `json:"details"`
}

// Need is a State's need of help.
type Need struct {
	ID    int64  `json:"id"`
	State string `json:"state"`
	NeedInput
	Status    string     `json:"status"`
	CreatedBy string     `json:"created_by,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	MatchedAt *time.Time `json:"matched_at,omitempty"`
	MetAt     *time.Time `json:"met_at,omitempty"`
	// ExerciseID is the exercise whose finding the need was recorded
	// from (lessons feeding capacity needs); 0 for any other need.
	ExerciseID int64 `json:"exercise_id,omitempty"`
}

// OfferInput is what a State, or the Secretariat for a partner, offers.
type OfferInput struct {
	// Partner names the organisation for which the Secretariat records the
	// offer; empty for a State's own offer.
	Partner    string          `json:"partner,omitempty"`
	Kind       string          `json:"kind"`
	Topics     []string        `json:"topics,omitempty"`
	TopicOther string          `json:"topic_other,omitempty"`
	Level      directory.Level `json:"level,omitempty"` // empty: any level
	Languages  []string        `json:"languages"`
	Format     string          `json:"format"`
	Capacity   int             `json:"capacity,omitempty"`
	// PeriodFrom and PeriodTo (YYYY-MM-DD) bound when help can be given.
	PeriodFrom string `json:"period_from,omitempty"`
	PeriodTo   string `json:"period_to,omitempty"`
	Details    Text   `json:"details"`
}

// Offer is what a State or partner can give.
type Offer struct {
	ID int64 `json:"id"`
	// State is the offering State; empty for a partner's offer.
	State string `json:"state,omitempty"`
	OfferInput
	Status    string    `json:"status"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Giver names who gives an offer: its State's code or the partner.
func (o *Offer) Giver() string {
	if o.State != "" {
		return o.State
	}
	return o.Partner
}

// Reason is one part of why a need and an offer fit, or do not: a catalog
// key with its arguments, and the English sentence for the API.
type Reason struct {
	Key     string         `json:"key"`
	Args    map[string]any `json:"args,omitempty"`
	English string         `json:"text"`
	// Points is what the reason adds to the score (0 for a reason against).
	Points int `json:"points"`
}

// Suggestion is a need and an offer that fit, scored, with the reasons.
type Suggestion struct {
	Need    *Need    `json:"need"`
	Offer   *Offer   `json:"offer"`
	Score   int      `json:"score"`
	Reasons []Reason `json:"reasons"`
}

// Match is a need and an offer that the Secretariat put together, with
// each side's answer. It is accepted when both sides accept, declined when
// either declines.
type Match struct {
	// need is the match's need, read beside it to decide who sees it.
	need            *Need
	ID              int64      `json:"id"`
	NeedID          int64      `json:"need_id"`
	OfferID         int64      `json:"offer_id"`
	NeedState       string     `json:"need_state"`
	OfferState      string     `json:"offer_state,omitempty"`
	Partner         string     `json:"partner,omitempty"`
	Status          string     `json:"status"`
	Score           int        `json:"score"`
	ProposedBy      string     `json:"proposed_by,omitempty"`
	ProposedByID    int64      `json:"-"`
	ProposedAt      time.Time  `json:"proposed_at"`
	NeedAnswer      string     `json:"need_answer,omitempty"`
	NeedAnsweredBy  string     `json:"need_answered_by,omitempty"`
	NeedAnsweredAt  *time.Time `json:"need_answered_at,omitempty"`
	OfferAnswer     string     `json:"offer_answer,omitempty"`
	OfferAnsweredBy string     `json:"offer_answered_by,omitempty"`
	OfferAnsweredAt *time.Time `json:"offer_answered_at,omitempty"`
	DecidedAt       *time.Time `json:"decided_at,omitempty"`
	// ActivityID is the activity an accepted match became.
	ActivityID int64 `json:"activity_id,omitempty"`
}

// ActivityInput is what the Secretariat, or a focal point of either side,
// records of an activity.
type ActivityInput struct {
	Status       string `json:"status"`
	StartsOn     string `json:"starts_on,omitempty"`
	EndsOn       string `json:"ends_on,omitempty"`
	Participants int    `json:"participants,omitempty"`
	MeasureID    int64  `json:"measure_id,omitempty"`
	Outcome      Text   `json:"outcome"`
}

// Activity is what an accepted match became: a workshop, a training …
type Activity struct {
	ID         int64  `json:"id"`
	MatchID    int64  `json:"match_id"`
	NeedID     int64  `json:"need_id"`
	OfferID    int64  `json:"offer_id"`
	NeedState  string `json:"need_state"`
	OfferState string `json:"offer_state,omitempty"`
	Partner    string `json:"partner,omitempty"`
	Kind       string `json:"kind"`
	ActivityInput
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	DoneAt    *time.Time `json:"done_at,omitempty"`
}

// PlanInput is an action plan's heading.
type PlanInput struct {
	Title      string `json:"title"`
	PeriodFrom string `json:"period_from"`
	PeriodTo   string `json:"period_to"`
}

// MeasureInput is one measure of an action plan.
type MeasureInput struct {
	Title  string `json:"title"`
	Kind   string `json:"kind,omitempty"`
	Target int    `json:"target"`
}

// Measure is a measure of the action plan, with its activities counted.
type Measure struct {
	ID     int64 `json:"id"`
	PlanID int64 `json:"plan_id"`
	MeasureInput
	Planned int `json:"activities_planned"` // planned or under way
	Done    int `json:"activities_done"`
}

// Plan is the Secretariat's capacity-building action plan.
type Plan struct {
	ID int64 `json:"id"`
	PlanInput
	CreatedBy string     `json:"created_by,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	Measures  []*Measure `json:"measures,omitempty"`
}

// RegionCount counts needs of one UN regional group by status.
type RegionCount struct {
	Group   string `json:"un_group"`
	Open    int    `json:"open"`
	Matched int    `json:"matched"`
	Met     int    `json:"met"`
}

// Progress is what the Secretariat reads of capacity-building: needs by
// region, how long help takes, and activities per measure of the plan.
type Progress struct {
	Regions []RegionCount `json:"regions"`
	// Median days from a need to its accepted match, and from the match
	// to the activity done; -1 when nothing was measured.
	DaysToMatch int   `json:"median_days_to_match"`
	DaysToDone  int   `json:"median_days_to_done"`
	Matched     int   `json:"needs_matched"`
	Done        int   `json:"activities_done"`
	Plan        *Plan `json:"plan,omitempty"`
}

func validKind(k string) bool  { return slices.Contains(Kinds, k) }
func validTopic(k string) bool { return slices.Contains(Topics, k) }

// Valid reports whether v is a known visibility.
func (v Visibility) Valid() bool { return slices.Contains(Visibilities, v) }

// NeedPage, OfferPage, MatchPage and ActivityPage are pages of their
// lists, newest first, with the cursors of the pages older and newer than
// them (nil at either end).
type (
	NeedPage struct {
		List         []*Need
		Older, Newer *app.Cursor
	}
	OfferPage struct {
		List         []*Offer
		Older, Newer *app.Cursor
	}
	MatchPage struct {
		List         []*Match
		Older, Newer *app.Cursor
	}
	ActivityPage struct {
		List         []*Activity
		Older, Newer *app.Cursor
	}
)
