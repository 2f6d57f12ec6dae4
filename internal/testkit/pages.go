package testkit

import (
	"testing"

	"github.com/pocdir/pocdir/internal/app"
)

// WalkPages reads every page of a list from its start, older and older, then
// back again, newer and newer, from the last page: it returns the rows of
// each way, newest first, and fails when a page is longer than limit. read
// reads the page at a cursor and gives its rows and the cursors of the
// pages older and newer than it (nil at either end).
func WalkPages[T any](t *testing.T, limit int, read func(k app.Cursor) ([]T, *app.Cursor, *app.Cursor, error)) (older, newer []T) {
	t.Helper()
	k := app.Cursor{}
	var last []T
	var newerOfLast *app.Cursor
	for range 100 {
		list, o, n, err := read(k)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) > limit {
			t.Fatalf("a page of %d rows, limit %d", len(list), limit)
		}
		older = append(older, list...)
		if o == nil {
			last, newerOfLast = list, n
			break
		}
		k = *o
	}
	// Back from the last page: its newer link, and each page's after it,
	// to the first page (the zero cursor).
	back := [][]T{last}
	for k := newerOfLast; k != nil; {
		list, _, n, err := read(*k)
		if err != nil {
			t.Fatal(err)
		}
		back = append(back, list)
		if k.IsZero() {
			break
		}
		k = n
	}
	for i := len(back) - 1; i >= 0; i-- {
		newer = append(newer, back[i]...)
	}
	return older, newer
}
