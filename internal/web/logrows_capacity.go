package web

import (
	"strconv"

	"github.com/pocdir/pocdir/internal/capacity"
)

// capacityObject names a capacity-building object of the log, asking the
// capacity service, which decides who sees what. A need that the reader
// may not open (seen by the Secretariat only, say, in the entry of a
// match the reader's State is part of) is named as a need, with neither
// its State, its topic nor a link.
func (n *objectNamer) capacityObject(o logObject, kind string, id int64) (logObject, error) {
	p := n.p
	ref := strconv.FormatInt(id, 10)
	o.Kind = p.T("log.kind_" + kind)
	giver := func(state, partner string) string {
		if state != "" {
			return p.NameOf(state)
		}
		return partner
	}
	var err error
	switch kind {
	case "capacity-need":
		var x *capacity.Need
		if x, err = n.s.Capacity.Need(n.ctx, id); err == nil {
			o.Name = p.T("log.object_capacity", "Who", p.NameOf(x.State), "Kind", p.T("list.capacity_kind."+x.Kind))
			o.Href = "/capacity#need-" + ref
		}
	case "capacity-offer":
		var x *capacity.Offer
		if x, err = n.s.Capacity.Offer(n.ctx, id); err == nil {
			o.Name = p.T("log.object_capacity", "Who", giver(x.State, x.Partner), "Kind", p.T("list.capacity_kind."+x.Kind))
			o.Href = "/capacity#offer-" + ref
		}
	case "capacity-match":
		var x *capacity.Match
		if x, err = n.s.Capacity.Match(n.ctx, id); err == nil {
			o.Name = p.T("log.object_capacity_match", "ID", ref, "Need", p.NameOf(x.NeedState), "Giver", giver(x.OfferState, x.Partner))
			o.Href = "/capacity#match-" + ref
		}
	case "capacity-activity":
		var x *capacity.Activity
		if x, err = n.s.Capacity.Activity(n.ctx, id); err == nil {
			o.Name = p.T("log.object_capacity_match", "ID", ref, "Need", p.NameOf(x.NeedState), "Giver", giver(x.OfferState, x.Partner))
			o.Href = "/capacity/activities/" + ref
		}
	case "capacity-plan":
		// The plan is the States' common work; its progress page is the
		// Secretariat's.
		o.Name = p.T("log.object_capacity_plan", "ID", ref)
		if n.a.IsSecretariat() {
			o.Href = "/capacity/progress"
		}
	}
	if err != nil {
		if !hidden(err) {
			return o, err
		}
		o.Name, o.Href = p.T("log.object_capacity_hidden"), ""
	}
	return o, nil
}
