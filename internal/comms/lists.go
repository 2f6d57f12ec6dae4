package comms

import (
	"slices"

	"github.com/pocdir/pocdir/internal/cii"
)

// Lists are the reference lists that a template's choice fields offer:
// the answer is one of a list's keys, which every reader sees in their
// own language (the catalog's list.<list>.<key>), so that a sector or an
// impact is never lost in translation. Keys are stored; never rename one.
var Lists = map[string][]string{
	// Sectors of critical infrastructure and essential services: the
	// reference list that the States' own lists of critical information
	// infrastructure draw on too. A sector answer may also name a
	// recipient State's own sector ("KEN:own-2", see cii.Ref).
	"sector": cii.Sectors,
	// How the activity first reached its target.
	"vector": {"phishing", "vulnerability", "credentials", "supply_chain", "malware", "denial_of_service", "insider",
		"physical", "unknown", "other"},
	// What the activity did.
	"impact": {"unknown", "none", "limited", "disruption", "data_theft", "data_damage", "physical"},
}

// ListNames are the reference lists' names, in a stable order.
func ListNames() []string {
	out := make([]string, 0, len(Lists))
	for k := range Lists {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// inChoice reports whether v is an answer of the list.
func inChoice(list, v string) bool {
	return slices.Contains(Lists[list], v)
}
