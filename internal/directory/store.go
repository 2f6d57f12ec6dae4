package directory

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"time"

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
		return err
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
	regional_refs, version, created_at, updated_at, leaving_on`

func scanPoC(sc interface{ Scan(...any) error }) (*PoC, error) {
	var p PoC
	var chans, langs, refs string
	var exp sql.NullTime
	if err := sc.Scan(&p.ID, &p.State, &p.Level, &p.Alternate, &p.Agency, &p.FunctionTitle, &p.PersonName, &chans, &langs,
		&p.TimeZone, &p.Available247, &p.WorkingHours, &p.PGPKey, &p.PGPFingerprint, &exp, &p.Notes.Text, &p.Notes.Lang, &p.Notes.English,
		&refs, &p.Version, &p.CreatedAt, &p.UpdatedAt, &p.LeavingOn); err != nil {
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
		return nil, err
	}
	var entries []*Entry
	byCode := map[string]*Entry{}
	for rows.Next() {
		s, err := scanState(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		e := &Entry{State: *s, PoCs: []*PoC{}}
		entries = append(entries, e)
		byCode[s.Code] = e
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.QueryContext(ctx, `SELECT `+pocColumns+` FROM pocs WHERE `+current+` ORDER BY state_code, level, is_alternate, id`, today)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanPoC(rows)
		if err != nil {
			return nil, err
		}
		if e := byCode[p.State]; e != nil {
			e.PoCs = append(e.PoCs, p)
		}
	}
	return entries, rows.Err()
}

func getState(ctx context.Context, q db.Queryer, code string) (*State, error) {
	s, err := scanState(q.QueryRowContext(ctx, `SELECT `+stateColumns+` FROM states WHERE code = $1`, code))
	if err == sql.ErrNoRows {
		return nil, nil
	}
	return s, err
}

func getPoC(ctx context.Context, q db.Queryer, id int64, today string) (*PoC, error) {
	p, err := scanPoC(q.QueryRowContext(ctx, `SELECT `+pocColumns+` FROM pocs WHERE `+current+` AND id = $2`, today, id))
	if err == sql.ErrNoRows {
		return nil, nil
	}
	return p, err
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
		p.Notes.Text, p.Notes.Lang, p.Notes.English, string(refs)}
}

func insertPoC(ctx context.Context, q db.Queryer, p *PoC) error {
	args := append(pocArgs(p), p.CreatedAt, p.UpdatedAt)
	return q.QueryRowContext(ctx, `INSERT INTO pocs (state_code, level, is_alternate, agency, function_title, person_name, channels,
		languages, time_zone, available_247, working_hours, pgp_key, pgp_fingerprint, pgp_expires_at, notes, notes_lang, notes_en,
		regional_refs, version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 1, $19, $20) RETURNING id`,
		args...).Scan(&p.ID)
}

// updatePoC writes p if its stored version is still fromVersion, and reports
// whether it did.
func updatePoC(ctx context.Context, q db.Queryer, p *PoC, fromVersion int) (bool, error) {
	args := append(pocArgs(p)[1:], p.UpdatedAt, p.ID, fromVersion)
	res, err := q.ExecContext(ctx, `UPDATE pocs SET level = $1, is_alternate = $2, agency = $3, function_title = $4, person_name = $5,
		channels = $6, languages = $7, time_zone = $8, available_247 = $9, working_hours = $10, pgp_key = $11, pgp_fingerprint = $12,
		pgp_expires_at = $13, notes = $14, notes_lang = $15, notes_en = $16, regional_refs = $17, version = version + 1, updated_at = $18
		WHERE id = $19 AND version = $20 AND removed_at IS NULL`, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
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
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func updateEntry(ctx context.Context, q db.Queryer, code string, in EntryInput, fromVersion int, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE states SET initiate_via = $1, notes = $2, notes_lang = $3, notes_en = $4,
		version = version + 1, updated_at = $5 WHERE code = $6 AND version = $7`,
		in.InitiateVia, in.Notes.Text, in.Notes.Lang, in.Notes.English, now, code, fromVersion)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
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
	return q.QueryRowContext(ctx, `INSERT INTO entry_changes (state_code, poc_id, action, actor_id, actor_email, changed_at, effective_date, diff, log_index, commit_salt,
		nomination_id, notified_at, official_ref, validated_by, request_ref)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
		c.State, poc, c.Action, actor, c.ActorEmail, c.ChangedAt, c.EffectiveDate, string(diff), logIndex, c.CommitSalt,
		nomination, notified, c.OfficialRef, c.ValidatedBy, c.RequestRef).Scan(&c.ID)
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

func listChanges(ctx context.Context, q db.Queryer, code string, limit int) ([]*Change, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+changeColumns+` FROM entry_changes WHERE state_code = $1 ORDER BY id DESC LIMIT $2`, code, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Change{}
	for rows.Next() {
		c, err := scanChange(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// generation returns the directory's version, which every write bumps in
// its transaction (see record).
func generation(ctx context.Context, q db.Queryer) (int64, error) {
	var g int64
	err := q.QueryRowContext(ctx, `SELECT n FROM directory_version WHERE id = 1`).Scan(&g)
	return g, err
}
