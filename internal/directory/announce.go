package directory

import (
	"context"
	"database/sql"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/notify"
)

// announce tells the State's focal points of a change validated to its
// entry, in the transaction that applies it: who receives the State's
// communications or acts for it changes only in the open, so that a change
// the State did not ask for is seen at once.
func (s *Service) announce(ctx context.Context, tx *sql.Tx, n *Nomination, c *Change, now time.Time) error {
	to, err := account.FocalPoints(ctx, tx, n.State)
	if err != nil {
		return err
	}
	agency := ""
	if n.PoC != nil {
		agency = n.PoC.Agency
	}
	for _, d := range c.Diff {
		if d.Field == "agency" && agency == "" {
			agency = d.Old
		}
	}
	for _, r := range to {
		m := s.mail.Write(notify.Letter{Kind: "entry-change", To: r, Subject: notify.T("mail.change.subject", "State", notify.State(n.State)),
			Body: []notify.Text{notify.T("mail.change.body", "State", notify.State(n.State), "What", notify.Term("action."+n.Action), "Agency", agency,
				"By", n.SubmittedBy, "Validator", c.ValidatedBy, "Ref", c.OfficialRef, "Link", s.mail.Link("/states/"+n.State+"/history"))}})
		if err := notify.Enqueue(ctx, tx, now, m); err != nil {
			return err
		}
	}
	return nil
}
