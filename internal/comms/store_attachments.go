package comms

// The SQL of attachments, and of the sealed values that a rotation of the
// data key seals again.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
)

// insertAttachment adds an attachment's row (its sealed values follow, as
// they are bound to its id) and returns its id.
func insertAttachment(ctx context.Context, q db.Queryer, comm int64, size int) (int64, error) {
	var id int64
	if err := q.QueryRowContext(ctx, `INSERT INTO comm_attachments (comm_id, size, data) VALUES ($1, $2, '') RETURNING id`, comm, size).Scan(&id); err != nil {
		return 0, fmt.Errorf("comms store: adding an attachment: %w", err)
	}
	return id, nil
}

func setAttachmentSealed(ctx context.Context, q db.Queryer, id int64, data, meta string) error {
	return exec(ctx, q, "sealing an attachment", `UPDATE comm_attachments SET data = $1, meta = $2 WHERE id = $3`, data, meta, id)
}

func deleteAttachment(ctx context.Context, q db.Queryer, comm, id int64) error {
	return exec(ctx, q, "removing an attachment", `DELETE FROM comm_attachments WHERE id = $1 AND comm_id = $2`, id, comm)
}

// sealedValue is a sealed column of a row, as stored.
type sealedValue struct {
	id       int64
	ref, val string
}

// attachmentsData returns a communication's attachments with their sealed
// bytes.
func attachmentsData(ctx context.Context, q db.Queryer, comm int64) ([]sealedValue, error) {
	return sealedValues(ctx, q, `SELECT id, '', data FROM comm_attachments WHERE comm_id = $1 ORDER BY id`, comm)
}

// attachmentsMeta returns a communication's attachments with their size
// and their sealed name and type (never the bytes).
func attachmentsMeta(ctx context.Context, q db.Queryer, comm int64) ([]*Attachment, []string, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, size, meta FROM comm_attachments WHERE comm_id = $1 ORDER BY id`, comm)
	if err != nil {
		return nil, nil, fmt.Errorf("comms store: listing attachments: %w", err)
	}
	defer rows.Close()
	var out []*Attachment
	var metas []string
	for rows.Next() {
		var a Attachment
		var v string
		if err := rows.Scan(&a.ID, &a.Size, &v); err != nil {
			return nil, nil, fmt.Errorf("comms store: listing attachments: %w", err)
		}
		out, metas = append(out, &a), append(metas, v)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("comms store: listing attachments: %w", err)
	}
	return out, metas, nil
}

// attachmentData returns one attachment's sealed bytes; not found when the
// communication has no such attachment.
func attachmentData(ctx context.Context, q db.Queryer, comm, id int64) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT data FROM comm_attachments WHERE id = $1 AND comm_id = $2`, id, comm).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", app.ErrNotFound("attachment")
	}
	if err != nil {
		return "", fmt.Errorf("comms store: reading an attachment: %w", err)
	}
	return v, nil
}

// storedAttachments counts a communication's attachments and their bytes.
func storedAttachments(ctx context.Context, q db.Queryer, comm int64) (int, int64, error) {
	var n int
	var total sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*), SUM(size) FROM comm_attachments WHERE comm_id = $1`, comm).Scan(&n, &total); err != nil {
		return 0, 0, fmt.Errorf("comms store: counting attachments: %w", err)
	}
	return n, total.Int64, nil
}

// sealedColumn names a sealed column and the key its associated data binds
// (the row's id, or a column such as the reference).
type sealedColumn struct {
	table, col, key string
}

// sealedBatch returns up to 50 non-empty sealed values of a column after
// the row id after.
func sealedBatch(ctx context.Context, q db.Queryer, c sealedColumn, after int64) ([]sealedValue, error) {
	return sealedValues(ctx, q, `SELECT id, `+c.key+`, `+c.col+` FROM `+c.table+` WHERE id > $1 AND `+c.col+` <> '' ORDER BY id LIMIT 50`, after)
}

// replaceSealed writes a value sealed again, if the stored one is still old.
func replaceSealed(ctx context.Context, q db.Queryer, c sealedColumn, id int64, old, v string) error {
	return exec(ctx, q, "sealing a value again", `UPDATE `+c.table+` SET `+c.col+` = $1 WHERE id = $2 AND `+c.col+` = $3`, v, id, old)
}

func sealedValues(ctx context.Context, q db.Queryer, query string, args ...any) ([]sealedValue, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("comms store: reading sealed values: %w", err)
	}
	defer rows.Close()
	var out []sealedValue
	for rows.Next() {
		var r sealedValue
		if err := rows.Scan(&r.id, &r.ref, &r.val); err != nil {
			return nil, fmt.Errorf("comms store: reading sealed values: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comms store: reading sealed values: %w", err)
	}
	return out, nil
}
