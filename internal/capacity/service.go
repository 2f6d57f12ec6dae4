package capacity

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/exercises"
	"github.com/pocdir/pocdir/internal/notify"
)

// Service is capacity-building's rules and authorization; every method
// takes the acting user from the context.
type Service struct {
	// DB and Now are set by New and never changed.
	DB  *db.DB
	Now app.Clock

	exercises Exercises
	mail      *notify.Writer
}

// Exercises is what capacity asks the exercises' owner: whether the actor
// may see an exercise (its State takes part in it), before a need names it.
type Exercises interface {
	Exercise(ctx context.Context, id int64) (*exercises.Exercise, error)
}

// Config is what the capacity service is built from.
type Config struct {
	DB  *db.DB
	Now app.Clock
	// Exercises lets a need name the exercise it was learnt from; without
	// it, RecordNeedFromExercise is refused.
	Exercises Exercises
	// Mail writes to those a proposed match waits for; nil writes none.
	Mail *notify.Writer
}

// New returns the capacity service.
func New(c Config) *Service {
	return &Service{DB: c.DB, Now: c.Now, exercises: c.Exercises, mail: c.Mail}
}

// Who may do what. A State's focal points record and answer for their
// State; its officers read what their State may read; the Secretariat
// reads everything, proposes matches, records partners' offers and keeps
// the action plan. Read-only API tokens read.

// canRecord: a focal point records for their own State.
func canRecord(a *app.Actor, state string) bool {
	return a != nil && !a.ReadOnly && state != "" && a.IsFocalPointOf(state)
}

// CanRecordNeed reports whether the actor may record a need (a focal
// point of a State).
func CanRecordNeed(a *app.Actor) bool { return a != nil && canRecord(a, a.State) }

// CanRecordOffer reports whether the actor may record an offer: a focal
// point for their State, the Secretariat for a partner.
func CanRecordOffer(a *app.Actor) bool {
	return a != nil && !a.ReadOnly && (a.IsSecretariat() || canRecord(a, a.State))
}

// CanManage reports whether the actor proposes matches and keeps the
// action plan: the Secretariat.
func CanManage(a *app.Actor) bool { return a != nil && !a.ReadOnly && a.IsSecretariat() }

// view is what decides which needs an actor sees: the topics on which the
// actor's State has an open offer, and the needs on which the actor's
// State is the offering side of a match that it may see.
type view struct {
	a           *app.Actor
	offerTopics map[string]bool
	matched     map[int64]bool
}

func (s *Service) view(ctx context.Context, q db.Queryer, a *app.Actor) (*view, error) {
	v := &view{a: a, offerTopics: map[string]bool{}, matched: map[int64]bool{}}
	if a.IsSecretariat() || a.State == "" {
		return v, nil
	}
	// The State's own open offers and accepted matches only, through the
	// indexes of a State's offers and of an offer's matches: every reader
	// read every offer and match of ten years here.
	topics, err := openOfferTopics(ctx, q, a.State)
	if err != nil {
		return nil, err
	}
	for _, t := range topics {
		v.offerTopics[t] = true
	}
	needs, err := acceptedNeedsOffered(ctx, q, a.State)
	if err != nil {
		return nil, err
	}
	for _, id := range needs {
		v.matched[id] = true
	}
	return v, nil
}

// seesNeed: the Secretariat sees every need; the needing State's users
// see their own; another State's users see a need whose visibility reaches
// them (all States, or States offering help on one of its topics), or
// once the needing State has accepted a match with their offer: a need
// seen by the Secretariat only is shown to the offering State only after
// the needing State agreed.
func (v *view) seesNeed(n *Need) bool {
	a := v.a
	switch {
	case a == nil:
		return false
	case a.IsSecretariat():
		return true
	case a.State == "":
		return false
	case a.State == n.State:
		return true
	case n.Status == NeedWithdrawn:
		return false
	case v.matched[n.ID]:
		return true
	case n.Visibility == VisibleAll:
		return true
	case n.Visibility == VisibleOfferers:
		for _, t := range n.Topics {
			if v.offerTopics[t] {
				return true
			}
		}
	}
	return false
}

// seesOffer: offers are advertised: every member sees the open ones, and
// an observer granted the offers; a withdrawn offer only its State and the
// Secretariat.
func seesOffer(a *app.Actor, o *Offer) bool {
	if !a.MayReadOffers() {
		return false
	}
	return o.Status == OfferOpen || a.IsSecretariat() || (a.State != "" && a.State == o.State)
}

// seesMatch: the Secretariat and the needing State see a match; the
// offering State once the needing State has accepted it, or when the
// need's visibility already reaches it.
func (v *view) seesMatch(m *Match, n *Need) bool {
	a := v.a
	switch {
	case a == nil:
		return false
	case a.IsSecretariat():
		return true
	case a.State == "":
		return false
	case a.State == m.NeedState:
		return true
	case a.State == m.OfferState:
		return m.NeedAnswer == Accept || v.seesNeed(n)
	}
	return false
}

func (s *Service) need(ctx context.Context, q db.Queryer, a *app.Actor, id int64) (*Need, *view, error) {
	n, err := getNeed(ctx, q, id)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.view(ctx, q, a)
	if err != nil {
		return nil, nil, err
	}
	if n == nil || !v.seesNeed(n) {
		return nil, nil, app.ErrNotFound("need")
	}
	hideExercise(a, n)
	return n, v, nil
}

func (in *NeedInput) normalize() error {
	var v app.Validation
	checkKind(&v, in.Kind)
	in.Topics, in.TopicOther = checkTopics(&v, in.Topics, in.TopicOther)
	if !in.Level.Valid() {
		v.Add("level", "error.required", "choose a level", nil)
	}
	in.Languages = directory.CheckLanguages(&v, "languages", in.Languages)
	in.NeededBy = checkDate(&v, "needed_by", in.NeededBy)
	if in.Visibility == "" {
		in.Visibility = VisibleSecretariat
	}
	if !in.Visibility.Valid() {
		v.Add("visibility", "error.capacity_visibility", "choose who may see the need", nil)
	}
	directory.CheckText(&v, "details", &in.Details, MaxText)
	return v.Err()
}

func checkKind(v *app.Validation, kind string) {
	if !validKind(kind) {
		v.Add("kind", "error.capacity_kind", "choose a kind of help", nil)
	}
}

// checkTopics keeps the known topics, once each, in the reference order;
// a need or offer names at least one topic or says it in words.
func checkTopics(v *app.Validation, topics []string, other string) ([]string, string) {
	other = strings.TrimSpace(other)
	directory.CheckLen(v, "topic_other", other, MaxShort, false)
	if len(topics) > MaxTopics {
		v.Add("topics", "error.too_many", "too many entries", map[string]any{"Max": MaxTopics})
		return nil, other
	}
	var out []string
	for _, t := range Topics {
		if slices.Contains(topics, t) {
			out = append(out, t)
		}
	}
	for _, t := range topics {
		if !validTopic(t) {
			v.Add("topics", "error.capacity_topic", "unknown topic", nil)
			break
		}
	}
	if len(out) == 0 && other == "" && !v.HasField("topics") {
		v.Add("topics", "error.capacity_topics_required", "choose at least one topic or describe it", nil)
	}
	return out, other
}

// checkDate takes YYYY-MM-DD, or nothing.
func checkDate(v *app.Validation, field, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil || d.Year() < 2000 || d.Year() > 2100 {
		v.Add(field, "error.date", "not a date (YYYY-MM-DD)", nil)
		return ""
	}
	return d.Format(time.DateOnly)
}

// RecordNeed records a need of the actor's State (a focal point's).
func (s *Service) RecordNeed(ctx context.Context, in NeedInput) (*Need, error) {
	return s.recordNeed(ctx, 0, in)
}

// RecordNeedFromExercise records a need of the actor's State learnt from
// an exercise its State took part in, and links it to the exercise: the
// same need, validated the same way, which the exercise's pages list.
func (s *Service) RecordNeedFromExercise(ctx context.Context, exercise int64, in NeedInput) (*Need, error) {
	return s.recordNeed(ctx, exercise, in)
}

func (s *Service) recordNeed(ctx context.Context, exercise int64, in NeedInput) (*Need, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	if !CanRecordNeed(a) {
		return nil, app.ErrForbidden()
	}
	if exercise != 0 {
		if err := s.takesPart(ctx, a, exercise); err != nil {
			return nil, err
		}
	}
	if err := in.normalize(); err != nil {
		return nil, err
	}
	now := s.Now()
	n := &Need{State: a.State, NeedInput: in, Status: NeedOpen, CreatedBy: a.Email, CreatedAt: now, UpdatedAt: now, ExerciseID: exercise}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := insertNeed(ctx, tx, n); err != nil {
			return err
		}
		return logEvent(ctx, tx, a, "need_recorded", needObject(n.ID), []string{n.State}, now)
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

// takesPart checks that the actor's State took part in an exercise: the
// exercises service shows a State's user only the exercises it takes
// part in, and only its own line of their participants.
func (s *Service) takesPart(ctx context.Context, a *app.Actor, id int64) error {
	if s.exercises == nil {
		return app.ErrNotFound("exercise")
	}
	e, err := s.exercises.Exercise(ctx, id)
	if err != nil {
		return err
	}
	for _, p := range e.Participants {
		if p.State == a.State {
			return nil
		}
	}
	return app.ErrNotFound("exercise")
}

// hideExercise keeps the exercise a need was learnt from for the needing
// State and the Secretariat: another State would learn that the needing
// State took part in it, which participants do not tell each other.
func hideExercise(a *app.Actor, n *Need) {
	if !a.IsSecretariat() && a.State != n.State {
		n.ExerciseID = 0
	}
}

// UpdateNeed changes an open need of the actor's State: what is needed,
// by when, and who may see it.
func (s *Service) UpdateNeed(ctx context.Context, id int64, in NeedInput) (*Need, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.normalize(); err != nil {
		return nil, err
	}
	return s.changeOpenNeed(ctx, a, id, "need_changed", func(n *Need) { n.NeedInput = in })
}

// changeOpenNeed changes an open need of the actor's State (its focal
// point's) with change, and logs it as typ.
func (s *Service) changeOpenNeed(ctx context.Context, a *app.Actor, id int64, typ string, change func(*Need)) (*Need, error) {
	now := s.Now()
	var n *Need
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		n, _, err = s.need(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if !canRecord(a, n.State) {
			return app.ErrForbidden()
		}
		if n.Status != NeedOpen {
			return app.Errorf(app.Conflict, "error.capacity_need_closed", "this need is no longer open")
		}
		change(n)
		n.UpdatedAt = now
		if err := updateNeed(ctx, tx, n); err != nil {
			return err
		}
		return logEvent(ctx, tx, a, typ, needObject(n.ID), []string{n.State}, now)
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

// WithdrawNeed closes an open need of the actor's State.
func (s *Service) WithdrawNeed(ctx context.Context, id int64) (*Need, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	return s.changeOpenNeed(ctx, a, id, "need_withdrawn", func(n *Need) { n.Status = NeedWithdrawn })
}

// Need returns a need the actor may see.
func (s *Service) Need(ctx context.Context, id int64) (*Need, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	n, _, err := s.need(ctx, s.DB, a, id)
	return n, err
}

// Needs lists a page of the needs the actor may see, newest first from
// the cursor k, limit of them (app.PageSize when 0).
func (s *Service) Needs(ctx context.Context, k app.Cursor, limit int) (*NeedPage, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if limit, err = app.Limit(limit); err != nil {
		return nil, err
	}
	v, err := s.view(ctx, s.DB, a)
	if err != nil {
		return nil, err
	}
	list, err := app.Collect(k, limit, func(k app.Cursor, n int) ([]*Need, error) { return listNeeds(ctx, s.DB, k, n) }, needCursor, v.seesNeed)
	if err != nil {
		return nil, err
	}
	p := &NeedPage{}
	p.List, p.Older, p.Newer = app.Paginate(k, list, limit, needCursor)
	for _, n := range p.List {
		hideExercise(a, n)
	}
	return p, nil
}

func needCursor(n *Need) app.Cursor { return app.CursorAt(n.CreatedAt, n.ID) }

// ExerciseNeeds lists the needs that an exercise's findings became, newest
// first: every one for the Secretariat, the reader's own State's for a
// State (a need's exercise is hidden from every other State, so that no
// participant learns who else took part: hideExercise).
func (s *Service) ExerciseNeeds(ctx context.Context, exercise int64) ([]*Need, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() && a.State == "" {
		return nil, nil
	}
	state := a.State
	if a.IsSecretariat() {
		state = ""
	}
	return exerciseNeeds(ctx, s.DB, exercise, state)
}

func (in *OfferInput) normalize(a *app.Actor) error {
	var v app.Validation
	in.Partner = strings.TrimSpace(in.Partner)
	if a.IsSecretariat() {
		directory.CheckLen(&v, "partner", in.Partner, MaxShort, true)
	} else if in.Partner != "" {
		v.Add("partner", "error.capacity_partner", "only the Secretariat records an offer for a partner", nil)
	}
	checkKind(&v, in.Kind)
	in.Topics, in.TopicOther = checkTopics(&v, in.Topics, in.TopicOther)
	if in.Level != "" && !in.Level.Valid() {
		v.Add("level", "error.required", "choose a level", nil)
	}
	in.Languages = directory.CheckLanguages(&v, "languages", in.Languages)
	if !slices.Contains(Formats, in.Format) {
		v.Add("format", "error.capacity_format", "choose in person, online or both", nil)
	}
	if in.Capacity < 0 || in.Capacity > MaxCapacity {
		v.Add("capacity", "error.capacity_number", "a number from 0 to {{.Max}}", map[string]any{"Max": MaxCapacity})
	}
	in.PeriodFrom = checkDate(&v, "period_from", in.PeriodFrom)
	in.PeriodTo = checkDate(&v, "period_to", in.PeriodTo)
	if in.PeriodFrom != "" && in.PeriodTo != "" && in.PeriodTo < in.PeriodFrom {
		v.Add("period_to", "error.capacity_period", "the period ends before it starts", nil)
	}
	directory.CheckText(&v, "details", &in.Details, MaxText)
	return v.Err()
}

// RecordOffer records what the actor's State, or (for the Secretariat) a
// named partner, can give.
func (s *Service) RecordOffer(ctx context.Context, in OfferInput) (*Offer, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	if !CanRecordOffer(a) {
		return nil, app.ErrForbidden()
	}
	if err := in.normalize(a); err != nil {
		return nil, err
	}
	now := s.Now()
	o := &Offer{OfferInput: in, Status: OfferOpen, CreatedBy: a.Email, CreatedAt: now, UpdatedAt: now}
	if !a.IsSecretariat() {
		o.State = a.State
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := insertOffer(ctx, tx, o); err != nil {
			return err
		}
		return logEvent(ctx, tx, a, "offer_recorded", offerObject(o.ID), states(o.State), now)
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// CanWithdrawOffer reports whether the actor may withdraw the offer: its
// State's focal point, or the Secretariat for a partner's offer.
func CanWithdrawOffer(a *app.Actor, o *Offer) bool {
	return o.Status == OfferOpen && canAnswerFor(a, o)
}

// CanWithdrawNeed reports whether the actor may change or withdraw the
// need: its State's focal point, while it is open.
func CanWithdrawNeed(a *app.Actor, n *Need) bool {
	return n.Status == NeedOpen && canRecord(a, n.State)
}

// canAnswerFor: who answers for an offer (accepts a match, withdraws it):
// the offering State's focal point; for a partner's offer, the
// Secretariat.
func canAnswerFor(a *app.Actor, o *Offer) bool {
	if o.State == "" {
		return CanManage(a)
	}
	return canRecord(a, o.State)
}

// WithdrawOffer closes an offer.
func (s *Service) WithdrawOffer(ctx context.Context, id int64) (*Offer, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	var o *Offer
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		o, err = getOffer(ctx, tx, id)
		if err != nil {
			return err
		}
		if o == nil || !seesOffer(a, o) {
			return app.ErrNotFound("offer")
		}
		if !canAnswerFor(a, o) {
			return app.ErrForbidden()
		}
		if o.Status != OfferOpen {
			return app.Errorf(app.Conflict, "error.capacity_offer_closed", "this offer is no longer open")
		}
		o.Status, o.UpdatedAt = OfferWithdrawn, now
		if err := setOfferStatus(ctx, tx, id, OfferWithdrawn, now); err != nil {
			return err
		}
		return logEvent(ctx, tx, a, "offer_withdrawn", offerObject(o.ID), states(o.State), now)
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// Offer returns an offer the actor may see.
func (s *Service) Offer(ctx context.Context, id int64) (*Offer, error) {
	// An observer granted the offers reads the open ones (seesOffer).
	a, err := app.RequireAnyActor(ctx)
	if err != nil {
		return nil, err
	}
	o, err := getOffer(ctx, s.DB, id)
	if err != nil {
		return nil, err
	}
	if o == nil || !seesOffer(a, o) {
		return nil, app.ErrNotFound("offer")
	}
	return forReader(a, o), nil
}

// forReader hides from an observer who recorded an offer: it reads the
// offer, not the States' staff.
func forReader(a *app.Actor, o *Offer) *Offer {
	if !a.IsObserver() {
		return o
	}
	c := *o
	c.CreatedBy = ""
	return &c
}

// Offers lists a page of the offers the actor may see, newest first from
// the cursor k, limit of them (app.PageSize when 0).
func (s *Service) Offers(ctx context.Context, k app.Cursor, limit int) (*OfferPage, error) {
	// An observer granted the offers reads the open ones (seesOffer).
	a, err := app.RequireAnyActor(ctx)
	if err != nil {
		return nil, err
	}
	if limit, err = app.Limit(limit); err != nil {
		return nil, err
	}
	list, err := app.Collect(k, limit, func(k app.Cursor, n int) ([]*Offer, error) { return listOffers(ctx, s.DB, k, n) }, offerCursor,
		func(o *Offer) bool { return seesOffer(a, o) })
	if err != nil {
		return nil, err
	}
	p := &OfferPage{}
	p.List, p.Older, p.Newer = app.Paginate(k, list, limit, offerCursor)
	for i, o := range p.List {
		p.List[i] = forReader(a, o)
	}
	return p, nil
}

func offerCursor(o *Offer) app.Cursor { return app.CursorAt(o.CreatedAt, o.ID) }

// states lists the State a log entry concerns, none for a partner.
func states(codes ...string) []string {
	var out []string
	for _, c := range codes {
		if c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}
