package auditlog

import (
	"context"
	"database/sql"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
)

// By returns the event with who acted copied in: the user's id, address and
// State. Every capability records its actor through By or ByState, so that
// an entry names people the same way whoever wrote it.
func (ev Event) By(a *app.Actor) Event {
	if a != nil {
		ev.ActorID, ev.ActorEmail, ev.ActorState = a.UserID, a.Email, a.State
	}
	return ev
}

// ByState returns the event with the acting user's id and State, but not
// their address. Communications between States name no person in the log,
// deliberately: the log is read by every State, and who in a State sent,
// opened or answered a communication is that State's business; the id lets
// the State's own records say who.
func (ev Event) ByState(a *app.Actor) Event {
	if a != nil {
		ev.ActorID, ev.ActorState = a.UserID, a.State
	}
	return ev
}

// Exported records in the log, in a transaction of its own, that the actor
// took data away in a file (typ is the capability's export event, what
// names the file): reading pages and the API is not logged, a copy that
// leaves pocdir is. The actor's State is the entry's.
func Exported(ctx context.Context, d *db.DB, a *app.Actor, typ, what string, at time.Time) error {
	var states []string
	if a.State != "" {
		states = []string{a.State}
	}
	return d.Tx(ctx, func(tx *sql.Tx) error {
		err := Append(ctx, tx, Event{Type: typ, Object: "export:" + what, States: states, At: at}.By(a))
		return err
	})
}
