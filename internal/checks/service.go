package checks

import (
	"context"
	"database/sql"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/notify"
)

// Service is the checks' rules and authorization; every method takes the
// acting user from the context, but answering by link, which needs none.
type Service struct {
	// DB and Now are set by New and never changed.
	DB          *db.DB
	Now         app.Clock
	directory   *directory.Service
	mail        *notify.Writer
	batch       int
	answerLimit int
}

// Config is what the checks service is built from.
type Config struct {
	DB        *db.DB
	Now       app.Clock
	Directory *directory.Service
	// Mail writes the checks, their reminders and reports, and makes the
	// answer links (https://pocdir.example.org/check/…).
	Mail *notify.Writer
	// Batch is how many messages one dispatch step queues (100 when 0).
	Batch int
	// AnswerLimit is how many unknown or spent links one address may try
	// in 15 minutes before it is refused (30 when 0).
	AnswerLimit int
}

// New returns the checks service.
func New(c Config) *Service {
	if c.Batch <= 0 {
		c.Batch = 100
	}
	if c.AnswerLimit <= 0 {
		c.AnswerLimit = 30
	}
	return &Service{DB: c.DB, Now: c.Now, directory: c.Directory, mail: c.Mail, batch: c.Batch, answerLimit: c.AnswerLimit}
}

// WithClock returns the service on another clock: the demonstration data
// runs past campaigns at their time. batch, when positive, replaces the
// size of a dispatch step.
func (s *Service) WithClock(now app.Clock, batch int) *Service {
	cp := *s
	cp.Now = now
	if batch > 0 {
		cp.batch = batch
	}
	return &cp
}

// MaxValue is the length of a campaign's scope value: a list of State
// codes holds every State with room to spare.
const MaxValue = 1000

// canSee: the Secretariat's campaigns are seen by the Secretariat and, for
// their own PoCs, by every State's users; a bilateral check only by the two
// States' users.
func canSee(a *app.Actor, c *Campaign) bool {
	if a == nil {
		return false
	}
	if c.Kind == KindBilateral {
		return a.State != "" && (a.State == c.OwnerState || a.State == c.Counterpart)
	}
	return a.IsSecretariat() || a.State != ""
}

// CanManage reports whether the actor runs the campaign: the Secretariat
// for its campaigns, the owner State's focal points for a bilateral check.
func CanManage(a *app.Actor, c *Campaign) bool {
	if a == nil || a.ReadOnly {
		return false
	}
	if c.Kind == KindBilateral {
		return a.IsFocalPointOf(c.OwnerState)
	}
	return a.IsSecretariat()
}

// seesAllTargets: who runs a campaign sees every target; the counterpart
// of a bilateral check too (they are its PoCs); a State's users see their
// own State's targets of the Secretariat's campaigns.
func seesAllTargets(a *app.Actor, c *Campaign) bool {
	return c.Kind == KindBilateral || a.IsSecretariat()
}

func (s *Service) validate(a *app.Actor, in *Input, now time.Time) (time.Time, error) {
	var v app.Validation
	in.Title = strings.TrimSpace(in.Title)
	in.Message = strings.TrimSpace(in.Message)
	in.Value = strings.TrimSpace(in.Value)
	in.Counterpart = strings.ToUpper(strings.TrimSpace(in.Counterpart))
	if in.Title == "" {
		v.Add("title", "error.required", "this field is required", nil)
	} else if utf8.RuneCountInString(in.Title) > 200 {
		v.Add("title", "error.too_long", "too long", map[string]any{"Max": 200})
	}
	if utf8.RuneCountInString(in.Message) > 2000 {
		v.Add("message", "error.too_long", "too long", map[string]any{"Max": 2000})
	}
	if !contains(Scopes, in.Scope) {
		v.Add("scope", "error.check_scope", "choose which PoCs to check", nil)
	}
	switch in.Scope {
	case "group":
		if !contains(directory.Groups, in.Value) {
			v.Add("value", "error.check_value", "choose a UN regional group", nil)
		}
	case "body":
		if !contains(directory.Bodies, in.Value) {
			v.Add("value", "error.check_value", "choose a regional body", nil)
		}
	case "level":
		if !directory.Level(in.Value).Valid() {
			v.Add("value", "error.check_value", "choose a level", nil)
		}
	case "states":
		codes := splitCodes(in.Value)
		var unknown []string
		for _, c := range codes {
			if !directory.KnownState(c) {
				unknown = append(unknown, c)
			}
		}
		switch {
		case utf8.RuneCountInString(in.Value) > MaxValue:
			v.Add("value", "error.too_long", "too long", map[string]any{"Max": MaxValue})
		case len(codes) == 0:
			v.Add("value", "error.check_value", "list the States' codes", nil)
		case len(unknown) > 0:
			if len(unknown) > 10 {
				unknown = append(unknown[:10], "…")
			}
			v.Add("value", "error.check_unknown_states", "unknown State codes: {{.Codes}}", map[string]any{"Codes": strings.Join(unknown, ", ")})
		}
	}
	if utf8.RuneCountInString(in.Value) > MaxValue && in.Scope != "states" {
		v.Add("value", "error.too_long", "too long", map[string]any{"Max": MaxValue})
	}
	if len(in.StartAt) > 40 {
		v.Add("start_at", "error.date", "not a date (YYYY-MM-DDTHH:MM)", nil)
		in.StartAt = ""
	}
	if in.Channel != ChannelEmail && in.Channel != ChannelManual {
		v.Add("channel", "error.check_channel", "choose a channel", nil)
	}
	if in.WindowHours <= 0 {
		v.Add("window_hours", "error.check_window", "the window must end after it starts", nil)
	} else if in.WindowHours > MaxWindow {
		v.Add("window_hours", "error.check_window_long", "the window is too long", map[string]any{"Max": MaxWindow})
	}
	if in.RepeatMonths < 0 || in.RepeatMonths > 12 {
		v.Add("repeat_months", "error.check_repeat", "repeat every 1 to 12 months, or not", nil)
	}
	start := now
	if in.StartAt != "" {
		t, err := time.Parse(time.RFC3339, in.StartAt)
		if err != nil {
			t, err = time.Parse("2006-01-02T15:04", in.StartAt)
		}
		switch {
		case err != nil:
			v.Add("start_at", "error.date", "not a date (YYYY-MM-DDTHH:MM)", nil)
		case t.Before(now.Add(-time.Minute)):
			v.Add("start_at", "error.check_start_past", "the start is in the past", nil)
		case t.After(now.AddDate(1, 0, 0)):
			v.Add("start_at", "error.date_future", "the date is too far in the future", map[string]any{"Days": 365})
		default:
			start = t.UTC()
		}
	}
	if a.IsSecretariat() {
		if in.Counterpart != "" {
			v.Add("counterpart", "error.check_counterpart", "the Secretariat's campaigns have no counterpart", nil)
		}
	} else if in.Counterpart == "" || in.Counterpart == a.State {
		v.Add("counterpart", "error.check_counterpart", "choose the counterpart State", nil)
	}
	if in.Scope == "failed" && in.Counterpart != "" {
		// A bilateral "failed last time" means the counterpart's last check.
		in.Value = ""
	}
	return start, v.Err()
}

// Create makes a campaign: the Secretariat's, or a focal point's bilateral
// check of a counterpart State. It starts at once, or at StartAt.
func (s *Service) Create(ctx context.Context, in Input) (*Campaign, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() && !(a.Role == app.RoleFocalPoint && a.State != "") {
		return nil, app.ErrForbidden()
	}
	now := s.Now()
	start, err := s.validate(a, &in, now)
	if err != nil {
		return nil, err
	}
	c := &Campaign{Kind: KindSecretariat, Title: in.Title, Message: in.Message, Scope: in.Scope, Value: in.Value, Channel: in.Channel,
		WindowHours: in.WindowHours, RepeatMonths: in.RepeatMonths, Status: StatusScheduled, StartAt: start,
		WindowEnd: start.Add(time.Duration(in.WindowHours) * time.Hour), CreatedBy: a.Email, CreatedAt: now}
	if !a.IsSecretariat() {
		if _, err := s.directory.Get(ctx, in.Counterpart); err != nil {
			return nil, app.FieldError("counterpart", "error.check_counterpart", "choose the counterpart State", nil)
		}
		c.Kind, c.OwnerState, c.Counterpart = KindBilateral, a.State, in.Counterpart
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := insertCampaign(ctx, tx, c); err != nil {
			return err
		}
		return logEvent(ctx, tx, a, "campaign_created", "check:"+itoa(c.ID), c.states(), now)
	})
	if err != nil {
		return nil, err
	}
	if !start.After(now) {
		if _, err := s.start(ctx, c.ID); err != nil {
			return nil, err
		}
	}
	return s.Campaign(ctx, c.ID)
}

// states names the States a campaign's log entries concern.
func (c *Campaign) states() []string {
	if c.Kind == KindBilateral {
		return []string{c.OwnerState, c.Counterpart}
	}
	return nil
}

// Cancel stops a scheduled or running campaign: nothing more is queued,
// reminded or reported; what was already sent can still be answered.
func (s *Service) Cancel(ctx context.Context, id int64) (*Campaign, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.campaign(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if !CanManage(a, c) {
		return nil, app.ErrForbidden()
	}
	now := s.Now()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := moveCampaign(ctx, tx, id, "cancelled", now)
		if err != nil {
			return err
		}
		if !ok {
			return app.Errorf(app.Conflict, "error.check_over", "this campaign is already over")
		}
		return logEvent(ctx, tx, a, "campaign_cancelled", "check:"+itoa(id), c.states(), now)
	})
	if err != nil {
		return nil, err
	}
	return s.Campaign(ctx, id)
}

func (s *Service) campaign(ctx context.Context, a *app.Actor, id int64) (*Campaign, error) {
	c, err := getCampaign(ctx, s.DB, id)
	if err != nil {
		return nil, err
	}
	if c == nil || !canSee(a, c) {
		return nil, app.ErrNotFound("campaign")
	}
	return c, nil
}

// Campaign returns a campaign the actor may see, with its tally (of the
// actor's own State's targets, for a State user of a Secretariat campaign).
func (s *Service) Campaign(ctx context.Context, id int64) (*Campaign, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.campaign(ctx, a, id)
	if err != nil {
		return nil, err
	}
	r, err := s.results(ctx, a, c)
	if err != nil {
		return nil, err
	}
	return r.Campaign, nil
}

// Heading returns a campaign the actor may see, without its tally: what
// names and links it elsewhere (the accountability log), for the price of
// one row.
func (s *Service) Heading(ctx context.Context, id int64) (*Campaign, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	return s.campaign(ctx, a, id)
}

// TargetCampaign returns, without its tally, the campaign of a target (a
// State's PoC in it) when the actor may see the campaign; not found
// otherwise.
func (s *Service) TargetCampaign(ctx context.Context, targetID int64) (*Campaign, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	t, err := getTarget(ctx, s.DB, targetID)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, app.ErrNotFound("campaign")
	}
	return s.campaign(ctx, a, t.CampaignID)
}

// CampaignPage is a page of the list of campaigns, newest first, with the
// cursors of the pages around it (nil at either end).
type CampaignPage struct {
	List         []*Campaign `json:"campaigns"`
	Older, Newer *app.Cursor `json:"-"`
}

// Campaigns returns a page of the campaigns the actor may see, newest
// first: at most limit (app.PageSize when zero) from the cursor k (the
// first page when zero; k.After asks for the page before it). The campaigns
// grow by a few a year for as long as the directory runs, so the list is
// read a page at a time along (start_at, id), with the visibility decided
// in the query.
func (s *Service) Campaigns(ctx context.Context, k app.Cursor, limit int) (*CampaignPage, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = app.PageSize
	}
	p := &CampaignPage{List: []*Campaign{}}
	if !a.IsSecretariat() && a.State == "" {
		return p, nil
	}
	state := a.State
	if a.IsSecretariat() {
		state = ""
	}
	list, err := listCampaigns(ctx, s.DB, state, k, limit+1)
	if err != nil {
		return nil, err
	}
	list, p.Older, p.Newer = app.Paginate(k, list, limit, func(c *Campaign) app.Cursor { return app.CursorAt(c.StartAt, c.ID) })
	if err := s.tally(ctx, a, list); err != nil {
		return nil, err
	}
	p.List = append(p.List, list...)
	return p, nil
}

// tally gives each campaign of list its tally as the actor sees it: every
// target's of the campaigns it may see whole, its State's of the others.
// The tallies are counted in the database: a page of campaigns of a full
// directory reads no target.
func (s *Service) tally(ctx context.Context, a *app.Actor, list []*Campaign) error {
	var all, own []int64
	for _, c := range list {
		if seesAllTargets(a, c) {
			all = append(all, c.ID)
		} else {
			own = append(own, c.ID)
		}
	}
	ta, err := tallies(ctx, s.DB, all, "")
	if err != nil {
		return err
	}
	to, err := tallies(ctx, s.DB, own, a.State)
	if err != nil {
		return err
	}
	for _, c := range list {
		c.Tally = ta[c.ID]
		if !seesAllTargets(a, c) {
			c.Tally = to[c.ID]
		}
	}
	return nil
}

// Results returns a campaign's targets with their outcomes and the tallies
// by State, UN group and regional body.
func (s *Service) Results(ctx context.Context, id int64) (*Results, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.campaign(ctx, a, id)
	if err != nil {
		return nil, err
	}
	return s.results(ctx, a, c)
}

// Export returns a campaign's results as Results does, for a file to take
// away, and records the export in the accountability log: the file holds
// the PoCs' addresses.
func (s *Service) Export(ctx context.Context, id int64) (*Results, error) {
	res, err := s.Results(ctx, id)
	if err != nil {
		return nil, err
	}
	var states []string
	for _, t := range res.Targets {
		states = append(states, t.State)
	}
	slices.Sort(states)
	states = slices.Compact(states)
	a := app.ActorFrom(ctx)
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		return logEvent(ctx, tx, a, "exported", "check:"+itoa(id), states, s.Now())
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (s *Service) results(ctx context.Context, a *app.Actor, c *Campaign) (*Results, error) {
	state := ""
	if !seesAllTargets(a, c) {
		state = a.State
	}
	targets, err := listTargets(ctx, s.DB, c.ID, state)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	r := &Results{Campaign: c, Targets: targets}
	c.Tally = Tally{}
	byState, byGroup, byBody := map[string]*Group{}, map[string]*Group{}, map[string]*Group{}
	add := func(m map[string]*Group, name string, t *Target) {
		g := m[name]
		if g == nil {
			g = &Group{Name: name}
			m[name] = g
		}
		g.add(t)
	}
	for _, t := range targets {
		t.outcome(c, now)
		c.Tally.add(t)
		add(byState, t.State, t)
		if e, err := s.directory.Get(app.WithActor(ctx, app.System), t.State); err == nil {
			add(byGroup, e.Group, t)
			for _, b := range e.Bodies {
				add(byBody, b, t)
			}
		}
	}
	r.ByState, r.ByGroup, r.ByBody = sorted(byState), sorted(byGroup), sorted(byBody)
	return r, nil
}

func sorted(m map[string]*Group) []Group {
	out := make([]Group, 0, len(m))
	for _, g := range m {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// TrendLength is how many campaigns the trend of answers shows.
const TrendLength = 24

// Trend returns the last TrendLength Secretariat campaigns that have
// started with targets, oldest first, with their tallies as the actor sees
// them: the answer rate over time.
func (s *Service) Trend(ctx context.Context) ([]*Campaign, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() && a.State == "" {
		return []*Campaign{}, nil
	}
	list, err := listStarted(ctx, s.DB, TrendLength)
	if err != nil {
		return nil, err
	}
	slices.Reverse(list)
	if err := s.tally(ctx, a, list); err != nil {
		return nil, err
	}
	// A State's users see their State's share: a campaign that had none
	// of its PoCs has no rate for them.
	out := []*Campaign{}
	for _, c := range list {
		if c.Targets > 0 {
			out = append(out, c)
		}
	}
	return out, nil
}

// Pending lists the targets of the actor's State that wait for an answer,
// so that a signed-in officer can answer in the portal.
func (s *Service) Pending(ctx context.Context) ([]*Target, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if a.State == "" {
		return []*Target{}, nil
	}
	list, err := pendingTargets(ctx, s.DB, a.State, s.Now())
	if err != nil {
		return nil, err
	}
	campaigns := map[int64]*Campaign{}
	for _, t := range list {
		t.Outcome = OutcomeWaiting // each can still be answered
		c := campaigns[t.CampaignID]
		if c == nil {
			if c, err = getCampaign(ctx, s.DB, t.CampaignID); err != nil {
				return nil, err
			}
			if c == nil {
				continue
			}
			campaigns[t.CampaignID] = c
		}
		end := c.WindowEnd
		t.Campaign, t.WindowEnd = c.Title, &end
	}
	return list, nil
}

// The check events of the log; logEvent writes them.
var _ = auditlog.Register(
	"checks.campaign_created", "checks.campaign_cancelled", "checks.exported", "checks.answered", "checks.no_answer",
)

// logEvent appends a check event to the accountability log: who, what,
// which campaign or target, when; no content.
func logEvent(ctx context.Context, tx *sql.Tx, a *app.Actor, typ, object string, states []string, at time.Time) error {
	// An answer by link has no signed-in actor: the link itself answered.
	ev := auditlog.Event{Type: "checks." + typ, Object: object, States: states, At: at, ActorEmail: "answer-link"}.By(a)
	err := auditlog.Append(ctx, tx, ev)
	return err
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func splitCodes(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' || r == '\n' }) {
		out = append(out, strings.ToUpper(f))
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
