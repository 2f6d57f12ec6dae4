package capacity

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
)

// The capacity-building events of the log; logEvent writes them.
var _ = auditlog.Register(
	"capacity.need_recorded", "capacity.need_changed", "capacity.need_withdrawn",
	"capacity.offer_recorded", "capacity.offer_withdrawn",
	"capacity.match_proposed", "capacity.match_answered", "capacity.match_accepted", "capacity.match_declined",
	"capacity.activity_changed", "capacity.plan_created", "capacity.measure_added", "capacity.exported",
)

// logEvent appends a capacity event to the accountability log: who, what,
// which need, offer, match or activity, when; never the text of a need.
func logEvent(ctx context.Context, tx *sql.Tx, a *app.Actor, typ, object string, states []string, at time.Time) error {
	ev := auditlog.Event{Type: "capacity." + typ, Object: object, States: states, At: at}.By(a)
	err := auditlog.Append(ctx, tx, ev)
	return err
}

func needObject(id int64) string     { return "capacity-need:" + strconv.FormatInt(id, 10) }
func offerObject(id int64) string    { return "capacity-offer:" + strconv.FormatInt(id, 10) }
func matchObject(id int64) string    { return "capacity-match:" + strconv.FormatInt(id, 10) }
func activityObject(id int64) string { return "capacity-activity:" + strconv.FormatInt(id, 10) }
func planObject(id int64) string     { return "capacity-plan:" + strconv.FormatInt(id, 10) }
