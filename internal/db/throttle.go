package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Failed attempts per key (a client address) in a window that restarts
// once it has passed: login throttling and the check answer links both
// count them in the login_throttle table.

// CountAttempt records a failed attempt under key and returns the attempts
// in the current window (windowStartBefore: a window that started before it
// has passed and restarts).
func CountAttempt(ctx context.Context, q Queryer, key string, now, windowStartBefore time.Time) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `INSERT INTO login_throttle (key, window_start, attempts) VALUES ($1, $2, 1)
		ON CONFLICT (key) DO UPDATE SET
			attempts = CASE WHEN login_throttle.window_start < $3 THEN 1 ELSE login_throttle.attempts + 1 END,
			window_start = CASE WHEN login_throttle.window_start < $3 THEN $2 ELSE login_throttle.window_start END
		RETURNING attempts`, key, now, windowStartBefore).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("db: counting a failed attempt: %w", err)
	}
	return n, nil
}

// Attempts returns the failed attempts under key in the window that
// started after windowStartBefore (0 when it has passed).
func Attempts(ctx context.Context, q Queryer, key string, windowStartBefore time.Time) (int, error) {
	var n int
	var start time.Time
	err := PreparedRow(ctx, q, `SELECT attempts, window_start FROM login_throttle WHERE key = $1`, key).Scan(&n, &start)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !start.After(windowStartBefore)) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("db: reading failed attempts: %w", err)
	}
	return n, nil
}

// AddHits adds n requests to what the token has made in the minute (a
// count of Unix minutes), starting again at a new minute, and returns the
// minute's total across every instance. An instance whose clock is behind
// adds to the newer minute.
func AddHits(ctx context.Context, q Queryer, tokenID, minute int64, n int) (int, error) {
	var total int
	// Prepared once: a busy token adds its batch every hundred requests.
	err := PreparedRow(ctx, q, `INSERT INTO api_rate (token_id, minute, hits) VALUES ($1, $2, $3)
		ON CONFLICT (token_id) DO UPDATE SET
			hits = CASE WHEN api_rate.minute >= $2 THEN api_rate.hits + $3 ELSE $3 END,
			minute = CASE WHEN api_rate.minute > $2 THEN api_rate.minute ELSE $2 END
		RETURNING hits`, tokenID, minute, n).Scan(&total)
	if err != nil {
		return 0, fmt.Errorf("db: counting API requests: %w", err)
	}
	return total, nil
}
