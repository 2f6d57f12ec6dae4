// Package directory owns the directory of States and their Points of Contact:
// the reference list of States, each State's entry and PoCs, validation of
// what a focal point submits, the nominations that propose changes and
// their validation, the versioned history of every change, the annual
// reconfirmation with its reminders and OpenPGP key warnings, and the
// dashboard's figures. Its tables (states, pocs, nominations,
// entry_changes, reminders_sent) are read only through it.
package directory

import (
	"time"

	"github.com/pocdir/pocdir/internal/app"
)

// Level is the level at which a PoC acts (principle 1 of PRODUCT.md).
type Level string

// The PoC levels: the two main ones and the optional functions.
const (
	LevelDiplomatic        Level = "diplomatic"
	LevelTechnical         Level = "technical"
	LevelPolicy            Level = "policy"
	LevelLegal             Level = "legal"
	LevelIncidentReporting Level = "incident-reporting"
)

// Levels lists every level in display order.
var Levels = []Level{LevelDiplomatic, LevelTechnical, LevelPolicy, LevelLegal, LevelIncidentReporting}

// Valid reports whether l is a known level.
func (l Level) Valid() bool {
	for _, v := range Levels {
		if v == l {
			return true
		}
	}
	return false
}

// ChannelKind is the kind of a contact channel.
type ChannelKind string

// The channel kinds. Secure, diplomatic and other channels are free-text
// descriptions (e.g. "via the Embassy in Geneva, note verbale").
const (
	ChannelEmail      ChannelKind = "email"
	ChannelPhone      ChannelKind = "phone"
	ChannelFax        ChannelKind = "fax"
	ChannelSecure     ChannelKind = "secure"
	ChannelDiplomatic ChannelKind = "diplomatic"
	ChannelOther      ChannelKind = "other"
)

// ChannelKinds lists every channel kind in display order.
var ChannelKinds = []ChannelKind{ChannelEmail, ChannelPhone, ChannelFax, ChannelSecure, ChannelDiplomatic, ChannelOther}

// Channel is one way to reach a PoC.
type Channel struct {
	Kind      ChannelKind `json:"kind"`
	Value     string      `json:"value"`
	Preferred bool        `json:"preferred"`
}

// RegionalRef points at the same PoC in a regional directory (OSCE, ARF, …).
type RegionalRef struct {
	Body string `json:"body"`
	Ref  string `json:"ref"`
}

// Bodies lists the regional bodies that run PoC networks, as used in the
// reference data. Their names are proper names and are not translated.
var Bodies = []string{"OSCE", "ARF", "OAS", "AU", "EU", "ASEAN", "CIS", "CSTO", "SCO"}

// Groups lists the UN regional groups as used in the reference data.
var Groups = []string{"African", "Asia-Pacific", "Eastern European", "Latin American and Caribbean", "Western European and Others"}

// UNLanguages are the six official UN languages, in which notes may be given.
var UNLanguages = []string{"ar", "en", "es", "fr", "ru", "zh"}

// State is one State of the reference list with its entry-level fields.
type State struct {
	Code   string   `json:"code"`
	ISO2   string   `json:"iso2"`
	M49    string   `json:"m49"`
	Name   string   `json:"name"`
	Status string   `json:"status"` // member | observer
	Group  string   `json:"un_group"`
	Bodies []string `json:"regional_bodies"`
	// InitiateVia says through which channel or organisation communication
	// with the State should be initiated.
	InitiateVia string     `json:"initiate_via"`
	Notes       Text       `json:"notes"`
	Version     int        `json:"version"`
	UpdatedAt   *time.Time `json:"updated_at,omitempty"`
	// ConfirmedAt is when a focal point last reconfirmed the entry;
	// FirstNominatedAt when the State first nominated a PoC. The annual
	// reconfirmation falls due a year after the later of the two that is set.
	ConfirmedAt      *time.Time `json:"confirmed_at,omitempty"`
	FirstNominatedAt *time.Time `json:"first_nominated_at,omitempty"`
}

// Freshness says whether an entry's annual reconfirmation is done.
type Freshness string

// The freshness states. An overdue entry is stale: it stays in the
// directory, marked, never hidden or deleted (principle 7).
const (
	FreshNone    Freshness = "none"     // no PoC nominated yet
	FreshCurrent Freshness = "current"  // confirmed within the year
	FreshDueSoon Freshness = "due-soon" // due within 30 days
	FreshOverdue Freshness = "overdue"  // past due: stale
)

// DueSoonWindow is how long before the due date an entry counts as due soon.
const DueSoonWindow = 30 * 24 * time.Hour

// DueAt is when the entry's next reconfirmation is due, or nil when the
// State has nominated nobody.
func (s *State) DueAt() *time.Time {
	base := s.ConfirmedAt
	if base == nil {
		base = s.FirstNominatedAt
	}
	if base == nil {
		return nil
	}
	d := base.AddDate(1, 0, 0)
	return &d
}

// FreshnessAt says how fresh the entry is at now.
func (s *State) FreshnessAt(now time.Time) Freshness {
	due := s.DueAt()
	switch {
	case due == nil:
		return FreshNone
	case !now.Before(*due):
		return FreshOverdue
	case due.Sub(now) <= DueSoonWindow:
		return FreshDueSoon
	}
	return FreshCurrent
}

// Text is free text in one of the UN languages with its English translation
// (principle 8). When Lang is "en", English is empty.
type Text struct {
	Lang    string `json:"lang,omitempty"`
	Text    string `json:"text,omitempty"`
	English string `json:"english,omitempty"`
}

// Empty reports whether the text holds nothing.
func (t Text) Empty() bool { return t.Text == "" && t.English == "" }

// PoC is a Point of Contact of a State.
type PoC struct {
	ID            int64     `json:"id"`
	State         string    `json:"state"`
	Level         Level     `json:"level"`
	Alternate     bool      `json:"alternate"`
	Agency        string    `json:"agency"`
	FunctionTitle string    `json:"function_title"`
	PersonName    string    `json:"person_name,omitempty"`
	Channels      []Channel `json:"channels"`
	Languages     []string  `json:"languages"`
	TimeZone      string    `json:"time_zone"`
	Available247  bool      `json:"available_24_7"`
	WorkingHours  string    `json:"working_hours,omitempty"`
	// Hours are the working hours as days and times in the PoC's time
	// zone (see Hours); WorkingHours is free text beside them.
	Hours          string        `json:"hours,omitempty"`
	PGPKey         string        `json:"openpgp_key,omitempty"`
	PGPFingerprint string        `json:"openpgp_fingerprint,omitempty"`
	PGPExpiresAt   *time.Time    `json:"openpgp_expires_at,omitempty"`
	Notes          Text          `json:"notes"`
	RegionalRefs   []RegionalRef `json:"regional_refs"`
	Version        int           `json:"version"`
	CreatedAt      time.Time     `json:"created_at"`
	UpdatedAt      time.Time     `json:"updated_at"`
	// LeavingOn (YYYY-MM-DD) is set when a removal was validated ahead of
	// the day the person leaves: the PoC stays listed, marked, until then.
	LeavingOn string `json:"leaving_on,omitempty"`
}

// Email returns the PoC's preferred email address, or its first one; ""
// when it has none.
func (p *PoC) Email() string {
	first := ""
	for _, ch := range p.Channels {
		if ch.Kind != ChannelEmail {
			continue
		}
		if ch.Preferred {
			return ch.Value
		}
		if first == "" {
			first = ch.Value
		}
	}
	return first
}

// Entry is a State with its current PoCs.
type Entry struct {
	State
	PoCs []*PoC `json:"pocs"`
}

// Summary is a row of the directory list.
type Summary struct {
	State
	Freshness Freshness     `json:"freshness"`
	DueAt     *time.Time    `json:"due_at,omitempty"`
	PoCCount  int           `json:"poc_count"`
	ByLevel   map[Level]int `json:"pocs_by_level"`
	Has247    bool          `json:"has_24_7"`
	Languages []string      `json:"languages"`
}

// Filter narrows the directory list. Empty fields do not filter.
type Filter struct {
	Query    string // matches code, name, agency, function, person
	Group    string // UN regional group
	Body     string // regional body
	Level    Level  // has at least one PoC at this level
	Language string // has a PoC working in this language (primary subtag)
	Only247  bool   // has a PoC available 24/7
}

// PoCInput is what a focal point submits for a PoC.
type PoCInput struct {
	Level         Level         `json:"level"`
	Alternate     bool          `json:"alternate"`
	Agency        string        `json:"agency"`
	FunctionTitle string        `json:"function_title"`
	PersonName    string        `json:"person_name"`
	Channels      []Channel     `json:"channels"`
	Languages     []string      `json:"languages"`
	TimeZone      string        `json:"time_zone"`
	Available247  bool          `json:"available_24_7"`
	WorkingHours  string        `json:"working_hours"`
	Hours         string        `json:"hours,omitempty"`
	PGPKey        string        `json:"openpgp_key"`
	Notes         Text          `json:"notes"`
	RegionalRefs  []RegionalRef `json:"regional_refs"`
	// EffectiveDate is the date the change took effect (YYYY-MM-DD); today
	// when empty.
	EffectiveDate string `json:"effective_date,omitempty"`
	// Version is the version of the PoC the editor started from.
	Version int `json:"version,omitempty"`
	Submission
}

// Submission says how a proposed change is put forward: kept as a draft or
// submitted for validation and, when the Secretariat acts for a State, the
// reference of the State's written request (required then).
type Submission struct {
	Draft      bool   `json:"draft,omitempty"`
	RequestRef string `json:"request_ref,omitempty"`
}

// RemovalInput proposes removing a PoC. An effective date in the future
// marks the PoC as leaving on that date once validated.
type RemovalInput struct {
	Version       int    `json:"version"`
	EffectiveDate string `json:"effective_date"`
	Submission
}

// EntryInput is what a focal point submits for the entry-level fields.
type EntryInput struct {
	InitiateVia   string `json:"initiate_via"`
	Notes         Text   `json:"notes"`
	EffectiveDate string `json:"effective_date,omitempty"`
	Version       int    `json:"version,omitempty"`
	Submission
}

// Change is one versioned change to a State's entry.
type Change struct {
	ID            int64         `json:"id"`
	State         string        `json:"state"`
	PoCID         int64         `json:"poc_id,omitempty"`
	Action        string        `json:"action"` // entry.update, poc.create, poc.update, poc.remove
	ActorEmail    string        `json:"actor"`
	ChangedAt     time.Time     `json:"changed_at"`
	EffectiveDate string        `json:"effective_date"`
	Diff          []FieldChange `json:"changes"`
	// LogIndex is the change's entry in the accountability log, and
	// CommitSalt the salt of the entry's commitment to this change, so that
	// whoever reads the change can recompute the commitment.
	LogIndex   *int64 `json:"log_index,omitempty"`
	CommitSalt string `json:"commit_salt,omitempty"`
	// A change that went through a nomination records it: when the State
	// notified it (submitted the nomination), who validated it and under
	// which official reference, and the State's written request when the
	// Secretariat acted for the State.
	NominationID int64      `json:"nomination_id,omitempty"`
	NotifiedAt   *time.Time `json:"notified_at,omitempty"`
	OfficialRef  string     `json:"official_ref,omitempty"`
	ValidatedBy  string     `json:"validated_by,omitempty"`
	RequestRef   string     `json:"request_ref,omitempty"`
}

// Content is what the log's commitment covers: the change without its
// database id and log position.
func (c *Change) Content() any {
	return struct {
		State         string        `json:"state"`
		PoCID         int64         `json:"poc_id"`
		Action        string        `json:"action"`
		Actor         string        `json:"actor"`
		ChangedAt     string        `json:"changed_at"`
		EffectiveDate string        `json:"effective_date"`
		Diff          []FieldChange `json:"changes"`
		// Empty for changes made before nominations, which keeps their
		// encoding, and so their commitments, as they were.
		Nomination  int64  `json:"nomination,omitempty"`
		NotifiedAt  string `json:"notified_at,omitempty"`
		OfficialRef string `json:"official_ref,omitempty"`
		ValidatedBy string `json:"validated_by,omitempty"`
		RequestRef  string `json:"request_ref,omitempty"`
	}{c.State, c.PoCID, c.Action, c.ActorEmail, c.ChangedAt.UTC().Format(stampFormat), c.EffectiveDate, c.Diff,
		c.NominationID, stamp(c.NotifiedAt), c.OfficialRef, c.ValidatedBy, c.RequestRef}
}

const stampFormat = "2006-01-02T15:04:05.000000Z"

func stamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(stampFormat)
}

// FieldChange is one field's old and new value in a Change.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// Diplomatic returns the number of diplomatic PoCs.
func (s *Summary) Diplomatic() int { return s.ByLevel[LevelDiplomatic] }

// Technical returns the number of technical PoCs.
func (s *Summary) Technical() int { return s.ByLevel[LevelTechnical] }

// Other returns the number of PoCs at the optional levels.
func (s *Summary) Other() int { return s.PoCCount - s.Diplomatic() - s.Technical() }

// NominationStatus is where a nomination stands.
type NominationStatus string

// The nomination states.
const (
	NomDraft     NominationStatus = "draft"
	NomSubmitted NominationStatus = "submitted"
	NomValidated NominationStatus = "validated"
	NomReturned  NominationStatus = "returned"
	NomWithdrawn NominationStatus = "withdrawn"
)

// NominationStatuses lists the states in the order of the workflow.
var NominationStatuses = []NominationStatus{NomDraft, NomSubmitted, NomReturned, NomValidated, NomWithdrawn}

// Open reports whether the nomination still waits for someone.
func (st NominationStatus) Open() bool {
	return st == NomDraft || st == NomSubmitted || st == NomReturned
}

// Nomination is a proposed change to a State's entry.
type Nomination struct {
	ID     int64  `json:"id"`
	State  string `json:"state"`
	Action string `json:"action"` // poc.create, poc.update, poc.remove, entry.update
	PoCID  int64  `json:"poc_id,omitempty"`
	// BaseVersion is the version of the PoC or entry the proposal started
	// from: validation refuses it if that has changed since.
	BaseVersion   int              `json:"base_version"`
	PoC           *PoCInput        `json:"poc,omitempty"`
	Entry         *EntryInput      `json:"entry,omitempty"`
	EffectiveDate string           `json:"effective_date"`
	Status        NominationStatus `json:"status"`
	Version       int              `json:"version"`
	// RequestRef is the State's written request under which the
	// Secretariat acts for it; empty when the State's focal point acts.
	RequestRef   string     `json:"request_ref,omitempty"`
	CreatedBy    string     `json:"created_by"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	SubmittedBy  string     `json:"submitted_by,omitempty"`
	SubmittedAt  *time.Time `json:"submitted_at,omitempty"`
	DecidedBy    string     `json:"decided_by,omitempty"`
	DecidedAt    *time.Time `json:"decided_at,omitempty"`
	OfficialRef  string     `json:"official_ref,omitempty"`
	ReturnReason string     `json:"return_reason,omitempty"`
	ChangeID     int64      `json:"change_id,omitempty"`
	// Diff is what the nomination changes: against the entry as it stands
	// while the nomination is open, as applied once validated.
	Diff []FieldChange `json:"changes"`
	// Awaiting says, for a submitted nomination, whose decision applies it
	// (see Awaiting*).
	Awaiting string `json:"awaiting,omitempty"`
}

// Whose decision a submitted nomination waits for. No one person decides
// alone who speaks for a State: what a State's focal point proposes, the
// Secretariat validates; what the Secretariat proposes on the State's
// written request, a focal point of the State confirms or, while the State
// has none, a second officer of the Secretariat approves.
const (
	AwaitingSecretariat   = "secretariat"
	AwaitingFocalPoint    = "focal_point"
	AwaitingSecondOfficer = "second_officer"
)

// Agency names the PoC a nomination concerns: the agency proposed, or for a
// removal the one removed; "" for a change of the entry's own fields.
func (n *Nomination) Agency() string {
	if n.PoC != nil {
		return n.PoC.Agency
	}
	for _, d := range n.Diff {
		if d.Field == "agency" {
			return d.Old
		}
	}
	return ""
}

// Revision replaces what an open nomination proposes. Version is the
// nomination's version the editor started from. PoC is for poc.create and
// poc.update, Entry for entry.update, EffectiveDate for poc.remove.
type Revision struct {
	Version       int         `json:"version"`
	PoC           *PoCInput   `json:"poc,omitempty"`
	Entry         *EntryInput `json:"entry,omitempty"`
	EffectiveDate string      `json:"effective_date,omitempty"`
	// Submit submits the revised nomination; otherwise it is a draft.
	Submit bool `json:"submit,omitempty"`
}

// Decision is the Secretariat's validation (Reference required) or return
// (Reason required) of a submitted nomination.
type Decision struct {
	Version   int    `json:"version"`
	Reference string `json:"reference,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// NominationFilter narrows a list of nominations.
type NominationFilter struct {
	State  string
	Status NominationStatus
	// Open lists only nominations that wait for someone.
	Open bool
}

// ChangePage is a page of a State's changes, newest first, with the
// cursors of the pages older and newer than it (nil at either end).
type ChangePage struct {
	List         []*Change
	Older, Newer *app.Cursor
}

// NominationPage is a page of nominations, newest first, with the cursors
// of the pages older and newer than it (nil at either end).
type NominationPage struct {
	List         []*Nomination
	Older, Newer *app.Cursor
}
