package account

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
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
	_, err := auditlog.Append(ctx, tx, ev)
	return err
}
