package db

import "testing"

// TestValues: a multi-row VALUES list takes its parameters in order, row
// by row, numbered on PostgreSQL, anonymous on SQLite.
func TestValues(t *testing.T) {
	for _, c := range []struct {
		d    Dialect
		want string
	}{{Postgres, "($1, $2, $3), ($4, $5, $6)"}, {SQLite, "(?, ?, ?), (?, ?, ?)"}} {
		if got := (&DB{Dialect: c.d}).Values(2, 3); got != c.want {
			t.Errorf("%s: %q, want %q", c.d, got, c.want)
		}
	}
}
