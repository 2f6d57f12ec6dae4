// Package cii owns the States' national lists of critical information
// infrastructure (Russia's proposal, seed 000): the sectors a State counts
// as critical, from a reference list or its own, and its criteria for
// categorising them, in a UN language with English, published by its focal
// point and versioned with an effective date like an entry. Every State
// reads every list; a comparison shows sectors × States; a communication
// may name the affected sector from the recipient's list. Its table
// (cii_lists) is read only through it.
package cii

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/directory"
)

// Sectors is the reference list of sectors of critical infrastructure and
// essential services, shared with the communications' sector field (the
// catalog's list.sector.<key>). Keys are stored; never rename one.
var Sectors = []string{"energy", "transport", "finance", "health", "water", "telecom", "digital", "government", "emergency",
	"food", "manufacturing", "education", "space", "elections", "other"}

// Limits of a list.
const (
	MaxSectors  = 60   // sectors in one list
	MaxName     = 200  // an own sector's name, in each language
	MaxNote     = 1000 // what a sector covers, in each language
	MaxCriteria = 4000 // the criteria, in each language
)

// ownPrefix starts the key of a State's own sector: own-1, own-2 … A key
// keeps its number from version to version, so that a communication that
// named the sector still names it.
const ownPrefix = "own-"

// Sector is one sector of a State's list: a reference sector (Key is one
// of Sectors) or one of the State's own (Key own-N, with its Name).
type Sector struct {
	Key  string         `json:"key"`
	Name directory.Text `json:"name"`
	// Note says what the State counts in the sector, or its category.
	Note directory.Text `json:"note"`
}

// Own reports whether the sector is the State's own, not a reference one.
func (s Sector) Own() bool { return strings.HasPrefix(s.Key, ownPrefix) }

// ownNumber is the N of own-N, or 0.
func ownNumber(key string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(key, ownPrefix))
	if !strings.HasPrefix(key, ownPrefix) || err != nil || n <= 0 {
		return 0
	}
	return n
}

// List is one version of a State's list.
type List struct {
	State         string         `json:"state"`
	Version       int            `json:"version"`
	EffectiveDate string         `json:"effective_date"`
	Sectors       []Sector       `json:"sectors"`
	Criteria      directory.Text `json:"criteria"`
	PublishedAt   time.Time      `json:"published_at"`
	// PublishedBy is the focal point who published it; shown to the
	// State's own users and the Secretariat only.
	PublishedBy string `json:"published_by,omitempty"`
	LogIndex    *int64 `json:"log_index,omitempty"`
	commitSalt  string
	publisherID int64
}

// Has reports whether the list names the sector key.
func (l *List) Has(key string) bool {
	return slices.ContainsFunc(l.Sectors, func(s Sector) bool { return s.Key == key })
}

// Sector returns the list's sector of that key.
func (l *List) Sector(key string) (Sector, bool) {
	for _, s := range l.Sectors {
		if s.Key == key {
			return s, true
		}
	}
	return Sector{}, false
}

// content is what the log's commitment covers.
func (l *List) content() any {
	return struct {
		State         string         `json:"state"`
		Version       int            `json:"version"`
		EffectiveDate string         `json:"effective_date"`
		Sectors       []Sector       `json:"sectors"`
		Criteria      directory.Text `json:"criteria"`
		PublishedAt   string         `json:"published_at"`
	}{l.State, l.Version, l.EffectiveDate, l.Sectors, l.Criteria, l.PublishedAt.UTC().Format(time.RFC3339Nano)}
}

// Input is what a focal point publishes: the whole list. An own sector
// without a key is new and gets the next number.
type Input struct {
	Sectors       []Sector       `json:"sectors"`
	Criteria      directory.Text `json:"criteria"`
	EffectiveDate string         `json:"effective_date,omitempty"`
	// Version is the version the focal point started from (0 for the
	// first): publishing over a newer one is a conflict.
	Version int `json:"version"`
}

// Ref is a sector named in a communication: a reference key ("energy"), or
// a State's own sector ("KEN:own-2").
type Ref struct {
	State string
	Key   string
}

// ParseRef reads a communication's sector answer; ok is false for anything
// that is neither a reference sector nor a State's own sector.
func ParseRef(v string) (Ref, bool) {
	state, key, found := strings.Cut(v, ":")
	if !found {
		return Ref{Key: v}, slices.Contains(Sectors, v)
	}
	if len(state) != 3 || strings.ToUpper(state) != state || ownNumber(key) == 0 || strconv.Itoa(ownNumber(key)) != key[len(ownPrefix):] {
		return Ref{}, false
	}
	return Ref{State: state, Key: key}, true
}

// String is the answer as stored.
func (r Ref) String() string {
	if r.State == "" {
		return r.Key
	}
	return r.State + ":" + r.Key
}
