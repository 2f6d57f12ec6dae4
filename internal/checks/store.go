package checks

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/pocdir/pocdir/internal/app"
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
	if err := tx.QueryRowContext(ctx, `INSERT INTO check_campaigns (kind, owner_state, counterpart, title, message, scope, scope_value, channel,
		window_hours, repeat_months, status, start_at, window_end, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
		c.Kind, nullString(c.OwnerState), nullString(c.Counterpart), c.Title, c.Message, c.Scope, c.Value, c.Channel,
		c.WindowHours, c.RepeatMonths, c.Status, c.StartAt, c.WindowEnd, c.CreatedBy, c.CreatedAt).Scan(&c.ID); err != nil {
		return fmt.Errorf("checks store: saving a campaign: %w", err)
	}
	return nil
}

func getCampaign(ctx context.Context, q db.Queryer, id int64) (*Campaign, error) {
	c, err := scanCampaign(q.QueryRowContext(ctx, `SELECT `+campaignColumns+` FROM check_campaigns WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checks store: reading campaign %d: %w", id, err)
	}
	return c, nil
}

// listCampaigns reads a page of the campaigns that state may see (every
// Secretariat campaign, and the bilateral checks it runs or is checked by;
// with state "", the Secretariat's view: its own campaigns), newest first
// by keyset on (start_at, id): at most limit of those older than the
// cursor, or, with k.After, of those newer than it (then oldest first).
func listCampaigns(ctx context.Context, q db.Queryer, state string, k app.Cursor, limit int) ([]*Campaign, error) {
	args := []any{}
	arg := func(v any) string {
		args = append(args, v)
		return `$` + strconv.Itoa(len(args))
	}
	where := `kind <> '` + KindBilateral + `'`
	if state != "" {
		s := arg(state)
		where = `(` + where + ` OR owner_state = ` + s + ` OR counterpart = ` + s + `)`
	}
	order := ` ORDER BY start_at DESC, id DESC`
	if !k.IsZero() {
		cmp := `<`
		if k.After {
			cmp, order = `>`, ` ORDER BY start_at, id`
		}
		at, id := arg(k.At.UTC()), arg(k.ID)
		where += ` AND (start_at ` + cmp + ` ` + at + ` OR (start_at = ` + at + ` AND id ` + cmp + ` ` + id + `))`
	}
	return scanCampaigns(q.QueryContext(ctx, `SELECT `+campaignColumns+` FROM check_campaigns WHERE `+where+order+` LIMIT `+arg(limit), args...))
}

// listStarted reads the newest n Secretariat campaigns that started with at
// least one target (500 when n is 0): those that have an answer rate.
func listStarted(ctx context.Context, q db.Queryer, n int) ([]*Campaign, error) {
	return scanCampaigns(q.QueryContext(ctx, `SELECT `+campaignColumns+` FROM check_campaigns c
		WHERE kind = $1 AND status <> $2
		AND EXISTS (SELECT 1 FROM check_tallies k WHERE k.campaign_id = c.id AND k.state_code = '' AND k.targets > 0)
		ORDER BY start_at DESC, id DESC LIMIT $3`, KindSecretariat, StatusScheduled, cmp.Or(n, 500)))
}

// listActive lists every campaign in a status, oldest first: the job must
// see all of them, however many there are.
func listActive(ctx context.Context, q db.Queryer, status string) ([]*Campaign, error) {
	return scanCampaigns(q.QueryContext(ctx, `SELECT `+campaignColumns+` FROM check_campaigns WHERE status = $1 ORDER BY start_at, id`, status))
}

func scanCampaigns(rows *sql.Rows, err error) ([]*Campaign, error) {
	if err != nil {
		return nil, fmt.Errorf("checks store: listing campaigns: %w", err)
	}
	defer rows.Close()
	var out []*Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, fmt.Errorf("checks store: listing campaigns: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checks store: listing campaigns: %w", err)
	}
	return out, nil
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
	if err != nil {
		return fmt.Errorf("checks store: adding a target: %w", err)
	}
	return addTally(ctx, tx, campaign, t.State, Tally{Targets: 1})
}

func getTarget(ctx context.Context, q db.Queryer, id int64) (*Target, error) {
	t, err := scanTarget(q.QueryRowContext(ctx, `SELECT `+targetColumns+` FROM check_targets t WHERE t.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checks store: reading target %d: %w", id, err)
	}
	return t, nil
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
		return nil, fmt.Errorf("checks store: listing targets: %w", err)
	}
	defer rows.Close()
	out := []*Target{}
	for rows.Next() {
		t, err := scanTarget(rows)
		if err != nil {
			return nil, fmt.Errorf("checks store: listing targets: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checks store: listing targets: %w", err)
	}
	return out, nil
}

// pendingTargets are a State's targets that can still be answered: their
// message went out, and neither an answer nor a bounce is recorded.
func pendingTargets(ctx context.Context, q db.Queryer, state string, now time.Time) ([]*Target, error) {
	// The State's targets of the campaigns still answerable, few, along
	// check_targets_state, rather than its targets of every campaign joined
	// to theirs (a hundred campaigns in ten years).
	rows, err := q.QueryContext(ctx, `SELECT `+targetColumns+` FROM check_targets t
		WHERE t.state_code = $1 AND t.campaign_id IN (SELECT id FROM check_campaigns WHERE status IN ('running', 'closed') AND window_end > $2)
		AND t.queued_at IS NOT NULL AND t.answered_at IS NULL AND t.bounced_at IS NULL AND t.no_answer_at IS NULL AND t.channel = 'email'
		ORDER BY t.id`, state, now.Add(-Grace))
	if err != nil {
		return nil, fmt.Errorf("checks store: listing pending targets: %w", err)
	}
	defer rows.Close()
	out := []*Target{}
	for rows.Next() {
		t, err := scanTarget(rows)
		if err != nil {
			return nil, fmt.Errorf("checks store: listing pending targets: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checks store: listing pending targets: %w", err)
	}
	return out, nil
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

// recordBounce records a bounce of a target's message, once; a bounce
// counts in the tally while the target has not answered.
func recordBounce(ctx context.Context, tx *sql.Tx, target int64, at time.Time, why string) error {
	var campaign int64
	var state string
	var open bool
	err := tx.QueryRowContext(ctx, `UPDATE check_targets SET bounced_at = $1, bounce_error = $2 WHERE id = $3 AND bounced_at IS NULL
		RETURNING campaign_id, state_code, answered_at IS NULL`, at, why, target).Scan(&campaign, &state, &open)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !open {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checks store: recording a bounce: %w", err)
	}
	return addTally(ctx, tx, campaign, state, Tally{Bounced: 1})
}

// moveCampaign moves a campaign to a status from the one before it
// (scheduled to running, running to closed, scheduled or running to
// cancelled), recording when; it reports whether it did.
func moveCampaign(ctx context.Context, q db.Queryer, id int64, to string, now time.Time) (bool, error) {
	var query string
	switch to {
	case StatusRunning:
		query = `UPDATE check_campaigns SET status = 'running' WHERE id = $1 AND status = 'scheduled' AND $2 = $2`
	case StatusClosed:
		query = `UPDATE check_campaigns SET status = 'closed', closed_at = $2 WHERE id = $1 AND status = 'running'`
	case StatusCancelled:
		query = `UPDATE check_campaigns SET status = 'cancelled', cancelled_at = $2 WHERE id = $1 AND status IN ('scheduled', 'running')`
	default:
		return false, fmt.Errorf("checks store: no move of a campaign to %q", to)
	}
	return exec1(ctx, q, "moving campaign "+strconv.FormatInt(id, 10)+" to "+to, query, id, now)
}

// lockRunning locks a running campaign's row until the transaction ends (a
// no-op update); it reports whether the campaign is running.
func lockRunning(ctx context.Context, q db.Queryer, id int64) (bool, error) {
	return exec1(ctx, q, "locking a running campaign", `UPDATE check_campaigns SET status = status WHERE id = $1 AND status = 'running'`, id)
}

func markReminded(ctx context.Context, q db.Queryer, id int64, now time.Time) (bool, error) {
	return exec1(ctx, q, "recording a campaign's reminder", `UPDATE check_campaigns SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL AND status = 'running'`, now, id)
}

// unqueuedTargets reports whether a campaign has targets whose message is
// not yet queued.
func unqueuedTargets(ctx context.Context, q db.Queryer, id int64) (bool, error) {
	var waiting bool
	if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM check_targets WHERE campaign_id = $1 AND queued_at IS NULL)`, id).Scan(&waiting); err != nil {
		return false, fmt.Errorf("checks store: reading campaign %d: %w", id, err)
	}
	return waiting, nil
}

// lastClosed returns the last closed campaign of the same kind, runner
// and counterpart as c (0 when none): a State never learns from another
// State's bilateral check.
func lastClosed(ctx context.Context, q db.Queryer, c *Campaign) (int64, error) {
	var last int64
	err := q.QueryRowContext(ctx, `SELECT id FROM check_campaigns WHERE status = 'closed' AND kind = $1 AND COALESCE(counterpart, '') = $2
		AND COALESCE(owner_state, '') = $3 AND id <> $4 ORDER BY window_end DESC, id DESC LIMIT 1`,
		c.Kind, c.Counterpart, c.OwnerState, c.ID).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("checks store: finding the last campaign: %w", err)
	}
	return last, nil
}

// claimTargets marks up to n of a campaign's targets as queued for this
// instance and returns them (PostgreSQL skips the rows another instance is
// claiming).
func claimTargets(ctx context.Context, tx *sql.Tx, dialect db.Dialect, campaign int64, n int, now time.Time) ([]*Target, error) {
	claim := `UPDATE check_targets SET queued_at = $1
		WHERE queued_at IS NULL AND id IN (SELECT id FROM check_targets WHERE campaign_id = $2 AND queued_at IS NULL ORDER BY id LIMIT $3)
		RETURNING id, state_code, agency, channel, address, language`
	if dialect == db.Postgres {
		claim = `WITH next AS (SELECT id FROM check_targets WHERE campaign_id = $2 AND queued_at IS NULL ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
		UPDATE check_targets t SET queued_at = $1 FROM next WHERE t.id = next.id
		RETURNING t.id, t.state_code, t.agency, t.channel, t.address, t.language`
	}
	claimed, err := shortTargets(ctx, tx, "claiming targets", claim, now, campaign, n)
	if err != nil {
		return nil, err
	}
	for _, t := range claimed {
		if err := addTally(ctx, tx, campaign, t.State, Tally{Queued: 1}); err != nil {
			return nil, err
		}
	}
	return claimed, nil
}

// silentTargets returns a campaign's email targets that were sent their
// message and have neither answered nor bounced.
func silentTargets(ctx context.Context, q db.Queryer, campaign int64) ([]*Target, error) {
	return shortTargets(ctx, q, "listing silent targets", `SELECT id, state_code, agency, channel, address, language FROM check_targets
		WHERE campaign_id = $1 AND channel = 'email' AND queued_at IS NOT NULL AND answered_at IS NULL AND bounced_at IS NULL ORDER BY id`, campaign)
}

// shortTargets reads targets with what a message to them needs.
func shortTargets(ctx context.Context, q db.Queryer, what, query string, args ...any) ([]*Target, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("checks store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []*Target
	for rows.Next() {
		t := &Target{}
		if err := rows.Scan(&t.ID, &t.State, &t.Agency, &t.Channel, &t.Address, &t.language); err != nil {
			return nil, fmt.Errorf("checks store: %s: %w", what, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checks store: %s: %w", what, err)
	}
	return out, nil
}

// insertToken keeps an answer link's hash for a target.
func insertToken(ctx context.Context, q db.Queryer, hash string, target int64, expires time.Time) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO check_tokens (token_hash, target_id, expires_at) VALUES ($1, $2, $3)`, hash, target, expires); err != nil {
		return fmt.Errorf("checks store: keeping an answer link: %w", err)
	}
	return nil
}

// tokenTarget returns the target of an answer link's hash and when the link
// expires; 0 when there is no such link.
func tokenTarget(ctx context.Context, q db.Queryer, hash string) (int64, time.Time, error) {
	var id int64
	var expires time.Time
	err := q.QueryRowContext(ctx, `SELECT target_id, expires_at FROM check_tokens WHERE token_hash = $1`, hash).Scan(&id, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("checks store: reading an answer link: %w", err)
	}
	return id, expires, nil
}

func setTargetOutbox(ctx context.Context, q db.Queryer, target, outbox int64) error {
	if _, err := q.ExecContext(ctx, `UPDATE check_targets SET outbox_id = $1 WHERE id = $2`, outbox, target); err != nil {
		return fmt.Errorf("checks store: recording a target's message: %w", err)
	}
	return nil
}

// recordAnswer records a target's answer, once, as late after the
// campaign's window end; it reports whether it did. An answer after a
// bounce takes the bounce's place in the tally.
func recordAnswer(ctx context.Context, tx *sql.Tx, target int64, via, by string, now, windowEnd time.Time) (bool, error) {
	var campaign int64
	var state string
	var bounced bool
	err := tx.QueryRowContext(ctx, `UPDATE check_targets SET answered_at = $1, answered_via = $2, answered_by = $3 WHERE id = $4 AND answered_at IS NULL
		RETURNING campaign_id, state_code, bounced_at IS NOT NULL`, now, via, by, target).Scan(&campaign, &state, &bounced)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checks store: recording an answer: %w", err)
	}
	return true, addTally(ctx, tx, campaign, state, answerTally(now, windowEnd, bounced))
}

// answerTally is what an answer at changes in a tally: answered, or late
// after the window end, and no longer bounced.
func answerTally(at, windowEnd time.Time, bounced bool) Tally {
	d := Tally{Answered: 1}
	if at.After(windowEnd) {
		d = Tally{Late: 1}
	}
	if bounced {
		d.Bounced = -1
	}
	return d
}

// recordNoAnswer records that a target of the manual channel did not
// answer, once; it reports whether it did.
func recordNoAnswer(ctx context.Context, q db.Queryer, target int64, now time.Time) (bool, error) {
	return exec1(ctx, q, "recording no answer", `UPDATE check_targets SET no_answer_at = $1 WHERE id = $2 AND answered_at IS NULL AND no_answer_at IS NULL`, now, target)
}

// exec1 runs a conditional statement and reports whether it changed one
// row; what says what it does, for the error.
func exec1(ctx context.Context, q db.Queryer, what, query string, args ...any) (bool, error) {
	return db.Exec1(ctx, q, "checks store: "+what, query, args...)
}

// targetByOutbox returns the target whose check an outbox message was, or 0.
func targetByOutbox(ctx context.Context, q db.Queryer, outbox int64) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM check_targets WHERE outbox_id = $1`, outbox).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("checks store: finding the target of message %d: %w", outbox, err)
	}
	return id, nil
}

// stateAnswers is the tally of one State's targets in one campaign.
type stateAnswers struct {
	campaign int64
	state    string
	Tally
}

// answersByState reads, for the newest n (500 when 0) of the
// Secretariat's campaigns that have started and found PoCs to check, each
// State's tally, as
// Target.outcome counts: answered within the window, after it, bounced, or
// silent (waiting, or no answer).
func answersByState(ctx context.Context, q db.Queryer, n int) ([]stateAnswers, error) {
	if n <= 0 {
		n = 500
	}
	rows, err := q.QueryContext(ctx, `SELECT k.campaign_id, k.state_code, `+tallyColumns+`
		FROM check_tallies k WHERE k.state_code <> '' AND k.campaign_id IN (SELECT c.id FROM check_campaigns c
		JOIN check_tallies t ON t.campaign_id = c.id AND t.state_code = '' AND t.targets > 0
		WHERE c.kind = $1 AND c.status <> $2 ORDER BY c.start_at DESC, c.id DESC LIMIT $3)`, KindSecretariat, StatusScheduled, n)
	if err != nil {
		return nil, fmt.Errorf("checks store: reading answers by State: %w", err)
	}
	defer rows.Close()
	var out []stateAnswers
	for rows.Next() {
		var n stateAnswers
		if err := rows.Scan(scanTally(&n.Tally, &n.campaign, &n.state)...); err != nil {
			return nil, fmt.Errorf("checks store: reading answers by State: %w", err)
		}
		n.silent()
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checks store: reading answers by State: %w", err)
	}
	return out, nil
}

// tallies reads the tallies of the campaigns (a row each), of the
// State's targets only when state is set.
func tallies(ctx context.Context, q db.Queryer, ids []int64, state string) (map[int64]Tally, error) {
	out := map[int64]Tally{}
	err := db.InChunks(ids, 500, 2, func(marks string, args []any) error {
		rows, err := q.QueryContext(ctx, `SELECT k.campaign_id, `+tallyColumns+` FROM check_tallies k
			WHERE k.state_code = $1 AND k.campaign_id IN (`+marks+`)`, append([]any{state}, args...)...)
		if err != nil {
			return fmt.Errorf("checks store: reading the campaigns' tallies: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var n Tally
			if err := rows.Scan(scanTally(&n, &id)...); err != nil {
				return fmt.Errorf("checks store: reading the campaigns' tallies: %w", err)
			}
			n.silent()
			out[id] = n
		}
		return rows.Err()
	})
	return out, err
}
