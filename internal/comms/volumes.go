package comms

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
)

// The Secretariat's report of communication volumes (C12): how many
// communications the States sent, month by month, by UN regional group and
// by kind. Counts only: never a subject, a content or who wrote.

// VolumeMonths is how many months Volumes covers at most, this one
// included.
const VolumeMonths = 12

// ExerciseSlug is the template of exercise messages. A thread that an
// exercise message began is an exercise: its answers count as exercise
// messages too.
const ExerciseSlug = "exercise"

// Kind is a kind of communication: a template, by its slug and its name.
type Kind struct {
	Slug string `json:"slug"`
	Name Text   `json:"name"`
}

// Volume counts the communications of one kind sent in one month by the
// States of one UN regional group.
type Volume struct {
	Month    string `json:"month"`    // YYYY-MM, in UTC
	Group    string `json:"un_group"` // the sender State's, as directory.Groups names it
	Kind     string `json:"kind"`     // the template's slug
	Exercise bool   `json:"exercise"` // part of an exercise
	Count    int    `json:"count"`
}

// Volumes are the communications sent over the last VolumeMonths months,
// or since the first one when that is later.
type Volumes struct {
	// Months lists every month of the period, oldest first; none when no
	// communication was ever sent.
	Months []string `json:"months"`
	// Kinds lists the templates: the active ones, and the retired ones
	// that counts name, in the order they were made.
	Kinds []Kind `json:"kinds"`
	// Counts are the non-zero counts, by month, group, kind and exercise.
	Counts []Volume `json:"counts"`
}

// Volumes counts the communications sent, month by month, by the sender
// State's UN regional group and by kind. Drafts are not counted. Only the
// Secretariat may see it: it compares States with one another.
func (s *Service) Volumes(ctx context.Context) (*Volumes, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() {
		return nil, app.ErrForbidden()
	}
	now := s.Now().UTC()
	this := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	start := this.AddDate(0, 1-VolumeMonths, 0)
	counts, err := countVolumes(ctx, s.DB, start)
	if err != nil {
		return nil, err
	}
	earlier, err := sentBefore(ctx, s.DB, start)
	if err != nil {
		return nil, err
	}
	v := &Volumes{Months: []string{}, Kinds: []Kind{}, Counts: []Volume{}}
	used := map[string]bool{}
	first := ""
	for _, c := range counts {
		if st, ok := directory.ReferenceState(c.state); ok {
			c.Group = st.Group
		}
		used[c.Kind] = true
		if first == "" || c.Month < first {
			first = c.Month
		}
		v.Counts = append(v.Counts, c.Volume)
	}
	// One line per month, group, kind and exercise: States of one group
	// are added up.
	slices.SortFunc(v.Counts, func(x, y Volume) int {
		return cmp.Or(cmp.Compare(x.Month, y.Month), cmp.Compare(slices.Index(directory.Groups, x.Group), slices.Index(directory.Groups, y.Group)),
			cmp.Compare(x.Kind, y.Kind), cmp.Compare(b2i(x.Exercise), b2i(y.Exercise)))
	})
	merged := v.Counts[:0]
	for _, c := range v.Counts {
		if n := len(merged); n > 0 && merged[n-1].Month == c.Month && merged[n-1].Group == c.Group && merged[n-1].Kind == c.Kind && merged[n-1].Exercise == c.Exercise {
			merged[n-1].Count += c.Count
			continue
		}
		merged = append(merged, c)
	}
	v.Counts = merged
	if !earlier {
		if first == "" {
			return v, s.kinds(ctx, v, used)
		}
		start, _ = time.Parse("2006-01", first)
	}
	for m := start; !m.After(this); m = m.AddDate(0, 1, 0) {
		v.Months = append(v.Months, m.Format("2006-01"))
	}
	return v, s.kinds(ctx, v, used)
}

// kinds names the kinds of v: every active template, and the retired ones
// that were used.
func (s *Service) kinds(ctx context.Context, v *Volumes, used map[string]bool) error {
	list, err := listTemplates(ctx, s.DB, true)
	if err != nil {
		return err
	}
	slices.SortFunc(list, func(x, y *Template) int { return int(x.ID - y.ID) })
	for _, t := range list {
		if t.Status == "active" || used[t.Slug] {
			v.Kinds = append(v.Kinds, Kind{Slug: t.Slug, Name: t.Name})
		}
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
