package directory

import (
	"context"
	"time"

	"github.com/pocdir/pocdir/internal/app"
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
// directory when state is empty.
func (s *Service) Compliance(ctx context.Context, state string) (*Compliance, error) {
	if _, err := app.RequireActor(ctx); err != nil {
		return nil, err
	}
	changes, err := notifiedChanges(ctx, s.DB, state)
	if err != nil {
		return nil, err
	}
	c := &Compliance{Changes: len(changes)}
	for _, ch := range changes {
		if ch.Late() {
			c.Late++
		}
	}
	return c, nil
}
