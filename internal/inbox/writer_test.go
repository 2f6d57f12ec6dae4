package inbox_test

import (
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
		release := sys.HoldWriter(t)
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
				release()
				t.Fatalf("%s: the count waited for the open write transaction", u.Email)
			}
		}
		release()
	})
}
