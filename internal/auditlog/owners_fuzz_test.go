package auditlog

import (
	"slices"
	"testing"
)

var _ = RegisterOwner("fuzz_owners")

// FuzzParseOwners reads log_pending's owners column, which is data: it
// must name only declared tables, never panic, and read back what
// ownersColumn wrote.
func FuzzParseOwners(f *testing.F) {
	for _, s := range []string{"", "fuzz_owners:1", "fuzz_owners:12 fuzz_owners:40", "users:1", "fuzz_owners:-3", "fuzz_owners:x", ":1", "fuzz_owners:9223372036854775808", " fuzz_owners:1\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		owners, err := parseOwners(s)
		if err != nil {
			return
		}
		for _, o := range owners {
			if !ownerTable(o.Table) {
				t.Fatalf("%q: read table %q, which was not declared", s, o.Table)
			}
		}
		again, err := parseOwners(ownersColumn(owners))
		if err != nil || !slices.Equal(again, owners) {
			t.Fatalf("%q: %v, written back and read again %v (%v)", s, owners, again, err)
		}
	})
}
