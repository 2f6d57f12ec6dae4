package app

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// PageSize is how many rows a list page shows unless asked otherwise, and
// MaxPageSize the most an API caller may ask for: lists that grow with the
// years (communications, the inbox, campaigns' targets) are read a page at
// a time, so that a page costs the same after ten years as on the first day.
const (
	PageSize    = 50
	MaxPageSize = 200
)

// Cursor is a position in a list ordered by (time, id), newest first: the
// keyset of the row a page ended (or began) at. The zero Cursor is the
// start of the list.
type Cursor struct {
	At time.Time
	ID int64
	// After asks for the rows newer than the cursor (a page back towards
	// the newest); without it, the rows older than it.
	After bool
}

// IsZero reports whether c names no position.
func (c Cursor) IsZero() bool { return c.At.IsZero() && c.ID == 0 }

// String is c's opaque form in a link or an API answer: the time in
// nanoseconds since 1970 and the id.
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	return strconv.FormatInt(c.At.UnixNano(), 10) + "_" + strconv.FormatInt(c.ID, 10)
}

// CursorAt is the cursor of a row.
func CursorAt(at time.Time, id int64) Cursor { return Cursor{At: at.UTC(), ID: id} }

// ParseCursor reads a cursor given by String, for the field named (an
// invalid error otherwise); the empty string is the zero Cursor.
func ParseCursor(field, s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	t, id, ok := strings.Cut(s, "_")
	ns, err1 := strconv.ParseInt(t, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || len(s) > 41 || err1 != nil || err2 != nil || n <= 0 {
		return Cursor{}, FieldError(field, "error.cursor", "not a position in this list", nil)
	}
	return Cursor{At: time.Unix(0, ns).UTC(), ID: n}, nil
}

// PageLimit is the page size asked for by an API caller: PageSize when
// empty, at most MaxPageSize.
func PageLimit(field, s string) (int, error) {
	if s == "" {
		return PageSize, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxPageSize {
		return 0, FieldError(field, "error.page_limit", "give a number from 1 to {{.Max}}", map[string]any{"Max": MaxPageSize})
	}
	return n, nil
}

// Limit is the size of a page a service is asked for: PageSize for 0, an
// invalid error (on the field "limit") below 0 or above MaxPageSize.
func Limit(limit int) (int, error) {
	switch {
	case limit < 0 || limit > MaxPageSize:
		return 0, FieldError("limit", "error.page_limit", "give a number from 1 to {{.Max}}", map[string]any{"Max": MaxPageSize})
	case limit == 0:
		return PageSize, nil
	}
	return limit, nil
}

// Around returns the cursors of the pages older and newer than a page of a
// list read from k, nil at either end. first and last are the cursors of
// the page's first and last rows as shown, newest first (nil when the page
// is empty); next is where the walk in k's direction would go on (nil when
// it found nothing beyond the page).
func Around(k Cursor, first, last, next *Cursor) (older, newer *Cursor) {
	with := func(c *Cursor, after bool) *Cursor {
		if c == nil {
			return nil
		}
		x := *c
		x.After = after
		return &x
	}
	if !k.After {
		if !k.IsZero() {
			// The page before this one: newer than its first row, or the
			// first page when this one is empty.
			newer = &Cursor{After: true}
			if first != nil {
				newer = with(first, true)
			}
		}
		return with(next, false), newer
	}
	// The page after this one: older than its last row, or, when this one
	// is empty, from the cursor's own row on.
	older = &Cursor{At: k.At, ID: k.ID + 1}
	if last != nil {
		older = with(last, false)
	}
	return older, with(next, true)
}

// Paginate makes a page of rows read from k by a walk that asked for one
// row more than a page's limit, in the walk's order: it returns the page's
// rows newest first, and the cursors of the pages older and newer than it
// (nil at either end); at is a row's cursor.
func Paginate[T any](k Cursor, rows []T, limit int, at func(T) Cursor) (page []T, older, newer *Cursor) {
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	if k.After {
		slices.Reverse(rows)
	}
	var first, last, next *Cursor
	if len(rows) > 0 {
		f, l := at(rows[0]), at(rows[len(rows)-1])
		first, last = &f, &l
	}
	if more {
		// The walk goes on from the last row it read: the oldest going
		// back, the newest going forward.
		next = last
		if k.After {
			next = first
		}
	}
	older, newer = Around(k, first, last, next)
	return rows, older, newer
}

// SQL is the walk from c over a table's rows ordered by the columns t (a
// time) and id, newest first: where is the condition to add after an AND
// ("" from the start of the list), order the ORDER BY clause. arg adds a
// value to the query's arguments and returns its placeholder.
func (c Cursor) SQL(t, id string, arg func(any) string) (where, order string) {
	order = ` ORDER BY ` + t + ` DESC, ` + id + ` DESC`
	if c.IsZero() {
		return "", order
	}
	cmp := `<`
	if c.After {
		cmp, order = `>`, ` ORDER BY `+t+`, `+id
	}
	at, n := arg(c.At.UTC()), arg(c.ID)
	return `(` + t + ` ` + cmp + ` ` + at + ` OR (` + t + ` = ` + at + ` AND ` + id + ` ` + cmp + ` ` + n + `))`, order
}

// Collect reads the rows of a list that a reader may see, for Paginate:
// from the cursor k, in batches in the walk's order (read returns at most
// n rows from a cursor), keeping those keep accepts, until limit+1 are
// kept or the rows run out. at is a row's cursor. A list whose rows are
// filtered after they are read (by rules that SQL does not hold) thus
// costs what its page does, not what the whole list does, while most rows
// are seen.
func Collect[T any](k Cursor, limit int, read func(k Cursor, n int) ([]T, error), at func(T) Cursor, keep func(T) bool) ([]T, error) {
	n := max(limit+1, 100)
	var out []T
	for {
		batch, err := read(k, n)
		if err != nil {
			return nil, err
		}
		for _, x := range batch {
			if keep(x) {
				if out = append(out, x); len(out) > limit {
					return out, nil
				}
			}
		}
		if len(batch) < n {
			return out, nil
		}
		next := at(batch[len(batch)-1])
		next.After = k.After
		k = next
	}
}
