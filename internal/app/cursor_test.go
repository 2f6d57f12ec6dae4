package app

import (
	"reflect"
	"testing"
	"time"
)

// TestPaginate: a page and the links around it, going back from the
// newest, going back from a cursor, and coming forward, with and without a
// row beyond the page.
func TestPaginate(t *testing.T) {
	at := func(id int64) Cursor { return CursorAt(time.Unix(id, 0), id) }
	cur := func(id int64, after bool) *Cursor { c := at(id); c.After = after; return &c }
	for _, tc := range []struct {
		name         string
		k            Cursor
		read         []int64 // in the walk's order, up to one beyond the page
		page         []int64 // newest first
		older, newer *Cursor
	}{
		{"the first page, more behind it", Cursor{}, []int64{9, 8, 7, 6}, []int64{9, 8, 7}, cur(7, false), nil},
		{"the only page", Cursor{}, []int64{9, 8, 7}, []int64{9, 8, 7}, nil, nil},
		{"going back, more behind", at(10), []int64{9, 8, 7, 6}, []int64{9, 8, 7}, cur(7, false), cur(9, true)},
		{"going back, the oldest page", at(10), []int64{9, 8}, []int64{9, 8}, nil, cur(9, true)},
		{"going back past the end", at(3), nil, nil, nil, &Cursor{After: true}},
		{"coming forward, more ahead", *cur(6, true), []int64{7, 8, 9, 10}, []int64{9, 8, 7}, cur(7, false), cur(9, true)},
		{"coming forward, the newest page", *cur(6, true), []int64{7, 8, 9}, []int64{9, 8, 7}, cur(7, false), nil},
		{"coming forward past the start", *cur(20, true), nil, nil, &Cursor{At: at(20).At, ID: 21}, nil},
	} {
		page, older, newer := Paginate(tc.k, tc.read, 3, at)
		if !reflect.DeepEqual(page, tc.page) || !same(older, tc.older) || !same(newer, tc.newer) {
			t.Errorf("%s: page %v, older %v, newer %v; want %v, %v and %v", tc.name, page, older, newer, tc.page, tc.older, tc.newer)
		}
	}
}

func same(a, b *Cursor) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.At.Equal(b.At) && a.ID == b.ID && a.After == b.After
}
