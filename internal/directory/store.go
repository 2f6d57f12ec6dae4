package directory

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
)

//go:embed data/states.csv
var statesCSV string

// ReferenceStates parses the shipped reference list of States.
func ReferenceStates() ([]State, error) {
	r := csv.NewReader(strings.NewReader(statesCSV))
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("states.csv: %w", err)
	}
	var out []State
	for i, row := range rows {
		if i == 0 {
			continue
		}
		if len(row) != 7 {
			return nil, fmt.Errorf("states.csv line %d: want 7 columns", i+1)
		}
		out = append(out, State{Code: row[0], ISO2: row[1], M49: row[2], Name: row[3], Status: row[4], Group: row[5], Bodies: splitList(row[6], ";")})
	}
	return out, nil
}

// SyncStates writes the reference list into the database, keeping each
// State's entry-level fields. It runs at every start, so an updated list
// ships with a new binary.
func SyncStates(ctx context.Context, d *db.DB) error {
	states, err := ReferenceStates()
	if err != nil {
		return fmt.Errorf("directory store: loading the reference States: %w", err)
	}
	return d.Tx(ctx, func(tx *sql.Tx) error {
		for _, s := range states {
			_, err := tx.ExecContext(ctx, `INSERT INTO states (code, iso2, m49, name, status, un_group, bodies)
				VALUES ($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT (code) DO UPDATE SET iso2 = excluded.iso2, m49 = excluded.m49, name = excluded.name,
				status = excluded.status, un_group = excluded.un_group, bodies = excluded.bodies`,
				s.Code, s.ISO2, s.M49, s.Name, s.Status, s.Group, strings.Join(s.Bodies, ";"))
			if err != nil {
				return fmt.Errorf("sync state %s: %w", s.Code, err)
			}
		}
		return nil
	})
}

func splitList(s, sep string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, sep)
}

const stateColumns = `code, iso2, m49, name, status, un_group, bodies, initiate_via, notes, notes_lang, notes_en, version, updated_at,
	confirmed_at, first_nominated_at`

func scanState(sc interface{ Scan(...any) error }) (*State, error) {
	var s State
	var bodies string
	var updated, confirmed, nominated sql.NullTime
	if err := sc.Scan(&s.Code, &s.ISO2, &s.M49, &s.Name, &s.Status, &s.Group, &bodies, &s.InitiateVia,
		&s.Notes.Text, &s.Notes.Lang, &s.Notes.English, &s.Version, &updated, &confirmed, &nominated); err != nil {
		return nil, err
	}
	for _, x := range []struct {
		src sql.NullTime
		dst **time.Time
	}{{confirmed, &s.ConfirmedAt}, {nominated, &s.FirstNominatedAt}} {
		if x.src.Valid {
			t := x.src.Time.UTC()
			*x.dst = &t
		}
	}
	s.Bodies = splitList(bodies, ";")
	if updated.Valid {
		t := updated.Time.UTC()
		s.UpdatedAt = &t
	}
	return &s, nil
}

const pocColumns = `id, state_code, level, is_alternate, agency, function_title, person_name, channels, languages,
	time_zone, available_247, working_hours, pgp_key, pgp_fingerprint, pgp_expires_at, notes, notes_lang, notes_en,
	regional_refs, version, created_at, updated_at, leaving_on, hours`

func scanPoC(sc interface{ Scan(...any) error }) (*PoC, error) {
	var p PoC
	var chans, langs, refs string
	var exp sql.NullTime
	if err := sc.Scan(&p.ID, &p.State, &p.Level, &p.Alternate, &p.Agency, &p.FunctionTitle, &p.PersonName, &chans, &langs,
		&p.TimeZone, &p.Available247, &p.WorkingHours, &p.PGPKey, &p.PGPFingerprint, &exp, &p.Notes.Text, &p.Notes.Lang, &p.Notes.English,
		&refs, &p.Version, &p.CreatedAt, &p.UpdatedAt, &p.LeavingOn, &p.Hours); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(chans), &p.Channels); err != nil {
		return nil, fmt.Errorf("poc %d channels: %w", p.ID, err)
	}
	if err := json.Unmarshal([]byte(refs), &p.RegionalRefs); err != nil {
		return nil, fmt.Errorf("poc %d regional refs: %w", p.ID, err)
	}
	p.Languages = splitList(langs, ",")
	if exp.Valid {
		t := exp.Time.UTC()
		p.PGPExpiresAt = &t
	}
	p.CreatedAt = p.CreatedAt.UTC()
	p.UpdatedAt = p.UpdatedAt.UTC()
	return &p, nil
}

// current is the SQL condition for a PoC listed on day today (YYYY-MM-DD):
// not removed, and not past the day it leaves.
const current = `removed_at IS NULL AND (leaving_on = '' OR leaving_on > $1)`

// loadAll reads every State and every PoC current on day today.
func loadAll(ctx context.Context, q db.Queryer, today string) ([]*Entry, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+stateColumns+` FROM states ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("directory store: reading the directory: %w", err)
	}
	var entries []*Entry
	byCode := map[string]*Entry{}
	for rows.Next() {
		s, err := scanState(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("directory store: reading the directory: %w", err)
		}
		e := &Entry{State: *s, PoCs: []*PoC{}}
		entries = append(entries, e)
		byCode[s.Code] = e
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("directory store: reading the directory: %w", err)
	}
	rows, err = q.QueryContext(ctx, `SELECT `+pocColumns+` FROM pocs WHERE `+current+` ORDER BY state_code, level, is_alternate, id`, today)
	if err != nil {
		return nil, fmt.Errorf("directory store: reading the directory: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanPoC(rows)
		if err != nil {
			return nil, fmt.Errorf("directory store: reading the directory: %w", err)
		}
		if e := byCode[p.State]; e != nil {
			e.PoCs = append(e.PoCs, p)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("directory store: reading the directory: %w", err)
	}
	return entries, nil
}

func getState(ctx context.Context, q db.Queryer, code string) (*State, error) {
	s, err := scanState(q.QueryRowContext(ctx, `SELECT `+stateColumns+` FROM states WHERE code = $1`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("directory store: reading a State: %w", err)
	}
	return s, nil
}

func getPoC(ctx context.Context, q db.Queryer, id int64, today string) (*PoC, error) {
	p, err := scanPoC(q.QueryRowContext(ctx, `SELECT `+pocColumns+` FROM pocs WHERE `+current+` AND id = $2`, today, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("directory store: reading a PoC: %w", err)
	}
	return p, nil
}

func pocArgs(p *PoC) []any {
	chans, _ := json.Marshal(p.Channels)
	refs, _ := json.Marshal(p.RegionalRefs)
	var exp any
	if p.PGPExpiresAt != nil {
		exp = *p.PGPExpiresAt
	}
	return []any{p.State, string(p.Level), p.Alternate, p.Agency, p.FunctionTitle, p.PersonName, string(chans),
		strings.Join(p.Languages, ","), p.TimeZone, p.Available247, p.WorkingHours, p.PGPKey, p.PGPFingerprint, exp,
		p.Notes.Text, p.Notes.Lang, p.Notes.English, string(refs), p.Hours}
}

func insertPoC(ctx context.Context, q db.Queryer, p *PoC) error {
	args := append(pocArgs(p), p.CreatedAt, p.UpdatedAt)
	if err := q.QueryRowContext(ctx, `INSERT INTO pocs (state_code, level, is_alternate, agency, function_title, person_name, channels,
		languages, time_zone, available_247, working_hours, pgp_key, pgp_fingerprint, pgp_expires_at, notes, notes_lang, notes_en,
		regional_refs, hours, version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, 1, $20, $21) RETURNING id`,
		args...).Scan(&p.ID); err != nil {
		return fmt.Errorf("directory store: adding a PoC: %w", err)
	}
	return nil
}

// updatePoC writes p if its stored version is still fromVersion, and reports
// whether it did.
func updatePoC(ctx context.Context, q db.Queryer, p *PoC, fromVersion int) (bool, error) {
	args := append(pocArgs(p)[1:], p.UpdatedAt, p.ID, fromVersion)
	res, err := q.ExecContext(ctx, `UPDATE pocs SET level = $1, is_alternate = $2, agency = $3, function_title = $4, person_name = $5,
		channels = $6, languages = $7, time_zone = $8, available_247 = $9, working_hours = $10, pgp_key = $11, pgp_fingerprint = $12,
		pgp_expires_at = $13, notes = $14, notes_lang = $15, notes_en = $16, regional_refs = $17, hours = $18, version = version + 1, updated_at = $19
		WHERE id = $20 AND version = $21 AND removed_at IS NULL`, args...)
	if err != nil {
		return false, fmt.Errorf("directory store: changing a PoC: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("directory store: changing a PoC: %w", err)
	}
	return n == 1, nil
}

// removePoC withdraws the PoC if its stored version is still fromVersion:
// at once when eff (YYYY-MM-DD) is today or past, else it is marked as
// leaving on eff and drops out of the directory on that day.
func removePoC(ctx context.Context, q db.Queryer, id int64, fromVersion int, now time.Time, eff, today string) (bool, error) {
	query := `UPDATE pocs SET removed_at = $1, version = version + 1, updated_at = $1 WHERE id = $2 AND version = $3 AND removed_at IS NULL`
	args := []any{now, id, fromVersion}
	if eff > today {
		query = `UPDATE pocs SET leaving_on = $4, version = version + 1, updated_at = $1 WHERE id = $2 AND version = $3 AND removed_at IS NULL`
		args = append(args, eff)
	}
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return false, fmt.Errorf("directory store: removing a PoC: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("directory store: removing a PoC: %w", err)
	}
	return n == 1, nil
}

func updateEntry(ctx context.Context, q db.Queryer, code string, in EntryInput, fromVersion int, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE states SET initiate_via = $1, notes = $2, notes_lang = $3, notes_en = $4,
		version = version + 1, updated_at = $5 WHERE code = $6 AND version = $7`,
		in.InitiateVia, in.Notes.Text, in.Notes.Lang, in.Notes.English, now, code, fromVersion)
	if err != nil {
		return false, fmt.Errorf("directory store: changing an entry: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("directory store: changing an entry: %w", err)
	}
	return n == 1, nil
}

func insertChange(ctx context.Context, q db.Queryer, c *Change, actorID int64) error {
	diff, _ := json.Marshal(c.Diff)
	var poc, actor, logIndex any
	if c.PoCID != 0 {
		poc = c.PoCID
	}
	if actorID != 0 {
		actor = actorID
	}
	if c.LogIndex != nil {
		logIndex = *c.LogIndex
	}
	var nomination, notified any
	if c.NominationID != 0 {
		nomination = c.NominationID
	}
	if c.NotifiedAt != nil {
		notified = *c.NotifiedAt
	}
	if err := q.QueryRowContext(ctx, `INSERT INTO entry_changes (state_code, poc_id, action, actor_id, actor_email, changed_at, effective_date, diff, log_index, commit_salt,
		nomination_id, notified_at, official_ref, validated_by, request_ref)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
		c.State, poc, c.Action, actor, c.ActorEmail, c.ChangedAt, c.EffectiveDate, string(diff), logIndex, c.CommitSalt,
		nomination, notified, c.OfficialRef, c.ValidatedBy, c.RequestRef).Scan(&c.ID); err != nil {
		return fmt.Errorf("directory store: recording a change: %w", err)
	}
	return countRule30(ctx, q, c)
}

// countRule30 adds a change to its State's figures of the 30-day rule
// (rule30_tallies), judged as it is read back: its times in UTC.
func countRule30(ctx context.Context, q db.Queryer, c *Change) error {
	if c.Action == "entry.reconfirm" {
		return nil
	}
	read := Change{Action: c.Action, ChangedAt: c.ChangedAt.UTC(), EffectiveDate: c.EffectiveDate}
	if c.NotifiedAt != nil {
		at := c.NotifiedAt.UTC()
		read.NotifiedAt = &at
	}
	late := 0
	if read.Late() {
		late = 1
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO rule30_tallies (state_code, changes, late) VALUES ($1, 1, $2)
		ON CONFLICT (state_code) DO UPDATE SET changes = rule30_tallies.changes + 1, late = rule30_tallies.late + excluded.late`, c.State, late); err != nil {
		return fmt.Errorf("directory store: counting a change of %s: %w", c.State, err)
	}
	return nil
}

// rule30Tallies reads the kept figures of the 30-day rule, by State (of
// one State, when state is not empty).
func rule30Tallies(ctx context.Context, q db.Queryer, state string) (map[string]Compliance, error) {
	query, args := `SELECT state_code, changes, late FROM rule30_tallies`, []any(nil)
	if state != "" {
		query, args = query+` WHERE state_code = $1`, []any{state}
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("directory store: reading the 30-day rule's figures: %w", err)
	}
	defer rows.Close()
	out := map[string]Compliance{}
	for rows.Next() {
		var code string
		var c Compliance
		if err := rows.Scan(&code, &c.Changes, &c.Late); err != nil {
			return nil, fmt.Errorf("directory store: reading the 30-day rule's figures: %w", err)
		}
		out[code] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("directory store: reading the 30-day rule's figures: %w", err)
	}
	return out, nil
}

const changeColumns = `id, state_code, poc_id, action, actor_email, changed_at, effective_date, diff, log_index, commit_salt,
	nomination_id, notified_at, official_ref, validated_by, request_ref`

func scanChange(sc interface{ Scan(...any) error }) (*Change, error) {
	var c Change
	var poc, logIndex, nomination sql.NullInt64
	var notified sql.NullTime
	var diff string
	if err := sc.Scan(&c.ID, &c.State, &poc, &c.Action, &c.ActorEmail, &c.ChangedAt, &c.EffectiveDate, &diff, &logIndex, &c.CommitSalt,
		&nomination, &notified, &c.OfficialRef, &c.ValidatedBy, &c.RequestRef); err != nil {
		return nil, err
	}
	c.PoCID = poc.Int64
	c.NominationID = nomination.Int64
	if notified.Valid {
		t := notified.Time.UTC()
		c.NotifiedAt = &t
	}
	c.ChangedAt = c.ChangedAt.UTC()
	if logIndex.Valid {
		i := logIndex.Int64
		c.LogIndex = &i
	}
	if err := json.Unmarshal([]byte(diff), &c.Diff); err != nil {
		return nil, err
	}
	return &c, nil
}

// listChanges reads a State's changes, newest first from the cursor k,
// limit of them: in the order they were written (by id, on the index of a
// State's changes), as the history has always been shown; the cursor's
// time is not used.
func listChanges(ctx context.Context, q db.Queryer, code string, k app.Cursor, limit int) ([]*Change, error) {
	query, args := `SELECT `+changeColumns+` FROM entry_changes WHERE state_code = $1`, []any{code}
	switch {
	case k.IsZero():
		query += ` ORDER BY id DESC`
	case k.After:
		query, args = query+` AND id > $2 ORDER BY id`, append(args, k.ID)
	default:
		query, args = query+` AND id < $2 ORDER BY id DESC`, append(args, k.ID)
	}
	rows, err := q.QueryContext(ctx, query+` LIMIT $`+itoa(len(args)+1), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("directory store: reading the history: %w", err)
	}
	defer rows.Close()
	out := []*Change{}
	for rows.Next() {
		c, err := scanChange(rows)
		if err != nil {
			return nil, fmt.Errorf("directory store: reading the history: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("directory store: reading the history: %w", err)
	}
	return out, nil
}

// generation returns the directory's version, which every write bumps in
// its transaction (see record).
func generation(ctx context.Context, q db.Queryer) (int64, error) {
	var g int64
	err := q.QueryRowContext(ctx, `SELECT n FROM directory_version WHERE id = 1`).Scan(&g)
	if err != nil {
		return 0, fmt.Errorf("directory store: reading the directory version: %w", err)
	}
	return g, nil
}

const nominationColumns = `id, state_code, action, poc_id, base_version, payload, effective_date, status, version, request_ref,
	created_by_email, created_at, updated_at, submitted_by_email, submitted_at, decided_by_email, decided_at, official_ref,
	return_reason, change_id`

func scanNomination(sc interface{ Scan(...any) error }) (*Nomination, error) {
	var n Nomination
	var poc, change sql.NullInt64
	var submitted, decided sql.NullTime
	var payload string
	if err := sc.Scan(&n.ID, &n.State, &n.Action, &poc, &n.BaseVersion, &payload, &n.EffectiveDate, &n.Status, &n.Version, &n.RequestRef,
		&n.CreatedBy, &n.CreatedAt, &n.UpdatedAt, &n.SubmittedBy, &submitted, &n.DecidedBy, &decided, &n.OfficialRef,
		&n.ReturnReason, &change); err != nil {
		return nil, err
	}
	n.PoCID, n.ChangeID = poc.Int64, change.Int64
	n.CreatedAt, n.UpdatedAt = n.CreatedAt.UTC(), n.UpdatedAt.UTC()
	if submitted.Valid {
		t := submitted.Time.UTC()
		n.SubmittedAt = &t
	}
	if decided.Valid {
		t := decided.Time.UTC()
		n.DecidedAt = &t
	}
	switch n.Action {
	case "poc.create", "poc.update":
		n.PoC = &PoCInput{}
		if err := json.Unmarshal([]byte(payload), n.PoC); err != nil {
			return nil, err
		}
		n.emptyLists()
	case "entry.update":
		n.Entry = &EntryInput{}
		if err := json.Unmarshal([]byte(payload), n.Entry); err != nil {
			return nil, err
		}
	}
	return &n, nil
}

func (n *Nomination) payload() string {
	var v any = struct{}{}
	if n.PoC != nil {
		v = n.PoC
	} else if n.Entry != nil {
		v = n.Entry
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (n *Nomination) target() any {
	switch {
	case n.Action == "entry.update":
		return "entry"
	case n.PoCID != 0:
		return "poc:" + itoa64(n.PoCID)
	}
	return nil
}

func insertNomination(ctx context.Context, tx *sql.Tx, n *Nomination, userID int64) error {
	var submitted any
	if n.SubmittedAt != nil {
		submitted = *n.SubmittedAt
	}
	if err := tx.QueryRowContext(ctx, `INSERT INTO nominations (state_code, action, poc_id, target, base_version, payload, effective_date, status,
		version, request_ref, created_by, created_by_email, created_at, updated_at, submitted_by_email, submitted_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $11, $12, $12, $13, $14) RETURNING id`,
		n.State, n.Action, nullID(n.PoCID), n.target(), n.BaseVersion, n.payload(), n.EffectiveDate, string(n.Status),
		n.RequestRef, nullID(userID), n.CreatedBy, n.CreatedAt, n.SubmittedBy, submitted).Scan(&n.ID); err != nil {
		return fmt.Errorf("directory store: saving a nomination: %w", err)
	}
	return nil
}

func reviseNomination(ctx context.Context, tx *sql.Tx, n *Nomination, now time.Time) (bool, error) {
	var submitted any
	if n.SubmittedAt != nil {
		submitted = *n.SubmittedAt
	}
	res, err := tx.ExecContext(ctx, `UPDATE nominations SET payload = $1, effective_date = $2, status = $3, submitted_by_email = $4,
		submitted_at = $5, return_reason = '', decided_by_email = '', decided_at = NULL, version = version + 1, updated_at = $6
		WHERE id = $7 AND version = $8`,
		n.payload(), n.EffectiveDate, string(n.Status), n.SubmittedBy, submitted, now, n.ID, n.Version)
	if err != nil {
		return false, fmt.Errorf("directory store: revising a nomination: %w", err)
	}
	c, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("directory store: revising a nomination: %w", err)
	}
	return c == 1, nil
}

func getNomination(ctx context.Context, q db.Queryer, id int64) (*Nomination, error) {
	n, err := scanNomination(q.QueryRowContext(ctx, `SELECT `+nominationColumns+` FROM nominations WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("directory store: reading a nomination: %w", err)
	}
	return n, nil
}

// listNominations reads the nominations of a State (every State's when
// state is empty), in a status or the open ones, newest first by creation
// from the cursor k, at most limit of them (all when limit is 0).
// submittedOnly leaves out the drafts not made on a State's request: what
// the Secretariat may not see.
func listNominations(ctx context.Context, q db.Queryer, state string, status NominationStatus, open, submittedOnly bool, k app.Cursor, limit int) ([]*Nomination, error) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return `$` + itoa(len(args))
	}
	query := `SELECT ` + nominationColumns + ` FROM nominations WHERE 1 = 1`
	if state != "" {
		query += ` AND state_code = ` + arg(state)
	}
	if status != "" {
		query += ` AND status = ` + arg(string(status))
	}
	if open {
		query += ` AND status IN ('draft', 'submitted', 'returned')`
	}
	if submittedOnly {
		query += ` AND (status <> 'draft' OR request_ref <> '')`
	}
	where, order := k.SQL("created_at", "id", arg)
	if where != "" {
		query += ` AND ` + where
	}
	query += order
	if limit > 0 {
		query += ` LIMIT ` + arg(limit)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("directory store: listing nominations: %w", err)
	}
	defer rows.Close()
	out := []*Nomination{}
	for rows.Next() {
		n, err := scanNomination(rows)
		if err != nil {
			return nil, fmt.Errorf("directory store: listing nominations: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("directory store: listing nominations: %w", err)
	}
	return out, nil
}

// getPoCAny reads a PoC whether current or not (for showing what a
// nomination concerned).
func getPoCAny(ctx context.Context, q db.Queryer, id int64) (*PoC, error) {
	p, err := scanPoC(q.QueryRowContext(ctx, `SELECT `+pocColumns+` FROM pocs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("directory store: reading a PoC: %w", err)
	}
	return p, nil
}

// stepNomination moves a nomination at its version to a new state (set,
// with args from $1) and reports whether it was still at that version.
func stepNomination(ctx context.Context, q db.Queryer, n *Nomination, now time.Time, set string, args ...any) (bool, error) {
	k := len(args)
	args = append(args, now, n.ID, n.Version)
	return exec1(ctx, q, "moving a nomination on", `UPDATE nominations SET `+set+`, version = version + 1, updated_at = $`+itoa(k+1)+`
		WHERE id = $`+itoa(k+2)+` AND version = $`+itoa(k+3), args...)
}

func validateNomination(ctx context.Context, q db.Queryer, n *Nomination, by, ref string, now time.Time) (bool, error) {
	return exec1(ctx, q, "validating a nomination", `UPDATE nominations SET status = 'validated', decided_by_email = $1, decided_at = $2, official_ref = $3,
		version = version + 1, updated_at = $2 WHERE id = $4 AND version = $5 AND status = 'submitted'`, by, now, ref, n.ID, n.Version)
}

// linkNominationChange records which change a validated nomination made
// (and the PoC it created).
func linkNominationChange(ctx context.Context, q db.Queryer, id int64, c *Change) error {
	return exec(ctx, q, "linking a nomination to its change", `UPDATE nominations SET change_id = $1, poc_id = $2 WHERE id = $3`, c.ID, nullID(c.PoCID), id)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func setFirstNominated(ctx context.Context, q db.Queryer, state string, now time.Time) error {
	return exec(ctx, q, "recording a first nomination", `UPDATE states SET first_nominated_at = $1 WHERE code = $2 AND first_nominated_at IS NULL`, now, state)
}

func setConfirmed(ctx context.Context, q db.Queryer, state string, now time.Time) error {
	return exec(ctx, q, "recording a reconfirmation", `UPDATE states SET confirmed_at = $1 WHERE code = $2`, now, state)
}

// recordReminder records that a reminder of kind for (state, date) goes
// out, and reports whether it is the first time.
func recordReminder(ctx context.Context, q db.Queryer, state, date, kind string, now time.Time) (bool, error) {
	return exec1(ctx, q, "recording a reminder", `INSERT INTO reminders_sent (state_code, due_date, kind, sent_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (state_code, due_date, kind) DO NOTHING`, state, date, kind, now)
}

func getChange(ctx context.Context, q db.Queryer, id int64) (*Change, error) {
	c, err := scanChange(q.QueryRowContext(ctx, `SELECT `+changeColumns+` FROM entry_changes WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("directory store: reading change %d: %w", id, err)
	}
	return c, nil
}

// changesByID reads the changes of ids in a few statements, for a list
// (a query each was up to 500 for the nominations' list).
func changesByID(ctx context.Context, q db.Queryer, ids []int64) (map[int64]*Change, error) {
	out := make(map[int64]*Change, len(ids))
	err := db.InChunks(ids, 500, 1, func(marks string, args []any) error {
		rows, err := q.QueryContext(ctx, `SELECT `+changeColumns+` FROM entry_changes WHERE id IN (`+marks+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanChange(rows)
			if err != nil {
				return err
			}
			out[c.ID] = c
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("directory store: reading changes: %w", err)
	}
	return out, nil
}

// exec1 runs a conditional statement and reports whether it changed one
// row; what says what it does, for the error.
func exec1(ctx context.Context, q db.Queryer, what, query string, args ...any) (bool, error) {
	return db.Exec1(ctx, q, "directory store: "+what, query, args...)
}

func exec(ctx context.Context, q db.Queryer, what, query string, args ...any) error {
	return db.Exec(ctx, q, "directory store: "+what, query, args...)
}

// DepartedPoCs returns the PoCs that have left the directory by day today
// (YYYY-MM-DD): removed, or past the day they leave. Communications hand
// such a PoC's pending items to another; the pocs table is the directory's.
func DepartedPoCs(ctx context.Context, q db.Queryer, today string) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT id FROM pocs WHERE removed_at IS NOT NULL OR (leaving_on <> '' AND leaving_on <= $1) ORDER BY id`, today)
	if err != nil {
		return nil, fmt.Errorf("directory store: listing departed PoCs: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("directory store: listing departed PoCs: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("directory store: listing departed PoCs: %w", err)
	}
	return out, nil
}

var (
	knownOnce  sync.Once
	knownCodes map[string]State
)

// KnownState reports whether code is a State of the reference list (which
// SyncStates writes into the database at every start).
func KnownState(code string) bool {
	_, ok := ReferenceState(code)
	return ok
}

// ReferenceState returns the State of the reference list with the code:
// its names and codes, without its entry.
func ReferenceState(code string) (State, bool) {
	knownOnce.Do(func() {
		knownCodes = map[string]State{}
		list, err := ReferenceStates()
		if err != nil {
			panic(err) // the list is embedded: a broken one is a build error
		}
		for _, s := range list {
			knownCodes[s.Code] = s
		}
	})
	s, ok := knownCodes[code]
	return s, ok
}

func backdate(ctx context.Context, q db.Queryer, state string, first time.Time, confirmed *time.Time) error {
	var c any
	if confirmed != nil {
		c = *confirmed
	}
	return exec(ctx, q, "backdating an entry", `UPDATE states SET first_nominated_at = $1, confirmed_at = $2 WHERE code = $3`, first, c, state)
}

// notifiedChanges returns the changes that the 30-day rule measures (all
// but reconfirmations), of one State or, when state is empty, of all: only
// what the rule reads (the State, the action, when it took effect and when
// it was notified), not the diffs, which were most of a full row's cost
// and grow with every change.
func notifiedChanges(ctx context.Context, q db.Queryer, state string) ([]*Change, error) {
	query := `SELECT state_code, action, changed_at, effective_date, notified_at FROM entry_changes WHERE action <> 'entry.reconfirm'`
	var args []any
	if state != "" {
		query += ` AND state_code = $1`
		args = append(args, state)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("directory store: reading the changes: %w", err)
	}
	defer rows.Close()
	var out []*Change
	for rows.Next() {
		var c Change
		var notified sql.NullTime
		if err := rows.Scan(&c.State, &c.Action, &c.ChangedAt, &c.EffectiveDate, &notified); err != nil {
			return nil, fmt.Errorf("directory store: reading the changes: %w", err)
		}
		c.ChangedAt = c.ChangedAt.UTC()
		if notified.Valid {
			t := notified.Time.UTC()
			c.NotifiedAt = &t
		}
		out = append(out, &c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("directory store: reading the changes: %w", err)
	}
	return out, nil
}

// pendingByState counts the nominations waiting for validation, by State.
func pendingByState(ctx context.Context, q db.Queryer) (map[string]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT state_code, COUNT(*) FROM nominations WHERE status = 'submitted' GROUP BY state_code`)
	if err != nil {
		return nil, fmt.Errorf("directory store: counting pending nominations: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var code string
		var n int
		if err := rows.Scan(&code, &n); err != nil {
			return nil, fmt.Errorf("directory store: counting pending nominations: %w", err)
		}
		out[code] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("directory store: counting pending nominations: %w", err)
	}
	return out, nil
}
