package comms

import (
	"context"
	"database/sql"
	"strings"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/directory"
)

// plan is the routing of a communication, worked out before its
// transaction: the directory is read outside it, so that a transaction
// never waits for a second connection (on SQLite, the writers waiting for
// the lock could hold every connection of the pool).
type plan struct {
	zone    string
	targets map[string][]target
	// letters are the notifications written before the transaction
	// (prewrite), in the order of targetsOf, for the communication whose
	// reference is lettersOf.
	letters   []letter
	lettersOf string
}

// targetsOf returns the PoCs of the States in order, and the States that
// have none.
func (pl *plan) targetsOf(states []string) (all []target, missing []string) {
	for _, st := range states {
		rs := pl.targets[st]
		if len(rs) == 0 {
			missing = append(missing, st)
			continue
		}
		all = append(all, rs...)
	}
	return all, missing
}

func (s *Service) plan(ctx context.Context, from string, to []string, level string) (*plan, error) {
	p := &plan{targets: map[string][]target{}}
	var err error
	if p.zone, err = s.senderZone(ctx, from, level); err != nil {
		return nil, err
	}
	// The declared tensions that involve the sender, in one query.
	tensions, err := tensionsAround(ctx, s.DB, from)
	if err != nil {
		return nil, err
	}
	for _, st := range to {
		if p.targets[st], err = s.route(ctx, tensions, from, st, level); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// target is a PoC chosen by routing.
type target struct {
	poc   *directory.PoC
	route string
}

// route chooses the PoCs of a recipient State for a communication at a
// level: its main PoCs at the level that have an email address, else its
// alternates at the level; the other main level when the State has no PoC
// at the level. While either State declares tension with the other, a
// technical request goes to the diplomatic level first.
func (s *Service) route(ctx context.Context, tensions map[[2]string]bool, from, to, level string) ([]target, error) {
	route := RouteLevel
	if level == LevelTechnical {
		// Which State declared the tension decides how the line is named:
		// a declaration is seen only by the State that made it.
		switch {
		case tensions[[2]string{from, to}]:
			level, route = LevelDiplomatic, RouteTension
		case tensions[[2]string{to, from}]:
			level, route = LevelDiplomatic, RouteRouting
		}
	}
	e, err := s.dir.Get(app.WithActor(ctx, app.System), to)
	if err != nil {
		return nil, err
	}
	pick := func(lvl string, alternate bool) []*directory.PoC {
		var out []*directory.PoC
		for _, p := range e.PoCs {
			if string(p.Level) == lvl && p.Alternate == alternate && p.Email() != "" {
				out = append(out, p)
			}
		}
		return out
	}
	wrap := func(ps []*directory.PoC, r string) []target {
		out := make([]target, len(ps))
		for i, p := range ps {
			out[i] = target{p, r}
		}
		return out
	}
	if ps := pick(level, false); len(ps) > 0 {
		return wrap(ps, route), nil
	}
	if ps := pick(level, true); len(ps) > 0 {
		return wrap(ps, RouteAlternate), nil
	}
	other := LevelDiplomatic
	if level == LevelDiplomatic {
		other = LevelTechnical
	}
	if ps := pick(other, false); len(ps) > 0 {
		return wrap(ps, RouteOtherLevel), nil
	}
	return wrap(pick(other, true), RouteOtherLevel), nil
}

// senderZone is the time zone of the sender State's PoCs at the level, to
// show deadlines in both States' time zones.
func (s *Service) senderZone(ctx context.Context, state, level string) (string, error) {
	if state == SecretariatSender {
		return "UTC", nil
	}
	e, err := s.dir.Get(app.WithActor(ctx, app.System), state)
	if err != nil {
		return "", err
	}
	zone := ""
	for _, p := range e.PoCs {
		if string(p.Level) == level && p.TimeZone != "" {
			return p.TimeZone, nil
		}
		if zone == "" {
			zone = p.TimeZone
		}
	}
	return zone, nil
}

// Tensions returns the States with which the actor's State declares
// tension (requests between them go to the diplomatic level first). Only
// the State's own users see its declarations.
func (s *Service) Tensions(ctx context.Context) ([]string, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if a.State == "" {
		return nil, app.ErrForbidden()
	}
	return declaredTensions(ctx, s.DB, a.State)
}

// SetTension declares or ends tension with a State: a routing preference,
// set by the State's focal point.
func (s *Service) SetTension(ctx context.Context, counterpart string, on bool) error {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return err
	}
	if !a.IsFocalPointOf(a.State) || a.State == "" {
		return app.ErrForbidden()
	}
	counterpart = strings.ToUpper(strings.TrimSpace(counterpart))
	if !directory.KnownState(counterpart) || counterpart == a.State {
		return app.FieldError("state", "error.comms_unknown_state", "unknown State code: {{.Code}}", map[string]any{"Code": counterpart})
	}
	now := s.Now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := setTension(ctx, tx, a.State, counterpart, a.Email, now, on); err != nil {
			return err
		}
		typ := "comms.routing_set"
		if !on {
			typ = "comms.routing_cleared"
		}
		// A routing preference names no person either, nor the counterpart:
		// a declaration is seen only by the State that made it.
		err := auditlog.Append(ctx, tx, auditlog.Event{Type: typ, Object: "routing:" + a.State, States: []string{a.State}, At: now}.ByState(a))
		return err
	})
}
