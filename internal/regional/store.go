package regional

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
)

const contactColumns = `c.id, c.body, c.state_code, c.ref, c.agency, c.function_title, c.level, c.channels, c.status, c.poc_id, c.reason, c.import_id, c.updated_at, c.match_key`

func contactsWhere(ctx context.Context, q db.Queryer, where string, args ...any) ([]*Contact, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+contactColumns+` FROM regional_contacts c WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("regional store: reading contacts: %w", err)
	}
	defer rows.Close()
	var out []*Contact
	for rows.Next() {
		var c Contact
		var chans string
		var poc sql.NullInt64
		if err := rows.Scan(&c.ID, &c.Body, &c.State, &c.Ref, &c.Agency, &c.Function, &c.Level, &chans, &c.Status, &poc, &c.Reason, &c.ImportID, &c.UpdatedAt, &c.key); err != nil {
			return nil, fmt.Errorf("regional store: reading contacts: %w", err)
		}
		if err := json.Unmarshal([]byte(chans), &c.Channels); err != nil {
			return nil, fmt.Errorf("regional store: a contact's channels: %w", err)
		}
		if poc.Valid {
			c.PoCID = &poc.Int64
		}
		c.UpdatedAt = c.UpdatedAt.UTC()
		out = append(out, &c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("regional store: reading contacts: %w", err)
	}
	return out, nil
}

func saveContact(ctx context.Context, tx *sql.Tx, c *Contact) error {
	chans, err := json.Marshal(c.Channels)
	if err != nil {
		return err
	}
	var poc any
	if c.PoCID != nil {
		poc = *c.PoCID
	}
	if c.ID == 0 {
		return tx.QueryRowContext(ctx, `INSERT INTO regional_contacts (body, state_code, ref, agency, function_title, level, channels, status, poc_id, reason, import_id, updated_at, match_key)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
			c.Body, c.State, c.Ref, c.Agency, c.Function, string(c.Level), string(chans), c.Status, poc, c.Reason, c.ImportID, c.UpdatedAt, c.key).Scan(&c.ID)
	}
	return db.Exec(ctx, tx, "regional store: updating a contact", `UPDATE regional_contacts SET state_code = $1, ref = $2, agency = $3, function_title = $4, level = $5,
		channels = $6, status = $7, poc_id = $8, reason = $9, import_id = $10, updated_at = $11 WHERE id = $12`,
		c.State, c.Ref, c.Agency, c.Function, string(c.Level), string(chans), c.Status, poc, c.Reason, c.ImportID, c.UpdatedAt, c.ID)
}

func countPending(ctx context.Context, q db.Queryer, body string) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM regional_contacts WHERE body = $1 AND status = $2`, body, StatusPending).Scan(&n); err != nil {
		return 0, fmt.Errorf("regional store: counting the contacts to match: %w", err)
	}
	return n, nil
}

const importColumns = `i.id, i.body, i.total, i.done, i.added, i.updated, i.removed, COALESCE(u.email, ''), i.imported_at, i.finished_at`

func scanImport(row interface{ Scan(...any) error }) (*Import, error) {
	var i Import
	var fin sql.NullTime
	if err := row.Scan(&i.ID, &i.Body, &i.Total, &i.Done, &i.Added, &i.Updated, &i.Removed, &i.By, &i.At, &fin); err != nil {
		return nil, err
	}
	i.At = i.At.UTC()
	i.FinishedAt = db.TimeOf(fin)
	return &i, nil
}

func insertImport(ctx context.Context, tx *sql.Tx, i *Import, by int64) (int64, error) {
	var id int64
	var user any
	if by != 0 {
		user = by
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO regional_imports (body, total, done, added, updated, removed, imported_by, imported_at) VALUES ($1, $2, 0, 0, 0, 0, $3, $4) RETURNING id`,
		i.Body, i.Total, user, i.At).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("regional store: recording an import: %w", err)
	}
	return id, nil
}

func updateImport(ctx context.Context, tx *sql.Tx, i *Import) error {
	var fin any
	if i.Done >= i.Total {
		fin = i.At
		i.FinishedAt = &i.At
	}
	return db.Exec(ctx, tx, "regional store: recording an import", `UPDATE regional_imports SET done = $1, added = $2, updated = $3, removed = $4, finished_at = $5 WHERE id = $6`,
		i.Done, i.Added, i.Updated, i.Removed, fin, i.ID)
}

func getImport(ctx context.Context, q db.Queryer, id int64) (*Import, error) {
	i, err := scanImport(q.QueryRowContext(ctx, `SELECT `+importColumns+` FROM regional_imports i LEFT JOIN users u ON u.id = i.imported_by WHERE i.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.ErrNotFound("regional_import")
	}
	if err != nil {
		return nil, fmt.Errorf("regional store: reading an import: %w", err)
	}
	return i, nil
}

func lastImport(ctx context.Context, q db.Queryer, body string) (*Import, error) {
	i, err := scanImport(q.QueryRowContext(ctx, `SELECT `+importColumns+` FROM regional_imports i LEFT JOIN users u ON u.id = i.imported_by
		WHERE i.body = $1 ORDER BY i.id DESC LIMIT 1`, body))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("regional store: reading an import: %w", err)
	}
	return i, nil
}
