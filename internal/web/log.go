package web

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
)

type logData struct {
	Key        string
	Checkpoint *auditlog.Checkpoint
	Entries    []*logRow
	// Older and Newer are the links to the pages of entries around this
	// one.
	Older, Newer template.URL
}

// logPageSize is how many entries a page of the log shows.
const logPageSize = 100

// logPage shows the accountability log: the public key every user can keep
// to verify offline, the latest signed checkpoint with its witnesses'
// cosignatures, and the latest entries that concern the user's State.
func (s *Server) logPage(w http.ResponseWriter, r *http.Request) {
	cp, err := s.Audit.Latest(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	list, older, newer, err := s.logEntries(r, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "log.title", nil)
	d := &logData{Key: s.Audit.VerifierKey, Checkpoint: cp}
	if older >= 0 {
		d.Older = template.URL("?before=" + strconv.FormatInt(older, 10))
	}
	if newer >= 0 {
		d.Newer = template.URL("?after=" + strconv.FormatInt(newer, 10))
		if newer == 0 {
			d.Newer = "?"
		}
	}
	if d.Entries, err = s.logRows(r.Context(), p, list); err != nil {
		s.fail(w, r, err)
		return
	}
	p.Data = d
	s.render(w, r, http.StatusOK, "log.html", p)
}

// logEntries reads the page of entries the query asks for, newest first:
// the newest (no parameter), those below the index "before" (the page
// after one that ended there), or those above the index "after" (the page
// before one that began there). older and newer are where the pages after
// and before it begin (their before and after; -1 at either end, newer 0
// for the newest page).
func (s *Server) logEntries(r *http.Request, q url.Values) (list []*auditlog.Entry, older, newer int64, err error) {
	index := func(name string) (int64, error) {
		v := q.Get(name)
		if v == "" {
			return -1, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, app.FieldError(name, "error.cursor", "not a position in this list", nil)
		}
		return n, nil
	}
	before, err := index("before")
	if err != nil {
		return nil, -1, -1, err
	}
	after, err := index("after")
	if err != nil {
		return nil, -1, -1, err
	}
	older, newer = -1, -1
	if after < 0 {
		// From the head, or below an index.
		if list, err = s.Audit.Newest(r.Context(), max(before, 0), logPageSize+1); err != nil {
			return nil, -1, -1, err
		}
		if len(list) > logPageSize {
			list = list[:logPageSize]
			older = list[len(list)-1].Index
		}
		switch {
		case before < 0:
		case len(list) > 0:
			newer = list[0].Index
		default:
			newer = 0
		}
		return list, older, newer, nil
	}
	// Above an index: the entries just newer than it, shown newest first.
	if list, err = s.Audit.Entries(r.Context(), after+1, logPageSize+1); err != nil {
		return nil, -1, -1, err
	}
	more := len(list) > logPageSize
	list = list[:min(len(list), logPageSize)]
	slices.Reverse(list)
	older = after + 1
	if len(list) > 0 {
		older = list[len(list)-1].Index
		if more {
			newer = list[0].Index
		}
	}
	return list, older, newer, nil
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
