package checks

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/pocdir/pocdir/internal/db"
)

const campaignColumns = `id, kind, COALESCE(owner_state, ''), COALESCE(counterpart, ''), title, message, scope, scope_value, channel,
	window_hours, repeat_months, status, start_at, window_end, reminded_at, closed_at, cancelled_at, created_by, created_at`

func scanCampaign(sc interface{ Scan(...any) error }) (*Campaign, error) {
	var c Campaign
	var reminded, closed, cancelled sql.NullTime
	if err := sc.Scan(&c.ID, &c.Kind, &c.OwnerState, &c.Counterpart, &c.Title, &c.Message, &c.Scope, &c.Value, &c.Channel,
		&c.WindowHours, &c.RepeatMonths, &c.Status, &c.StartAt, &c.WindowEnd, &reminded, &closed, &cancelled, &c.CreatedBy, &c.CreatedAt); err != nil {
		return nil, err
	}
	c.StartAt, c.WindowEnd, c.CreatedAt = c.StartAt.UTC(), c.WindowEnd.UTC(), c.CreatedAt.UTC()
	c.RemindedAt, c.ClosedAt, c.CancelledAt = db.TimeOf(reminded), db.TimeOf(closed), db.TimeOf(cancelled)
	return &c, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func insertCampaign(ctx context.Context, tx *sql.Tx, c *Campaign) error {
	return tx.QueryRowContext(ctx, `INSERT INTO check_campaigns (kind, owner_state, counterpart, title, message, scope, scope_value, channel,
		window_hours, repeat_months, status, start_at, window_end, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
		c.Kind, nullString(c.OwnerState), nullString(c.Counterpart), c.Title, c.Message, c.Scope, c.Value, c.Channel,
		c.WindowHours, c.RepeatMonths, c.Status, c.StartAt, c.WindowEnd, c.CreatedBy, c.CreatedAt).Scan(&c.ID)
}

func getCampaign(ctx context.Context, q db.Queryer, id int64) (*Campaign, error) {
	c, err := scanCampaign(q.QueryRowContext(ctx, `SELECT `+campaignColumns+` FROM check_campaigns WHERE id = $1`, id))
	if err == sql.ErrNoRows {
		return nil, nil
	}
	return c, err
}

func listCampaigns(ctx context.Context, q db.Queryer) ([]*Campaign, error) {
	return scanCampaigns(q.QueryContext(ctx, `SELECT `+campaignColumns+` FROM check_campaigns ORDER BY start_at DESC, id DESC LIMIT 500`))
}

// listActive lists every campaign in a status, oldest first: the job must
// see all of them, however many there are.
func listActive(ctx context.Context, q db.Queryer, status string) ([]*Campaign, error) {
	return scanCampaigns(q.QueryContext(ctx, `SELECT `+campaignColumns+` FROM check_campaigns WHERE status = $1 ORDER BY start_at, id`, status))
}

func scanCampaigns(rows *sql.Rows, err error) ([]*Campaign, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// targetColumns are read from check_targets under the alias t.
const targetColumns = `t.id, t.campaign_id, COALESCE(t.poc_id, 0), t.state_code, t.level, t.agency, t.channel, t.address, t.language, t.queued_at,
	t.answered_at, t.answered_via, t.answered_by, t.bounced_at, t.no_answer_at`

func scanTarget(sc interface{ Scan(...any) error }) (*Target, error) {
	var t Target
	var queued, answered, bounced, none sql.NullTime
	if err := sc.Scan(&t.ID, &t.CampaignID, &t.PoCID, &t.State, &t.Level, &t.Agency, &t.Channel, &t.Address, &t.language, &queued, &answered,
		&t.Via, &t.AnsweredBy, &bounced, &none); err != nil {
		return nil, err
	}
	t.QueuedAt, t.AnsweredAt, t.BouncedAt, t.NoAnswerAt = db.TimeOf(queued), db.TimeOf(answered), db.TimeOf(bounced), db.TimeOf(none)
	return &t, nil
}

func insertTarget(ctx context.Context, tx *sql.Tx, campaign int64, t *Target) error {
	var poc any
	if t.PoCID != 0 {
		poc = t.PoCID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO check_targets (campaign_id, poc_id, state_code, level, agency, channel, address, language)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, campaign, poc, t.State, t.Level, t.Agency, t.Channel, t.Address, t.language)
	return err
}

func getTarget(ctx context.Context, q db.Queryer, id int64) (*Target, error) {
	t, err := scanTarget(q.QueryRowContext(ctx, `SELECT `+targetColumns+` FROM check_targets t WHERE t.id = $1`, id))
	if err == sql.ErrNoRows {
		return nil, nil
	}
	return t, err
}

func listTargets(ctx context.Context, q db.Queryer, campaign int64, state string) ([]*Target, error) {
	query := `SELECT ` + targetColumns + ` FROM check_targets t WHERE t.campaign_id = $1`
	args := []any{campaign}
	if state != "" {
		query += ` AND t.state_code = $2`
		args = append(args, state)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY t.state_code, t.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Target{}
	for rows.Next() {
		t, err := scanTarget(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// pendingTargets are a State's targets that can still be answered: their
// message went out, and neither an answer nor a bounce is recorded.
func pendingTargets(ctx context.Context, q db.Queryer, state string, now time.Time) ([]*Target, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+targetColumns+` FROM check_targets t JOIN check_campaigns c ON c.id = t.campaign_id
		WHERE t.state_code = $1 AND t.queued_at IS NOT NULL AND t.answered_at IS NULL AND t.bounced_at IS NULL AND t.no_answer_at IS NULL
		AND t.channel = 'email' AND c.status IN ('running', 'closed') AND c.window_end > $2 ORDER BY t.id`, state, now.Add(-Grace))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Target{}
	for rows.Next() {
		t, err := scanTarget(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// unsettledTargets returns, by outbox message, the email targets of the
// campaigns running or closed since since whose message has neither
// bounced nor been answered.
func unsettledTargets(ctx context.Context, q db.Queryer, since time.Time) (map[int64]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT t.id, t.outbox_id FROM check_targets t
		WHERE t.campaign_id IN (SELECT id FROM check_campaigns WHERE status = 'running' OR (status = 'closed' AND closed_at > $1))
		AND t.outbox_id IS NOT NULL AND t.bounced_at IS NULL AND t.answered_at IS NULL`, since)
	if err != nil {
		return nil, fmt.Errorf("checks store: listing unsettled targets: %w", err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, outbox int64
		if err := rows.Scan(&id, &outbox); err != nil {
			return nil, fmt.Errorf("checks store: listing unsettled targets: %w", err)
		}
		out[outbox] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checks store: listing unsettled targets: %w", err)
	}
	return out, nil
}

func recordBounce(ctx context.Context, q db.Queryer, target int64, at time.Time, why string) error {
	if _, err := q.ExecContext(ctx, `UPDATE check_targets SET bounced_at = $1, bounce_error = $2 WHERE id = $3 AND bounced_at IS NULL`, at, why, target); err != nil {
		return fmt.Errorf("checks store: recording a bounce: %w", err)
	}
	return nil
}
