package directory

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
)

// NoticePeriod is the seeds' rule: a change is notified no later than 30
// days after it took effect.
const NoticePeriod = 30

// LateDays is how many days after it took effect the change was notified
// (submitted to the Secretariat in pocdir, or recorded, for changes made
// before nominations); 0 when it was notified before or on the day.
func (c *Change) LateDays() int {
	eff, err := time.Parse(time.DateOnly, c.EffectiveDate)
	if err != nil {
		return 0
	}
	at := c.ChangedAt
	if c.NotifiedAt != nil {
		at = *c.NotifiedAt
	}
	notified := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
	if !notified.After(eff) {
		return 0
	}
	return int(notified.Sub(eff).Hours() / 24)
}

// Late reports whether the change broke the 30-day rule. A reconfirmation
// is not a change of the entry and is never late.
func (c *Change) Late() bool {
	return c.Action != "entry.reconfirm" && c.LateDays() > NoticePeriod
}

// Compliance counts changes notified within the 30-day rule.
type Compliance struct {
	Changes int `json:"changes"`
	Late    int `json:"late"`
}

// Compliance measures the 30-day rule for one State, or for the whole
// directory when state is empty, from the figures kept by State.
func (s *Service) Compliance(ctx context.Context, state string) (*Compliance, error) {
	if _, err := app.RequireActor(ctx); err != nil {
		return nil, err
	}
	kept, err := rule30Tallies(ctx, s.DB, state)
	if err != nil {
		return nil, err
	}
	c := &Compliance{}
	for _, k := range kept {
		c.Changes += k.Changes
		c.Late += k.Late
	}
	return c, nil
}

// Rule30Mismatch is a State's kept figures of the 30-day rule beside what
// its changes count, when they differ.
type Rule30Mismatch struct {
	State         string
	Kept, Counted Compliance
}

// RecountRule30 counts the 30-day rule again from every change, and
// returns the States whose kept figures differ. `pocdir audit check` and
// the tests' check of the counters call it through system.Recount, which
// gives it one snapshot, so that a change recorded meanwhile on a running
// pocdir is not taken for figures a write forgot.
func RecountRule30(ctx context.Context, q db.Queryer) ([]Rule30Mismatch, error) {
	kept, err := rule30Tallies(ctx, q, "")
	if err != nil {
		return nil, err
	}
	changes, err := notifiedChanges(ctx, q, "")
	if err != nil {
		return nil, err
	}
	counted := map[string]Compliance{}
	for _, ch := range changes {
		c := counted[ch.State]
		c.Changes++
		if ch.Late() {
			c.Late++
		}
		counted[ch.State] = c
	}
	var out []Rule30Mismatch
	for st, c := range counted {
		if kept[st] != c {
			out = append(out, Rule30Mismatch{State: st, Kept: kept[st], Counted: c})
		}
	}
	for st, k := range kept {
		if _, ok := counted[st]; !ok && k != (Compliance{}) {
			out = append(out, Rule30Mismatch{State: st, Kept: k})
		}
	}
	slices.SortFunc(out, func(x, y Rule30Mismatch) int { return strings.Compare(x.State, y.State) })
	return out, nil
}
