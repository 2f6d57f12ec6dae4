package db_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/testkit"
)

func TestGroupCommitsMembersTogether(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		d := testkit.OpenDB(t, e)
		ctx := context.Background()
		insert := func(ctx context.Context, tx *sql.Tx, email string) error {
			_, err := db.ExecTx(ctx, tx, `INSERT INTO users (email, role, created_at) VALUES ($1, $2, $3)`, email, "officer", time.Now())
			return err
		}
		count := func(email string) int {
			var n int
			if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE email = $1`, email).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		// batch holds the group with a first member until the others have
		// queued behind it, so that they form one batch; it returns each
		// member's error.
		batch := func(g *db.Group, members []func(ctx context.Context) error) []error {
			started, release := make(chan struct{}), make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				d.Tx(db.WithGroup(ctx, g), func(*sql.Tx) error { close(started); <-release; return nil })
			}()
			<-started
			errs := make([]error, len(members))
			for i, m := range members {
				wg.Add(1)
				go func() { defer wg.Done(); errs[i] = m(db.WithGroup(ctx, g)) }()
			}
			for g.Queued() < len(members) {
				time.Sleep(time.Millisecond)
			}
			close(release)
			wg.Wait()
			return errs
		}

		t.Run("a member that fails is rolled back alone and gets its own error", func(t *testing.T) {
			g := d.NewGroup(64, 1)
			stop := errors.New("stop")
			if err := d.Tx(ctx, func(tx *sql.Tx) error { return insert(ctx, tx, "taken@example.org") }); err != nil {
				t.Fatal(err)
			}
			var members []func(ctx context.Context) error
			for i := range 6 {
				email := fmt.Sprintf("m%d@example.org", i)
				members = append(members, func(ctx context.Context) error {
					return d.Tx(ctx, func(tx *sql.Tx) error {
						if err := insert(ctx, tx, email); err != nil {
							return err
						}
						switch i {
						case 1:
							return stop // after a write: the savepoint undoes it
						case 3:
							// A unique violation, whatever the members' order in
							// the batch (the order they queued in).
							return insert(ctx, tx, "taken@example.org")
						case 4:
							panic("a bug in a member")
						}
						return nil
					})
				})
			}
			errs := batch(g, members)
			for i, err := range errs {
				email := fmt.Sprintf("m%d@example.org", i)
				switch i {
				case 1, 3, 4:
					if err == nil || i == 1 && !errors.Is(err, stop) || i == 3 && !db.IsUniqueViolation(err) {
						t.Errorf("member %d: got %v", i, err)
					}
					if n := count(email); n != 0 {
						t.Errorf("member %d failed, but %d of its rows were kept", i, n)
					}
				default:
					if err != nil {
						t.Errorf("member %d: %v", i, err)
					}
					if n := count(email); n != 1 {
						t.Errorf("member %d: %d rows", i, n)
					}
				}
			}
		})

		t.Run("each member's commit hook and after-commit functions run, only for those that commit", func(t *testing.T) {
			g := d.NewGroup(64, 1)
			var mu sync.Mutex
			hooked, after := map[int]bool{}, map[int]bool{}
			ran := make([]context.Context, 4)
			var members []func(ctx context.Context) error
			for i := range 4 {
				members = append(members, func(ctx context.Context) error {
					ctx = db.WithCommitHook(ctx, func(ctx context.Context, tx *sql.Tx) error {
						mu.Lock()
						hooked[i] = true
						mu.Unlock()
						if i == 2 {
							return errors.New("the hook refuses")
						}
						return insert(ctx, tx, fmt.Sprintf("h%d@example.org", i))
					})
					ran[i] = ctx
					return d.Tx(ctx, func(tx *sql.Tx) error {
						db.AfterCommit(tx, "k", func() { mu.Lock(); after[i] = true; mu.Unlock() })
						return nil
					})
				})
			}
			errs := batch(g, members)
			for i := range 4 {
				ok := i != 2
				if (errs[i] == nil) != ok || after[i] != ok || !hooked[i] || db.CommitHookRan(ran[i]) != ok || count(fmt.Sprintf("h%d@example.org", i)) != map[bool]int{true: 1}[ok] {
					t.Errorf("member %d: err %v, after %v, hooked %v, ran %v", i, errs[i], after[i], hooked[i], db.CommitHookRan(ran[i]))
				}
			}
		})

		t.Run("members beyond the group's size wait for the next batch, and a member's second transaction runs on its own", func(t *testing.T) {
			g := d.NewGroup(2, 1)
			var members []func(ctx context.Context) error
			for i := range 5 {
				members = append(members, func(ctx context.Context) error {
					if err := d.Tx(ctx, func(tx *sql.Tx) error { return insert(ctx, tx, fmt.Sprintf("s%d@example.org", i)) }); err != nil {
						return err
					}
					return d.Tx(ctx, func(tx *sql.Tx) error { return insert(ctx, tx, fmt.Sprintf("s%d-again@example.org", i)) })
				})
			}
			for i, err := range batch(g, members) {
				if err != nil || count(fmt.Sprintf("s%d@example.org", i)) != 1 || count(fmt.Sprintf("s%d-again@example.org", i)) != 1 {
					t.Errorf("member %d: %v", i, err)
				}
			}
		})

		t.Run("what the kept members share is written once, after the last of them", func(t *testing.T) {
			// Each member adds its number to a total that the batch
			// writes once (as the counters are: comms.addCount), here as
			// a user named after the total and the members it saw.
			type total struct {
				n     int
				order []string
			}
			var writes []string
			add := func(ctx context.Context, n int, fail error) error {
				return d.Tx(ctx, func(tx *sql.Tx) error {
					own := n
					db.WhenKept(tx, "own", func() {
						v, _ := db.Shared(tx, "total", func() any { return &total{} })
						all := v.(*total)
						all.n += own
						all.order = append(all.order, fmt.Sprint(own))
						db.BeforeSharedCommit(tx, all, func() error {
							writes = append(writes, fmt.Sprint(all.order))
							return insert(ctx, tx, fmt.Sprintf("total-%d@example.org", all.n))
						})
					})
					return fail
				})
			}
			g := d.NewGroup(64, 1)
			stop := errors.New("stop")
			errs := batch(g, []func(ctx context.Context) error{
				func(ctx context.Context) error { return add(ctx, 1, nil) },
				func(ctx context.Context) error { return add(ctx, 100, stop) },
				func(ctx context.Context) error { return add(ctx, 3, nil) },
			})
			if errs[0] != nil || !errors.Is(errs[1], stop) || errs[2] != nil {
				t.Fatalf("errors %v", errs)
			}
			if len(writes) != 1 || count("total-4@example.org") != 1 {
				t.Errorf("shared writes %q, total-4 written %d times: want one write of the two kept members", writes, count("total-4@example.org"))
			}
			writes = nil
			if err := add(ctx, 7, nil); err != nil || len(writes) != 1 || count("total-7@example.org") != 1 {
				t.Errorf("a transaction of its own: %v, writes %q", err, writes)
			}
			writes = nil
			if err := add(ctx, 8, stop); !errors.Is(err, stop) || len(writes) != 0 || count("total-8@example.org") != 0 {
				t.Errorf("a transaction that fails: %v, writes %q", err, writes)
			}
		})
	})
}
