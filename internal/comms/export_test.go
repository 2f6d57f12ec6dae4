package comms

import (
	"context"
	"database/sql"
	"time"

	"github.com/pocdir/pocdir/internal/db"
)

// SetNewRef makes references with next until the returned function is
// called.
func SetNewRef(next func(now time.Time) string) (restore func()) {
	was := newRef
	newRef = next
	return func() { newRef = was }
}

// SendsOf is the group in which s's sends commit together (nil on
// PostgreSQL).
func SendsOf(s *Service) *db.Group { return s.sends }

// SetLine changes a recipient line as set says (an SQL assignment list)
// and moves its counts with it, as the statements of the service do.
func SetLine(s *Service, id int64, set string) error {
	ctx := context.Background()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE comm_recipients SET `+set+` WHERE id = $1`, id); err != nil {
			return err
		}
		return syncStages(ctx, tx, "id = $1", id)
	})
}

// SetLinesPerStatement makes the statements that change many recipient
// lines at once take n at most, until the returned function is called.
func SetLinesPerStatement(n int) (restore func()) {
	was := linesPerStatement
	linesPerStatement = n
	return func() { linesPerStatement = was }
}
