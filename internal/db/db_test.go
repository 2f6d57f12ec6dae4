package db_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/testkit"
)

func TestOpenNamesTheEngine(t *testing.T) {
	dir := t.TempDir()
	for _, u := range []string{"sqlite:" + filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db"), "sqlite://" + filepath.Join(dir, "sub", "c.db")} {
		d, err := db.Open(context.Background(), u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if d.Dialect != db.SQLite {
			t.Errorf("%s: dialect %s", u, d.Dialect)
		}
		d.Close()
	}
	if _, err := db.Open(context.Background(), ""); err == nil {
		t.Error("an empty URL was accepted")
	}
	if _, err := db.Open(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"); err == nil {
		t.Error("an unreachable PostgreSQL was accepted")
	}
}

func TestMigrationsAndTypes(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		d := testkit.OpenDB(t, e)
		ctx := context.Background()
		t.Run("migrating again changes nothing", func(t *testing.T) {
			if err := d.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("times keep their instant to the microsecond and come back in UTC", func(t *testing.T) {
			want := time.Date(2026, 11, 22, 15, 4, 5, 123456000, time.UTC)
			var id int64
			err := d.QueryRowContext(ctx, `INSERT INTO users (email, role, created_at, locked_until) VALUES ($1, $2, $3, $4) RETURNING id`,
				"t@example.org", "officer", want, want.In(time.FixedZone("X", 3600))).Scan(&id)
			if err != nil {
				t.Fatal(err)
			}
			var created, locked time.Time
			var enabled bool
			if err := d.QueryRowContext(ctx, `SELECT created_at, locked_until, totp_enabled FROM users WHERE id = $1`, id).Scan(&created, &locked, &enabled); err != nil {
				t.Fatal(err)
			}
			if !created.Equal(want) || !locked.Equal(want) || enabled {
				t.Errorf("got %v %v %v", created, locked, enabled)
			}
		})
		t.Run("a unique violation is recognised", func(t *testing.T) {
			_, err := d.ExecContext(ctx, `INSERT INTO users (email, role, created_at) VALUES ($1, $2, $3)`, "t@example.org", "officer", time.Now())
			if !db.IsUniqueViolation(err) {
				t.Errorf("got %v", err)
			}
		})
		t.Run("a failed transaction leaves nothing", func(t *testing.T) {
			err := d.Tx(ctx, func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO users (email, role, created_at) VALUES ($1, $2, $3)`, "rolled@example.org", "officer", time.Now()); err != nil {
					return err
				}
				return errors.New("stop")
			})
			if err == nil {
				t.Fatal("no error")
			}
			var n int
			d.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE email = $1`, "rolled@example.org").Scan(&n)
			if n != 0 {
				t.Error("the row of a failed transaction was kept")
			}
		})
	})
}

func TestSeveralInstancesMigrateAtOnce(t *testing.T) {
	u := os.Getenv("POCDIR_TEST_POSTGRES")
	if u == "" {
		t.Skip("PostgreSQL not configured (POCDIR_TEST_POSTGRES)")
	}
	// A fresh schema that no instance has migrated yet.
	d0 := testkit.OpenDB(t, testkit.Engines()[1])
	var schema string
	if err := d0.QueryRowContext(context.Background(), `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	if _, err := d0.ExecContext(context.Background(), `CREATE SCHEMA `+schema+`_b`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d0.ExecContext(context.Background(), `DROP SCHEMA `+schema+`_b CASCADE`) })
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pu, _ := url.Parse(u)
			q := pu.Query()
			q.Set("search_path", schema+"_b")
			pu.RawQuery = q.Encode()
			d, err := db.Open(context.Background(), pu.String())
			if err != nil {
				errs <- err
				return
			}
			defer d.Close()
			errs <- d.Migrate(context.Background())
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent migration: %v", err)
		}
	}
}

// TestSQLiteFilesAreTheOwnersOnly: the database and its WAL are created
// readable by their owner only, whatever the umask.
func TestSQLiteFilesAreTheOwnersOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	d, err := db.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %#o", filepath.Base(f), fi.Mode().Perm())
		}
	}
}

// TestSQLiteConnectionSettings: every connection of the pool runs with the
// settings that durability, concurrency and memory rely on.
func TestSQLiteConnectionSettings(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// Hold several connections at once, so that each is a new one.
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 4 {
		c, err := d.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "1", "foreign_keys": "1", "busy_timeout": "5000", "cache_size": "-1000"} {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(pragma, err)
			}
			if got != want {
				t.Errorf("connection %d: %s = %s, want %s", len(conns), pragma, got, want)
			}
		}
	}
}
