package comms

import (
	"time"

	"github.com/pocdir/pocdir/internal/app"
)

// The TLP 2.0 labels (FIRST), most restrictive first. They are never
// translated.
const (
	TLPRed         = "TLP:RED"
	TLPAmberStrict = "TLP:AMBER+STRICT"
	TLPAmber       = "TLP:AMBER"
	TLPGreen       = "TLP:GREEN"
	TLPClear       = "TLP:CLEAR"
)

// TLPs lists the labels, most restrictive first.
var TLPs = []string{TLPRed, TLPAmberStrict, TLPAmber, TLPGreen, TLPClear}

// ValidTLP reports whether s is a TLP 2.0 label.
func ValidTLP(s string) bool {
	for _, t := range TLPs {
		if t == s {
			return true
		}
	}
	return false
}

// TLPNeedsConsent reports whether sharing with a third State needs the
// originator's consent whatever the sender chose: TLP:AMBER, TLP:AMBER+STRICT
// and TLP:RED limit sharing to the recipients.
func TLPNeedsConsent(tlp string) bool {
	return tlp == TLPRed || tlp == TLPAmberStrict || tlp == TLPAmber
}

// TLPAllowsEmail reports whether the content may travel by email (under
// OpenPGP) and be exported: never for TLP:RED.
func TLPAllowsEmail(tlp string) bool { return tlp != TLPRed && ValidTLP(tlp) }

// Urgencies are the urgency levels of a communication, lowest first.
var Urgencies = []string{"low", "medium", "high", "critical"}

// The levels a communication is addressed to.
const (
	LevelTechnical  = "technical"
	LevelDiplomatic = "diplomatic"
)

// The communication states.
const (
	StatusDraft = "draft"
	StatusSent  = "sent"
)

// The recipient outcomes: how the recipient State answered. None of them
// implies concurrence (principle 3).
const (
	OutcomeResponded = "responded"
	OutcomeDeclined  = "declined"
	OutcomeDisputed  = "disputed"
	OutcomeMoreInfo  = "more-info"
)

// Outcomes lists the outcomes a recipient may record without writing a
// response communication.
var Outcomes = []string{OutcomeDeclined, OutcomeDisputed, OutcomeMoreInfo}

// The routes by which a PoC came to receive a communication.
const (
	RouteLevel      = "level"       // a PoC at the level asked for
	RouteAlternate  = "alternate"   // the State has no main PoC at the level with email
	RouteOtherLevel = "other-level" // the State has no PoC at the level
	RouteTension    = "tension"     // diplomatic first: the sender State declared tension
	RouteRouting    = "routing"     // diplomatic first: the recipient State's routing rule
	RouteEscalated  = "escalated"   // the sender escalated to the diplomatic level
	RouteMoved      = "moved"       // the PoC left; its alternate took over
)

// Indicator is one indicator of compromise, structured. Type is one of
// IndicatorTypes; Value is normalised (lower-case domains and hashes,
// canonical IP addresses, UTC times in RFC 3339).
type Indicator struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// The indicator types. The names follow STIX 2.1's cyber-observable
// objects where there is one.
const (
	IndIPv4    = "ipv4-addr"   // an address or a CIDR range
	IndIPv6    = "ipv6-addr"   // an address or a CIDR range
	IndDomain  = "domain-name" // a fully qualified domain name
	IndURL     = "url"
	IndEmail   = "email-addr"
	IndMD5     = "md5"
	IndSHA1    = "sha1"
	IndSHA256  = "sha256"
	IndMalware = "malware" // a malware family or tool name
	IndASN     = "autonomous-system"
	IndTime    = "time" // a time in UTC, RFC 3339
)

// IndicatorTypes lists every indicator type.
var IndicatorTypes = []string{IndIPv4, IndIPv6, IndDomain, IndURL, IndEmail, IndMD5, IndSHA1, IndSHA256, IndMalware, IndASN, IndTime}

// Problem is an indicator that did not parse: its line (from 1), the text
// and why, as a catalog key with an English message.
type Problem struct {
	Line    int    `json:"line"`
	Text    string `json:"text"`
	Key     string `json:"key"`
	Message string `json:"message"`
}

// Content is what a communication says: sealed at rest, never shown to the
// Secretariat. Fields holds the template's fields by key (subject, urgency,
// respond_by and tlp are also kept in the communication's columns).
type Content struct {
	Subject    string            `json:"subject"`
	Fields     map[string]string `json:"fields"`
	Indicators []Indicator       `json:"indicators,omitempty"`
}

// Communication is a communication with what the actor may see of it.
// Content, Attachments' names and the notes of events are nil or empty for
// the Secretariat.
type Communication struct {
	ID              int64      `json:"id"`
	Ref             string     `json:"ref"`
	ThreadID        int64      `json:"thread_id"`
	ParentID        int64      `json:"parent_id,omitempty"`
	ForwardedFrom   int64      `json:"forwarded_from,omitempty"`
	TemplateID      int64      `json:"template_id"`
	TemplateSlug    string     `json:"template"`
	TemplateVersion int        `json:"template_version"`
	TemplateName    Text       `json:"template_name"`
	SenderState     string     `json:"sender_state"`
	SenderEmail     string     `json:"sender,omitempty"`
	SenderTZ        string     `json:"sender_time_zone,omitempty"`
	ToStates        []string   `json:"to_states"`
	Level           string     `json:"level"`
	Urgency         string     `json:"urgency,omitempty"`
	TLP             string     `json:"tlp,omitempty"`
	RespondBy       *time.Time `json:"respond_by,omitempty"`
	OnwardConsent   bool       `json:"onward_consent"`
	Status          string     `json:"status"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	SentAt          *time.Time `json:"sent_at,omitempty"`
	EscalatedAt     *time.Time `json:"escalated_at,omitempty"`
	LogIndex        *int64     `json:"log_index,omitempty"`
	// ExerciseID is the exercise an inject, or an answer to one, belongs
	// to (0 for a real communication).
	ExerciseID int64 `json:"exercise_id,omitempty"`
	// Exercise marks a communication of an exercise: an inject, a message
	// of the exercise template, or any answer in their threads.
	Exercise bool `json:"exercise"`
	// CommitSalt is the salt of the log entry's commitment to the
	// communication: with it, those who may read the content recompute the
	// commitment (Commitment). Not for the Secretariat.
	CommitSalt string `json:"commit_salt,omitempty"`

	Content     *Content      `json:"content,omitempty"`
	Recipients  []*Recipient  `json:"recipients,omitempty"`
	Attachments []*Attachment `json:"attachments,omitempty"`
	// Stages are the recipient lines' States and stages alone, in place
	// of Recipients, in a list read with Filter.StagesOnly.
	Stages []LineStage `json:"-"`

	// Viewer says what the actor may do; set by the service.
	Viewer Viewer `json:"-"`

	sealed     string
	idemKey    string
	senderUser int64
}

// IsExercise reports whether a communication belongs to an exercise: an
// inject of an exercise the Secretariat runs, an answer to one, or a
// message from the exercise template. It is marked EXERCISE everywhere,
// and cannot be shared onward or escalated as a real one.
func (c *Communication) IsExercise() bool {
	return c.Exercise || c.ExerciseID != 0 || c.TemplateSlug == ExerciseSlug
}

// FromSecretariat reports whether the Secretariat sent the communication
// (an exercise inject).
func (c *Communication) FromSecretariat() bool { return c.SenderState == SecretariatSender }

// Viewer is the actor's relation to a communication.
type Viewer struct {
	Sender    bool // a user of the sender State
	Recipient bool // a user of a recipient State
	Metadata  bool // the Secretariat: metadata only
}

// Recipient is one recipient PoC and how far it got.
type Recipient struct {
	ID          int64      `json:"id"`
	State       string     `json:"state"`
	PoCID       int64      `json:"poc_id,omitempty"`
	Level       string     `json:"level"`
	Agency      string     `json:"agency"`
	Address     string     `json:"address,omitempty"`
	Route       string     `json:"route"`
	TimeZone    string     `json:"time_zone,omitempty"` // the PoC's, to show deadlines in it
	Encrypted   bool       `json:"encrypted"`
	NotifiedAt  *time.Time `json:"notified_at,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	BouncedAt   *time.Time `json:"bounced_at,omitempty"`
	BounceError string     `json:"bounce_error,omitempty"`
	OpenedAt    *time.Time `json:"opened_at,omitempty"`
	OpenedBy    string     `json:"opened_by,omitempty"`
	AckedAt     *time.Time `json:"acknowledged_at,omitempty"`
	AckedBy     string     `json:"acknowledged_by,omitempty"`
	Outcome     string     `json:"outcome,omitempty"`
	OutcomeAt   *time.Time `json:"outcome_at,omitempty"`
	OutcomeBy   string     `json:"outcome_by,omitempty"`
	RemindedAt  *time.Time `json:"reminded_at,omitempty"`
	MovedAt     *time.Time `json:"moved_at,omitempty"`
}

// LineStage is a recipient line as a page of the list shows it: its State
// and how far it got (Recipient.Stage).
type LineStage struct {
	State, Stage string
}

// Stages are the stages a recipient line passes, as Stage names them.
var Stages = []string{"pending", "notified", "delivered", "bounced", "opened", "acknowledged", OutcomeResponded, OutcomeDeclined, OutcomeDisputed, OutcomeMoreInfo, "moved"}

// Stage is how far the recipient got: notified, delivered, bounced,
// opened, acknowledged, or its outcome; "moved" when an alternate took
// over; "pending" before it was notified.
func (r *Recipient) Stage() string {
	switch {
	case r.MovedAt != nil:
		return "moved"
	case r.Outcome != "":
		return r.Outcome
	case r.AckedAt != nil:
		return "acknowledged"
	case r.OpenedAt != nil:
		return "opened"
	case r.BouncedAt != nil:
		return "bounced"
	case r.DeliveredAt != nil:
		return "delivered"
	case r.NotifiedAt != nil:
		return "notified"
	}
	return "pending"
}

// Attachment is a file sent with a communication. Name and Type are
// content: empty for the Secretariat.
type Attachment struct {
	ID   int64  `json:"id"`
	Name string `json:"name,omitempty"`
	Type string `json:"media_type,omitempty"`
	Size int64  `json:"size"`
	Data []byte `json:"-"`
}

// Event is one act in a thread. Note is content (the reason for a
// decline, the question for more information): empty for the Secretariat.
type Event struct {
	ID     int64     `json:"id"`
	CommID int64     `json:"comm_id"`
	Kind   string    `json:"kind"`
	State  string    `json:"state,omitempty"`
	Actor  string    `json:"actor,omitempty"`
	Target string    `json:"target,omitempty"`
	Note   string    `json:"note,omitempty"`
	RefID  int64     `json:"ref_id,omitempty"`
	At     time.Time `json:"at"`
	// LogIndex is the event's entry in the accountability log.
	LogIndex *int64 `json:"log_index,omitempty"`
	// Via is "email" for an act received by email ("" in the portal or
	// the API), and Verification whether its OpenPGP signature was
	// verified, or what the State decided of an unverified one.
	Via          string `json:"via,omitempty"`
	Verification string `json:"verification,omitempty"`

	threadID int64
	sealed   string
}

// The event kinds.
const (
	EvSent             = "sent"
	EvOpened           = "opened"
	EvAcknowledged     = "acknowledged"
	EvResponded        = "responded"
	EvDeclined         = "declined"
	EvDisputed         = "disputed"
	EvMoreInfo         = "more-info"
	EvEscalated        = "escalated"
	EvConsentRequested = "consent-requested"
	EvConsentGranted   = "consent-granted"
	EvConsentRefused   = "consent-refused"
	EvForwarded        = "forwarded"
	EvReminded         = "reminded"
	EvMoved            = "moved"
	// EvAutoReply is an automatic answer to a notification (out of office):
	// not an act, but the sender learns that the PoC may be away.
	EvAutoReply = "auto-reply"
)

// Thread is an exchange: its communications in order and every event.
type Thread struct {
	ID     int64            `json:"id"`
	Comms  []*Communication `json:"communications"`
	Events []*Event         `json:"events"`
}

// CommInput is what a PoC officer composes. Fields holds every template field
// by key as typed (indicators as text, one per line; respond_by as RFC 3339
// or YYYY-MM-DDTHH:MM in UTC; booleans as "true"). IdemKey makes a repeated
// submission (a double click, a retried request) create one communication.
type CommInput struct {
	Template    string            `json:"template"`
	ToStates    []string          `json:"to_states"`
	Level       string            `json:"level"`
	Fields      map[string]string `json:"fields"`
	Indicators  []Indicator       `json:"indicators,omitempty"`
	Attachments []*Attachment     `json:"-"`
	Draft       bool              `json:"draft"`
	// Review checks the input as for sending, routes it, and keeps it as a
	// draft for the sender to confirm (Preview, then Send): the portal
	// sends nothing on the compose form's first click.
	Review  bool   `json:"-"`
	IdemKey string `json:"idempotency_key,omitempty"`
	// ParentID makes the communication a response in the parent's thread,
	// addressed to the parent's sender State.
	ParentID int64 `json:"parent_id,omitempty"`
}

// Filter narrows a list of communications (search within one's own
// State's communications). Empty fields do not filter.
type Filter struct {
	Query string    // in the subject, the fields and the indicators
	From  time.Time // sent (or created) at or after
	To    time.Time // sent (or created) before
	Stage string    // a recipient stage, e.g. acknowledged
	Box   string    // "in" (received), "out" (sent), "drafts"; both when empty
	// Cursor is where the page begins (the first page when zero), Limit
	// its length (app.PageSize when zero, at most app.MaxPageSize).
	Cursor app.Cursor
	Limit  int
	// StagesOnly reads of each recipient line its State and stage only
	// (Communication.Stages), not the whole line (Recipients): what a page
	// of the list shows, without the dates it does not.
	StagesOnly bool
}

// Languages are the six UN languages in which templates are labelled;
// English is required, the others may wait for their translation.
var Languages = []string{"en", "fr", "es", "ru", "zh", "ar"}

// Text is a label in the UN languages, by language code.
type Text map[string]string

// In returns the text in lang, or in English when it has none.
func (t Text) In(lang string) string {
	if v := t[lang]; v != "" {
		return v
	}
	return t["en"]
}

// Kinds are the kinds of template field.
var Kinds = []string{"text", "textarea", "datetime", "choice", "indicators", "tlp", "urgency", "boolean"}

// Field is one field of a template.
type Field struct {
	Key      string `json:"key"`
	Kind     string `json:"kind"`
	Required bool   `json:"required"`
	Label    Text   `json:"label"`
	Help     Text   `json:"help,omitempty"`
	// List names the reference list a choice field offers (see Lists).
	List string `json:"list,omitempty"`
}

// Template is a communication template at its current version.
type Template struct {
	ID          int64     `json:"id"`
	Slug        string    `json:"slug"`
	Status      string    `json:"status"` // active | retired
	Version     int       `json:"version"`
	Name        Text      `json:"name"`
	Description Text      `json:"description"`
	Fields      []Field   `json:"fields"`
	CreatedBy   string    `json:"created_by"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Versions lists every version, newest first (on Get only).
	Versions []Version `json:"versions,omitempty"`
}

// Version is a template's version in its history.
type Version struct {
	Version   int       `json:"version"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// TemplateInput is a new template or a revision. Version is the version a
// revision started from.
type TemplateInput struct {
	Slug        string  `json:"slug,omitempty"`
	Name        Text    `json:"name"`
	Description Text    `json:"description"`
	Fields      []Field `json:"fields"`
	Version     int     `json:"version,omitempty"`
}
