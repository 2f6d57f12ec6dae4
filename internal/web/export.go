package web

import (
	"net/http"

	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/export"
)

// directoryFilter reads the directory page's filters from the query.
func directoryFilter(r *http.Request) directory.Filter {
	q := r.URL.Query()
	return directory.Filter{Query: q.Get("q"), Group: q.Get("group"), Body: q.Get("body"), Level: directory.Level(q.Get("level")),
		Language: q.Get("lang"), Only247: q.Get("h247") == "1"}
}

// directoryExport downloads the directory, filtered as on the directory
// page, in the format asked for (export.Formats).
func (s *Server) directoryExport(w http.ResponseWriter, r *http.Request) {
	format, err := export.ParseFormat(r.URL.Query().Get("format"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := s.Export.Directory(r.Context(), directoryFilter(r), format)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f.Serve(w)
}

// stateExport downloads a State's entry and PoCs.
func (s *Server) stateExport(w http.ResponseWriter, r *http.Request) {
	format, err := export.ParseFormat(r.URL.Query().Get("format"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := s.Export.State(r.Context(), r.PathValue("code"), format)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f.Serve(w)
}

// pocVCard downloads one PoC's vCard.
func (s *Server) pocVCard(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "poc")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := s.Export.PoC(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f.Serve(w)
}
