package auditlog_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestMigrationToTiles writes a log in the tables of migration 00002 (a row
// per entry and per stored hash), applies migration 00007 to it, and
// compares the bundles and tiles it makes with those of the same log
// written in the new tables; the migrated log then verifies.
func TestMigrationToTiles(t *testing.T) {
	// Past 2^16 entries, so that the migration fills tiles of three levels.
	n := int64(1<<16 + 300)
	if testing.Short() {
		n = 2*auditlog.BundleSize + 90
	}
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		ctx := context.Background()
		old := testkit.OpenDB(t, e)
		// Later migrations are rolled back first, as they would not have
		// run yet.
		if err := old.MigrateDownTo(ctx, 7); err != nil {
			t.Fatal(err)
		}
		// Back to the tables of 00002, as goose would have left them before
		// 00007.
		intType, blobType := "INTEGER", "BLOB"
		if e.Name == "postgres" {
			intType, blobType = "BIGINT", "BYTEA"
		}
		for _, s := range []string{
			`DROP TABLE log_bundles`,
			`DROP TABLE log_tail`,
			`DROP TABLE log_tiles`,
			`CREATE TABLE log_entries (idx ` + intType + ` PRIMARY KEY, type TEXT NOT NULL, states TEXT NOT NULL, object TEXT NOT NULL, at TIMESTAMP NOT NULL, data TEXT NOT NULL)`,
			`CREATE INDEX log_entries_object ON log_entries(object)`,
			`CREATE TABLE log_hashes (id ` + intType + ` PRIMARY KEY, hash ` + blobType + ` NOT NULL)`,
			`DELETE FROM goose_db_version WHERE version_id = 7`,
		} {
			if _, err := old.ExecContext(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		keys := benchKeys(t)
		root := fillOldTables(t, old, n)
		signed := checkpointNote(t, keys, n, root)
		if _, err := old.ExecContext(ctx, `INSERT INTO log_checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4)`,
			n, root[:], signed, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := old.Migrate(ctx); err != nil {
			t.Fatal(err)
		}

		bulk := testkit.OpenDB(t, e)
		if _, err := benchFill(ctx, bulk, n, nil); err != nil {
			t.Fatal(err)
		}
		// Migration 00007 packed the bundles in SQL, as they were stored
		// then (plain); Append now compresses them: their entries compare.
		if got, want := plainBundles(t, old), plainBundles(t, bulk); got != want {
			t.Errorf("the migrated bundles differ from those of the new tables (%d and %d bytes of text)", len(got), len(want))
		}
		for _, q := range []string{
			`SELECT idx, hashes, level, '', 0, '' FROM log_tiles ORDER BY level, idx`,
			`SELECT idx, '', data, states, 0, '' FROM log_tail ORDER BY idx`,
		} {
			got, want := benchRows(t, old, q), benchRows(t, bulk, q)
			if got != want {
				t.Errorf("%s: the migrated rows differ from those of the new tables (%d and %d bytes of text)", q, len(got), len(want))
			}
		}
		r, err := auditlog.Check(ctx, old, keys.Verifier)
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK() || r.Entries != n || r.Checkpoints != 1 {
			t.Errorf("Check of the migrated log: %d entries, %d checkpoints, problems %q", r.Entries, r.Checkpoints, r.Problems)
		}
		for _, table := range []string{"log_entries", "log_hashes"} {
			if _, err := old.ExecContext(ctx, `SELECT 1 FROM `+table); err == nil {
				t.Errorf("%s is still there", table)
			}
		}
	})
}

// fillOldTables writes benchEvent(0…n-1) as the Append of migration 00002
// did: a row per entry, and a row per stored hash.
func fillOldTables(t *testing.T, d *db.DB, n int64) tlog.Hash {
	t.Helper()
	ctx := context.Background()
	f := &auditlog.Frontier{}
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		entries := &benchInserter{tx: tx, prefix: `INSERT INTO log_entries (idx, type, states, object, at, data) VALUES `, cols: 6, rows: 500}
		hashes := &benchInserter{tx: tx, prefix: `INSERT INTO log_hashes (id, hash) VALUES `, cols: 2, rows: 1000}
		for i := range n {
			ev := benchEvent(i)
			data := auditlog.Encode(ev)
			stored, err := tlog.StoredHashes(i, data, f)
			if err != nil {
				return err
			}
			f.Store(i, stored)
			if err := entries.add(ctx, i, ev.Type, ";"+strings.Join(ev.States, ";")+";", ev.Object, ev.At.UTC(), string(data)); err != nil {
				return err
			}
			for k := range stored {
				if err := hashes.add(ctx, tlog.StoredHashIndex(0, i)+int64(k), stored[k][:]); err != nil {
					return err
				}
			}
		}
		if err := entries.flush(ctx); err != nil {
			return err
		}
		if err := hashes.flush(ctx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE log_head SET size = $1 WHERE id = 1`, n)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	root, err := tlog.TreeHash(n, f)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// plainBundles renders the bundles, their entries in plain, and their
// States as text.
func plainBundles(t *testing.T, d *db.DB) string {
	t.Helper()
	rows, err := d.QueryContext(context.Background(), `SELECT idx, entries, codec, states FROM log_bundles ORDER BY idx`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out strings.Builder
	for rows.Next() {
		var idx int64
		var stored []byte
		var codec int
		var states string
		if err := rows.Scan(&idx, &stored, &codec, &states); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "%d %x %s\n", idx, openBundle(t, codec, stored), states)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func checkpointNote(t *testing.T, keys *auditlog.Keys, n int64, root tlog.Hash) string {
	t.Helper()
	signed, err := note.Sign(&note.Note{Text: auditlog.CheckpointBody(keys.Signer.Name(), n, root)}, keys.Signer)
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

// TestCompressedBundlesRefuseTheDownMigration checks that migration 00012
// is not undone while bundles are compressed: SQL cannot decompress them,
// and dropping the codec would leave the log unreadable.
func TestCompressedBundlesRefuseTheDownMigration(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		ctx := context.Background()
		d := testkit.OpenDB(t, e)
		keys := benchKeys(t)
		if _, err := benchFill(ctx, d, auditlog.BundleSize+3, keys); err != nil {
			t.Fatal(err)
		}
		if err := d.MigrateDownTo(ctx, 11); err == nil {
			t.Fatal("migration 00012 was undone over compressed bundles")
		}
		// The later migrations were undone down to 00012: pocdir brings
		// them back when it starts.
		if err := d.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		r, err := auditlog.Check(ctx, d, keys.Verifier)
		if err != nil || !r.OK() || r.Entries != auditlog.BundleSize+3 {
			t.Errorf("after the refusal: %+v %v", r, err)
		}
	})
}
