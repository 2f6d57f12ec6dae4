package db_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestCheckpointerCopiesTheLog checks that SQLite's write-ahead log reaches
// the database by the checkpointer alone: without it, 8 MB of commits (past
// SQLite's own threshold of 1,000 pages) stay in the log, so that no commit
// checkpoints on its writers' time; with it, they reach the database file
// without waiting for a commit or for Close.
func TestCheckpointerCopiesTheLog(t *testing.T) {
	ctx := context.Background()
	write := func(t *testing.T, d *db.DB) {
		if _, err := d.ExecContext(ctx, `CREATE TABLE blobs (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		body := strings.Repeat("x", 2000)
		for range 40 { // 40 commits of 100 rows of 2 KB: 8 MB
			err := d.Tx(ctx, func(tx *sql.Tx) error {
				for range 100 {
					if _, err := tx.ExecContext(ctx, `INSERT INTO blobs (body) VALUES ($1)`, body); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	size := func(t *testing.T, path string) int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	t.Run("without it", func(t *testing.T) {
		d, path := openSQLite(t)
		d.StopCheckpointer()
		write(t, d)
		if n := size(t, path); n > 1<<20 {
			t.Errorf("the database file holds %d bytes: a commit checkpointed the log", n)
		}
		if n := size(t, path+"-wal"); n < 6<<20 {
			t.Errorf("the log holds %d bytes, not the 8 MB written", n)
		}
	})
	t.Run("with it", func(t *testing.T) {
		d, path := openSQLite(t)
		write(t, d)
		// Waiting for an event (the copy), not timing it.
		deadline := time.Now().Add(30 * time.Second)
		for size(t, path) < 6<<20 {
			if time.Now().After(deadline) {
				t.Fatalf("the database file holds %d bytes after 30 s: the log was not checkpointed", size(t, path))
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// TestSyncSyncsSQLitesFiles: Sync syncs SQLite's two files and leaves
// PostgreSQL, whose commits are durable, alone; once SQLite's last
// connection has closed and removed the write-ahead log, it syncs the
// database file alone.
func TestSyncSyncsSQLitesFiles(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		d := testkit.OpenDB(t, e)
		want := d.Syncs()
		if e.Name == "sqlite" {
			want++
		}
		if err := d.Sync(); err != nil {
			t.Fatal(err)
		}
		if d.Syncs() != want {
			t.Errorf("%d syncs, want %d", d.Syncs(), want)
		}
	})
	d, path := openSQLite(t)
	if _, err := d.ExecContext(context.Background(), `CREATE TABLE t (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !os.IsNotExist(err) {
		t.Fatalf("the write-ahead log is still there after Close: %v", err)
	}
	if err := d.Sync(); err != nil {
		t.Errorf("without a write-ahead log on disk: %v", err)
	}
}

// TestClosingTwice: a database closed twice (a deferred Close after an
// explicit one) answers as sql.DB does, without a panic.
func TestClosingTwice(t *testing.T) {
	d, _ := openSQLite(t)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	_ = d.Close()
}

// openSQLite opens a new SQLite database, closed at the test's end.
func openSQLite(t *testing.T) (*db.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pocdir.db")
	d, err := db.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, path
}
