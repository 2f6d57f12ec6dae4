package account

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
)

// The account events of the log; logEvent writes them.
var _ = auditlog.Register(
	"account.login", "account.password.change", "account.session.revoke",
	"account.user.create", "account.user.disable",
	"account.invitation.create", "account.invitation.approve", "account.invitation.revoke", "account.invitation.accept",
	"account.token.create", "account.token.revoke",
	"account.passkey.add", "account.passkey.remove", "account.passkeys_only.on", "account.passkeys_only.off",
	"account.factor_reset.request", "account.factor_reset.approve", "account.factor_reset.refuse",
	"account.openpgp_key.set", "account.openpgp_key.remove",
)

// logEvent appends an account event to the accountability log in the
// caller's transaction. Account events carry no content, so no commitment:
// who did what to which account, and when, is the whole record. state names
// the State the event concerns (none for the Secretariat's own accounts).
func logEvent(ctx context.Context, tx *sql.Tx, a *app.Actor, typ, object string, id int64, state string, at time.Time) error {
	var states []string
	if state != "" {
		states = []string{state}
	}
	ev := auditlog.Event{Type: "account." + typ, Object: object + ":" + strconv.FormatInt(id, 10), States: states, At: at}.By(a)
	err := auditlog.Append(ctx, tx, ev)
	return err
}
