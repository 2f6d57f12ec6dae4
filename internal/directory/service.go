package directory

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/notify"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// Service is the directory's rules and authorization. Every method takes the
// acting user from the context.
type Service struct {
	// DB and Now are set by New and never changed.
	DB  *db.DB
	Now app.Clock

	mail      *notify.Writer
	threshold int
	staleness time.Duration

	mu        sync.Mutex
	snap      *snapshot
	checkedAt time.Time
	// fresh lets a read take the snapshot without the mutex while it is
	// known fresh (the busiest route, a State's entry, is read tens of
	// thousands of times a second): set and cleared under mu.
	fresh atomic.Pointer[freshSnapshot]
}

// freshSnapshot is a snapshot with the time until which it may be served
// without asking the database, and the day (on the service's clock) for
// which it holds.
type freshSnapshot struct {
	snap             *snapshot
	until            time.Time
	dayStart, dayEnd time.Time
}

// Config is what the directory service is built from.
type Config struct {
	DB  *db.DB
	Now app.Clock
	// Mail writes the reminders and warnings to focal points (in each one's
	// language, with English below, and a link to the entry).
	Mail *notify.Writer
	// Threshold is the number of nominating States at which the directory
	// is operational; DefaultThreshold when zero.
	Threshold int
	// Staleness bounds how long a read may serve a directory that another
	// instance has since changed (a second when zero). Writes through this
	// Service are seen at once.
	Staleness time.Duration
}

// New returns the directory service.
func New(c Config) *Service {
	if c.Threshold <= 0 {
		c.Threshold = DefaultThreshold
	}
	if c.Staleness <= 0 {
		c.Staleness = time.Second
	}
	return &Service{DB: c.DB, Now: c.Now, mail: c.Mail, threshold: c.Threshold, staleness: c.Staleness}
}

// snapshot is an immutable copy of the whole directory: 195 States and their
// PoCs fit in well under a megabyte, and reads far outnumber writes.
type snapshot struct {
	gen     int64
	day     string // PoCs leaving on a date drop out when it comes
	entries []*Entry
	byCode  map[string]*Entry
	jsonMu  sync.Mutex
	json    map[string]*Encoded
}

func (s *Service) load(ctx context.Context) (*snapshot, error) {
	if f := s.fresh.Load(); f != nil && time.Now().Before(f.until) {
		if c := s.Now(); !c.Before(f.dayStart) && c.Before(f.dayEnd) {
			return f.snap, nil
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	today := s.today()
	if s.snap != nil && s.snap.day == today && now.Sub(s.checkedAt) < s.staleness {
		return s.snap, nil
	}
	gen, err := generation(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	if s.snap != nil && s.snap.gen == gen && s.snap.day == today {
		s.checkedAt = now
		s.setFresh(now)
		return s.snap, nil
	}
	entries, err := loadAll(ctx, s.DB, today)
	if err != nil {
		return nil, err
	}
	// By the English name as an English reader expects it: Côte d'Ivoire
	// before Croatia, Türkiye before Turkmenistan (the database sorts by
	// bytes, which put them after Czechia and Tuvalu).
	c := collate.New(language.English)
	sort.SliceStable(entries, func(i, j int) bool { return c.CompareString(entries[i].Name, entries[j].Name) < 0 })
	snap := &snapshot{gen: gen, day: today, entries: entries, byCode: make(map[string]*Entry, len(entries)), json: map[string]*Encoded{}}
	for _, e := range entries {
		snap.byCode[e.Code] = e
	}
	s.snap, s.checkedAt = snap, now
	s.setFresh(now)
	return snap, nil
}

// setFresh publishes s.snap, checked against the database at now, to the
// reads that take no lock. Called with mu held.
func (s *Service) setFresh(now time.Time) {
	day, err := time.Parse(time.DateOnly, s.snap.day)
	if err != nil {
		s.fresh.Store(nil)
		return
	}
	s.fresh.Store(&freshSnapshot{snap: s.snap, until: now.Add(s.staleness), dayStart: day, dayEnd: day.AddDate(0, 0, 1)})
}

// today is the current day (UTC) as YYYY-MM-DD.
func (s *Service) today() string { return s.Now().UTC().Format(time.DateOnly) }

func (s *Service) invalidate() {
	s.mu.Lock()
	s.snap = nil
	s.fresh.Store(nil)
	s.mu.Unlock()
}

// List returns the States matching the filter, sorted by name. The returned
// values are shared and must not be modified.
func (s *Service) List(ctx context.Context, f Filter) ([]*Summary, error) {
	a, err := requireReader(ctx)
	if err != nil {
		return nil, err
	}
	snap, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	var v app.Validation
	if len([]rune(f.Query)) > 200 {
		v.Add("q", "error.too_long", "too long", map[string]any{"Max": 200})
	}
	if len(f.Language) > 35 {
		v.Add("language", "error.too_long", "too long", map[string]any{"Max": 35})
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	q := strings.ToLower(strings.TrimSpace(f.Query))
	lang := ""
	if f.Language != "" {
		lang = primaryTag(f.Language)
	}
	out := []*Summary{}
	for _, e := range snap.entries {
		if !a.MayReadEntry(e.Code) {
			continue
		}
		if f.Group != "" && e.Group != f.Group {
			continue
		}
		if f.Body != "" && !contains(e.Bodies, f.Body) {
			continue
		}
		sum := &Summary{State: e.State, PoCCount: len(e.PoCs), ByLevel: map[Level]int{}, Languages: []string{},
			Freshness: e.FreshnessAt(s.Now()), DueAt: e.DueAt()}
		langSeen := map[string]bool{}
		textMatch := q == "" || strings.Contains(strings.ToLower(e.Name), q) || strings.EqualFold(e.Code, q) || strings.EqualFold(e.ISO2, q)
		levelOK, langOK, h247OK := f.Level == "", lang == "", !f.Only247
		for _, p := range e.PoCs {
			sum.ByLevel[p.Level]++
			if p.Available247 {
				sum.Has247 = true
			}
			plangOK := false
			for _, l := range p.Languages {
				pt := primaryTag(l)
				if !langSeen[pt] {
					langSeen[pt] = true
					sum.Languages = append(sum.Languages, pt)
				}
				if pt == lang {
					plangOK = true
				}
			}
			// The PoC-level filters must hold for one and the same PoC.
			if (f.Level == "" || p.Level == f.Level) && (lang == "" || plangOK) && (!f.Only247 || p.Available247) {
				levelOK, langOK, h247OK = true, true, true
			}
			if q != "" && !textMatch {
				for _, s := range []string{p.Agency, p.FunctionTitle, p.PersonName} {
					if s != "" && strings.Contains(strings.ToLower(s), q) {
						textMatch = true
					}
				}
			}
		}
		if !textMatch || !levelOK || !langOK || !h247OK {
			continue
		}
		sort.Strings(sum.Languages)
		out = append(out, sum)
	}
	return out, nil
}

func primaryTag(l string) string {
	if i := strings.IndexByte(l, '-'); i > 0 {
		l = l[:i]
	}
	return strings.ToLower(l)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Get returns a State's entry with its PoCs. The value is shared and must not
// be modified.
func (s *Service) Get(ctx context.Context, code string) (*Entry, error) {
	code = strings.ToUpper(code)
	if err := requireEntry(ctx, code); err != nil {
		return nil, err
	}
	snap, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	e := snap.byCode[strings.ToUpper(code)]
	if e == nil {
		return nil, app.ErrNotFound("state")
	}
	return e, nil
}

// Encoded is a State's entry encoded for the API, as JSON and gzipped JSON.
type Encoded struct {
	JSON, Gzip []byte
	// JSONLength and GzipLength are the two lengths as a Content-Length
	// header's value, made once with the bytes.
	JSONLength, GzipLength []string
}

// GetJSON returns the JSON encoding of Get, encoded and compressed once per
// version of the directory: the State read is the hottest path of the API,
// and compressing on every request would halve its throughput.
func (s *Service) GetJSON(ctx context.Context, code string) (*Encoded, error) {
	code = strings.ToUpper(code)
	if err := requireEntry(ctx, code); err != nil {
		return nil, err
	}
	snap, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	code = strings.ToUpper(code)
	snap.jsonMu.Lock()
	enc, ok := snap.json[code]
	snap.jsonMu.Unlock()
	if ok {
		return enc, nil
	}
	e := snap.byCode[code]
	if e == nil {
		return nil, app.ErrNotFound("state")
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	b = append(b, '\n')
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	enc = &Encoded{JSON: b, Gzip: gz.Bytes(), JSONLength: []string{strconv.Itoa(len(b))}, GzipLength: []string{strconv.Itoa(gz.Len())}}
	snap.jsonMu.Lock()
	snap.json[code] = enc
	snap.jsonMu.Unlock()
	return enc, nil
}

// GetPoC returns one current PoC.
func (s *Service) GetPoC(ctx context.Context, id int64) (*PoC, error) {
	a, err := requireReader(ctx)
	if err != nil {
		return nil, err
	}
	p, err := getPoC(ctx, s.DB, id, s.today())
	if err != nil {
		return nil, err
	}
	if p == nil || !a.MayReadEntry(p.State) {
		return nil, app.ErrNotFound("poc")
	}
	return p, nil
}

// requireReader returns who may read some directory entries: every
// member, and an observer (which reads only the entries granted to it:
// each read checks MayReadEntry).
func requireReader(ctx context.Context) (*app.Actor, error) {
	return app.RequireAnyActor(ctx)
}

// requireEntry refuses who may not read the State's entry: an observer not
// granted it.
func requireEntry(ctx context.Context, code string) error {
	a, err := requireReader(ctx)
	if err != nil {
		return err
	}
	if !a.MayReadEntry(code) {
		return app.ErrForbidden()
	}
	return nil
}

// CanEdit reports whether the actor may change the State's entry and PoCs:
// only that State's focal points may.
func CanEdit(a *app.Actor, state string) bool {
	return a != nil && !a.ReadOnly && a.IsFocalPointOf(state)
}

func (s *Service) requireEdit(ctx context.Context, state string) (*app.Actor, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	if !CanEdit(a, state) {
		return nil, app.ErrForbidden()
	}
	return a, nil
}

func (s *Service) requireState(ctx context.Context, q db.Queryer, code string) (*State, error) {
	st, err := getState(ctx, q, strings.ToUpper(code))
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, app.ErrNotFound("state")
	}
	return st, nil
}

func errConflict() error {
	return app.Errorf(app.Conflict, "error.conflict", "someone else changed this in the meantime: reload and apply your change again")
}

// editableState loads a State whose entry the actor may change: an unknown
// State is not found, and then only its focal points may act.
func (s *Service) editableState(ctx context.Context, state string) (*app.Actor, *State, error) {
	if _, err := app.RequireWrite(ctx); err != nil {
		return nil, nil, err
	}
	old, err := s.requireState(ctx, s.DB, state)
	if err != nil {
		return nil, nil, err
	}
	a, err := s.requireEdit(ctx, state)
	if err != nil {
		return nil, nil, err
	}
	return a, old, nil
}

// History returns the newest versioned changes of a State's entry, newest
// first: the first page of HistoryPage, of app.MaxPageSize changes.
func (s *Service) History(ctx context.Context, state string) ([]*Change, error) {
	p, err := s.HistoryPage(ctx, state, app.Cursor{}, app.MaxPageSize)
	if err != nil {
		return nil, err
	}
	return p.List, nil
}

// HistoryPage returns a page of the versioned changes of a State's entry,
// newest first from the cursor k, limit of them (app.PageSize when 0).
func (s *Service) HistoryPage(ctx context.Context, state string, k app.Cursor, limit int) (*ChangePage, error) {
	if _, err := app.RequireActor(ctx); err != nil {
		return nil, err
	}
	limit, err := app.Limit(limit)
	if err != nil {
		return nil, err
	}
	st, err := s.requireState(ctx, s.DB, state)
	if err != nil {
		return nil, err
	}
	list, err := listChanges(ctx, s.DB, st.Code, k, limit+1)
	if err != nil {
		return nil, err
	}
	p := &ChangePage{}
	p.List, p.Older, p.Newer = app.Paginate(k, list, limit, func(c *Change) app.Cursor { return app.CursorAt(c.ChangedAt, c.ID) })
	return p, nil
}

func pocFromInput(state string, in PoCInput, key *notify.KeyInfo) *PoC {
	p := &PoC{State: state, Level: in.Level, Alternate: in.Alternate, Agency: in.Agency, FunctionTitle: in.FunctionTitle,
		PersonName: in.PersonName, Channels: in.Channels, Languages: in.Languages, TimeZone: in.TimeZone,
		Available247: in.Available247, WorkingHours: in.WorkingHours, Hours: in.Hours, Notes: in.Notes, RegionalRefs: in.RegionalRefs}
	if p.Channels == nil {
		p.Channels = []Channel{}
	}
	if p.RegionalRefs == nil {
		p.RegionalRefs = []RegionalRef{}
	}
	if p.Languages == nil {
		p.Languages = []string{}
	}
	if p.Available247 {
		p.WorkingHours, p.Hours = "", ""
	}
	if key != nil {
		p.PGPKey, p.PGPFingerprint, p.PGPExpiresAt = key.Armored, key.Fingerprint, key.ExpiresAt
	}
	return p
}

func addDiff(d []FieldChange, field, old, new string) []FieldChange {
	if old == new {
		return d
	}
	return append(d, FieldChange{Field: field, Old: old, New: new})
}

func boolString(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

func channelsString(cs []Channel) string {
	var parts []string
	for _, c := range cs {
		s := string(c.Kind) + ": " + c.Value
		if c.Preferred {
			s += " (preferred)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func refsString(rs []RegionalRef) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, r.Body+": "+r.Ref)
	}
	return strings.Join(parts, "; ")
}

func timeString(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// keyDigest names a version of an armored key in the history: the start of
// its SHA-256.
func keyDigest(armored string) string {
	if armored == "" {
		return ""
	}
	h := sha256.Sum256([]byte(armored))
	return "sha256:" + hex.EncodeToString(h[:8])
}

// diffPoC lists the fields that differ between two PoCs. The OpenPGP key is
// shown by fingerprint and expiry, which is what a reader can check, and by
// digest when the same key is re-issued.
func diffPoC(old, new *PoC) []FieldChange {
	var d []FieldChange
	d = addDiff(d, "level", string(old.Level), string(new.Level))
	d = addDiff(d, "alternate", boolString(old.Alternate), boolString(new.Alternate))
	d = addDiff(d, "agency", old.Agency, new.Agency)
	d = addDiff(d, "function_title", old.FunctionTitle, new.FunctionTitle)
	d = addDiff(d, "person_name", old.PersonName, new.PersonName)
	d = addDiff(d, "channels", channelsString(old.Channels), channelsString(new.Channels))
	d = addDiff(d, "languages", strings.Join(old.Languages, ", "), strings.Join(new.Languages, ", "))
	d = addDiff(d, "time_zone", old.TimeZone, new.TimeZone)
	d = addDiff(d, "available_24_7", boolString(old.Available247), boolString(new.Available247))
	d = addDiff(d, "hours", old.Hours, new.Hours)
	d = addDiff(d, "working_hours", old.WorkingHours, new.WorkingHours)
	d = addDiff(d, "openpgp_fingerprint", old.PGPFingerprint, new.PGPFingerprint)
	d = addDiff(d, "openpgp_expires_at", timeString(old.PGPExpiresAt), timeString(new.PGPExpiresAt))
	if old.PGPFingerprint == new.PGPFingerprint && old.PGPKey != new.PGPKey {
		// The same key, re-issued (new expiry, new subkey, new user id).
		d = addDiff(d, "openpgp_key", keyDigest(old.PGPKey), keyDigest(new.PGPKey))
	}
	d = addDiff(d, "notes_lang", old.Notes.Lang, new.Notes.Lang)
	d = addDiff(d, "notes", old.Notes.Text, new.Notes.Text)
	d = addDiff(d, "notes_en", old.Notes.English, new.Notes.English)
	d = addDiff(d, "regional_refs", refsString(old.RegionalRefs), refsString(new.RegionalRefs))
	return d
}

// Label returns a short human description of a PoC for lists and history.
func (p *PoC) Label() string {
	return fmt.Sprintf("%s — %s", p.Agency, p.Level)
}
