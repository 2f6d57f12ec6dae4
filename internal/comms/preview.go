package comms

import (
	"context"
)

// Preview is what sending a draft would do, for the sender to confirm:
// which PoCs of each recipient State it would reach, and how.
type Preview struct {
	Comm   *Communication  `json:"communication"`
	States []*PreviewState `json:"states"`
	// Empty are the template's optional fields left empty, for the
	// sender to see what the recipients will not have.
	Empty []Field `json:"empty,omitempty"`
}

// PreviewState is a recipient State and the PoCs routing chooses there.
type PreviewState struct {
	State string        `json:"state"`
	PoCs  []*PreviewPoC `json:"pocs"`
}

// PreviewPoC is a PoC a communication would reach: its agency and level,
// the route that chose it (RouteLevel, RouteAlternate, …), its time zone
// (the deadline is shown in it), and whether its email is encrypted to its
// OpenPGP key.
type PreviewPoC struct {
	Agency    string `json:"agency"`
	Level     string `json:"level"`
	Route     string `json:"route"`
	TimeZone  string `json:"time_zone,omitempty"`
	Encrypted bool   `json:"encrypted"`
}

// Preview checks that the actor's State's draft can be sent and routes it,
// without sending: what the confirmation before sending shows. A draft
// that cannot be sent yet (a field missing, a deadline passed, a State
// without PoC) gives the error sending would.
func (s *Service) Preview(ctx context.Context, id int64) (*Preview, error) {
	a, c, err := s.sendable(ctx, id)
	if err != nil {
		return nil, err
	}
	pl, err := s.plan(ctx, a.State, c.ToStates, c.Level)
	if err != nil {
		return nil, err
	}
	full, err := s.Communication(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &Preview{Comm: full}
	tpl, err := s.templateAt(ctx, c.TemplateID, c.TemplateVersion)
	if err != nil {
		return nil, err
	}
	for _, f := range tpl.Fields {
		if f.Required || f.Kind == "boolean" || f.Kind == "tlp" || f.Kind == "urgency" {
			continue
		}
		if c.lacks(f) {
			out.Empty = append(out.Empty, f)
		}
	}
	for _, st := range c.ToStates {
		ps := &PreviewState{State: st, PoCs: []*PreviewPoC{}}
		for _, t := range pl.targets[st] {
			ps.PoCs = append(ps.PoCs, &PreviewPoC{Agency: t.poc.Agency, Level: string(t.poc.Level), Route: t.route, TimeZone: t.poc.TimeZone,
				Encrypted: s.encrypts(c, t.poc)})
		}
		out.States = append(out.States, ps)
	}
	return out, nil
}
