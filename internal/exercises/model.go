package exercises

import (
	"time"
)

// The statuses of an exercise. The Secretariat's plan is agreed at once; a
// group of States' proposal is a draft until a Secretariat officer agrees,
// then waits for a second officer's confirmation (four eyes: an agreed
// proposal lets the proposing State send injects in the Secretariat's
// name). The proposing State may withdraw it until then, and a
// Secretariat officer may decline it.
const (
	Draft     = "draft"
	Agreeing  = "agreeing" // one officer agreed; a second confirms
	Agreed    = "agreed"
	Withdrawn = "withdrawn"
	Declined  = "declined" // by a Secretariat officer, with a reason
)

// The statuses of an inject.
const (
	InjectPlanned  = "planned"  // waiting for its time, or for the controller
	InjectReleased = "released" // sent as communications
)

// Limits on what an exercise holds.
const (
	MaxNameRunes       = 200
	MaxObjectivesRunes = 5000
	MaxNoteRunes       = 20000
	MaxReasonRunes     = 2000 // why the Secretariat declined a proposal
	MaxParticipants    = 195
	MaxInjects         = 50
	MaxFields          = 40
	MaxFieldKeyRunes   = 60
	MaxFieldRunes      = 20000
	MaxTemplateRunes   = 60
	// MaxTargetMinutes is the longest target: thirty days.
	MaxTargetMinutes = 30 * 24 * 60
	// MaxListed is the length of a list of exercises: the newest.
	MaxListed = 200
	// MaxPrevious is how many of a State's previous exercises its report
	// compares.
	MaxPrevious = 5
)

// Exercise is an exercise with what the actor may see of it.
type Exercise struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Objectives string    `json:"objectives"`
	StartsAt   time.Time `json:"starts_at"`
	EndsAt     time.Time `json:"ends_at"`
	// TargetAck and TargetAnswer are the targets, in minutes from an
	// inject: to acknowledge it, and to answer it.
	TargetAck    int           `json:"target_ack_minutes"`
	TargetAnswer int           `json:"target_answer_minutes"`
	Participants []Participant `json:"participants"`
	// Injects is the scenario; a participant sees when each was released,
	// never what a planned one will say.
	Injects []*Inject `json:"injects"`
	// Status is draft, agreeing, agreed, withdrawn or declined. ProposedBy is the
	// State whose focal point proposed the exercise for a group of States
	// (empty when the Secretariat planned it): once agreed, that State is
	// a controller. FirstAgreedBy is the officer who agreed to a proposal,
	// AgreedBy the second who confirmed it (the officer who planned it, for
	// the Secretariat's own).
	Status        string     `json:"status"`
	ProposedBy    string     `json:"proposed_by_state,omitempty"`
	FirstAgreedBy string     `json:"first_agreed_by,omitempty"`
	FirstAgreedAt *time.Time `json:"first_agreed_at,omitempty"`
	AgreedBy      string     `json:"agreed_by,omitempty"`
	AgreedAt      *time.Time `json:"agreed_at,omitempty"`
	WithdrawnBy   string     `json:"withdrawn_by,omitempty"`
	WithdrawnAt   *time.Time `json:"withdrawn_at,omitempty"`
	// DeclinedBy is the Secretariat officer who declined a proposal, and
	// DeclineReason why, for the proposing State and the Secretariat.
	DeclinedBy    string     `json:"declined_by,omitempty"`
	DeclinedAt    *time.Time `json:"declined_at,omitempty"`
	DeclineReason string     `json:"decline_reason,omitempty"`
	Note          string     `json:"after_action_note,omitempty"`
	NoteAt        *time.Time `json:"after_action_note_at,omitempty"`
	CreatedBy     string     `json:"created_by,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`

	// Manage is set when the actor runs the exercise (the Secretariat, or
	// the proposing State's focal point); Agree when the actor may agree
	// to a draft (a Secretariat officer); Confirm when the actor may
	// confirm another officer's agreement (a second one); Withdraw when
	// the actor may withdraw the proposal (its State's focal point);
	// Decline when the actor may decline it (a Secretariat officer).
	Manage   bool `json:"-"`
	Agree    bool `json:"-"`
	Confirm  bool `json:"-"`
	Withdraw bool `json:"-"`
	Decline  bool `json:"-"`

	firstAgreedByID int64
}

// Participant is a participating State and the level its PoCs take part
// at.
type Participant struct {
	State string `json:"state"`
	Level string `json:"level"`
}

// Inject is a communication of the scenario: from a template, sent at a
// set time (SendAt) or released by hand by the controller.
type Inject struct {
	ID       int64  `json:"id"`
	Template string `json:"template"`
	// Fields are the template's fields as the Secretariat wrote them: for
	// the Secretariat only (participants read the communication itself).
	Fields     map[string]string `json:"fields,omitempty"`
	SendAt     *time.Time        `json:"send_at,omitempty"`
	Status     string            `json:"status"`
	ReleasedAt *time.Time        `json:"released_at,omitempty"`
	// Comms are the communications it became, one per level.
	Comms     []InjectComm `json:"communications,omitempty"`
	CreatedAt time.Time    `json:"created_at"`

	exerciseID int64
}

// InjectComm is the communication an inject became at a level.
type InjectComm struct {
	CommID int64  `json:"comm_id"`
	Level  string `json:"level"`
}

// Input is a planned exercise. Times are in UTC.
type Input struct {
	Name                string        `json:"name"`
	Objectives          string        `json:"objectives"`
	StartsAt            time.Time     `json:"starts_at"`
	EndsAt              time.Time     `json:"ends_at"`
	TargetAckMinutes    int           `json:"target_ack_minutes"`
	TargetAnswerMinutes int           `json:"target_answer_minutes"`
	Participants        []Participant `json:"participants"`
}

// InjectInput is an inject of the scenario. Without SendAt the controller
// releases it by hand. When the template asks for a response time and the
// inject names none, the exercise's answer target sets it at release.
type InjectInput struct {
	Template string            `json:"template"`
	Fields   map[string]string `json:"fields"`
	SendAt   *time.Time        `json:"send_at,omitempty"`
}

// The outcomes of a participant for an inject.
const (
	Reached = "reached" // at least one PoC's mail server took the notification
	Bounced = "bounced" // every notification was refused
	NoPoC   = "no-poc"  // the State had no PoC who could be reached
	Pending = "pending" // not yet delivered
)

// Figures are how fast a participant, or one of its PoCs, answered an
// inject: seconds from the inject's sending to the first delivery,
// opening, acknowledgement and answer (nil when it did not happen), and
// whether the targets were met. Times, never content.
type Figures struct {
	Inject    int    `json:"inject"` // its position in the scenario, from 1
	State     string `json:"state"`
	Group     string `json:"un_group"`
	Level     string `json:"level"`
	Outcome   string `json:"outcome"`
	OtherLvl  bool   `json:"other_level,omitempty"` // no PoC at the level: another level's PoCs received it
	PoCID     int64  `json:"poc_id,omitempty"`
	Agency    string `json:"agency,omitempty"`
	Delivered *int64 `json:"delivered_seconds,omitempty"`
	Opened    *int64 `json:"opened_seconds,omitempty"`
	Acked     *int64 `json:"acknowledged_seconds,omitempty"`
	Answered  *int64 `json:"answered_seconds,omitempty"`
	AckMet    bool   `json:"acknowledged_in_target"`
	AnswerMet bool   `json:"answered_in_target"`
}

// Region is the figures of the participants of a UN regional group.
type Region struct {
	Group        string `json:"un_group"`
	Participants int    `json:"participants"`
	Reached      int    `json:"reached"`
	Acked        int    `json:"acknowledged"`
	Answered     int    `json:"answered"`
	AckMet       int    `json:"acknowledged_in_target"`
	AnswerMet    int    `json:"answered_in_target"`
	// MedianAck and MedianAnswer are in seconds (nil when none).
	MedianAck    *int64 `json:"median_acknowledged_seconds,omitempty"`
	MedianAnswer *int64 `json:"median_answered_seconds,omitempty"`
}

// Distribution is every participant's times, sorted and unnamed: what a
// participant compares its own figures with.
type Distribution struct {
	Acked    []int64 `json:"acknowledged_seconds"`
	Answered []int64 `json:"answered_seconds"`
	// Silent counts the participants' lines with no answer.
	Silent int `json:"silent"`
}

// Previous is a State's figures in one of its previous exercises.
type Previous struct {
	ID           int64     `json:"exercise_id"`
	Name         string    `json:"name"`
	StartsAt     time.Time `json:"starts_at"`
	MedianAck    *int64    `json:"median_acknowledged_seconds,omitempty"`
	MedianAnswer *int64    `json:"median_answered_seconds,omitempty"`
	Lines        int       `json:"injects"`
	Answered     int       `json:"answered"`
}

// Report is an exercise's report as the actor may see it: the Secretariat
// every participant by name, a participant its own figures, the
// anonymised distribution and its previous exercises.
type Report struct {
	Exercise *Exercise `json:"exercise"`
	State    string    `json:"state,omitempty"` // the participant whose report it is; empty for the Secretariat's
	// Controller is set when the reader sees every participant as the
	// controller of the exercise: the Secretariat, or the proposing State.
	Controller   bool         `json:"controller,omitempty"`
	States       []Figures    `json:"states"`
	PoCs         []Figures    `json:"pocs"`
	Regions      []Region     `json:"regions,omitempty"`
	Distribution Distribution `json:"distribution"`
	Previous     []Previous   `json:"previous,omitempty"`
}
