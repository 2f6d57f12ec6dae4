package account

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/notify"
)

// Invite creates a one-time invitation link. The returned Invitation carries
// the link's secret once; only its hash is stored.
func (s *Service) Invite(ctx context.Context, in InviteInput) (*Invitation, error) {
	a, err := requireSession(ctx)
	if err != nil {
		return nil, err
	}
	if a.Role == app.RoleOfficer {
		return nil, app.ErrForbidden()
	}
	if a.Role == app.RoleFocalPoint && in.State == "" {
		in.State = a.State
	}
	// Rights first, so that a refused inviter learns nothing from validation.
	if !canInvite(a, in.Role, strings.ToUpper(strings.TrimSpace(in.State))) {
		return nil, app.ErrForbidden()
	}
	u, err := s.validateNewUser(in)
	if err != nil {
		return nil, err
	}
	existing, err := getUser(ctx, s.DB, "email = $1", u.Email)
	if err != nil {
		return nil, err
	}
	if existing != nil {
		return nil, app.FieldError("email", "error.email_taken", "an account with this email address exists", nil)
	}
	now := s.Now()
	lang := in.Language
	if lang == "" {
		lang = "en"
	}
	if !s.mail.Catalog().Has(lang) {
		return nil, app.FieldError("language", "error.language_unknown", "unknown language", nil)
	}
	inv := &Invitation{Email: u.Email, Name: u.Name, Role: u.Role, State: u.State, Organisation: u.Organisation, Language: lang, InvitedBy: a.Email, CreatedAt: now,
		ExpiresAt: now.Add(s.policy.InviteTTL), Token: newSecret("pdi_"), invitedBy: a.UserID}
	// Four eyes: who acts for a State, and who is of the Secretariat, is
	// not decided by one officer. The Secretariat's invitation waits for a
	// second person, and has no link until then (the operator's command
	// line, the root of trust, does not wait).
	inv.NeedsApproval = a.IsSecretariat() && a != app.System
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := insertInvite(ctx, tx, inv, hashSecret(inv.Token), a.UserID); err != nil {
			return err
		}
		if err := logEvent(ctx, tx, a, "invitation.create", "invitation", inv.ID, inv.State, now); err != nil {
			return err
		}
		if inv.NeedsApproval {
			inv.Awaiting, err = s.awaiting(ctx, tx, inv)
			return err
		}
		if err := s.mailInvitation(ctx, tx, inv, now); err != nil {
			return err
		}
		return s.announceInvitation(ctx, tx, inv, a, now)
	})
	if err != nil {
		return nil, err
	}
	if inv.NeedsApproval {
		inv.Token = "" // the link that was made is never given: approval makes one
	}
	return inv, nil
}

// awaiting says whose approval a pending invitation waits for: a focal
// point of the State it is for or, for the Secretariat's own accounts,
// observers, and while the State has no focal point, a second officer.
func (s *Service) awaiting(ctx context.Context, q db.Queryer, inv *Invitation) (string, error) {
	if inv.State == "" {
		return AwaitingSecondOfficer, nil
	}
	fps, err := FocalPoints(ctx, q, inv.State)
	if err != nil {
		return "", err
	}
	if len(fps) > 0 {
		return AwaitingFocalPoint, nil
	}
	return AwaitingSecondOfficer, nil
}

// CanApprove reports whether the actor may approve a pending invitation:
// the one it awaits, never who made it.
func CanApprove(a *app.Actor, inv *Invitation) bool {
	if a == nil || a.ReadOnly || !inv.Pending() || a.UserID == inv.invitedBy || strings.EqualFold(a.Email, inv.InvitedBy) {
		return false
	}
	switch inv.Awaiting {
	case AwaitingFocalPoint:
		return a.IsFocalPointOf(inv.State)
	case AwaitingSecondOfficer:
		return a.IsSecretariat()
	}
	return false
}

// ApproveInvitation is the second person's approval of an invitation the
// Secretariat made: the invitation gets its link, valid from now, which is
// emailed to the invitee (and returned, for the approver to pass on when
// email is not configured). A focal point of the State approves
// invitations to its State; a second officer those to the Secretariat, and
// to a State that has no focal point yet. Nobody approves their own.
func (s *Service) ApproveInvitation(ctx context.Context, id int64) (*Invitation, error) {
	a, err := requireSession(ctx)
	if err != nil {
		return nil, err
	}
	inv, err := getInvite(ctx, s.DB, "i.id = $1", id)
	if err != nil {
		return nil, err
	}
	if inv == nil || !(a.IsSecretariat() || (inv.State != "" && a.State == inv.State)) {
		return nil, app.ErrNotFound("invitation")
	}
	if !inv.Pending() {
		return nil, app.Errorf(app.Conflict, "error.invite_not_pending", "this invitation does not wait for approval")
	}
	if inv.Awaiting, err = s.awaiting(ctx, s.DB, inv); err != nil {
		return nil, err
	}
	if a.UserID == inv.invitedBy {
		return nil, app.Errorf(app.Forbidden, "error.invite_own", "a second person approves an invitation: you made this one")
	}
	if !CanApprove(a, inv) {
		if inv.Awaiting == AwaitingFocalPoint {
			return nil, app.Errorf(app.Forbidden, "error.invite_awaits_state", "an invitation to a State's account is approved by a focal point of the State")
		}
		return nil, app.ErrForbidden()
	}
	now := s.Now()
	inv.Token, inv.ExpiresAt = newSecret("pdi_"), now.Add(s.policy.InviteTTL)
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := approveInvite(ctx, tx, inv.ID, a.UserID, hashSecret(inv.Token), now, inv.ExpiresAt)
		if err != nil {
			return err
		}
		if !ok {
			return app.Errorf(app.Conflict, "error.invite_not_pending", "this invitation does not wait for approval")
		}
		if err := logEvent(ctx, tx, a, "invitation.approve", "invitation", inv.ID, inv.State, now); err != nil {
			return err
		}
		if err := s.mailInvitation(ctx, tx, inv, now); err != nil {
			return err
		}
		return s.announceInvitation(ctx, tx, inv, a, now)
	})
	if err != nil {
		return nil, err
	}
	inv.ApprovedBy, inv.ApprovedAt, inv.Awaiting = a.Email, &now, ""
	return inv, nil
}

// mailInvitation puts the invitation email in the outbox, in the
// invitation's transaction: the link goes to the invitee's address, the one
// channel the invitation vouches for. Without the portal's public address
// there is no link to send: the inviter passes it on.
func (s *Service) mailInvitation(ctx context.Context, tx *sql.Tx, inv *Invitation, now time.Time) error {
	if s.mail.BaseURL() == "" {
		return nil
	}
	m := s.mail.Write(notify.Letter{Kind: "invitation", To: notify.Reader{Email: inv.Email, Lang: inv.Language},
		Subject: notify.T("mail.invitation.subject"),
		Body: []notify.Text{notify.T("mail.invitation.body", "Inviter", inv.InvitedBy, "Role", notify.Term("role."+string(inv.Role)),
			"State", notify.State(inv.State), "Link", s.mail.Link("/invite/"+inv.Token), "Expires", inv.ExpiresAt.Format("2006-01-02 15:04 UTC"))}})
	if err := notify.Enqueue(ctx, tx, now, m); err != nil {
		return err
	}
	inv.Emailed = true
	return nil
}

// InvitationPage is a page of invitations, with the cursors of the pages
// around it.
type InvitationPage struct {
	List         []*Invitation
	Older, Newer *app.Cursor
}

// Invitations lists a page of the invitations the actor may see, newest
// first from the cursor k, limit of them (app.PageSize when 0): all for
// the Secretariat, their own State's for a focal point.
func (s *Service) Invitations(ctx context.Context, k app.Cursor, limit int) (*InvitationPage, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	var state string
	switch a.Role {
	case app.RoleSecretariat:
	case app.RoleFocalPoint:
		state = a.State
	default:
		return nil, app.ErrForbidden()
	}
	if limit, err = app.Limit(limit); err != nil {
		return nil, err
	}
	list, err := listInvites(ctx, s.DB, state, k, limit+1)
	if err != nil {
		return nil, err
	}
	p := &InvitationPage{}
	p.List, p.Older, p.Newer = app.Paginate(k, list, limit, func(inv *Invitation) app.Cursor { return app.CursorAt(inv.CreatedAt, inv.ID) })
	for _, inv := range p.List {
		if inv.Pending() {
			if inv.Awaiting, err = s.awaiting(ctx, s.DB, inv); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// RevokeInvitation makes an unused invitation link worthless.
func (s *Service) RevokeInvitation(ctx context.Context, id int64) error {
	a, err := requireSession(ctx)
	if err != nil {
		return err
	}
	inv, err := getInvite(ctx, s.DB, "i.id = $1", id)
	if err != nil {
		return err
	}
	if inv == nil || (a.Role != app.RoleSecretariat && !(a.Role == app.RoleFocalPoint && inv.State == a.State)) {
		return app.ErrNotFound("invitation")
	}
	if !canInvite(a, inv.Role, inv.State) {
		return app.ErrForbidden()
	}
	now := s.Now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := revokeInvite(ctx, tx, id, now)
		if err != nil || !ok {
			return err
		}
		return logEvent(ctx, tx, a, "invitation.revoke", "invitation", id, inv.State, now)
	})
}

// LookupInvitation returns the invitation of a link, or a clear error when
// the link is unknown, used, revoked or expired. It needs no actor: the link
// is the credential.
func (s *Service) LookupInvitation(ctx context.Context, token string) (*Invitation, error) {
	if !strings.HasPrefix(token, "pdi_") {
		return nil, errBadInvite()
	}
	inv, err := getInvite(ctx, s.DB, "i.token_hash = $1", hashSecret(token))
	if err != nil {
		return nil, err
	}
	switch {
	case inv == nil, inv.Pending():
		return nil, errBadInvite()
	case inv.UsedAt != nil:
		return nil, app.Errorf(app.Conflict, "error.invite_used", "this invitation link has already been used: sign in instead")
	case inv.RevokedAt != nil:
		return nil, app.Errorf(app.NotFound, "error.invite_revoked", "this invitation has been withdrawn")
	case !inv.ExpiresAt.After(s.Now()):
		return nil, app.Errorf(app.NotFound, "error.invite_expired", "this invitation link has expired: ask for a new one")
	}
	return inv, nil
}

func errBadInvite() error {
	return app.Errorf(app.NotFound, "error.invite_unknown", "this invitation link is not valid")
}

// AcceptInvitation creates the invited account with its password and returns
// a partial session in which the user sets up the second factor.
func (s *Service) AcceptInvitation(ctx context.Context, token, name, password, ip, ua string) (*Session, error) {
	inv, err := s.LookupInvitation(ctx, token)
	if err != nil {
		return nil, err
	}
	var v app.Validation
	name = strings.TrimSpace(name)
	if name == "" {
		name = inv.Name
	}
	if len(name) > 200 {
		v.Add("name", "error.too_long", "too long", map[string]any{"Max": 200})
	}
	if k, msg := checkPasswordRules(password, inv.Email); k != "" {
		v.Add("password", k, msg, map[string]any{"Min": MinPasswordLen})
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	var sess *Session
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		u := &User{Email: inv.Email, Name: name, Role: inv.Role, State: inv.State, Organisation: inv.Organisation, Language: inv.Language,
			CreatedAt: now, passwordHash: hash}
		if err := insertUser(ctx, tx, u); err != nil {
			if db.IsUniqueViolation(err) {
				return app.Errorf(app.Conflict, "error.email_taken", "an account with this email address exists")
			}
			return err
		}
		ok, err := useInvite(ctx, tx, inv.ID, u.ID, now)
		if err != nil {
			return err
		}
		if !ok {
			return app.Errorf(app.Conflict, "error.invite_used", "this invitation link has already been used: sign in instead")
		}
		sess, err = s.newSession(ctx, tx, u.ID, false, now, now.Add(s.policy.PartialTTL), ip, ua)
		if err != nil {
			return err
		}
		if err := logEvent(ctx, tx, u.Actor(), "invitation.accept", "user", u.ID, u.State, now); err != nil {
			return err
		}
		return s.announceAccount(ctx, tx, u, now)
	})
	return sess, err
}
