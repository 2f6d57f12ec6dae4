package cii

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
)

// body is the stored part of a list that is not a column.
type body struct {
	Sectors  []Sector       `json:"sectors"`
	Criteria directory.Text `json:"criteria"`
}

const listColumns = `l.state_code, l.version, l.effective_date, l.body, l.published_at, COALESCE(u.email, ''), l.commit_salt, l.log_index`

const listFrom = ` FROM cii_lists l LEFT JOIN users u ON u.id = l.published_by`

func scanList(row interface{ Scan(...any) error }) (*List, error) {
	var l List
	var raw string
	var idx sql.NullInt64
	if err := row.Scan(&l.State, &l.Version, &l.EffectiveDate, &raw, &l.PublishedAt, &l.PublishedBy, &l.commitSalt, &idx); err != nil {
		return nil, err
	}
	var b body
	if err := json.Unmarshal([]byte(raw), &b); err != nil {
		return nil, fmt.Errorf("a stored list that is not JSON: %w", err)
	}
	l.Sectors, l.Criteria = b.Sectors, b.Criteria
	l.PublishedAt = l.PublishedAt.UTC()
	if idx.Valid {
		l.LogIndex = &idx.Int64
	}
	return &l, nil
}

// latest returns the State's latest version, or nil.
func latest(ctx context.Context, q db.Queryer, state string) (*List, error) {
	l, err := scanList(q.QueryRowContext(ctx, `SELECT `+listColumns+listFrom+` WHERE l.state_code = $1 ORDER BY l.version DESC LIMIT 1`, state))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cii store: reading %s's list: %w", state, err)
	}
	return l, nil
}

// versions returns every version of the State's list, newest first.
func versions(ctx context.Context, q db.Queryer, state string) ([]*List, error) {
	return query(ctx, q, "reading "+state+"'s lists", `SELECT `+listColumns+listFrom+` WHERE l.state_code = $1 ORDER BY l.version DESC`, state)
}

// currentAll returns every State's latest version, by State code.
func currentAll(ctx context.Context, q db.Queryer) ([]*List, error) {
	return query(ctx, q, "reading the lists in force", `SELECT `+listColumns+listFrom+`
		WHERE l.version = (SELECT MAX(m.version) FROM cii_lists m WHERE m.state_code = l.state_code) ORDER BY l.state_code`)
}

func query(ctx context.Context, q db.Queryer, what, sqlText string, args ...any) ([]*List, error) {
	rows, err := q.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("cii store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []*List
	for rows.Next() {
		l, err := scanList(rows)
		if err != nil {
			return nil, fmt.Errorf("cii store: %s: %w", what, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cii store: %s: %w", what, err)
	}
	return out, nil
}

// nextOwn is the number the State's next own sector gets: one above every
// number it ever used.
func nextOwn(ctx context.Context, q db.Queryer, state string) (int, error) {
	lists, err := versions(ctx, q, state)
	if err != nil {
		return 0, err
	}
	next := 1
	for _, l := range lists {
		for _, s := range l.Sectors {
			if n := ownNumber(s.Key); n >= next {
				next = n + 1
			}
		}
	}
	return next, nil
}

// insert stores a published list and returns its row's id.
func insert(ctx context.Context, tx *sql.Tx, l *List) (int64, error) {
	b, err := json.Marshal(body{Sectors: l.Sectors, Criteria: l.Criteria})
	if err != nil {
		return 0, err
	}
	var publisher any // none for the demonstration's focal points without an account
	if l.publisherID != 0 {
		publisher = l.publisherID
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO cii_lists (state_code, version, effective_date, body, published_by, published_at, commit_salt, log_index)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, l.State, l.Version, l.EffectiveDate, string(b), publisher, l.PublishedAt, l.commitSalt, l.LogIndex).Scan(&id)
	if db.IsUniqueViolation(err) {
		// Two publications of the same version at once: one wins.
		return 0, app.Errorf(app.Conflict, "error.conflict", "someone else changed this in the meantime")
	}
	if err != nil {
		return 0, fmt.Errorf("cii store: publishing %s's list: %w", l.State, err)
	}
	return id, nil
}

// CheckCommitments recomputes the commitment of every published list from
// the stored list and its salt, for auditlog.Check: an edited list shows as
// a mismatch.
func CheckCommitments(ctx context.Context, q db.Queryer, commitments *auditlog.Commitments, problem func(string, ...any)) (int, error) {
	lists, err := query(ctx, q, "reading every list", `SELECT `+listColumns+listFrom+` WHERE l.log_index IS NOT NULL ORDER BY l.id`)
	if err != nil {
		return 0, err
	}
	for _, l := range lists {
		want, ok := commitments.Get(*l.LogIndex)
		switch {
		case !ok:
			problem("%s's critical infrastructure list, version %d: its log entry %d has no commitment", l.State, l.Version, *l.LogIndex)
		case auditlog.Commit(l.commitSalt, l.content()) != want:
			problem("%s's critical infrastructure list, version %d: its content does not match the commitment in log entry %d", l.State, l.Version, *l.LogIndex)
		}
	}
	return len(lists), nil
}
