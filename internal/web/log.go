package web

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/pocdir/pocdir/internal/auditlog"
)

type logData struct {
	Key        string
	Checkpoint *auditlog.Checkpoint
	Entries    []*auditlog.Entry
	More       bool
}

// logPage shows the accountability log: the public key every user can keep
// to verify offline, the latest signed checkpoint with its witnesses'
// cosignatures, and the latest entries that concern the user's State.
func (s *Server) logPage(w http.ResponseWriter, r *http.Request) {
	cp, err := s.Audit.Latest(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	const show = 100
	from := max(cp.Size-2000, 0)
	list, err := s.Audit.Entries(r.Context(), from, 1000)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &logData{Key: s.Audit.VerifierKey, Checkpoint: cp}
	// Newest first.
	for i := len(list) - 1; i >= 0 && len(d.Entries) < show; i-- {
		d.Entries = append(d.Entries, list[i])
	}
	d.More = len(list) > show
	s.render(w, r, http.StatusOK, "log.html", s.page(r, "log.title", d))
}

// receiptDownload serves the receipt of an entry as a file to keep.
func (s *Server) receiptDownload(w http.ResponseWriter, r *http.Request) {
	idx, err := pathID(r, "index", "log entry")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rc, err := s.Audit.Receipt(r.Context(), idx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, _ := json.MarshalIndent(rc, "", "  ")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="pocdir-receipt-`+strconv.FormatInt(idx, 10)+`.json"`)
	w.Write(b)
}
