package app

import (
	"strconv"
	"strings"
)

// AcceptsGzip reports whether an Accept-Encoding header accepts gzip: named
// (or "*") with a quality above zero. It reads the header in place, without
// splitting it into new slices: every API request asks it, twice.
func AcceptsGzip(header string) bool {
	for rest, more := header, true; more; {
		var part string
		part, rest, more = strings.Cut(rest, ",")
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.TrimSpace(name)
		if !strings.EqualFold(name, "gzip") && !strings.EqualFold(name, "x-gzip") && name != "*" {
			continue
		}
		q := 1.0
		for ps, morep := params, true; morep; {
			var p string
			p, ps, morep = strings.Cut(ps, ";")
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}
