package auditlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Health is what the operator's metrics say of the log: its size, and the
// latest signed checkpoint's size and time. A log that grows while its
// checkpoint ages means the checkpoint job is not running.
type Health struct {
	Size           int64
	CheckpointSize int64
	CheckpointAt   *time.Time
}

// Health reads the log's size and latest checkpoint.
func (l *Log) Health(ctx context.Context) (Health, error) {
	var h Health
	var err error
	if h.Size, err = l.size(ctx, l.DB); err != nil {
		return h, err
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
