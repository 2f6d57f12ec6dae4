package auditlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Health is what the operator's metrics say of the log: its size, the
// latest signed checkpoint's size and time, and the entries waiting to be
// integrated (see integrate.go), the oldest since when. A log that grows
// while its checkpoint ages means the checkpoint job is not running;
// entries that wait more than a few seconds, that no instance integrates.
type Health struct {
	Size, CheckpointSize int64
	CheckpointAt         *time.Time
	Pending              int64
	PendingSince         *time.Time
}

// Health reads the log's size and latest checkpoint.
func (l *Log) Health(ctx context.Context) (Health, error) {
	var h Health
	var err error
	if h.Size, err = l.size(ctx, l.DB); err != nil {
		return h, err
	}
	if err := l.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM log_pending`).Scan(&h.Pending); err != nil {
		return h, fmt.Errorf("auditlog: counting the pending entries: %w", err)
	}
	if h.Pending > 0 {
		var since time.Time
		err := l.DB.QueryRowContext(ctx, `SELECT created_at FROM log_pending ORDER BY id LIMIT 1`).Scan(&since)
		if err != nil && !errors.Is(err, sql.ErrNoRows) { // integrated in between
			return h, fmt.Errorf("auditlog: reading the oldest pending entry: %w", err)
		}
		if err == nil {
			since = since.UTC()
			h.PendingSince = &since
		}
	}
	var at time.Time
	err = l.DB.QueryRowContext(ctx, `SELECT size, created_at FROM log_checkpoints ORDER BY size DESC LIMIT 1`).Scan(&h.CheckpointSize, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return h, nil
	}
	if err != nil {
		return h, fmt.Errorf("auditlog: reading the latest checkpoint: %w", err)
	}
	at = at.UTC()
	h.CheckpointAt = &at
	return h, nil
}
