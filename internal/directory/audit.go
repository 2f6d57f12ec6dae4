package directory

import (
	"context"
	"database/sql"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/db"
)

// The directory events of the log: the changes (record, "directory." and
// the change's action), the steps of a nomination (logNomination), exports.
var _ = auditlog.Register(
	"directory.entry.update", "directory.entry.reconfirm", "directory.poc.create", "directory.poc.update", "directory.poc.remove",
	"directory.nomination.submitted", "directory.nomination.withdrawn", "directory.nomination.returned",
	"directory.exported",
)

// A change keeps the index of its entry.
var _ = auditlog.RegisterOwner("entry_changes")

// record writes a change with its entry in the accountability log, in the
// caller's transaction, and bumps the directory's version: the entry commits
// to the change's content under a fresh salt, and the change keeps the salt
// and, once the log has integrated the entry (just after the commit), its
// index.
func record(ctx context.Context, tx *sql.Tx, a *app.Actor, c *Change) error {
	if _, err := tx.ExecContext(ctx, `UPDATE directory_version SET n = n + 1 WHERE id = 1`); err != nil {
		return err
	}
	c.CommitSalt = auditlog.NewSalt()
	object := "state:" + c.State
	if c.PoCID != 0 {
		object = "poc:" + itoa64(c.PoCID)
	}
	if err := insertChange(ctx, tx, c, a.UserID); err != nil {
		return err
	}
	return auditlog.AppendFor(ctx, tx, auditlog.Event{
		Type: "directory." + c.Action, Object: object, States: []string{c.State}, At: c.ChangedAt,
		Commitment: auditlog.Commit(c.CommitSalt, c.Content()),
	}.By(a), func(idx int64) { c.LogIndex = &idx }, auditlog.Owner{Table: "entry_changes", ID: c.ID})
}

func itoa64(n int64) string {
	if n < 10 {
		return itoa(int(n))
	}
	return itoa64(n/10) + itoa(int(n%10))
}

// CheckCommitments recomputes the commitment of every logged change from the
// stored change and its salt, for auditlog.Check: an edited change, history
// row or salt shows as a mismatch.
func CheckCommitments(ctx context.Context, q db.Queryer, commitments *auditlog.Commitments, problem func(string, ...any)) (int, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+changeColumns+` FROM entry_changes WHERE log_index IS NOT NULL ORDER BY id`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		c, err := scanChange(rows)
		if err != nil {
			return n, err
		}
		want, ok := commitments.Get(*c.LogIndex)
		switch {
		case !ok:
			problem("directory change %d: its log entry %d has no commitment", c.ID, *c.LogIndex)
		case auditlog.Commit(c.CommitSalt, c.Content()) != want:
			problem("directory change %d: its content does not match the commitment in log entry %d", c.ID, *c.LogIndex)
		}
		n++
	}
	return n, rows.Err()
}

// Exported records in the log that the actor took directory data away in a
// file (a figure of the dashboard, an export): reading pages and the API is
// not logged, a copy that leaves pocdir is. what names the file.
func (s *Service) Exported(ctx context.Context, what string) error {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return err
	}
	return auditlog.Exported(ctx, s.DB, a, "directory.exported", what, s.Now())
}
