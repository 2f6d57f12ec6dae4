package web

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/pocdir/pocdir/internal/auditlog"
)

type logData struct {
	Key        string
	Checkpoint *auditlog.Checkpoint
	Entries    []*logRow
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
	newest, err := s.Audit.Newest(r.Context(), show+1)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	more := len(newest) > show
	newest = newest[:min(len(newest), show)]
	p := s.page(r, "log.title", nil)
	d := &logData{Key: s.Audit.VerifierKey, Checkpoint: cp, More: more}
	if d.Entries, err = s.logRows(r.Context(), p, newest); err != nil {
		s.fail(w, r, err)
		return
	}
	p.Data = d
	s.render(w, r, http.StatusOK, "log.html", p)
}

// receiptData is the printable receipt of an entry: the entry as people
// read it, then as the log holds it, the signed checkpoint that includes
// it, and how to verify the receipt file without trusting pocdir.
type receiptData struct {
	Row *logRow
	// Exact is the entry's time as the log holds it; States names the
	// States the entry concerns.
	Exact, States string
	// Origin names the log (the deployment) in its checkpoints; Address is
	// where this receipt is, for the printed copy.
	Origin, Address string
	EntryHash       string
	Data            string
	Size            int64
	Root            string
	Signed          time.Time
	Note            string
	Cosignatures    []auditlog.Cosignature
	Proof           []string
	// File is the receipt file's name, JSON where it is downloaded, and
	// Command the command that verifies it.
	File, JSON, Command string
}

// FileIsolated is the file's name isolated for a sentence around it: it
// stays whole, left to right, in right-to-left text.
func (d *receiptData) FileIsolated() string { return "\u2068" + d.File + "\u2069" }

// receipt serves the receipt of an entry: at /log/receipts/{index} a page
// to read and print (to attach to a note verbale), at
// /log/receipts/{index}.json the file that verifies offline. Both are for
// those who may see the entry (auditlog's Receipt decides).
func (s *Server) receipt(w http.ResponseWriter, r *http.Request) {
	idx, file, err := pathIDExt(r, "index", ".json", "log entry")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rc, err := s.Audit.Receipt(r.Context(), idx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if file {
		b, _ := json.MarshalIndent(rc, "", "  ")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="`+receiptFile(idx)+`"`)
		w.Write(b)
		return
	}
	origin, size, root, err := auditlog.ParseCheckpoint(auditlog.CheckpointBodyOf(rc.Checkpoint))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cp, err := s.Audit.CheckpointAt(r.Context(), size)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "receipt.title", nil)
	rows, err := s.logRows(r.Context(), p, []*auditlog.Entry{{Index: rc.Index, Event: rc.Event, Data: rc.Entry}})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	states := make([]string, len(rc.Event.States))
	for i, st := range rc.Event.States {
		states[i] = p.NameOf(st)
	}
	proof := make([]string, len(rc.Proof))
	for i, h := range rc.Proof {
		proof[i] = h.String()
	}
	d := &receiptData{Row: rows[0], Exact: rc.Event.At.UTC().Format(time.RFC3339Nano), States: strings.Join(states, p.T("list.separator")),
		Origin: origin, Address: s.baseURL(r) + r.URL.Path, EntryHash: tlog.RecordHash(rc.Entry).String(), Data: string(rc.Entry),
		Size: size, Root: root.String(), Signed: cp.CreatedAt, Note: rc.Checkpoint, Cosignatures: cp.Cosignatures, Proof: proof,
		File: receiptFile(idx), JSON: "/log/receipts/" + strconv.FormatInt(idx, 10) + ".json"}
	d.Command = "pocdir audit verify-receipt " + d.File + " --key " + shellWord(s.Audit.VerifierKey)
	p.Title = p.T("receipt.title", "Index", idx)
	p.Data = d
	s.render(w, r, http.StatusOK, "receipt.html", p)
}

// receiptFile names the receipt file of an entry.
func receiptFile(idx int64) string {
	return "pocdir-receipt-" + strconv.FormatInt(idx, 10) + ".json"
}

var plainWord = regexp.MustCompile(`^[A-Za-z0-9+/=._:@-]+$`)

// shellWord quotes a word for a POSIX shell, where it needs quoting: a
// log's key needs none unless its name holds a space or the like.
func shellWord(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
