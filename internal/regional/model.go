// Package regional owns the PoCs of the regional directories (OSCE, ARF,
// OAS, AU and others) that the Secretariat imports, so that a State
// nominates once: pocdir matches each regional contact to a PoC of the
// State (by e-mail address, by the regional reference the PoC gives, else
// by agency), the Secretariat or the State's focal point confirms or
// rejects each match, a focal point turns an unmatched contact into a
// nomination in one step, and a body's PoCs go back to it in the same
// form. Its tables (regional_imports, regional_contacts) are read only
// through it.
package regional

import (
	"time"

	"github.com/pocdir/pocdir/internal/directory"
)

// The states of a regional contact.
const (
	StatusPending   = "pending"   // imported, not yet matched
	StatusSuggested = "suggested" // a PoC matches it: to be reviewed
	StatusUnmatched = "unmatched" // no PoC matches it
	StatusConfirmed = "confirmed" // the match is confirmed: the PoC stands in the body's directory
	StatusRejected  = "rejected"  // the suggested match was wrong
)

// How a contact was matched to a PoC.
const (
	ByEmail     = "email"     // the same e-mail address
	ByReference = "reference" // the PoC gives the contact's regional reference
	ByAgency    = "agency"    // the same agency in the same State
)

// Limits of an import.
const (
	MaxRows    = 5000
	MaxFile    = 4 << 20
	MaxRef     = 100
	MaxShort   = 200
	MaxChannel = 500
	MaxChans   = 20
)

// Contact is a PoC of a regional directory as imported, with its match.
type Contact struct {
	ID       int64               `json:"id"`
	Body     string              `json:"body"`
	State    string              `json:"state"`
	Ref      string              `json:"ref,omitempty"`
	Agency   string              `json:"agency"`
	Function string              `json:"function,omitempty"`
	Level    directory.Level     `json:"level"`
	Channels []directory.Channel `json:"channels"`
	Status   string              `json:"status"`
	PoCID    *int64              `json:"poc_id,omitempty"`
	// Reason says how the PoC was matched: email, reference or agency.
	Reason    string    `json:"reason,omitempty"`
	ImportID  int64     `json:"import_id"`
	UpdatedAt time.Time `json:"updated_at"`
	key       string
}

// Email returns the contact's first e-mail address, or "".
func (c *Contact) Email() string {
	for _, ch := range c.Channels {
		if ch.Kind == directory.ChannelEmail {
			return ch.Value
		}
	}
	return ""
}

// Import is one file of a regional directory, and how far its matching has
// gone.
type Import struct {
	ID         int64      `json:"id"`
	Body       string     `json:"body"`
	Total      int        `json:"total"`
	Done       int        `json:"done"`
	Added      int        `json:"added"`
	Updated    int        `json:"updated"`
	Removed    int        `json:"removed"`
	By         string     `json:"by"`
	At         time.Time  `json:"imported_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// Problem is a row of a file that could not be read.
type Problem struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// BodySummary counts a body's contacts by state of their match.
type BodySummary struct {
	Body     string         `json:"body"`
	Contacts int            `json:"contacts"`
	ByStatus map[string]int `json:"by_status"`
	Last     *Import        `json:"last_import,omitempty"`
}
