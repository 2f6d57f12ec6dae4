package inbox_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestCountWaitsForNoWriter: every page's navigation counts what waits
// for its reader, and on SQLite a transaction waits for the one writer.
// While a write transaction is open (a crisis's sends, a campaign), the
// count of each role must still answer: it reads without a transaction.
func TestCountWaitsForNoWriter(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		users := []*testkit.User{
			sys.User(t, "sec@un.example", app.RoleSecretariat, ""),
			sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA"),
			sys.User(t, "off@fra.example", app.RoleOfficer, "FRA"),
		}
		holding, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			done <- sys.DB.Tx(context.Background(), func(tx *sql.Tx) error {
				if _, err := tx.Exec(`UPDATE states SET name = name WHERE code = 'FRA'`); err != nil {
					return err
				}
				close(holding)
				<-release
				return nil
			})
		}()
		<-holding
		for _, u := range users {
			counted := make(chan error, 1)
			go func() {
				_, err := sys.Inbox.Count(u.Ctx())
				counted <- err
			}()
			select {
			case err := <-counted:
				if err != nil {
					t.Errorf("%s: %v", u.Email, err)
				}
			case <-time.After(30 * time.Second):
				close(release)
				t.Fatalf("%s: the count waited for the open write transaction", u.Email)
			}
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
