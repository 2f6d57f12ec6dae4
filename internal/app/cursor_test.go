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

// TestCollect: a filtered list read in batches gives, page after page in
// either direction, every row kept exactly once, and stops reading once a
// page and one more are found.
func TestCollect(t *testing.T) {
	at := func(id int64) Cursor { return CursorAt(time.Unix(id/3, 0), id) } // three rows a second
	// The list: rows 1 to 450, newest first; a reader keeps one in three.
	read := func(reads *int) func(k Cursor, n int) ([]int64, error) {
		return func(k Cursor, n int) ([]int64, error) {
			*reads++
			var out []int64
			for i := int64(450); i >= 1 && len(out) < n; i-- {
				id := i
				if k.After {
					id = 451 - i
				}
				c := at(id)
				switch {
				case k.IsZero():
				case !k.After && (c.At.After(k.At) || (c.At.Equal(k.At) && id >= k.ID)):
					continue
				case k.After && (c.At.Before(k.At) || (c.At.Equal(k.At) && id <= k.ID)):
					continue
				}
				out = append(out, id)
			}
			return out, nil
		}
	}
	keep := func(id int64) bool { return id%3 == 1 }
	var want []int64
	for id := int64(450); id >= 1; id-- {
		if keep(id) {
			want = append(want, id)
		}
	}
	var got []int64
	var pages [][]int64
	var newer *Cursor
	for k, n := (Cursor{}), 0; ; n++ {
		reads := 0
		rows, err := Collect(k, 40, read(&reads), at, keep)
		if err != nil {
			t.Fatal(err)
		}
		if reads > 2 {
			t.Errorf("page %d: %d reads of 100 rows for 41 rows kept of one in three", n, reads)
		}
		page, older, nw := Paginate(k, rows, 40, at)
		got, pages, newer = append(got, page...), append(pages, page), nw
		if older == nil {
			break
		}
		k = *older
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("older and older: %v\nwant %v", got, want)
	}
	for i := len(pages) - 2; i >= 0; i-- {
		rows, err := Collect(*newer, 40, read(new(int)), at, keep)
		if err != nil {
			t.Fatal(err)
		}
		page, _, nw := Paginate(*newer, rows, 40, at)
		if !reflect.DeepEqual(page, pages[i]) {
			t.Errorf("back to page %d: %v, want %v", i+1, page, pages[i])
		}
		newer = nw
	}
}
