package comms

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/pocdir/pocdir/internal/db"
)

// The communications sent are counted in comm_volumes, by month, sender
// State, template and whether they belong to an exercise, in the
// transaction that sends them (issue 19 §4): the Secretariat's report of
// volumes reads a year of counters where it counted every communication
// of the year. A transaction's counts are added up and written just
// before it commits, in the order of their keys: a row is held from then
// to the commit only, and writers on PostgreSQL wait for one another
// rather than deadlock. What decides a communication's key (its sender,
// template, thread and exercise) does not change once it is sent.

// stateVolume is a count of Volumes before the sender States are put in
// their groups.
type stateVolume struct {
	Volume
	state string
}

// volumeKey is a row of comm_volumes.
type volumeKey struct {
	month    string // YYYY-MM, in UTC
	state    string
	template int64
	exercise bool
}

func (k volumeKey) compare(o volumeKey) int {
	return cmp.Or(cmp.Compare(k.month, o.month), cmp.Compare(k.state, o.state), cmp.Compare(k.template, o.template),
		cmp.Compare(b2i(k.exercise), b2i(o.exercise)))
}

type txVolumesKey struct{}

// volumeMonth is the month a communication sent at counts in.
func volumeMonth(at time.Time) string { return at.UTC().Format("2006-01") }

// exerciseCase says, in SQL, whether the communication c (its template t,
// its thread's first communication's template ft) belongs to an exercise,
// as Communication.IsExercise does; $2 is ExerciseSlug.
const exerciseCase = `CASE WHEN t.slug = $2 OR ft.slug = $2 OR c.exercise_id IS NOT NULL OR c.exercise THEN 1 ELSE 0 END`

// countSending counts a communication just sent, at, in its month's volume.
func countSending(ctx context.Context, tx *sql.Tx, id int64, at time.Time) error {
	k := volumeKey{month: volumeMonth(at)}
	var exercise int
	err := db.QueryRowTx(ctx, tx, `SELECT c.sender_state, c.template_id, `+exerciseCase+`
		FROM comms c JOIN comm_templates t ON t.id = c.template_id
		LEFT JOIN comms f ON f.id = c.thread_id LEFT JOIN comm_templates ft ON ft.id = f.template_id
		WHERE c.id = $1`, id, ExerciseSlug).Scan(&k.state, &k.template, &exercise)
	if err != nil {
		return fmt.Errorf("comms store: counting communication %d: %w", id, err)
	}
	k.exercise = exercise == 1
	return addVolume(ctx, tx, k, 1)
}

// addVolume adds n to a volume, in tx.
func addVolume(ctx context.Context, tx *sql.Tx, k volumeKey, n int) error {
	return addCount(ctx, tx, txVolumesKey{}, k, n, writeVolumes)
}

// writeVolumes adds the counts to their rows, in the order of their keys.
func writeVolumes(ctx context.Context, tx db.Queryer, changes map[volumeKey]int) error {
	keys := make([]volumeKey, 0, len(changes))
	for k := range changes {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, volumeKey.compare)
	for _, k := range keys {
		if changes[k] == 0 {
			continue
		}
		if _, err := db.PreparedExec(ctx, tx, `INSERT INTO comm_volumes (month, sender_state, template_id, exercise, n) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (month, sender_state, template_id, exercise) DO UPDATE SET n = comm_volumes.n + excluded.n`,
			k.month, k.state, k.template, b2i(k.exercise), changes[k]); err != nil {
			return fmt.Errorf("comms store: counting the communications sent: %w", err)
		}
	}
	return nil
}

// countVolumes reads the communications sent since the month of start
// by month (in UTC), sender State, template and whether they belong to an
// exercise (the first communication of their thread is an exercise
// message).
func countVolumes(ctx context.Context, d *db.DB, start time.Time) ([]stateVolume, error) {
	rows, err := d.QueryContext(ctx, `SELECT v.month, v.sender_state, t.slug, v.exercise, v.n
		FROM comm_volumes v JOIN comm_templates t ON t.id = v.template_id
		WHERE v.month >= $1`, volumeMonth(start))
	if err != nil {
		return nil, fmt.Errorf("comms store: reading the volumes by month: %w", err)
	}
	defer rows.Close()
	var out []stateVolume
	for rows.Next() {
		var v stateVolume
		var exercise int
		if err := rows.Scan(&v.Month, &v.state, &v.Kind, &exercise, &v.Count); err != nil {
			return nil, fmt.Errorf("comms store: reading the volumes by month: %w", err)
		}
		v.Exercise = exercise == 1
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comms store: reading the volumes by month: %w", err)
	}
	return out, nil
}

// sentBefore reports whether a communication was sent before the month
// of t.
func sentBefore(ctx context.Context, q db.Queryer, t time.Time) (bool, error) {
	var some bool
	if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM comm_volumes WHERE month < $1)`, volumeMonth(t)).Scan(&some); err != nil {
		return false, fmt.Errorf("comms store: looking for earlier communications: %w", err)
	}
	return some, nil
}

// VolumeMismatch is a volume kept that differs from a count of the
// communications sent.
type VolumeMismatch struct {
	Month, State  string
	Template      int64
	Exercise      bool
	Kept, Counted int
}

// RecountVolumes counts every communication sent again, by month, sender,
// template and exercise, and returns the volumes kept that differ from the
// count: none, unless a write forgot its counter. `pocdir audit check` and
// the tests run it.
func RecountVolumes(ctx context.Context, q db.Queryer, dialect db.Dialect) ([]VolumeMismatch, error) {
	month := `strftime('%Y-%m', c.sent_at)`
	if dialect == db.Postgres {
		month = `to_char(c.sent_at AT TIME ZONE 'UTC', 'YYYY-MM')`
	}
	counted, err := readVolumes(ctx, q, `SELECT `+month+`, c.sender_state, c.template_id, `+exerciseCase+`, COUNT(*)
		FROM comms c JOIN comm_templates t ON t.id = c.template_id
		LEFT JOIN comms f ON f.id = c.thread_id LEFT JOIN comm_templates ft ON ft.id = f.template_id
		WHERE c.status = $1 GROUP BY 1, 2, 3, 4`, StatusSent, ExerciseSlug)
	if err != nil {
		return nil, err
	}
	kept, err := readVolumes(ctx, q, `SELECT month, sender_state, template_id, exercise, n FROM comm_volumes`)
	if err != nil {
		return nil, err
	}
	var out []VolumeMismatch
	for k, n := range counted {
		if kept[k] != n {
			out = append(out, VolumeMismatch{Month: k.month, State: k.state, Template: k.template, Exercise: k.exercise, Kept: kept[k], Counted: n})
		}
	}
	for k, n := range kept {
		if _, ok := counted[k]; !ok && n != 0 {
			out = append(out, VolumeMismatch{Month: k.month, State: k.state, Template: k.template, Exercise: k.exercise, Kept: n})
		}
	}
	slices.SortFunc(out, func(x, y VolumeMismatch) int {
		return volumeKey{x.Month, x.State, x.Template, x.Exercise}.compare(volumeKey{y.Month, y.State, y.Template, y.Exercise})
	})
	return out, nil
}

func readVolumes(ctx context.Context, q db.Queryer, query string, args ...any) (map[volumeKey]int, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("comms store: counting the communications sent again: %w", err)
	}
	defer rows.Close()
	out := map[volumeKey]int{}
	for rows.Next() {
		var k volumeKey
		var exercise, n int
		if err := rows.Scan(&k.month, &k.state, &k.template, &exercise, &n); err != nil {
			return nil, fmt.Errorf("comms store: counting the communications sent again: %w", err)
		}
		k.exercise = exercise == 1
		out[k] += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comms store: counting the communications sent again: %w", err)
	}
	return out, nil
}
