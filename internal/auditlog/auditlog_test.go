package auditlog_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

// rfc6962Root computes the Merkle tree hash of RFC 6962 section 2.1 from the
// leaves, independently of the tlog package.
func init() { auditlog.Register("test.event") }

func rfc6962Root(leaves [][]byte) [32]byte {
	if len(leaves) == 0 {
		return [32]byte{}
	}
	if len(leaves) == 1 {
		return sha256.Sum256(append([]byte{0}, leaves[0]...))
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l, r := rfc6962Root(leaves[:k]), rfc6962Root(leaves[k:])
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

type world struct {
	sys          *testkit.System
	fpFRA, fpKEN *testkit.User
	sec          *testkit.User
}

// populate makes a log with directory changes and account events of two
// States.
func populate(t *testing.T, e testkit.Engine) *world {
	t.Helper()
	sys := testkit.New(t, e)
	w := &world{sys: sys,
		fpFRA: sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA"),
		fpKEN: sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN"),
		sec:   sys.User(t, "sec@un.example", app.RoleSecretariat, ""),
	}
	for i, u := range []*testkit.User{w.fpFRA, w.fpKEN, w.fpFRA} {
		in := testkit.ValidPoC()
		in.Agency = fmt.Sprintf("Agency %d", i)
		p := sys.AddPoC(t, u.Ctx(), u.State, in)
		in.Agency += " (renamed)"
		sys.ChangePoC(t, u.Ctx(), p.ID, in)
	}
	sys.ChangeEntry(t, w.fpKEN.Ctx(), "KEN", directory.EntryInput{InitiateVia: "Through the CERT"})
	return w
}

func allData(t *testing.T, d *db.DB) [][]byte {
	ctx := context.Background()
	rows, err := d.QueryContext(ctx, `SELECT entries, codec FROM log_bundles ORDER BY idx`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		var codec int
		if err := rows.Scan(&b, &codec); err != nil {
			t.Fatal(err)
		}
		out = append(out, splitBundle(t, openBundle(t, codec, b))...)
	}
	tail, err := d.QueryContext(ctx, `SELECT data FROM log_tail ORDER BY idx`)
	if err != nil {
		t.Fatal(err)
	}
	defer tail.Close()
	for tail.Next() {
		var b []byte
		if err := tail.Scan(&b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// splitBundle splits a C2SP entry bundle: each entry after its length in
// two bytes, big-endian.
func splitBundle(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 2 || len(b) < 2+int(binary.BigEndian.Uint16(b)) {
			t.Fatalf("malformed bundle")
		}
		n := int(binary.BigEndian.Uint16(b))
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	return out
}

// openBundle returns the plain form of a stored bundle.
func openBundle(t *testing.T, codec int, stored []byte) []byte {
	t.Helper()
	plain, err := auditlog.OpenBundle(codec, stored, nil)
	if err != nil {
		t.Fatalf("bundle of codec %d: %v", codec, err)
	}
	return plain
}

func joinBundle(entries [][]byte) []byte {
	var b []byte
	for _, e := range entries {
		b = binary.BigEndian.AppendUint16(b, uint16(len(e)))
		b = append(b, e...)
	}
	return b
}

// grow appends n events to the log, so that it spans several bundles and
// tiles of more than one level.
func grow(t *testing.T, d *db.DB, n int) {
	t.Helper()
	ctx := context.Background()
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		for i := range n {
			if err := auditlog.Append(ctx, tx, auditlog.Event{Type: "test.event", ActorEmail: "grow@example.org",
				Object: fmt.Sprintf("n:%d", i), States: []string{"KEN"}, At: time.Unix(int64(i), 0)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// editBundle rewrites bundle b through edit, and stores it as Append does.
func editBundle(b int64, edit func(entries [][]byte) [][]byte) func(t *testing.T, d *db.DB) {
	return editStored(b, func(t *testing.T, codec int, stored []byte) (int, []byte) {
		stored, codec = auditlog.CompressBundle(joinBundle(edit(splitBundle(t, openBundle(t, codec, stored)))))
		return codec, stored
	})
}

// editStored rewrites bundle b as stored, its codec and bytes, through edit.
func editStored(b int64, edit func(t *testing.T, codec int, stored []byte) (int, []byte)) func(t *testing.T, d *db.DB) {
	return func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var blob []byte
		var codec int
		if err := d.QueryRowContext(ctx, `SELECT entries, codec FROM log_bundles WHERE idx = $1`, b).Scan(&blob, &codec); err != nil {
			t.Fatal(err)
		}
		codec, blob = edit(t, codec, blob)
		if _, err := d.ExecContext(ctx, `UPDATE log_bundles SET entries = $2, codec = $3 WHERE idx = $1`, b, blob, codec); err != nil {
			t.Fatal(err)
		}
	}
}

// zeroHash overwrites hash i of tile level/n with zeros.
func zeroHash(level, n int64, i int) func(t *testing.T, d *db.DB) {
	return func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var blob []byte
		if err := d.QueryRowContext(ctx, `SELECT hashes FROM log_tiles WHERE level = $1 AND idx = $2`, level, n).Scan(&blob); err != nil {
			t.Fatal(err)
		}
		copy(blob[32*i:32*i+32], make([]byte, 32))
		if _, err := d.ExecContext(ctx, `UPDATE log_tiles SET hashes = $3 WHERE level = $1 AND idx = $2`, level, n, blob); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCheckpointsAndProofs(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := populate(t, e)
		ctx := context.Background()
		l := w.sys.Audit
		first, err := l.Latest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// More events after the first checkpoint.
		w.sys.ChangeEntry(t, w.fpFRA.Ctx(), "FRA", directory.EntryInput{InitiateVia: "Via the MFA"})
		w.sys.Token(t, w.fpFRA, "read")
		cp, err := l.Latest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("the checkpoint is a C2SP signed note that verifies with the public key", func(t *testing.T) {
			origin, size, root, err := auditlog.OpenCheckpoint(cp.Note, l.VerifierKey)
			if err != nil || origin != "pocdir.test/log" || size != cp.Size || root != cp.Root {
				t.Fatalf("%q %d %v %v", origin, size, root, err)
			}
			lines := strings.Split(cp.Note, "\n")
			if lines[0] != origin || lines[1] != fmt.Sprint(size) || lines[3] != "" || !strings.HasPrefix(lines[4], "— pocdir.test/log ") {
				t.Errorf("not a C2SP checkpoint:\n%s", cp.Note)
			}
		})
		t.Run("the root is the RFC 6962 tree hash of the entries", func(t *testing.T) {
			data := allData(t, w.sys.DB)
			if int64(len(data)) != cp.Size {
				t.Fatalf("%d entries, checkpoint of %d", len(data), cp.Size)
			}
			if got := rfc6962Root(data); got != [32]byte(cp.Root) {
				t.Errorf("root %x, RFC 6962 gives %x", cp.Root, got)
			}
			if got := rfc6962Root(data[:first.Size]); got != [32]byte(first.Root) {
				t.Errorf("first root %x, RFC 6962 gives %x", first.Root, got)
			}
		})
		t.Run("every entry has an inclusion proof that checks", func(t *testing.T) {
			sec := w.sec.Ctx()
			for i, d := range allData(t, w.sys.DB) {
				p, err := l.ProveEntry(sec, int64(i), cp.Size)
				if err != nil {
					t.Fatal(err)
				}
				if err := tlog.CheckRecord(p, cp.Size, cp.Root, int64(i), tlog.RecordHash(d)); err != nil {
					t.Errorf("entry %d: %v", i, err)
				}
				if err := tlog.CheckRecord(p, cp.Size, cp.Root, int64(i), tlog.RecordHash(append(d, ' '))); err == nil {
					t.Errorf("entry %d: the proof also checks altered data", i)
				}
			}
		})
		t.Run("the first checkpoint's tree is a prefix of the latest", func(t *testing.T) {
			p, err := l.ProveConsistency(w.sec.Ctx(), first.Size, cp.Size)
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckTree(p, cp.Size, cp.Root, first.Size, first.Root); err != nil {
				t.Error(err)
			}
			var other tlog.Hash
			other[0] = 1
			if err := tlog.CheckTree(p, cp.Size, cp.Root, first.Size, other); err == nil {
				t.Error("the proof checks against another old root")
			}
		})
		t.Run("a receipt verifies offline with only the public key", func(t *testing.T) {
			h, _ := w.sys.Directory.History(w.fpFRA.Ctx(), "FRA")
			rc, err := l.Receipt(w.fpFRA.Ctx(), *h[0].LogIndex)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(rc)
			got, err := auditlog.VerifyReceipt(b, l.VerifierKey)
			if err != nil {
				t.Fatal(err)
			}
			if got.Event.Commitment != auditlog.Commit(h[0].CommitSalt, h[0].Content()) {
				t.Error("the receipt's commitment is not the change's")
			}
			bad := []struct {
				name string
				edit func(r *auditlog.Receipt)
				key  string
			}{
				{"an altered entry", func(r *auditlog.Receipt) { r.Entry = append([]byte{}, r.Entry...); r.Entry[10] ^= 1 }, l.VerifierKey},
				{"another index", func(r *auditlog.Receipt) { r.Index++ }, l.VerifierKey},
				{"a cut proof", func(r *auditlog.Receipt) { r.Proof = r.Proof[:len(r.Proof)-1] }, l.VerifierKey},
				{"an altered checkpoint", func(r *auditlog.Receipt) {
					lines := strings.SplitN(r.Checkpoint, "\n", 3)
					r.Checkpoint = lines[0] + "\n" + lines[1] + "0\n" + lines[2]
				}, l.VerifierKey},
				{"another log's key", func(r *auditlog.Receipt) {}, otherKey(t)},
				{"an unknown format", func(r *auditlog.Receipt) { r.Format = "x" }, l.VerifierKey},
				{"an edited readable event", func(r *auditlog.Receipt) { r.Event.ActorEmail = "someone-else@fra.example" }, l.VerifierKey},
				{"a readable event of other States", func(r *auditlog.Receipt) { r.Event.States = []string{"KEN"} }, l.VerifierKey},
			}
			for _, c := range bad {
				r := *rc
				c.edit(&r)
				b, _ := json.Marshal(r)
				if _, err := auditlog.VerifyReceipt(b, c.key); err == nil {
					t.Errorf("a receipt with %s verifies", c.name)
				}
			}
			if _, err := auditlog.VerifyReceipt([]byte("{not json"), l.VerifierKey); err == nil {
				t.Error("malformed JSON verifies")
			}
		})
		t.Run("a full check of the log finds nothing wrong", func(t *testing.T) {
			rep, err := auditlog.Check(ctx, w.sys.DB, l.Verifier, directory.CheckCommitments)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() || rep.Entries != cp.Size || rep.Checkpoints < 2 || rep.Commitments < 7 {
				t.Errorf("%+v", rep)
			}
		})
	})
}

func otherKey(t *testing.T) string {
	k, err := auditlog.LoadOrCreateKey(filepath.Join(t.TempDir(), "k"), "pocdir.test/log")
	if err != nil {
		t.Fatal(err)
	}
	return k.VerifierKey
}

func TestTamperingIsDetected(t *testing.T) {
	zero := make([]byte, 32)
	cases := []struct {
		name string
		sql  string
		args []any
		edit func(t *testing.T, d *db.DB)
		// want is what a problem says; or either of several, " | " between.
		want string
		// stored is set when the edit leaves bytes that do not decompress.
		stored bool
	}{
		{name: "an entry's data", edit: editBundle(0, func(e [][]byte) [][]byte {
			e[3] = bytes.Replace(e[3], []byte("fp@fra.example"), []byte("fp@frx.example"), 1)
			return e
		}), want: "does not hash"},
		{name: "a bundle's States column", sql: `UPDATE log_bundles SET states = REPLACE(states, ';FRA;', ';KEN;') WHERE idx = 0`, want: "columns do not match"},
		{name: "a stored leaf hash", edit: zeroHash(0, 0, 0), want: "does not hash"},
		{name: "a stored node hash", edit: zeroHash(1, 0, 1), want: "is not what the entries give"},
		{name: "a stored tile, deleted", sql: `DELETE FROM log_tiles WHERE level = 0 AND idx = 1`, want: "is missing"},
		{name: "a stored tile, added", sql: `INSERT INTO log_tiles (level, idx, hashes) VALUES (0, 99, $1)`, args: []any{zero}, want: "beyond the last entry"},
		{name: "a directory change's content", sql: `UPDATE entry_changes SET diff = '[]' WHERE id = 2`, want: "does not match the commitment"},
		{name: "a directory change's salt", sql: `UPDATE entry_changes SET commit_salt = 'x' WHERE id = 1`, want: "does not match the commitment"},
		{name: "a checkpoint's root", sql: `UPDATE log_checkpoints SET root = $1`, args: []any{zero}, want: "does not match the stored size and root"},
		{name: "a checkpoint's note", sql: `UPDATE log_checkpoints SET note = REPLACE(note, 'pocdir.test/log', 'pocdir.test/log2')`, want: "signature does not verify"},
		{name: "the last entry, deleted", sql: `DELETE FROM log_tail WHERE idx = (SELECT MAX(idx) FROM log_tail)`, want: "says"},
		{name: "an entry of the tail", sql: `UPDATE log_tail SET data = REPLACE(data, 'grow@example.org', 'grow@exampla.org') WHERE idx = (SELECT MAX(idx) FROM log_tail)`, want: "does not hash"},
		{name: "an entry of the tail, its States column", sql: `UPDATE log_tail SET states = ';FRA;' WHERE idx = (SELECT MAX(idx) FROM log_tail)`, want: "columns do not match"},
		{name: "an entry of the tail, deleted", sql: `DELETE FROM log_tail WHERE idx = (SELECT MIN(idx) FROM log_tail)`, want: "a gap"},
		{name: "a bundle's entries, left in the tail too", sql: `INSERT INTO log_tail (idx, data, states) VALUES (5, '{}', ';;')`, want: "log tail holds"},
		{name: "an entry in the middle, deleted", edit: editBundle(0, func(e [][]byte) [][]byte { return append(e[:2], e[3:]...) }), want: "where 256 were expected"},
		{name: "a bundle in the middle, deleted", sql: `DELETE FROM log_bundles WHERE idx = 1`, want: "a gap"},
		{name: "a compressed bundle's bytes", edit: editStored(1, func(t *testing.T, codec int, stored []byte) (int, []byte) {
			if codec != 1 {
				t.Fatalf("bundle 1 is stored with codec %d, not compressed", codec)
			}
			stored[len(stored)/2] ^= 0x40
			return codec, stored
		}), want: "does not decompress | does not hash", stored: true},
		{name: "a compressed bundle's length", edit: editStored(1, func(t *testing.T, codec int, stored []byte) (int, []byte) {
			stored[0] ^= 1
			return codec, stored
		}), want: "does not decompress", stored: true},
		{name: "a bundle's codec, to plain", sql: `UPDATE log_bundles SET codec = 0 WHERE idx = 1`, want: "entry bundle 1"},
		{name: "a bundle's codec, to an unknown one", sql: `UPDATE log_bundles SET codec = 7 WHERE idx = 1`, want: "unknown codec 7"},
		{name: "a compressed bundle, to millions of empty entries", edit: editStored(1, func(*testing.T, int, []byte) (int, []byte) {
			stored, codec := auditlog.CompressBundle(make([]byte, 4<<20))
			return codec, stored
		}), want: "malformed after its 257 entries", stored: true},
		{name: "the log head, to a negative size", sql: `UPDATE log_head SET size = -1`, want: "the log head says -1 entries"},
		{name: "a bundle at a negative index, added", sql: `INSERT INTO log_bundles (idx, entries, codec, states) SELECT -5, entries, codec, states FROM log_bundles WHERE idx = 0`, want: "in order from index 0"},
		{name: "a cosignature", sql: `UPDATE log_cosignatures SET signature = signature || 'AA'`, want: "does not verify"},
	}
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		for _, c := range cases {
			t.Run("a change to "+c.name+" is detected", func(t *testing.T) {
				w := populate(t, e)
				grow(t, w.sys.DB, 2*auditlog.BundleSize+40)
				ctx := context.Background()
				cp, err := w.sys.Audit.Latest(ctx)
				if err != nil {
					t.Fatal(err)
				}
				cosign(t, w, cp)
				rep, err := auditlog.Check(ctx, w.sys.DB, w.sys.Audit.Verifier, directory.CheckCommitments)
				if err != nil || !rep.OK() {
					t.Fatalf("before: %+v %v", rep, err)
				}
				before := allData(t, w.sys.DB)
				if c.edit != nil {
					c.edit(t, w.sys.DB)
				} else {
					res, err := w.sys.DB.ExecContext(ctx, c.sql, c.args...)
					if err != nil {
						t.Fatal(err)
					}
					if n, _ := res.RowsAffected(); n == 0 {
						t.Fatal("the tampering changed nothing")
					}
				}
				if c.edit != nil && !c.stored && fmt.Sprint(allData(t, w.sys.DB)) == fmt.Sprint(before) && !strings.Contains(c.name, "hash") {
					t.Fatal("the tampering changed nothing")
				}
				rep, err = auditlog.Check(ctx, w.sys.DB, w.sys.Audit.Verifier, directory.CheckCommitments)
				if err != nil {
					t.Fatal(err)
				}
				if rep.OK() {
					t.Fatal("the check found nothing")
				}
				said := false
				for _, want := range strings.Split(c.want, " | ") {
					said = said || strings.Contains(strings.Join(rep.Problems, "\n"), want)
				}
				if !said {
					t.Errorf("problems %q do not say %q", rep.Problems, c.want)
				}
			})
		}
	})
}

func cosign(t *testing.T, w *world, cp *auditlog.Checkpoint) {
	t.Helper()
	keys, err := auditlog.LoadOrCreateKey(filepath.Join(t.TempDir(), "witness.key"), "witness.example/pocdir")
	if err != nil {
		t.Fatal(err)
	}
	signed, err := note.Sign(&note.Note{Text: auditlog.CheckpointBodyOf(cp.Note)}, keys.Signer)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.sys.Audit.AddCosignature(w.fpKEN.Ctx(), cp.Size, keys.VerifierKey, string(signed)); err != nil {
		t.Fatal(err)
	}
}

func TestCosignatures(t *testing.T) {
	w := populate(t, testkit.Engines()[0])
	ctx := context.Background()
	cp, _ := w.sys.Audit.Latest(ctx)
	cosign(t, w, cp)
	got, err := w.sys.Audit.CheckpointAt(ctx, cp.Size)
	if err != nil || len(got.Cosignatures) != 1 || !strings.HasPrefix(got.Cosignatures[0].Signature, "— witness.example/pocdir ") {
		t.Fatalf("%+v %v", got, err)
	}
	keys, _ := auditlog.LoadOrCreateKey(filepath.Join(t.TempDir(), "w2.key"), "w2.example/pocdir")
	wrongText, _ := note.Sign(&note.Note{Text: "pocdir.test/log\n999\nAAAA\n"}, keys.Signer)
	if err := w.sys.Audit.AddCosignature(w.fpKEN.Ctx(), cp.Size, keys.VerifierKey, string(wrongText)); app.ErrorCode(err) != app.Invalid {
		t.Errorf("a cosignature of another text: %v", err)
	}
	other, _ := auditlog.LoadOrCreateKey(filepath.Join(t.TempDir(), "w3.key"), "w3.example/pocdir")
	signed, _ := note.Sign(&note.Note{Text: auditlog.CheckpointBodyOf(cp.Note)}, other.Signer)
	if err := w.sys.Audit.AddCosignature(w.fpKEN.Ctx(), cp.Size, keys.VerifierKey, string(signed)); app.ErrorCode(err) != app.Invalid {
		t.Errorf("a signature by another key than the one named: %v", err)
	}
	if err := w.sys.Audit.AddCosignature(w.fpKEN.Ctx(), cp.Size, w.sys.Audit.VerifierKey, cp.Note); app.ErrorCode(err) != app.Invalid {
		t.Errorf("the log cosigning itself: %v", err)
	}
}

func TestVisibility(t *testing.T) {
	w := populate(t, testkit.Engines()[0])
	l := w.sys.Audit
	list, err := l.Entries(w.fpKEN.Ctx(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list {
		if !strings.Contains(strings.Join(e.States, ","), "KEN") {
			t.Errorf("KEN sees entry %d of %v", e.Index, e.States)
		}
	}
	all, _ := l.Entries(w.sec.Ctx(), 0, 1000)
	if len(all) <= len(list) {
		t.Errorf("the Secretariat sees %d entries, KEN %d", len(all), len(list))
	}
	h, _ := w.sys.Directory.History(w.fpFRA.Ctx(), "FRA")
	idx := *h[0].LogIndex
	if _, err := l.Entry(w.fpKEN.Ctx(), idx); app.ErrorCode(err) != app.NotFound {
		t.Errorf("KEN reads FRA's entry: %v", err)
	}
	if _, err := l.Receipt(w.fpKEN.Ctx(), idx); app.ErrorCode(err) != app.NotFound {
		t.Errorf("KEN gets FRA's receipt: %v", err)
	}
	if _, err := l.Entries(context.Background(), 0, 10); app.ErrorCode(err) != app.Unauthorized {
		t.Errorf("anonymous: %v", err)
	}
}

// TestConcurrentAppends appends from many goroutines through two
// instances (two connection pools) on one database: the log must have no
// gaps and verify.
func TestConcurrentAppends(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		second, err := db.Open(context.Background(), sys.DB.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer second.Close()
		const workers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for i := 0; i < workers; i++ {
			d := sys.DB
			if i%2 == 1 {
				d = second
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < each; j++ {
					err := d.Tx(context.Background(), func(tx *sql.Tx) error {
						err := auditlog.Append(context.Background(), tx, auditlog.Event{Type: "test.event", ActorEmail: fmt.Sprintf("w%d", i),
							Object: fmt.Sprintf("n:%d", j), States: []string{"FRA"}, At: time.Now()})
						return err
					})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		rep, err := auditlog.Check(context.Background(), sys.DB, sys.Audit.Verifier)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.Entries != workers*each {
			t.Errorf("%+v", rep)
		}
		cp, err := sys.Audit.Latest(context.Background())
		if err != nil || cp.Size != workers*each {
			t.Errorf("checkpoint %+v %v", cp, err)
		}
	})
}

// TestPlainBundlesRead checks that bundles stored before pocdir compressed
// them (codec 0), mixed with compressed ones, read and verify as before.
func TestPlainBundlesRead(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := populate(t, e)
		grow(t, w.sys.DB, 2*auditlog.BundleSize+40)
		ctx := context.Background()
		before := allData(t, w.sys.DB)
		if got := benchRows(t, w.sys.DB, `SELECT idx, '', '', '', codec, '' FROM log_bundles ORDER BY idx`); got != "0    1 \n1    1 \n" {
			t.Fatalf("bundles and their codecs:\n%s\nwant both compressed (codec 1)", got)
		}
		editStored(0, func(t *testing.T, codec int, stored []byte) (int, []byte) {
			return 0, openBundle(t, codec, stored)
		})(t, w.sys.DB)
		if got := allData(t, w.sys.DB); fmt.Sprint(got) != fmt.Sprint(before) {
			t.Fatal("the entries changed")
		}
		sec := w.sec.Ctx()
		list, err := w.sys.Audit.Entries(sec, 0, 1000)
		if err != nil || len(list) != len(before) {
			t.Fatalf("Entries: %d of %d, %v", len(list), len(before), err)
		}
		for _, i := range []int{0, 5, auditlog.BundleSize - 1, auditlog.BundleSize, len(before) - 1} {
			if !bytes.Equal(list[i].Data, before[i]) {
				t.Errorf("entry %d listed as %q, want %q", i, list[i].Data, before[i])
			}
			got, err := w.sys.Audit.Entry(sec, int64(i))
			if err != nil || !bytes.Equal(got.Data, before[i]) {
				t.Errorf("entry %d read as %v, %v", i, got, err)
			}
		}
		rep, err := auditlog.Check(ctx, w.sys.DB, w.sys.Audit.Verifier, directory.CheckCommitments)
		if err != nil || !rep.OK() || rep.Entries != int64(len(before)) {
			t.Fatalf("Check: %+v %v", rep, err)
		}
	})
}

func TestErrorsSayWhereTheyCameFrom(t *testing.T) {
	w := populate(t, testkit.Engines()[0])
	l := w.sys.Audit
	t.Run("an entry beyond the log is not found, through the wrapped sql.ErrNoRows", func(t *testing.T) {
		cp, err := l.Latest(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, idx := range []int64{cp.Size, cp.Size + auditlog.BundleSize} {
			if _, err := l.Entry(w.sec.Ctx(), idx); app.ErrorCode(err) != app.NotFound {
				t.Errorf("entry %d: %v", idx, err)
			}
		}
	})
	t.Run("a failed database call says what was being done and keeps its cause", func(t *testing.T) {
		ctx, cancel := context.WithCancel(w.sec.Ctx())
		cancel()
		_, errLatest := l.Latest(ctx)
		_, errProof := l.ProveConsistency(ctx, 0, 1)
		_, errCheck := auditlog.Check(ctx, w.sys.DB, l.Verifier)
		for _, err := range []error{errLatest, errProof, errCheck} {
			if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "auditlog: ") || app.ErrorCode(err) != app.Internal {
				t.Errorf("got %v", err)
			}
		}
	})
	t.Run("an application error keeps its code when wrapped", func(t *testing.T) {
		refuse := func(context.Context, db.Queryer, *auditlog.Commitments, func(string, ...any)) (int, error) {
			return 0, app.ErrForbidden()
		}
		_, err := auditlog.Check(context.Background(), w.sys.DB, l.Verifier, refuse)
		if app.ErrorCode(err) != app.Forbidden || app.AsError(err).Key != "error.forbidden" || !strings.HasPrefix(err.Error(), "auditlog: checking the commitments of content: ") {
			t.Errorf("got %v", err)
		}
	})
}

// TestALooseLogKeyIsRefused: the log's signing key, readable by the group,
// would let another user sign a rewritten history.
func TestALooseLogKeyIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.key")
	if _, err := auditlog.LoadOrCreateKey(path, "pocdir.test/log"); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := auditlog.LoadOrCreateKey(path, "pocdir.test/log"); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("got %v", err)
	}
}

// TestCheckpointsSignOnlyDurableCommits: on SQLite, the write-ahead log and
// the database are synced to disk before a checkpoint is signed, so a power
// cut cannot take back what pocdir signed.
func TestCheckpointsSignOnlyDurableCommits(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	ctx := context.Background()
	first, err := sys.Audit.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC())
	before := sys.DB.Syncs()
	cp, err := sys.Audit.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Size <= first.Size {
		t.Fatalf("no new checkpoint: %d entries, then %d", first.Size, cp.Size)
	}
	if sys.DB.Syncs() == before {
		t.Errorf("the checkpoint of %d entries was signed without syncing the database", cp.Size)
	}
	// A checkpoint already signed is read back, not signed again.
	before = sys.DB.Syncs()
	if _, err := sys.Audit.Latest(ctx); err != nil {
		t.Fatal(err)
	}
	if n := sys.DB.Syncs() - before; n != 0 {
		t.Errorf("reading the latest checkpoint again synced %d times", n)
	}
}

// TestBatchesAppendAsSingleEntriesDo appends batches of every awkward size
// (one, across a bundle's end, exactly a bundle, many bundles at once,
// starting mid-bundle and mid-tile) between single appends, then checks
// that the stored entries are the events in order, that the tree's root is
// the one computed independently from them, and that a full verification
// passes.
func TestBatchesAppendAsSingleEntriesDo(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		ctx := context.Background()
		var start int64
		if err := sys.DB.QueryRowContext(ctx, `SELECT size FROM log_head WHERE id = 1`).Scan(&start); err != nil {
			t.Fatal(err)
		}
		var want [][]byte
		next := 0
		batch := func(n int) {
			t.Helper()
			evs := make([]auditlog.Event, n)
			for i := range evs {
				evs[i] = auditlog.Event{Type: "test.event", ActorEmail: "batch@example.org", Object: fmt.Sprintf("n:%d", next),
					States: []string{"KEN", "FRA"}[:1+next%2], At: time.Unix(int64(next), 0)}
				want = append(want, auditlog.Encode(evs[i]))
				next++
			}
			err := sys.DB.Tx(ctx, func(tx *sql.Tx) error {
				first, err := auditlog.AppendBatch(ctx, tx, evs)
				if err == nil && first != start+int64(len(want)-n) {
					err = fmt.Errorf("the batch begins at %d, want %d", first, start+int64(len(want)-n))
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range []int{1, 3, 250, 1, 256, 600, 1, 1, 70_000 - 1110, 300, 1} {
			batch(n)
		}
		all := allData(t, sys.DB)
		if int64(len(all)) != start+int64(len(want)) {
			t.Fatalf("%d entries stored, want %d", len(all), start+int64(len(want)))
		}
		for i, w := range want {
			if !bytes.Equal(all[start+int64(i)], w) {
				t.Fatalf("entry %d is %q, want %q", start+int64(i), all[start+int64(i)], w)
			}
		}
		cp, err := sys.Audit.Latest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if root := rfc6962Root(all); cp.Size != int64(len(all)) || tlog.Hash(root) != cp.Root {
			t.Errorf("checkpoint of %d entries with root %x, want %d and %x", cp.Size, cp.Root, len(all), root)
		}
		rep, err := auditlog.Check(ctx, sys.DB, sys.Audit.Verifier)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.Entries != int64(len(all)) {
			t.Errorf("%+v", rep)
		}
		t.Run("an empty batch or an undeclared type is refused", func(t *testing.T) {
			for _, evs := range [][]auditlog.Event{nil, {{Type: "test.event"}, {Type: "test.undeclared"}}} {
				err := sys.DB.Tx(ctx, func(tx *sql.Tx) error {
					_, err := auditlog.AppendBatch(ctx, tx, evs)
					return err
				})
				if err == nil {
					t.Errorf("%v appended", evs)
				}
			}
			if got := allData(t, sys.DB); len(got) != len(all) {
				t.Errorf("%d entries after refused batches, want %d", len(got), len(all))
			}
		})
	})
}

// TestAppendManyAppendsAsAppendDoes: AppendMany records its events as
// Append would, one entry each, in order (1,001 of them: the statements
// of PostgreSQL's pending entries end mid-batch), integrated once the
// transaction commits, and nothing when it rolls back or an event's type is
// not declared; the log then verifies.
func TestAppendManyAppendsAsAppendDoes(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		ctx := context.Background()
		before := len(allData(t, sys.DB))
		evs := make([]auditlog.Event, 1001)
		want := make([][]byte, len(evs))
		for i := range evs {
			evs[i] = auditlog.Event{Type: "test.event", ActorEmail: "many@example.org", Object: fmt.Sprintf("n:%d", i),
				States: []string{"KEN", "FRA"}[:1+i%2], At: time.Unix(int64(i), 0)}
			want[i] = auditlog.Encode(evs[i])
		}
		rollback := errors.New("rolled back")
		for _, refused := range []struct {
			name string
			evs  []auditlog.Event
			err  error
		}{{"rolled back", evs, rollback}, {"an undeclared type", append(slices.Clone(evs[:3]), auditlog.Event{Type: "test.undeclared"}), nil}} {
			err := sys.DB.Tx(ctx, func(tx *sql.Tx) error {
				if err := auditlog.AppendMany(ctx, tx, refused.evs); err != nil {
					return err
				}
				return refused.err
			})
			if err == nil {
				t.Errorf("%s: appended", refused.name)
			}
			if got := len(allData(t, sys.DB)); got != before {
				t.Errorf("%s: %d entries, want %d", refused.name, got, before)
			}
		}
		if err := sys.DB.Tx(ctx, func(tx *sql.Tx) error { return auditlog.AppendMany(ctx, tx, evs) }); err != nil {
			t.Fatal(err)
		}
		// Integrated before Tx returned: no pass is waited for.
		all := allData(t, sys.DB)
		if len(all) != before+len(evs) {
			t.Fatalf("%d entries, want %d", len(all), before+len(evs))
		}
		for i, w := range want {
			if !bytes.Equal(all[before+i], w) {
				t.Fatalf("entry %d is %q, want %q", before+i, all[before+i], w)
			}
		}
		rep, err := auditlog.Check(ctx, sys.DB, sys.Audit.Verifier)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.Entries != int64(len(all)) {
			t.Errorf("%+v", rep)
		}
	})
}
