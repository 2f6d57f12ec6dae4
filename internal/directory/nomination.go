package directory

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/db"
)

// A change to a State's entry is a nomination before it is a change: the
// State's focal point drafts it, submits it (the notification of the seeds'
// 30-day rule), and the Secretariat validates it with the official reference
// (e.g. the number and date of a note verbale) or returns it with a reason.
// Only validation changes the directory; until then the State sees its
// pending changes and other States see the validated entry.
//
// Four eyes: nobody decides alone who speaks for a State. A change the
// Secretariat proposes on the State's written request is applied only when
// a focal point of the State confirms it or, while the State has no focal
// point, when a second officer of the Secretariat approves it; nobody
// validates a change they proposed or submitted. Every validated change is
// announced to the State's focal points.

// CanPropose reports whether the actor may propose changes to the State's
// entry: its focal points, and the Secretariat on the State's written
// request (whose reference it must give).
func CanPropose(a *app.Actor, state string) bool {
	return CanEdit(a, state) || (a != nil && !a.ReadOnly && a.IsSecretariat())
}

func errNominationOpen() error {
	return app.Errorf(app.Conflict, "error.nomination_open", "a change to this is already waiting for validation: revise that one")
}

// checkVersion refuses a change that does not say which version it
// started from, and one that started from another than the current.
func checkVersion(given, current int) error {
	if given < 1 {
		return app.FieldError("version", "error.version_required", "give the version you started from (If-Match or version)", nil)
	}
	if given != current {
		return errConflict()
	}
	return nil
}

func errStale() error {
	return app.Errorf(app.Conflict, "error.nomination_stale", "the entry has changed since this change was proposed: return it so that the State proposes it again")
}

// proposer checks who may put forward a change for the State, and returns
// the written request's reference when the Secretariat acts for the State.
func proposer(ctx context.Context, state string, sub Submission) (*app.Actor, string, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, "", err
	}
	if CanEdit(a, state) {
		return a, "", nil
	}
	if !a.IsSecretariat() {
		return nil, "", app.ErrForbidden()
	}
	ref := strings.TrimSpace(sub.RequestRef)
	var v app.Validation
	checkLen(&v, "request_ref", ref, maxShort, true)
	if err := v.Err(); err != nil {
		e := app.AsError(err)
		if e.Key == "error.required" || (len(e.Fields) > 0 && e.Fields[0].Key == "error.required") {
			return nil, "", app.FieldError("request_ref", "error.request_ref", "give the reference of the State's written request", nil)
		}
		return nil, "", err
	}
	return a, ref, nil
}

// ProposePoC proposes a new PoC for the State.
func (s *Service) ProposePoC(ctx context.Context, state string, in PoCInput) (*Nomination, error) {
	state = strings.ToUpper(state)
	if _, err := app.RequireWrite(ctx); err != nil {
		return nil, err
	}
	if _, err := s.requireState(ctx, s.DB, state); err != nil {
		return nil, err
	}
	a, ref, err := proposer(ctx, state, in.Submission)
	if err != nil {
		return nil, err
	}
	_, eff, err := in.normalize(s.Now())
	if err != nil {
		return nil, err
	}
	in.EffectiveDate = eff
	n := &Nomination{State: state, Action: "poc.create", PoC: &in}
	return s.propose(ctx, a, n, in.Draft, ref)
}

// ProposePoCUpdate proposes new values for a PoC. in.Version is the PoC's
// version the editor started from: if the PoC has changed since, the
// proposal is refused with Conflict and nothing is written.
func (s *Service) ProposePoCUpdate(ctx context.Context, id int64, in PoCInput) (*Nomination, error) {
	old, err := s.currentPoC(ctx, id)
	if err != nil {
		return nil, err
	}
	a, ref, err := proposer(ctx, old.State, in.Submission)
	if err != nil {
		return nil, err
	}
	if err := checkVersion(in.Version, old.Version); err != nil {
		return nil, err
	}
	key, eff, err := in.normalize(s.Now())
	if err != nil {
		return nil, err
	}
	in.EffectiveDate = eff
	if len(diffPoC(old, pocFromInput(old.State, in, key))) == 0 {
		return nil, app.Errorf(app.Invalid, "error.nomination_empty", "nothing was changed")
	}
	n := &Nomination{State: old.State, Action: "poc.update", PoCID: id, BaseVersion: old.Version, PoC: &in}
	return s.propose(ctx, a, n, in.Draft, ref)
}

// ProposePoCRemoval proposes removing a PoC; an effective date in the
// future marks the PoC as leaving on that date.
func (s *Service) ProposePoCRemoval(ctx context.Context, id int64, in RemovalInput) (*Nomination, error) {
	old, err := s.currentPoC(ctx, id)
	if err != nil {
		return nil, err
	}
	a, ref, err := proposer(ctx, old.State, in.Submission)
	if err != nil {
		return nil, err
	}
	if err := checkVersion(in.Version, old.Version); err != nil {
		return nil, err
	}
	eff, err := ParseEffectiveDate(in.EffectiveDate, s.Now())
	if err != nil {
		return nil, err
	}
	n := &Nomination{State: old.State, Action: "poc.remove", PoCID: id, BaseVersion: old.Version, EffectiveDate: eff}
	return s.propose(ctx, a, n, in.Draft, ref)
}

// ProposeEntryUpdate proposes new entry-level fields for the State.
func (s *Service) ProposeEntryUpdate(ctx context.Context, state string, in EntryInput) (*Nomination, error) {
	state = strings.ToUpper(state)
	if _, err := app.RequireWrite(ctx); err != nil {
		return nil, err
	}
	old, err := s.requireState(ctx, s.DB, state)
	if err != nil {
		return nil, err
	}
	a, ref, err := proposer(ctx, state, in.Submission)
	if err != nil {
		return nil, err
	}
	if err := checkVersion(in.Version, old.Version); err != nil {
		return nil, err
	}
	eff, err := in.normalize(s.Now())
	if err != nil {
		return nil, err
	}
	in.EffectiveDate = eff
	if len(diffEntry(old, &in)) == 0 {
		return nil, app.Errorf(app.Invalid, "error.nomination_empty", "nothing was changed")
	}
	n := &Nomination{State: state, Action: "entry.update", BaseVersion: old.Version, Entry: &in}
	return s.propose(ctx, a, n, in.Draft, ref)
}

func (s *Service) currentPoC(ctx context.Context, id int64) (*PoC, error) {
	if _, err := app.RequireWrite(ctx); err != nil {
		return nil, err
	}
	p, err := getPoC(ctx, s.DB, id, s.today())
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, app.ErrNotFound("poc")
	}
	return p, nil
}

// prepare moves the proposal's effective date to the nomination and clears
// the fields that describe how it was put forward, which are not part of
// the proposed data.
func (n *Nomination) prepare() {
	n.emptyLists()
	if n.PoC != nil {
		n.EffectiveDate, n.PoC.EffectiveDate = n.PoC.EffectiveDate, ""
		n.PoC.Version, n.PoC.Submission = 0, Submission{}
	}
	if n.Entry != nil {
		n.EffectiveDate, n.Entry.EffectiveDate = n.Entry.EffectiveDate, ""
		n.Entry.Version, n.Entry.Submission = 0, Submission{}
	}
}

// emptyLists makes the proposal's lists empty rather than null in JSON.
func (n *Nomination) emptyLists() {
	if p := n.PoC; p != nil {
		if p.Channels == nil {
			p.Channels = []Channel{}
		}
		if p.Languages == nil {
			p.Languages = []string{}
		}
		if p.RegionalRefs == nil {
			p.RegionalRefs = []RegionalRef{}
		}
	}
}

func (s *Service) propose(ctx context.Context, a *app.Actor, n *Nomination, draft bool, ref string) (*Nomination, error) {
	now := s.Now()
	n.prepare()
	n.Status, n.Version, n.RequestRef = NomSubmitted, 1, ref
	n.CreatedBy, n.CreatedAt, n.UpdatedAt = a.Email, now, now
	if draft {
		n.Status = NomDraft
	} else {
		n.SubmittedBy, n.SubmittedAt = a.Email, &now
	}
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := insertNomination(ctx, tx, n, a.UserID); err != nil {
			if db.IsUniqueViolation(err) {
				return errNominationOpen()
			}
			return err
		}
		if n.Status == NomSubmitted {
			return logNomination(ctx, tx, a, n, "submitted", now)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.withDiff(ctx, n)
}

// logNomination records a step of the workflow in the accountability log.
// Like account events, the entry carries no content: who did what to which
// nomination of which State, and when. The change a validation makes is
// logged with its commitment (see record).
func logNomination(ctx context.Context, tx *sql.Tx, a *app.Actor, n *Nomination, step string, at time.Time) error {
	err := auditlog.Append(ctx, tx, auditlog.Event{Type: "directory.nomination." + step,
		Object: "nomination:" + itoa64(n.ID), States: []string{n.State}, At: at}.By(a))
	return err
}

// canSee reports whether the actor may see the nomination: the State's own
// users always; the Secretariat once it is submitted (or when it acts for
// the State); nobody else.
func canSee(a *app.Actor, n *Nomination) bool {
	switch {
	case a == nil:
		return false
	case a.State == n.State && a.State != "":
		return true
	case a.IsSecretariat():
		return n.Status != NomDraft || n.RequestRef != ""
	}
	return false
}

// CanAct reports whether the actor may revise, submit or withdraw the
// nomination: the State's focal points, or the Secretariat for a nomination
// it made on the State's written request.
func CanAct(a *app.Actor, n *Nomination) bool {
	return CanEdit(a, n.State) || (a != nil && !a.ReadOnly && a.IsSecretariat() && n.RequestRef != "")
}

// Nomination returns one nomination the actor may see.
func (s *Service) Nomination(ctx context.Context, id int64) (*Nomination, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	n, err := getNomination(ctx, s.DB, id)
	if err != nil {
		return nil, err
	}
	if n == nil || !canSee(a, n) {
		return nil, app.ErrNotFound("nomination")
	}
	return s.withDiff(ctx, n)
}

// Nominations lists a page of the nominations the actor may see, newest
// first from the cursor k, limit of them (app.PageSize when 0): a State's
// users see their State's, the Secretariat every State's once submitted.
func (s *Service) Nominations(ctx context.Context, f NominationFilter, k app.Cursor, limit int) (*NominationPage, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = app.PageSize
	}
	list, err := s.nominations(ctx, a, f, k, limit+1)
	if err != nil {
		return nil, err
	}
	p := &NominationPage{}
	p.List, p.Older, p.Newer = app.Paginate(k, list, limit, func(n *Nomination) app.Cursor { return app.CursorAt(n.CreatedAt, n.ID) })
	if err := s.withDiffs(ctx, p.List); err != nil {
		return nil, err
	}
	return p, nil
}

// nominations reads the nominations the actor may see, in the order of
// the cursor's walk, at most limit of them (all when 0), without their
// diffs.
func (s *Service) nominations(ctx context.Context, a *app.Actor, f NominationFilter, k app.Cursor, limit int) ([]*Nomination, error) {
	state := strings.ToUpper(f.State)
	if !a.IsSecretariat() {
		if a.State == "" || (state != "" && state != a.State) {
			return []*Nomination{}, nil
		}
		state = a.State
	}
	// The Secretariat's own view leaves out the States' drafts in the
	// query, so that a page is whole; canSee stays the rule.
	list, err := listNominations(ctx, s.DB, state, f.Status, f.Open, a.State == "", k, limit)
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, n := range list {
		if canSee(a, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// withDiffs gives each nomination of list its diff, the applied changes of
// the validated read together.
func (s *Service) withDiffs(ctx context.Context, list []*Nomination) error {
	var changeIDs []int64
	for _, n := range list {
		if n.ChangeID != 0 {
			changeIDs = append(changeIDs, n.ChangeID)
		}
	}
	changes, err := changesByID(ctx, s.DB, changeIDs)
	if err != nil {
		return err
	}
	for _, n := range list {
		if _, err := s.withDiffOf(ctx, n, changes); err != nil {
			return err
		}
	}
	return nil
}

// actable loads a nomination the actor may act on for the State, at the
// version the actor saw.
func (s *Service) actable(ctx context.Context, id int64, version int) (*app.Actor, *Nomination, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, nil, err
	}
	n, err := getNomination(ctx, s.DB, id)
	if err != nil {
		return nil, nil, err
	}
	if n == nil || !canSee(a, n) {
		return nil, nil, app.ErrNotFound("nomination")
	}
	if !CanAct(a, n) {
		return nil, nil, app.ErrForbidden()
	}
	if !n.Status.Open() {
		return nil, nil, errDecided(n)
	}
	if version != n.Version {
		return nil, nil, errConflict()
	}
	return a, n, nil
}

func errDecided(n *Nomination) error {
	return app.Errorf(app.Conflict, "error.nomination_decided", "this change is already %s", n.Status)
}

// ReviseNomination replaces what an open nomination proposes. A returned or
// submitted nomination goes back to draft unless the revision submits it.
func (s *Service) ReviseNomination(ctx context.Context, id int64, r Revision) (*Nomination, error) {
	a, n, err := s.actable(ctx, id, r.Version)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	switch n.Action {
	case "poc.create", "poc.update":
		if r.PoC == nil {
			return nil, app.Errorf(app.Invalid, "error.form", "the PoC's fields are missing")
		}
		in := *r.PoC
		key, eff, err := in.normalize(now)
		if err != nil {
			return nil, err
		}
		in.EffectiveDate = eff
		if n.Action == "poc.update" {
			old, err := getPoC(ctx, s.DB, n.PoCID, s.today())
			if err != nil {
				return nil, err
			}
			if old == nil || old.Version != n.BaseVersion {
				return nil, errStale()
			}
			if len(diffPoC(old, pocFromInput(old.State, in, key))) == 0 {
				return nil, app.Errorf(app.Invalid, "error.nomination_empty", "nothing was changed")
			}
		}
		n.PoC = &in
	case "entry.update":
		if r.Entry == nil {
			return nil, app.Errorf(app.Invalid, "error.form", "the entry's fields are missing")
		}
		in := *r.Entry
		eff, err := in.normalize(now)
		if err != nil {
			return nil, err
		}
		in.EffectiveDate = eff
		n.Entry = &in
	case "poc.remove":
		eff, err := ParseEffectiveDate(r.EffectiveDate, now)
		if err != nil {
			return nil, err
		}
		n.EffectiveDate = eff
	}
	n.prepare()
	n.Status = NomDraft
	if r.Submit {
		n.Status, n.SubmittedBy, n.SubmittedAt = NomSubmitted, a.Email, &now
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := reviseNomination(ctx, tx, n, now)
		if err != nil || !ok {
			return orConflict(err, ok)
		}
		if r.Submit {
			return logNomination(ctx, tx, a, n, "submitted", now)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Nomination(ctx, n.ID)
}

func orConflict(err error, ok bool) error {
	if err != nil {
		return err
	}
	if !ok {
		return errConflict()
	}
	return nil
}

// SubmitNomination submits a draft (or returned) nomination for validation.
// Its submission is the State's notification of the change.
func (s *Service) SubmitNomination(ctx context.Context, id int64, version int) (*Nomination, error) {
	a, n, err := s.actable(ctx, id, version)
	if err != nil {
		return nil, err
	}
	if n.Status == NomSubmitted {
		return nil, app.Errorf(app.Conflict, "error.nomination_submitted", "this change is already submitted")
	}
	now := s.Now()
	return s.step(ctx, a, n, "submitted", now, `status = 'submitted', submitted_by_email = $1, submitted_at = $2`, a.Email, now)
}

// WithdrawNomination withdraws an open nomination; it stays on record.
func (s *Service) WithdrawNomination(ctx context.Context, id int64, version int) (*Nomination, error) {
	a, n, err := s.actable(ctx, id, version)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	return s.step(ctx, a, n, "withdrawn", now, `status = 'withdrawn', decided_by_email = $1, decided_at = $2`, a.Email, now)
}

// step moves a nomination at its version to a new state, logged.
func (s *Service) step(ctx context.Context, a *app.Actor, n *Nomination, name string, now time.Time, set string, args ...any) (*Nomination, error) {
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := stepNomination(ctx, tx, n, now, set, args...)
		if err != nil || !ok {
			return orConflict(err, ok)
		}
		return logNomination(ctx, tx, a, n, name, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Nomination(ctx, n.ID)
}

// decidable loads a submitted nomination for the decision of the actor,
// who must be the one it awaits (see Awaiting*).
func (s *Service) decidable(ctx context.Context, id int64, version int) (*app.Actor, *Nomination, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, nil, err
	}
	n, err := getNomination(ctx, s.DB, id)
	if err != nil {
		return nil, nil, err
	}
	if n == nil || !canSee(a, n) {
		return nil, nil, app.ErrNotFound("nomination")
	}
	if n.Status == NomSubmitted {
		if n.Awaiting, err = s.awaiting(ctx, s.DB, n); err != nil {
			return nil, nil, err
		}
	}
	// Who may decide at all comes first: a focal point decides only what
	// the Secretariat proposed for its State, and nobody their own.
	switch {
	case !a.IsSecretariat() && !a.IsFocalPointOf(n.State):
		return nil, nil, app.ErrForbidden()
	case ownNomination(a, n):
		return nil, nil, app.Errorf(app.Forbidden, "error.nomination_own", "a second person decides a change: you proposed or submitted this one")
	case !a.IsSecretariat() && n.RequestRef == "":
		return nil, nil, app.ErrForbidden()
	}
	switch {
	case n.Status == NomValidated || n.Status == NomReturned || n.Status == NomWithdrawn:
		return nil, nil, errDecided(n)
	case n.Status != NomSubmitted:
		return nil, nil, app.Errorf(app.Conflict, "error.nomination_not_submitted", "only a submitted change can be validated or returned")
	case !CanDecide(a, n):
		if n.Awaiting == AwaitingFocalPoint {
			return nil, nil, app.Errorf(app.Forbidden, "error.nomination_awaits_state", "a change the Secretariat proposed is confirmed by a focal point of the State")
		}
		return nil, nil, app.ErrForbidden()
	case version != n.Version:
		return nil, nil, errConflict()
	}
	return a, n, nil
}

// awaiting says whose decision a submitted nomination waits for: the
// Secretariat's for what the State proposed; for what the Secretariat
// proposed, a focal point's of the State, or while the State has none, a
// second officer's.
func (s *Service) awaiting(ctx context.Context, q db.Queryer, n *Nomination) (string, error) {
	if n.RequestRef == "" {
		return AwaitingSecretariat, nil
	}
	fps, err := account.FocalPoints(ctx, q, n.State)
	if err != nil {
		return "", err
	}
	if len(fps) > 0 {
		return AwaitingFocalPoint, nil
	}
	return AwaitingSecondOfficer, nil
}

// ownNomination reports whether the actor proposed or submitted the
// nomination: they do not decide it.
func ownNomination(a *app.Actor, n *Nomination) bool {
	return strings.EqualFold(a.Email, n.CreatedBy) || strings.EqualFold(a.Email, n.SubmittedBy)
}

// ReturnNomination sends a submitted nomination back to whoever proposed it,
// with a reason; they may revise and submit it again. A focal point
// refusing what the Secretariat proposed for its State returns it so.
func (s *Service) ReturnNomination(ctx context.Context, id int64, d Decision) (*Nomination, error) {
	reason := strings.TrimSpace(d.Reason)
	var v app.Validation
	checkLen(&v, "reason", reason, maxChannel, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	a, n, err := s.decidable(ctx, id, d.Version)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	return s.step(ctx, a, n, "returned", now, `status = 'returned', decided_by_email = $1, decided_at = $2, return_reason = $3`, a.Email, now, reason)
}

// ValidateNomination applies a submitted nomination to the directory and
// records the official reference and who validated it. If what it changes
// has changed since it was proposed, validation is refused (Conflict) and
// the Secretariat returns it instead.
//
// A focal point confirming what the Secretariat proposed for its State may
// leave the reference out: the State's written request is the reference.
func (s *Service) ValidateNomination(ctx context.Context, id int64, d Decision) (*Nomination, error) {
	a, n, err := s.decidable(ctx, id, d.Version)
	if err != nil {
		return nil, err
	}
	ref := strings.TrimSpace(d.Reference)
	if ref == "" && n.Awaiting == AwaitingFocalPoint {
		ref = n.RequestRef
	}
	var v app.Validation
	checkLen(&v, "reference", ref, maxShort, true)
	if err := v.Err(); err != nil {
		return nil, app.FieldError("reference", "error.official_ref", "give the official reference (e.g. the note verbale's number and date)", nil)
	}
	now := s.Now()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := validateNomination(ctx, tx, n, a.Email, ref, now)
		if err != nil || !ok {
			return orConflict(err, ok)
		}
		c := &Change{State: n.State, PoCID: n.PoCID, Action: n.Action, ActorEmail: n.SubmittedBy, ChangedAt: now, EffectiveDate: n.EffectiveDate,
			NominationID: n.ID, NotifiedAt: n.SubmittedAt, OfficialRef: ref, ValidatedBy: a.Email, RequestRef: n.RequestRef}
		if err := s.apply(ctx, tx, n, c, now); err != nil {
			return err
		}
		if err := record(ctx, tx, a, c); err != nil {
			return err
		}
		if err := linkNominationChange(ctx, tx, n.ID, c); err != nil {
			return err
		}
		return s.announce(ctx, tx, n, c, now)
	})
	if err != nil {
		return nil, err
	}
	s.invalidate()
	return s.Nomination(ctx, n.ID)
}

// apply writes the nomination's change in tx and fills the change's PoC
// and diff.
func (s *Service) apply(ctx context.Context, tx *sql.Tx, n *Nomination, c *Change, now time.Time) error {
	today := now.UTC().Format(time.DateOnly)
	switch n.Action {
	case "poc.create":
		in := *n.PoC
		key, _, err := in.normalize(now)
		if err != nil {
			return err
		}
		p := pocFromInput(n.State, in, key)
		p.CreatedAt, p.UpdatedAt, p.Version = now, now, 1
		if err := insertPoC(ctx, tx, p); err != nil {
			return err
		}
		if err := setFirstNominated(ctx, tx, n.State, now); err != nil {
			return err
		}
		c.PoCID, c.Diff = p.ID, diffPoC(&PoC{}, p)
	case "poc.update":
		old, err := getPoC(ctx, tx, n.PoCID, today)
		if err != nil {
			return err
		}
		if old == nil || old.Version != n.BaseVersion {
			return errStale()
		}
		in := *n.PoC
		key, _, err := in.normalize(now)
		if err != nil {
			return err
		}
		p := pocFromInput(old.State, in, key)
		p.ID, p.CreatedAt, p.UpdatedAt = old.ID, old.CreatedAt, now
		ok, err := updatePoC(ctx, tx, p, old.Version)
		if err != nil || !ok {
			return orStale(err, ok)
		}
		c.Diff = diffPoC(old, p)
	case "poc.remove":
		old, err := getPoC(ctx, tx, n.PoCID, today)
		if err != nil {
			return err
		}
		if old == nil || old.Version != n.BaseVersion {
			return errStale()
		}
		ok, err := removePoC(ctx, tx, old.ID, old.Version, now, n.EffectiveDate, today)
		if err != nil || !ok {
			return orStale(err, ok)
		}
		c.Diff = diffPoC(old, &PoC{})
		if n.EffectiveDate > today {
			c.Diff = append(c.Diff, FieldChange{Field: "leaving_on", New: n.EffectiveDate})
		}
	case "entry.update":
		old, err := getState(ctx, tx, n.State)
		if err != nil {
			return err
		}
		if old == nil || old.Version != n.BaseVersion {
			return errStale()
		}
		in := *n.Entry
		ok, err := updateEntry(ctx, tx, n.State, in, old.Version, now)
		if err != nil || !ok {
			return orStale(err, ok)
		}
		c.Diff = diffEntry(old, &in)
	default:
		return app.Errorf(app.Internal, "error.internal", "unknown nomination action %q", n.Action)
	}
	return nil
}

func orStale(err error, ok bool) error {
	if err != nil {
		return err
	}
	if !ok {
		return errStale()
	}
	return nil
}

// CanDecide reports whether the actor may validate (or confirm) or return
// (or refuse) the nomination: once it is submitted, the one it awaits (see
// Awaiting*), and never who proposed or submitted it. The nomination's
// Awaiting must be filled (Nomination and Nominations fill it).
func CanDecide(a *app.Actor, n *Nomination) bool {
	if a == nil || a.ReadOnly || n.Status != NomSubmitted || ownNomination(a, n) {
		return false
	}
	switch n.Awaiting {
	case AwaitingSecretariat, AwaitingSecondOfficer:
		return a.IsSecretariat()
	case AwaitingFocalPoint:
		return a.IsFocalPointOf(n.State)
	}
	return false
}
