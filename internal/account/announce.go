package account

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/notify"
)

// Who can act for a State changes only in the open: every invitation to a
// State's account (once it has its link), every new account, and every API
// token of a State's user is announced to the State's focal points, in
// their language with English below, in the transaction that makes it. A
// focal point who did not expect it tells the Secretariat at once.

// announce writes a letter to each focal point of state but those whose
// address is in skip (who acted, and who the news is about, know it).
func (s *Service) announce(ctx context.Context, tx *sql.Tx, state string, now time.Time, skip []string, subject notify.Text, body ...notify.Text) error {
	if state == "" {
		return nil
	}
	to, err := FocalPoints(ctx, tx, state)
	if err != nil {
		return err
	}
	for _, r := range to {
		if containsFold(skip, r.Email) {
			continue
		}
		body := append(body, notify.T("mail.access.footer", "Link", s.mail.Link("/states/"+state+"/access")))
		if err := notify.Enqueue(ctx, tx, now, s.mail.Write(notify.Letter{Kind: "access", To: r, Subject: subject, Body: body})); err != nil {
			return err
		}
	}
	return nil
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// announceInvitation tells the State's focal points of an invitation that
// has its link: who is invited, as what, by whom, approved by whom.
func (s *Service) announceInvitation(ctx context.Context, tx *sql.Tx, inv *Invitation, by *app.Actor, now time.Time) error {
	approver := ""
	if inv.NeedsApproval {
		approver = by.Email
	}
	return s.announce(ctx, tx, inv.State, now, []string{by.Email, inv.Email},
		notify.T("mail.access.subject", "State", notify.State(inv.State)),
		notify.T("mail.access.invited", "Email", inv.Email, "Role", notify.Term("role."+string(inv.Role)), "State", notify.State(inv.State),
			"Inviter", inv.InvitedBy, "Approver", approver))
}

// announceAccount tells the State's focal points of a new account.
func (s *Service) announceAccount(ctx context.Context, tx *sql.Tx, u *User, now time.Time) error {
	return s.announce(ctx, tx, u.State, now, []string{u.Email},
		notify.T("mail.access.subject", "State", notify.State(u.State)),
		notify.T("mail.access.account", "Email", u.Email, "Role", notify.Term("role."+string(u.Role)), "State", notify.State(u.State)))
}

// announceToken tells the State's focal points of a new API token of one
// of the State's users.
func (s *Service) announceToken(ctx context.Context, tx *sql.Tx, u *User, t *Token, now time.Time) error {
	return s.announce(ctx, tx, u.State, now, []string{u.Email},
		notify.T("mail.access.subject", "State", notify.State(u.State)),
		notify.T("mail.access.token", "Email", u.Email, "State", notify.State(u.State), "Name", t.Name, "Scope", notify.Term("scope."+t.Scope)))
}
