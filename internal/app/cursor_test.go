package app

import (
	"testing"
	"time"
)

// TestPageCursors: the links around a page, going back from the newest,
// going back from a cursor, and coming forward, with and without rows
// beyond the page.
func TestPageCursors(t *testing.T) {
	at := func(id int64) Cursor { return CursorAt(time.Unix(id, 0), id) }
	cur := func(id int64, after bool) *Cursor { c := at(id); c.After = after; return &c }
	page := []int64{9, 8, 7} // newest first, as shown
	for _, tc := range []struct {
		name         string
		k            Cursor
		rows         []int64
		more         bool
		older, newer *Cursor
	}{
		{"the first page, more behind it", Cursor{}, page, true, cur(7, false), nil},
		{"the only page", Cursor{}, page, false, nil, nil},
		{"going back, more behind", at(10), page, true, cur(7, false), cur(9, true)},
		{"going back, the oldest page", at(10), page, false, nil, cur(9, true)},
		{"going back past the end", at(3), nil, false, nil, &Cursor{After: true}},
		{"coming forward, more ahead", *cur(6, true), page, true, cur(7, false), cur(9, true)},
		{"coming forward, the newest page", *cur(6, true), page, false, cur(7, false), nil},
		{"coming forward past the start", *cur(20, true), nil, false, &Cursor{At: at(20).At, ID: 21}, nil},
	} {
		older, newer := PageCursors(tc.k, tc.rows, tc.more, at)
		if !same(older, tc.older) || !same(newer, tc.newer) {
			t.Errorf("%s: older %v, newer %v; want %v and %v", tc.name, older, newer, tc.older, tc.newer)
		}
	}
}

func same(a, b *Cursor) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.At.Equal(b.At) && a.ID == b.ID && a.After == b.After
}
