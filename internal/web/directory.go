package web

import (
	"net/http"
	"sort"

	"github.com/pocdir/pocdir/internal/directory"
)

type langOption struct{ Code, Name string }

type directoryData struct {
	Filter    directory.Filter
	States    []*directory.Summary
	Total     int
	Nominated int
	Groups    []string
	Bodies    []string
	Levels    []directory.Level
	Languages []langOption
}

func (s *Server) directoryPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := directory.Filter{Query: q.Get("q"), Group: q.Get("group"), Body: q.Get("body"), Level: directory.Level(q.Get("level")),
		Language: q.Get("lang"), Only247: q.Get("h247") == "1"}
	all, err := s.Directory.List(r.Context(), directory.Filter{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.Directory.List(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "directory.title", nil)
	d := &directoryData{Filter: f, States: list, Total: len(all), Groups: directory.Groups, Bodies: directory.Bodies, Levels: directory.Levels}
	seen := map[string]bool{}
	for _, st := range all {
		if st.PoCCount > 0 {
			d.Nominated++
		}
		for _, l := range st.Languages {
			if !seen[l] {
				seen[l] = true
				d.Languages = append(d.Languages, langOption{Code: l, Name: p.LangName(l)})
			}
		}
	}
	sort.Slice(d.Languages, func(i, j int) bool { return d.Languages[i].Name < d.Languages[j].Name })
	p.Data = d
	s.render(w, r, http.StatusOK, "directory.html", p)
}
