package capacity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
)

// Lists of keys and tags are stored joined by commas: neither holds one.
func joinList(l []string) string { return strings.Join(l, ",") }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

type scanner interface{ Scan(...any) error }

const needColumns = `id, state_code, kind, topics, topic_other, level, languages, needed_by, visibility,
	details_lang, details, details_en, status, created_by, created_at, updated_at, matched_at, met_at, COALESCE(exercise_id, 0)`

func scanNeed(sc scanner) (*Need, error) {
	var n Need
	var topics, langs, level, vis string
	var matched, met sql.NullTime
	if err := sc.Scan(&n.ID, &n.State, &n.Kind, &topics, &n.TopicOther, &level, &langs, &n.NeededBy, &vis,
		&n.Details.Lang, &n.Details.Text, &n.Details.English, &n.Status, &n.CreatedBy, &n.CreatedAt, &n.UpdatedAt, &matched, &met, &n.ExerciseID); err != nil {
		return nil, err
	}
	n.Topics, n.Languages, n.Level, n.Visibility = splitList(topics), splitList(langs), directory.Level(level), Visibility(vis)
	n.CreatedAt, n.UpdatedAt = n.CreatedAt.UTC(), n.UpdatedAt.UTC()
	n.MatchedAt, n.MetAt = db.TimeOf(matched), db.TimeOf(met)
	return &n, nil
}

func insertNeed(ctx context.Context, tx *sql.Tx, n *Need) error {
	if err := tx.QueryRowContext(ctx, `INSERT INTO capacity_needs (state_code, kind, topics, topic_other, level, languages, needed_by, visibility,
		details_lang, details, details_en, status, created_by, created_at, updated_at, exercise_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
		n.State, n.Kind, joinList(n.Topics), n.TopicOther, string(n.Level), joinList(n.Languages), n.NeededBy, string(n.Visibility),
		n.Details.Lang, n.Details.Text, n.Details.English, n.Status, n.CreatedBy, n.CreatedAt, n.UpdatedAt, exerciseArg(n.ExerciseID)).Scan(&n.ID); err != nil {
		return fmt.Errorf("capacity: unable to save a need: %w", err)
	}
	return nil
}

func updateNeed(ctx context.Context, tx *sql.Tx, n *Need) error {
	if _, err := tx.ExecContext(ctx, `UPDATE capacity_needs SET kind = $1, topics = $2, topic_other = $3, level = $4, languages = $5,
		needed_by = $6, visibility = $7, details_lang = $8, details = $9, details_en = $10, status = $11, updated_at = $12,
		matched_at = $13, met_at = $14 WHERE id = $15`,
		n.Kind, joinList(n.Topics), n.TopicOther, string(n.Level), joinList(n.Languages), n.NeededBy, string(n.Visibility),
		n.Details.Lang, n.Details.Text, n.Details.English, n.Status, n.UpdatedAt, timeArg(n.MatchedAt), timeArg(n.MetAt), n.ID); err != nil {
		return fmt.Errorf("capacity: unable to update need %d: %w", n.ID, err)
	}
	return nil
}

// exerciseArg is NULL for a need recorded from no exercise.
func exerciseArg(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func timeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

func getNeed(ctx context.Context, q db.Queryer, id int64) (*Need, error) {
	n, err := scanNeed(q.QueryRowContext(ctx, `SELECT `+needColumns+` FROM capacity_needs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("capacity: unable to read need %d: %w", id, err)
	}
	return n, nil
}

// listNeeds lists needs newest first from the cursor k, n of them (all
// when n is 0).
func listNeeds(ctx context.Context, q db.Queryer, k app.Cursor, n int) ([]*Need, error) {
	query, args := walk(`SELECT `+needColumns+` FROM capacity_needs`, nil, "created_at", "id", k, n)
	return queryList(ctx, q, "list needs", query, args, scanNeed)
}

// exerciseNeeds lists the needs an exercise's findings became, newest
// first: all (state ""), or a State's.
func exerciseNeeds(ctx context.Context, q db.Queryer, exercise int64, state string) ([]*Need, error) {
	query, args := `SELECT `+needColumns+` FROM capacity_needs WHERE exercise_id = $1`, []any{exercise}
	if state != "" {
		query, args = query+` AND state_code = $2`, append(args, state)
	}
	return queryList(ctx, q, "list an exercise's needs", query+` ORDER BY created_at DESC, id DESC`, args, scanNeed)
}

// walk adds to a query (a SELECT with a WHERE clause, or none when it has
// no argument) the walk from the cursor k on the columns t (a time) and
// id, n rows (all when n is 0).
func walk(query string, args []any, t, id string, k app.Cursor, n int) (string, []any) {
	arg := func(v any) string {
		args = append(args, v)
		return `$` + strconv.Itoa(len(args))
	}
	where, order := k.SQL(t, id, arg)
	if where != "" {
		if strings.Contains(query, " WHERE ") {
			query += ` AND ` + where
		} else {
			query += ` WHERE ` + where
		}
	}
	query += order
	if n > 0 {
		query += ` LIMIT ` + arg(n)
	}
	return query, args
}

// queryList runs a query and scans its rows; what says what it does, for
// the error.
func queryList[T any](ctx context.Context, q db.Queryer, what, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("capacity: unable to %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("capacity: unable to %s: %w", what, err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("capacity: unable to %s: %w", what, err)
	}
	return out, nil
}

const offerColumns = `id, COALESCE(state_code, ''), partner, kind, topics, topic_other, level, languages, format, capacity,
	period_from, period_to, details_lang, details, details_en, status, created_by, created_at, updated_at`

func scanOffer(sc scanner) (*Offer, error) {
	var o Offer
	var topics, langs, level string
	if err := sc.Scan(&o.ID, &o.State, &o.Partner, &o.Kind, &topics, &o.TopicOther, &level, &langs, &o.Format, &o.Capacity,
		&o.PeriodFrom, &o.PeriodTo, &o.Details.Lang, &o.Details.Text, &o.Details.English, &o.Status, &o.CreatedBy, &o.CreatedAt, &o.UpdatedAt); err != nil {
		return nil, err
	}
	o.Topics, o.Languages, o.Level = splitList(topics), splitList(langs), directory.Level(level)
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	return &o, nil
}

func insertOffer(ctx context.Context, tx *sql.Tx, o *Offer) error {
	if err := tx.QueryRowContext(ctx, `INSERT INTO capacity_offers (state_code, partner, kind, topics, topic_other, level, languages, format,
		capacity, period_from, period_to, details_lang, details, details_en, status, created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id`,
		nullString(o.State), o.Partner, o.Kind, joinList(o.Topics), o.TopicOther, string(o.Level), joinList(o.Languages), o.Format,
		o.Capacity, o.PeriodFrom, o.PeriodTo, o.Details.Lang, o.Details.Text, o.Details.English, o.Status, o.CreatedBy, o.CreatedAt, o.UpdatedAt).Scan(&o.ID); err != nil {
		return fmt.Errorf("capacity: unable to save an offer: %w", err)
	}
	return nil
}

func setOfferStatus(ctx context.Context, tx *sql.Tx, id int64, status string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE capacity_offers SET status = $1, updated_at = $2 WHERE id = $3`, status, now, id); err != nil {
		return fmt.Errorf("capacity: unable to update offer %d: %w", id, err)
	}
	return nil
}

func getOffer(ctx context.Context, q db.Queryer, id int64) (*Offer, error) {
	o, err := scanOffer(q.QueryRowContext(ctx, `SELECT `+offerColumns+` FROM capacity_offers WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("capacity: unable to read offer %d: %w", id, err)
	}
	return o, nil
}

// listOffers lists offers newest first from the cursor k, n of them (all
// when n is 0).
func listOffers(ctx context.Context, q db.Queryer, k app.Cursor, n int) ([]*Offer, error) {
	query, args := walk(`SELECT `+offerColumns+` FROM capacity_offers`, nil, "created_at", "id", k, n)
	return queryList(ctx, q, "list offers", query, args, scanOffer)
}

const matchColumns = `m.id, m.need_id, m.offer_id, n.state_code, COALESCE(o.state_code, ''), o.partner, m.status, m.score,
	m.proposed_by, m.proposed_by_id, m.proposed_at, m.need_answer, m.need_answered_by, m.need_answered_at,
	m.offer_answer, m.offer_answered_by, m.offer_answered_at, m.decided_at, COALESCE(a.id, 0)
	FROM capacity_matches m JOIN capacity_needs n ON n.id = m.need_id JOIN capacity_offers o ON o.id = m.offer_id
	LEFT JOIN capacity_activities a ON a.match_id = m.id`

func scanMatch(sc scanner) (*Match, error) {
	var m Match
	var needAt, offerAt, decided sql.NullTime
	if err := sc.Scan(&m.ID, &m.NeedID, &m.OfferID, &m.NeedState, &m.OfferState, &m.Partner, &m.Status, &m.Score,
		&m.ProposedBy, &m.ProposedByID, &m.ProposedAt, &m.NeedAnswer, &m.NeedAnsweredBy, &needAt,
		&m.OfferAnswer, &m.OfferAnsweredBy, &offerAt, &decided, &m.ActivityID); err != nil {
		return nil, err
	}
	m.ProposedAt = m.ProposedAt.UTC()
	m.NeedAnsweredAt, m.OfferAnsweredAt, m.DecidedAt = db.TimeOf(needAt), db.TimeOf(offerAt), db.TimeOf(decided)
	return &m, nil
}

func insertMatch(ctx context.Context, tx *sql.Tx, m *Match) error {
	if err := tx.QueryRowContext(ctx, `INSERT INTO capacity_matches (need_id, offer_id, status, score, proposed_by, proposed_by_id, proposed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		m.NeedID, m.OfferID, m.Status, m.Score, m.ProposedBy, m.ProposedByID, m.ProposedAt).Scan(&m.ID); err != nil {
		return fmt.Errorf("capacity: unable to save a match: %w", err)
	}
	return nil
}

func updateMatch(ctx context.Context, tx *sql.Tx, m *Match) error {
	if _, err := tx.ExecContext(ctx, `UPDATE capacity_matches SET status = $1, need_answer = $2, need_answered_by = $3, need_answered_at = $4,
		offer_answer = $5, offer_answered_by = $6, offer_answered_at = $7, decided_at = $8 WHERE id = $9`,
		m.Status, m.NeedAnswer, m.NeedAnsweredBy, timeArg(m.NeedAnsweredAt), m.OfferAnswer, m.OfferAnsweredBy, timeArg(m.OfferAnsweredAt),
		timeArg(m.DecidedAt), m.ID); err != nil {
		return fmt.Errorf("capacity: unable to update match %d: %w", m.ID, err)
	}
	return nil
}

func getMatch(ctx context.Context, q db.Queryer, id int64) (*Match, error) {
	m, err := scanMatch(q.QueryRowContext(ctx, `SELECT `+matchColumns+` WHERE m.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("capacity: unable to read match %d: %w", id, err)
	}
	return m, nil
}

// listMatches lists the matches newest first from the cursor k, n of
// them (all when n is 0): all (state ""), or those of a State's needs and
// offers.
func listMatches(ctx context.Context, q db.Queryer, state string, k app.Cursor, n int) ([]*Match, error) {
	query, args := `SELECT `+matchColumns, []any(nil)
	if state != "" {
		query, args = query+` WHERE m.id IN (`+matchesOfState+`)`, []any{state}
	}
	query, args = walk(query, args, "m.proposed_at", "m.id", k, n)
	return queryMatches(ctx, q, "list matches", query, args...)
}

// matchesOfState selects the ids of the matches of the State $1's needs
// and offers, each side through the index of a State's needs or offers and
// that of their matches.
const matchesOfState = `SELECT mn.id FROM capacity_needs sn JOIN capacity_matches mn ON mn.need_id = sn.id WHERE sn.state_code = $1
	UNION SELECT mo.id FROM capacity_offers so JOIN capacity_matches mo ON mo.offer_id = so.id WHERE so.state_code = $1`

// needsByID reads the needs of the ids given, by id.
func needsByID(ctx context.Context, q db.Queryer, ids []int64) (map[int64]*Need, error) {
	out := make(map[int64]*Need, len(ids))
	err := db.InChunks(ids, 500, 1, func(marks string, args []any) error {
		rows, err := q.QueryContext(ctx, `SELECT `+needColumns+` FROM capacity_needs WHERE id IN (`+marks+`)`, args...)
		if err != nil {
			return fmt.Errorf("capacity: unable to read needs: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			n, err := scanNeed(rows)
			if err != nil {
				return fmt.Errorf("capacity: unable to read needs: %w", err)
			}
			out[n.ID] = n
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("capacity: unable to read needs: %w", err)
		}
		return nil
	})
	return out, err
}

// proposedMatches lists, newest first, the proposed matches of a side the
// actor may answer for (AnswersFor): a focal point's State's needs and
// offers, or for the Secretariat the partners' offers.
func proposedMatches(ctx context.Context, q db.Queryer, a *app.Actor) ([]*Match, error) {
	// The status written out, not bound: the partial index on the proposed
	// matches serves a statement whose predicate it can read.
	where, args := `m.status = '`+MatchProposed+`' AND (n.state_code = $1 OR o.state_code = $1)`, []any{a.State}
	if a.IsSecretariat() {
		where, args = `m.status = '`+MatchProposed+`' AND o.state_code IS NULL`, nil
	}
	return queryMatches(ctx, q, "list proposed matches", `SELECT `+matchColumns+` WHERE `+where+` ORDER BY m.proposed_at DESC, m.id DESC`, args...)
}

// openOfferTopics lists the topics of a State's open offers (a topic as
// often as it is offered).
func openOfferTopics(ctx context.Context, q db.Queryer, state string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT topics FROM capacity_offers WHERE state_code = $1 AND status = '`+OfferOpen+`'`, state)
	if err != nil {
		return nil, fmt.Errorf("capacity: unable to read the topics offered by %s: %w", state, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var topics string
		if err := rows.Scan(&topics); err != nil {
			return nil, fmt.Errorf("capacity: unable to read the topics offered by %s: %w", state, err)
		}
		out = append(out, splitList(topics)...)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("capacity: unable to read the topics offered by %s: %w", state, err)
	}
	return out, nil
}

// acceptedNeedsOffered lists the needs whose State accepted a match with
// an offer of the State given.
func acceptedNeedsOffered(ctx context.Context, q db.Queryer, state string) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT m.need_id FROM capacity_offers o JOIN capacity_matches m ON m.offer_id = o.id
		WHERE o.state_code = $1 AND m.need_answer = '`+Accept+`'`, state)
	if err != nil {
		return nil, fmt.Errorf("capacity: unable to read the matches offered by %s: %w", state, err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("capacity: unable to read the matches offered by %s: %w", state, err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("capacity: unable to read the matches offered by %s: %w", state, err)
	}
	return out, nil
}

func queryMatches(ctx context.Context, q db.Queryer, what, query string, args ...any) ([]*Match, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("capacity: unable to %s: %w", what, err)
	}
	defer rows.Close()
	var out []*Match
	for rows.Next() {
		m, err := scanMatch(rows)
		if err != nil {
			return nil, fmt.Errorf("capacity: unable to %s: %w", what, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("capacity: unable to %s: %w", what, err)
	}
	return out, nil
}

const activityColumns = `a.id, a.match_id, m.need_id, m.offer_id, n.state_code, COALESCE(o.state_code, ''), o.partner, o.kind,
	a.status, a.starts_on, a.ends_on, a.participants, COALESCE(a.measure_id, 0), a.outcome_lang, a.outcome, a.outcome_en,
	a.created_at, a.updated_at, a.done_at
	FROM capacity_activities a JOIN capacity_matches m ON m.id = a.match_id
	JOIN capacity_needs n ON n.id = m.need_id JOIN capacity_offers o ON o.id = m.offer_id`

func scanActivity(sc scanner) (*Activity, error) {
	var a Activity
	var done sql.NullTime
	if err := sc.Scan(&a.ID, &a.MatchID, &a.NeedID, &a.OfferID, &a.NeedState, &a.OfferState, &a.Partner, &a.Kind,
		&a.Status, &a.StartsOn, &a.EndsOn, &a.Participants, &a.MeasureID, &a.Outcome.Lang, &a.Outcome.Text, &a.Outcome.English,
		&a.CreatedAt, &a.UpdatedAt, &done); err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt, a.DoneAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC(), db.TimeOf(done)
	return &a, nil
}

func insertActivity(ctx context.Context, tx *sql.Tx, a *Activity) error {
	if err := tx.QueryRowContext(ctx, `INSERT INTO capacity_activities (match_id, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4) RETURNING id`, a.MatchID, a.Status, a.CreatedAt, a.UpdatedAt).Scan(&a.ID); err != nil {
		return fmt.Errorf("capacity: unable to save an activity: %w", err)
	}
	return nil
}

func updateActivity(ctx context.Context, tx *sql.Tx, a *Activity) error {
	if _, err := tx.ExecContext(ctx, `UPDATE capacity_activities SET status = $1, starts_on = $2, ends_on = $3, participants = $4,
		measure_id = $5, outcome_lang = $6, outcome = $7, outcome_en = $8, updated_at = $9, done_at = $10 WHERE id = $11`,
		a.Status, a.StartsOn, a.EndsOn, a.Participants, nullID(a.MeasureID), a.Outcome.Lang, a.Outcome.Text, a.Outcome.English,
		a.UpdatedAt, timeArg(a.DoneAt), a.ID); err != nil {
		return fmt.Errorf("capacity: unable to update activity %d: %w", a.ID, err)
	}
	return nil
}

func getActivity(ctx context.Context, q db.Queryer, id int64) (*Activity, error) {
	a, err := scanActivity(q.QueryRowContext(ctx, `SELECT `+activityColumns+` WHERE a.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("capacity: unable to read activity %d: %w", id, err)
	}
	return a, nil
}

// measureCounts counts the activities of a plan's measures by measure
// and status.
func measureCounts(ctx context.Context, q db.Queryer, plan int64) (map[int64]map[string]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT a.measure_id, a.status, COUNT(*) FROM capacity_measures m JOIN capacity_activities a ON a.measure_id = m.id
		WHERE m.plan_id = $1 GROUP BY a.measure_id, a.status`, plan)
	if err != nil {
		return nil, fmt.Errorf("capacity: unable to count the plan's activities: %w", err)
	}
	defer rows.Close()
	out := map[int64]map[string]int{}
	for rows.Next() {
		var measure int64
		var status string
		var n int
		if err := rows.Scan(&measure, &status, &n); err != nil {
			return nil, fmt.Errorf("capacity: unable to count the plan's activities: %w", err)
		}
		if out[measure] == nil {
			out[measure] = map[string]int{}
		}
		out[measure][status] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("capacity: unable to count the plan's activities: %w", err)
	}
	return out, nil
}

// listActivities lists the activities newest first from the cursor k, n
// of them (all when n is 0): all (state ""), or those of a State's
// matches.
func listActivities(ctx context.Context, q db.Queryer, state string, k app.Cursor, n int) ([]*Activity, error) {
	query, args := `SELECT `+activityColumns, []any(nil)
	if state != "" {
		query, args = query+` WHERE a.match_id IN (`+matchesOfState+`)`, []any{state}
	}
	query, args = walk(query, args, "a.created_at", "a.id", k, n)
	return queryList(ctx, q, "list activities", query, args, scanActivity)
}

func insertPlan(ctx context.Context, tx *sql.Tx, p *Plan) error {
	if err := tx.QueryRowContext(ctx, `INSERT INTO capacity_plans (title, period_from, period_to, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, p.Title, p.PeriodFrom, p.PeriodTo, p.CreatedBy, p.CreatedAt).Scan(&p.ID); err != nil {
		return fmt.Errorf("capacity: unable to save an action plan: %w", err)
	}
	return nil
}

func insertMeasure(ctx context.Context, tx *sql.Tx, m *Measure, now time.Time) error {
	if err := tx.QueryRowContext(ctx, `INSERT INTO capacity_measures (plan_id, title, kind, target, created_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, m.PlanID, m.Title, m.Kind, m.Target, now).Scan(&m.ID); err != nil {
		return fmt.Errorf("capacity: unable to save a measure: %w", err)
	}
	return nil
}

// latestPlan returns the action plan made last, with its measures, or nil.
func latestPlan(ctx context.Context, q db.Queryer) (*Plan, error) {
	var p Plan
	err := q.QueryRowContext(ctx, `SELECT id, title, period_from, period_to, created_by, created_at FROM capacity_plans
		ORDER BY created_at DESC, id DESC LIMIT 1`).Scan(&p.ID, &p.Title, &p.PeriodFrom, &p.PeriodTo, &p.CreatedBy, &p.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("capacity: unable to read the action plan: %w", err)
	}
	p.CreatedAt = p.CreatedAt.UTC()
	rows, err := q.QueryContext(ctx, `SELECT id, plan_id, title, kind, target FROM capacity_measures WHERE plan_id = $1 ORDER BY id`, p.ID)
	if err != nil {
		return nil, fmt.Errorf("capacity: unable to list the plan's measures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m Measure
		if err := rows.Scan(&m.ID, &m.PlanID, &m.Title, &m.Kind, &m.Target); err != nil {
			return nil, fmt.Errorf("capacity: unable to list the plan's measures: %w", err)
		}
		p.Measures = append(p.Measures, &m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("capacity: unable to list the plan's measures: %w", err)
	}
	return &p, nil
}

func measureExists(ctx context.Context, q db.Queryer, id int64) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM capacity_measures WHERE id = $1`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("capacity: unable to read measure %d: %w", id, err)
	}
	return n > 0, nil
}
