package auditlog

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/pocdir/pocdir/internal/db"
)

// Append adds an event to the log inside the caller's transaction and returns
// its index. The change and its log entry commit together or not at all.
// Appenders are serialised by the row lock on log_head (PostgreSQL) or the
// write lock (SQLite), so indexes have no gaps across instances.
func Append(ctx context.Context, tx *sql.Tx, ev Event) (int64, error) {
	var size int64
	if err := tx.QueryRowContext(ctx, `UPDATE log_head SET size = size + 1 WHERE id = 1 RETURNING size`).Scan(&size); err != nil {
		return 0, fmt.Errorf("log head: %w", err)
	}
	n := size - 1
	data := Encode(ev)
	hashes, err := tlog.StoredHashes(n, data, HashReader(ctx, tx))
	if err != nil {
		return 0, fmt.Errorf("log hashes: %w", err)
	}
	states := ";" + strings.Join(ev.States, ";") + ";"
	if _, err := tx.ExecContext(ctx, `INSERT INTO log_entries (idx, type, states, object, at, data) VALUES ($1, $2, $3, $4, $5, $6)`,
		n, ev.Type, states, ev.Object, ev.At.UTC().Truncate(time.Microsecond), string(data)); err != nil {
		return 0, err
	}
	base := tlog.StoredHashIndex(0, n)
	for i, h := range hashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO log_hashes (id, hash) VALUES ($1, $2)`, base+int64(i), h[:]); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// HashReader reads stored hashes through q, in or out of a transaction.
func HashReader(ctx context.Context, q db.Queryer) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		if len(indexes) == 0 {
			return nil, nil
		}
		args := make([]any, len(indexes))
		ph := make([]string, len(indexes))
		for i, x := range indexes {
			args[i] = x
			ph[i] = fmt.Sprintf("$%d", i+1)
		}
		rows, err := q.QueryContext(ctx, `SELECT id, hash FROM log_hashes WHERE id IN (`+strings.Join(ph, ",")+`)`, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		found := make(map[int64]tlog.Hash, len(indexes))
		for rows.Next() {
			var id int64
			var b []byte
			if err := rows.Scan(&id, &b); err != nil {
				return nil, err
			}
			if len(b) != tlog.HashSize {
				return nil, fmt.Errorf("stored hash %d has %d bytes", id, len(b))
			}
			var h tlog.Hash
			copy(h[:], b)
			found[id] = h
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			h, ok := found[x]
			if !ok {
				return nil, fmt.Errorf("stored hash %d is missing", x)
			}
			out[i] = h
		}
		return out, nil
	})
}
