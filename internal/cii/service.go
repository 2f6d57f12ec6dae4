package cii

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
)

// Service is the lists' rules and authorization: every signed-in user
// reads every State's list (they are published for the other States);
// only a State's focal point publishes its State's.
type Service struct {
	DB  *db.DB
	Now app.Clock
}

// New returns the lists' service.
func New(d *db.DB, now app.Clock) *Service { return &Service{DB: d, Now: now} }

// The list events of the log.
var _ = auditlog.Register("cii.published", "cii.exported")

// A published list keeps the index of its entry.
var _ = auditlog.RegisterOwner("cii_lists")

// CanPublish reports whether the actor may publish the State's list: its
// focal point only. The Secretariat does not write a State's list: what a
// State counts as critical is for the State alone to say.
func CanPublish(a *app.Actor, state string) bool { return a.IsFocalPointOf(state) }

// Current returns the State's list in force (the latest version), or a
// not-found error when it has published none.
func (s *Service) Current(ctx context.Context, state string) (*List, error) {
	state = strings.ToUpper(state)
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !directory.KnownState(state) {
		return nil, app.ErrNotFound("state")
	}
	l, err := latest(ctx, s.DB, state)
	if err != nil {
		return nil, err
	}
	if l == nil {
		return nil, app.ErrNotFound("cii_list")
	}
	return shown(a, l), nil
}

// History returns every version of the State's list, newest first.
func (s *Service) History(ctx context.Context, state string) ([]*List, error) {
	state = strings.ToUpper(state)
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !directory.KnownState(state) {
		return nil, app.ErrNotFound("state")
	}
	lists, err := versions(ctx, s.DB, state)
	if err != nil {
		return nil, err
	}
	for i, l := range lists {
		lists[i] = shown(a, l)
	}
	return lists, nil
}

// All returns every State's list in force, by State code: the comparison's
// rows.
func (s *Service) All(ctx context.Context) ([]*List, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	lists, err := currentAll(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	for i, l := range lists {
		lists[i] = shown(a, l)
	}
	return lists, nil
}

// shown hides who published a list from other States: the list speaks for
// the State, not for a person.
func shown(a *app.Actor, l *List) *List {
	if !a.IsSecretariat() && a.State != l.State {
		l.PublishedBy = ""
	}
	return l
}

// Publish makes the input the State's list in force, as a new version,
// and logs it with a commitment to its content.
func (s *Service) Publish(ctx context.Context, state string, in Input) (*List, error) {
	state = strings.ToUpper(state)
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	if !directory.KnownState(state) {
		return nil, app.ErrNotFound("state")
	}
	if !CanPublish(a, state) {
		return nil, app.Errorf(app.Forbidden, "error.cii_forbidden", "only the State's focal point publishes its list")
	}
	now := s.Now()
	var out *List
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		prev, err := latest(ctx, tx, state)
		if err != nil {
			return err
		}
		cur, next := 0, 1
		if prev != nil {
			cur = prev.Version
		}
		if in.Version != cur {
			return app.Errorf(app.Conflict, "error.conflict", "someone else changed this in the meantime")
		}
		if next, err = nextOwn(ctx, tx, state); err != nil {
			return err
		}
		l, err := in.normalize(now, next)
		if err != nil {
			return err
		}
		l.State, l.Version, l.PublishedAt, l.publisherID = state, cur+1, now, a.UserID
		l.commitSalt = auditlog.NewSalt()
		id, err := insert(ctx, tx, l)
		if err != nil {
			return err
		}
		out = l
		// The list keeps the index of its entry.
		return auditlog.AppendFor(ctx, tx, auditlog.Event{Type: "cii.published", Object: "cii:" + state, States: []string{state}, At: now,
			Commitment: auditlog.Commit(l.commitSalt, l.content())}.By(a), func(idx int64) { l.LogIndex = &idx }, auditlog.Owner{Table: "cii_lists", ID: id})
	})
	if err != nil {
		return nil, err
	}
	out.PublishedBy = a.Email
	return out, nil
}

// normalize checks the input and returns the list it makes. Own sectors
// keep their keys; a new one gets the State's next number (next, above
// every number the State ever used, so that a key that left the list and
// comes back keeps its meaning). Every
// reference sector and every own key comes once.
func (in *Input) normalize(now time.Time, next int) (*List, error) {
	var v app.Validation
	eff, err := directory.ParseEffectiveDate(in.EffectiveDate, now)
	if err != nil {
		return nil, err
	}
	l := &List{EffectiveDate: eff}
	if len(in.Sectors) == 0 {
		v.Add("sectors", "error.cii_no_sector", "name at least one sector", nil)
	}
	if len(in.Sectors) > MaxSectors {
		v.Add("sectors", "error.too_many", "too many", map[string]any{"Max": MaxSectors})
	}
	seen := map[string]bool{}
	for i, sec := range in.Sectors {
		field := "sectors." + itoa(i)
		sec.Key = strings.TrimSpace(sec.Key)
		switch {
		case sec.Key == "" || ownNumber(sec.Key) > 0:
			// A key the State never had is refused: keys are given here.
			if sec.Key != "" && ownNumber(sec.Key) >= next {
				v.Add(field, "error.cii_unknown_sector", "unknown sector", nil)
				continue
			}
			directory.CheckText(&v, field+".name", &sec.Name, MaxName)
			if sec.Name.Empty() {
				v.Add(field+".name", "error.required", "required", nil)
			}
			if sec.Key == "" {
				sec.Key = ownPrefix + itoa(next)
				next++
			}
		case slices.Contains(Sectors, sec.Key):
			sec.Name = directory.Text{}
		default:
			v.Add(field, "error.cii_unknown_sector", "unknown sector", nil)
			continue
		}
		if seen[sec.Key] {
			v.Add(field, "error.cii_duplicate", "this sector is listed twice", nil)
			continue
		}
		seen[sec.Key] = true
		directory.CheckText(&v, field+".note", &sec.Note, MaxNote)
		l.Sectors = append(l.Sectors, sec)
	}
	l.Criteria = in.Criteria
	directory.CheckText(&v, "criteria", &l.Criteria, MaxCriteria)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return l, nil
}

// Exported records in the log that the actor took the lists away in a file.
func (s *Service) Exported(ctx context.Context, what string) error {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return err
	}
	return auditlog.Exported(ctx, s.DB, a, "cii.exported", what, s.Now())
}

// OwnSector returns a State's own sector as its latest list names it, for
// the communications that name it; ok is false when the State never had
// it. Reading lists needs no authorization: every State's is public to
// every user.
func OwnSector(ctx context.Context, q db.Queryer, ref Ref) (Sector, bool, error) {
	if ref.State == "" {
		return Sector{}, false, nil
	}
	lists, err := versions(ctx, q, ref.State)
	if err != nil {
		return Sector{}, false, err
	}
	for _, l := range lists {
		if sec, ok := l.Sector(ref.Key); ok {
			return sec, true, nil
		}
	}
	return Sector{}, false, nil
}

// InForce returns the States' lists in force, of those that have one, for
// the compose form and the recipient's view of a sector.
func InForce(ctx context.Context, q db.Queryer, states []string) (map[string]*List, error) {
	out := map[string]*List{}
	for _, st := range states {
		l, err := latest(ctx, q, st)
		if err != nil {
			return nil, err
		}
		if l != nil {
			l.PublishedBy = ""
			out[st] = l
		}
	}
	return out, nil
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// Lists returns the lists in force of the given States, of those that have
// one, by State code: what the compose form offers for the recipients.
func (s *Service) Lists(ctx context.Context, states []string) (map[string]*List, error) {
	if _, err := app.RequireActor(ctx); err != nil {
		return nil, err
	}
	return InForce(ctx, s.DB, states)
}

// Version returns one version of the State's list.
func (s *Service) Version(ctx context.Context, state string, version int) (*List, error) {
	lists, err := s.History(ctx, state)
	if err != nil {
		return nil, err
	}
	for _, l := range lists {
		if l.Version == version {
			return l, nil
		}
	}
	return nil, app.ErrNotFound("cii_list")
}
