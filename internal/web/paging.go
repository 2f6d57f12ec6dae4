package web

import (
	"html/template"
	"net/url"

	"github.com/pocdir/pocdir/internal/app"
)

// Lists that grow with the years are shown a page at a time, by keyset:
// "before" asks for the rows older than a cursor, "after" for those newer
// than it. The links are plain query strings, so that paging works
// without JavaScript.

// pageCursor reads the page asked for in the query.
func pageCursor(q url.Values) (app.Cursor, error) { return pageCursorOf(q, "") }

// pageCursorOf reads the page asked for in the query of the list whose
// parameters begin with prefix (a page that shows two lists pages each
// with its own: "before" and "inv_before").
func pageCursorOf(q url.Values, prefix string) (app.Cursor, error) {
	if v := q.Get(prefix + "after"); v != "" {
		c, err := app.ParseCursor(prefix+"after", v)
		c.After = true
		return c, err
	}
	return app.ParseCursor(prefix+"before", q.Get(prefix+"before"))
}

// pageLink is the query string of the page at c, keeping the other
// parameters of q (the filters); empty when c is nil. A zero c is the
// first page.
func pageLink(q url.Values, c *app.Cursor) template.URL { return pageLinkOf(q, c, "") }

// pageLinkOf is pageLink for the list whose parameters begin with prefix;
// the other lists of the page keep their place.
func pageLinkOf(q url.Values, c *app.Cursor, prefix string) template.URL {
	if c == nil {
		return ""
	}
	v := url.Values{}
	for k, vs := range q {
		if k != prefix+"before" && k != prefix+"after" && len(vs) > 0 && vs[0] != "" {
			v.Set(k, vs[0])
		}
	}
	switch {
	case c.IsZero():
	case c.After:
		v.Set(prefix+"after", c.String())
	default:
		v.Set(prefix+"before", c.String())
	}
	return template.URL("?" + v.Encode())
}

// pages are the links to the pages around a list's on a page that shows
// several lists.
type pages struct{ Older, Newer template.URL }

// pagesOf are the links to the pages around a list's page whose
// parameters begin with prefix.
func pagesOf(q url.Values, prefix string, older, newer *app.Cursor) pages {
	return pages{Older: pageLinkOf(q, older, prefix), Newer: pageLinkOf(q, newer, prefix)}
}
