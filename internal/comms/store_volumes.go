package comms

import (
	"context"
	"fmt"
	"time"

	"github.com/pocdir/pocdir/internal/db"
)

// stateVolume is a count of Volumes before the sender States are put in
// their groups.
type stateVolume struct {
	Volume
	state string
}

// countVolumes counts the communications sent since start by month (in
// UTC), sender State, template and whether they belong to an exercise (the
// first communication of their thread is an exercise message).
func countVolumes(ctx context.Context, d *db.DB, start time.Time) ([]stateVolume, error) {
	month := `strftime('%Y-%m', c.sent_at)`
	if d.Dialect == db.Postgres {
		month = `to_char(c.sent_at AT TIME ZONE 'UTC', 'YYYY-MM')`
	}
	rows, err := d.QueryContext(ctx, `SELECT `+month+`, c.sender_state, t.slug,
		CASE WHEN t.slug = $2 OR ft.slug = $2 OR c.exercise_id IS NOT NULL OR c.exercise THEN 1 ELSE 0 END, COUNT(*)
		FROM comms c JOIN comm_templates t ON t.id = c.template_id
		LEFT JOIN comms f ON f.id = c.thread_id LEFT JOIN comm_templates ft ON ft.id = f.template_id
		WHERE c.status = 'sent' AND c.sent_at >= $1
		GROUP BY 1, 2, 3, 4`, start, ExerciseSlug)
	if err != nil {
		return nil, fmt.Errorf("comms store: counting communications by month: %w", err)
	}
	defer rows.Close()
	var out []stateVolume
	for rows.Next() {
		var v stateVolume
		var exercise int
		if err := rows.Scan(&v.Month, &v.state, &v.Kind, &exercise, &v.Count); err != nil {
			return nil, fmt.Errorf("comms store: counting communications by month: %w", err)
		}
		v.Exercise = exercise == 1
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comms store: counting communications by month: %w", err)
	}
	return out, nil
}

// sentBefore reports whether a communication was sent before t.
func sentBefore(ctx context.Context, q db.Queryer, t time.Time) (bool, error) {
	var some bool
	if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM comms WHERE status = 'sent' AND sent_at < $1)`, t).Scan(&some); err != nil {
		return false, fmt.Errorf("comms store: looking for earlier communications: %w", err)
	}
	return some, nil
}
