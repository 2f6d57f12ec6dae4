package auditlog

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
)

// Log publishes checkpoints and proofs of the log in the database.
type Log struct {
	DB       *db.DB
	Now      app.Clock
	Signer   note.Signer
	Verifier note.Verifier
	// VerifierKey is the public key ("name+hash+key") that checks the
	// checkpoints; users verify offline with it.
	VerifierKey string
	// PublishedFile, when set, remembers the size of the latest checkpoint
	// signed (see CheckRollback).
	PublishedFile string
}

// New returns the log of d, signing with keys.
func New(d *db.DB, now app.Clock, keys *Keys) *Log {
	return &Log{DB: d, Now: now, Signer: keys.Signer, Verifier: keys.Verifier, VerifierKey: keys.VerifierKey}
}

// Origin is the name of the log, the first line of its checkpoints.
func (l *Log) Origin() string { return l.Signer.Name() }

// Checkpoint is a signed statement of the tree's size and root hash.
type Checkpoint struct {
	Size         int64         `json:"size"`
	Root         tlog.Hash     `json:"root"`
	Note         string        `json:"note"`
	CreatedAt    time.Time     `json:"created_at"`
	Cosignatures []Cosignature `json:"cosignatures,omitempty"`
}

// Cosignature is a witness's signature on a checkpoint.
type Cosignature struct {
	Witness   string    `json:"witness"`
	Signature string    `json:"signature"`
	CreatedAt time.Time `json:"created_at"`
}

// CheckpointBody is the C2SP checkpoint text: origin, size, base64 root.
func CheckpointBody(origin string, size int64, root tlog.Hash) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, size, base64.StdEncoding.EncodeToString(root[:]))
}

// ParseCheckpoint reads a checkpoint body.
func ParseCheckpoint(text string) (origin string, size int64, root tlog.Hash, err error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 {
		return "", 0, root, errors.New("checkpoint: want origin, size and root hash lines")
	}
	size, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		return "", 0, root, errors.New("checkpoint: bad tree size")
	}
	b, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(b) != tlog.HashSize {
		return "", 0, root, errors.New("checkpoint: bad root hash")
	}
	copy(root[:], b)
	return lines[0], size, root, nil
}

func (l *Log) size(ctx context.Context, q db.Queryer) (int64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT size FROM log_head WHERE id = 1`).Scan(&n); err != nil {
		return 0, fmt.Errorf("auditlog: reading the log's size: %w", err)
	}
	return n, nil
}

// Latest returns a checkpoint of the whole log as it is now, signing a new
// one when the log has grown since the last. Several instances may sign the
// same size at once: Ed25519 signatures are deterministic, so they agree.
func (l *Log) Latest(ctx context.Context) (*Checkpoint, error) {
	n, err := l.size(ctx, l.DB)
	if err != nil {
		return nil, err
	}
	if cp, err := l.checkpointAt(ctx, n); err != nil || cp != nil {
		return cp, err
	}
	root, err := tlog.TreeHash(n, HashReader(ctx, l.DB))
	if err != nil {
		return nil, fmt.Errorf("auditlog: the root of the tree of size %d: %w", n, err)
	}
	if err := l.durable(); err != nil {
		return nil, err
	}
	signed, err := note.Sign(&note.Note{Text: CheckpointBody(l.Origin(), n, root)}, l.Signer)
	if err != nil {
		return nil, fmt.Errorf("auditlog: signing the checkpoint of size %d: %w", n, err)
	}
	if _, err := l.DB.ExecContext(ctx, `INSERT INTO log_checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING`,
		n, root[:], string(signed), l.Now()); err != nil {
		return nil, fmt.Errorf("auditlog: storing the checkpoint of size %d: %w", n, err)
	}
	if l.PublishedFile != "" {
		if err := l.remember(n); err != nil {
			return nil, fmt.Errorf("auditlog: remembering the checkpoint of size %d: %w", n, err)
		}
	}
	return l.checkpointAt(ctx, n)
}

// durable makes every commit so far survive a power cut before a
// checkpoint signs it: what pocdir signed must never be lost, or States and
// witnesses would see a fork (db.Sync: on SQLite, whose synchronous=NORMAL
// leaves the last commits in the write-ahead log until its next sync).
func (l *Log) durable() error {
	if err := l.DB.Sync(); err != nil {
		return fmt.Errorf("auditlog: making the log durable before a checkpoint: %w", err)
	}
	return nil
}

// CheckpointAt returns the published checkpoint of a tree size.
func (l *Log) CheckpointAt(ctx context.Context, size int64) (*Checkpoint, error) {
	cp, err := l.checkpointAt(ctx, size)
	if err == nil && cp == nil {
		return nil, app.ErrNotFound("checkpoint")
	}
	return cp, err
}

func (l *Log) checkpointAt(ctx context.Context, size int64) (*Checkpoint, error) {
	var cp Checkpoint
	var root []byte
	err := l.DB.QueryRowContext(ctx, `SELECT size, root, note, created_at FROM log_checkpoints WHERE size = $1`, size).Scan(&cp.Size, &root, &cp.Note, &cp.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auditlog: reading the checkpoint of size %d: %w", size, err)
	}
	copy(cp.Root[:], root)
	cp.CreatedAt = cp.CreatedAt.UTC()
	rows, err := l.DB.QueryContext(ctx, `SELECT witness, signature, created_at FROM log_cosignatures WHERE size = $1 ORDER BY id`, size)
	if err != nil {
		return nil, fmt.Errorf("auditlog: reading the cosignatures of size %d: %w", size, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c Cosignature
		if err := rows.Scan(&c.Witness, &c.Signature, &c.CreatedAt); err != nil {
			return nil, fmt.Errorf("auditlog: reading the cosignatures of size %d: %w", size, err)
		}
		c.CreatedAt = c.CreatedAt.UTC()
		cp.Cosignatures = append(cp.Cosignatures, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("auditlog: reading the cosignatures of size %d: %w", size, err)
	}
	return &cp, nil
}

// Visible reports whether an actor may see an entry: the Secretariat sees
// every entry's metadata (never content: entries hold none); a State's users
// see the entries that concern their State.
func Visible(a *app.Actor, ev Event) bool {
	if a == nil {
		return false
	}
	if a.IsSecretariat() {
		return true
	}
	for _, s := range ev.States {
		if s == a.State && s != "" {
			return true
		}
	}
	return false
}

// Entry returns one entry the actor may see.
func (l *Log) Entry(ctx context.Context, idx int64) (*Entry, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if idx < 0 {
		return nil, app.ErrNotFound("log entry")
	}
	data, err := l.entryData(ctx, idx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.ErrNotFound("log entry")
	}
	if err != nil {
		return nil, err
	}
	ev, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("auditlog: entry %d: %w", idx, err)
	}
	if !Visible(a, ev) {
		return nil, app.ErrNotFound("log entry")
	}
	return &Entry{Index: idx, Event: ev, Data: data}, nil
}

// entryData reads an entry's data from its bundle, or from the tail; its
// error is sql.ErrNoRows (wrapped) for an entry that is in neither.
func (l *Log) entryData(ctx context.Context, idx int64) ([]byte, error) {
	data, err := l.bundleEntry(ctx, idx)
	if !errors.Is(err, sql.ErrNoRows) {
		return data, err
	}
	err = l.DB.QueryRowContext(ctx, `SELECT data FROM log_tail WHERE idx = $1`, idx).Scan(&data)
	switch {
	case err == nil:
		return data, nil
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("auditlog: reading entry %d from the log tail: %w", idx, err)
	}
	// An append may have packed the tail into a bundle meanwhile.
	return l.bundleEntry(ctx, idx)
}

func (l *Log) bundleEntry(ctx context.Context, idx int64) ([]byte, error) {
	var bundle []byte
	var codec int
	err := l.DB.QueryRowContext(ctx, `SELECT entries, codec FROM log_bundles WHERE idx = $1`, idx/BundleSize).Scan(&bundle, &codec)
	if err != nil {
		return nil, fmt.Errorf("auditlog: reading bundle %d: %w", idx/BundleSize, err)
	}
	if bundle, err = openBundle(codec, bundle, nil); err != nil {
		return nil, fmt.Errorf("auditlog: bundle %d: %w", idx/BundleSize, err)
	}
	entries, err := splitBundle(bundle, nil)
	if err != nil {
		return nil, fmt.Errorf("auditlog: bundle %d: %w", idx/BundleSize, err)
	}
	if idx%BundleSize >= int64(len(entries)) {
		return nil, sql.ErrNoRows
	}
	return entries[idx%BundleSize], nil
}

// entriesBatch is how many bundles Entries reads per query.
const entriesBatch = 8

// Entries lists, oldest first, the entries the actor may see from index
// from on: their State's, or all for the Secretariat.
func (l *Log) Entries(ctx context.Context, from int64, limit int) ([]*Entry, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	if !a.IsSecretariat() && a.State == "" {
		return []*Entry{}, nil
	}
	from = max(from, 0)
	out := []*Entry{}
	// An entry that concerns the actor's State names it in quotes: one
	// that does not cannot be visible, and is not decoded. (Most of a busy
	// log concerns other States: decoding them all was most of the cost.)
	var mark []byte
	if !a.IsSecretariat() {
		mark = []byte(`"` + a.State + `"`)
	}
	var stored, plain []byte
	var entries [][]byte
	for next := from / BundleSize; len(out) < limit; {
		// A State reads the bundles that hold some of its entries (the
		// index of a State's bundles); Visible decides per entry.
		var rows *sql.Rows
		if a.IsSecretariat() {
			rows, err = l.DB.QueryContext(ctx, `SELECT idx, entries, codec FROM log_bundles WHERE idx >= $1 ORDER BY idx LIMIT $2`, next, entriesBatch)
		} else {
			rows, err = l.DB.QueryContext(ctx, `SELECT b.idx, b.entries, b.codec FROM log_state_bundles s JOIN log_bundles b ON b.idx = s.bundle
				WHERE s.state_code = $1 AND s.bundle >= $2 ORDER BY s.bundle LIMIT $3`, a.State, next, entriesBatch)
		}
		if err != nil {
			return nil, fmt.Errorf("auditlog: reading the bundles from %d: %w", next, err)
		}
		read := 0
		for len(out) < limit && rows.Next() {
			var b int64
			var codec int
			if err := rows.Scan(&b, &stored, &codec); err != nil {
				rows.Close()
				return nil, fmt.Errorf("auditlog: reading the bundles from %d: %w", next, err)
			}
			read++
			next = b + 1
			// One buffer for every bundle read: the entries kept are
			// copied out of it (a State keeps a few of each bundle).
			if plain, err = openBundle(codec, stored, plain); err == nil {
				entries, err = splitBundle(plain, entries[:0])
			}
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("auditlog: bundle %d: %w", b, err)
			}
			for i, data := range entries {
				idx := b*BundleSize + int64(i)
				if idx < from || len(out) == limit || (mark != nil && !bytes.Contains(data, mark)) {
					continue
				}
				ev, err := Decode(data)
				if err != nil {
					rows.Close()
					return nil, fmt.Errorf("auditlog: entry %d: %w", idx, err)
				}
				if Visible(a, ev) {
					out = append(out, &Entry{Index: idx, Event: ev, Data: bytes.Clone(data)})
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("auditlog: reading the bundles from %d: %w", next, err)
		}
		if read < entriesBatch {
			break
		}
	}
	if len(out) == limit {
		return out, nil
	}
	// Then the tail. (Should an append pack it into a bundle meanwhile,
	// the list ends early, without a gap: the caller asks again from its
	// last index.)
	var rows *sql.Rows
	if a.IsSecretariat() {
		rows, err = l.DB.QueryContext(ctx, `SELECT idx, data FROM log_tail WHERE idx >= $1 ORDER BY idx LIMIT $2`, from, limit-len(out))
	} else {
		rows, err = l.DB.QueryContext(ctx, `SELECT idx, data FROM log_tail WHERE idx >= $1 AND states LIKE $2 ORDER BY idx LIMIT $3`,
			from, "%;"+a.State+";%", limit-len(out))
	}
	if err != nil {
		return nil, fmt.Errorf("auditlog: reading the log tail from %d: %w", from, err)
	}
	defer rows.Close()
	for rows.Next() {
		e := &Entry{}
		if err := rows.Scan(&e.Index, &e.Data); err != nil {
			return nil, fmt.Errorf("auditlog: reading the log tail from %d: %w", from, err)
		}
		if e.Event, err = Decode(e.Data); err != nil {
			return nil, fmt.Errorf("auditlog: entry %d: %w", e.Index, err)
		}
		if Visible(a, e.Event) {
			out = append(out, e)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("auditlog: reading the log tail from %d: %w", from, err)
	}
	return out, nil
}

// Newest lists, newest first, up to limit entries that the actor may see,
// of those below the index before (below the log's head when before is 0
// or less): the log page's, from the head or from where the page before
// ended. A State's are found through the index of its bundles, however
// long ago its latest entry was appended. One snapshot is read, so that no
// entry is listed twice or missed while a pass packs the tail into a
// bundle.
func (l *Log) Newest(ctx context.Context, before int64, limit int) ([]*Entry, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	limit = min(max(limit, 1), 1000)
	out := []*Entry{}
	if !a.IsSecretariat() && a.State == "" {
		return out, nil
	}
	q, release, err := l.DB.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("auditlog: reading the newest entries: %w", err)
	}
	defer release()
	var size int64
	if err := q.QueryRowContext(ctx, `SELECT size FROM log_head WHERE id = 1`).Scan(&size); err != nil {
		return nil, fmt.Errorf("auditlog: reading the log head: %w", err)
	}
	full := size / BundleSize // the bundles below are full; the tail holds the rest
	if before <= 0 || before > size {
		before = size
	}
	var mark []byte
	if !a.IsSecretariat() {
		mark = []byte(`"` + a.State + `"`)
	}
	add := func(idx int64, data []byte) error {
		if idx >= before || (mark != nil && !bytes.Contains(data, mark)) {
			return nil
		}
		ev, err := Decode(data)
		if err != nil {
			return fmt.Errorf("auditlog: entry %d: %w", idx, err)
		}
		if Visible(a, ev) {
			out = append(out, &Entry{Index: idx, Event: ev, Data: data})
		}
		return nil
	}
	rows, err := q.QueryContext(ctx, `SELECT idx, data FROM log_tail WHERE idx >= $1 AND idx < $2 ORDER BY idx DESC`, full*BundleSize, before)
	if err != nil {
		return nil, fmt.Errorf("auditlog: reading the log tail: %w", err)
	}
	for rows.Next() && len(out) < limit {
		var idx int64
		var data []byte
		if err := rows.Scan(&idx, &data); err != nil {
			rows.Close()
			return nil, fmt.Errorf("auditlog: reading the log tail: %w", err)
		}
		if err := add(idx, data); err != nil {
			rows.Close()
			return nil, err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("auditlog: reading the log tail: %w", err)
	}
	// The bundles below the one that holds the entry before, or the tail.
	for below := min(full, (before+BundleSize-1)/BundleSize); len(out) < limit && below > 0; {
		if a.IsSecretariat() {
			rows, err = q.QueryContext(ctx, `SELECT idx, entries, codec FROM log_bundles WHERE idx < $1 ORDER BY idx DESC LIMIT $2`, below, entriesBatch)
		} else {
			rows, err = q.QueryContext(ctx, `SELECT b.idx, b.entries, b.codec FROM log_state_bundles s JOIN log_bundles b ON b.idx = s.bundle
				WHERE s.state_code = $1 AND s.bundle < $2 ORDER BY s.bundle DESC LIMIT $3`, a.State, below, entriesBatch)
		}
		if err != nil {
			return nil, fmt.Errorf("auditlog: reading the bundles below %d: %w", below, err)
		}
		read := 0
		for rows.Next() && len(out) < limit {
			var b int64
			var bundle []byte
			var codec int
			if err := rows.Scan(&b, &bundle, &codec); err != nil {
				rows.Close()
				return nil, fmt.Errorf("auditlog: reading the bundles below %d: %w", below, err)
			}
			read++
			below = b
			entries, err := openEntries(b, codec, bundle)
			if err != nil {
				rows.Close()
				return nil, err
			}
			for i := len(entries) - 1; i >= 0 && len(out) < limit; i-- {
				if err := add(b*BundleSize+int64(i), entries[i]); err != nil {
					rows.Close()
					return nil, err
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("auditlog: reading the bundles below %d: %w", below, err)
		}
		if read < entriesBatch {
			break
		}
	}
	return out, nil
}

// openEntries decompresses and splits a stored bundle.
func openEntries(b int64, codec int, stored []byte) ([][]byte, error) {
	bundle, err := openBundle(codec, stored, nil)
	if err != nil {
		return nil, fmt.Errorf("auditlog: bundle %d: %w", b, err)
	}
	entries, err := splitBundle(bundle, nil)
	if err != nil {
		return nil, fmt.Errorf("auditlog: bundle %d: %w", b, err)
	}
	return entries, nil
}

// ProveEntry returns the inclusion proof of entry idx in the tree of the
// given size.
func (l *Log) ProveEntry(ctx context.Context, idx, size int64) (tlog.RecordProof, error) {
	if _, err := l.Entry(ctx, idx); err != nil {
		return nil, err
	}
	n, err := l.size(ctx, l.DB)
	if err != nil {
		return nil, err
	}
	if size <= idx || size > n {
		return nil, app.FieldError("size", "error.log_size", "the tree size must be above the entry's index and at most the log's size", nil)
	}
	proof, err := tlog.ProveRecord(size, idx, HashReader(ctx, l.DB))
	if err != nil {
		return nil, fmt.Errorf("auditlog: proving entry %d in the tree of size %d: %w", idx, size, err)
	}
	return proof, nil
}

// ProveConsistency returns the proof that the tree of size old is a prefix
// of the tree of size new.
func (l *Log) ProveConsistency(ctx context.Context, old, new int64) (tlog.TreeProof, error) {
	if _, err := app.RequireActor(ctx); err != nil {
		return nil, err
	}
	n, err := l.size(ctx, l.DB)
	if err != nil {
		return nil, err
	}
	if old < 0 || old > new || new > n {
		return nil, app.FieldError("old", "error.log_size", "want 0 ≤ old ≤ new ≤ the log's size", nil)
	}
	proof, err := tlog.ProveTree(new, old, HashReader(ctx, l.DB))
	if err != nil {
		return nil, fmt.Errorf("auditlog: proving the tree of size %d extends that of size %d: %w", new, old, err)
	}
	return proof, nil
}

// AddCosignature stores a witness's cosignature of a published checkpoint.
// The witness sends its verifier key and the checkpoint note it signed; the
// signature must verify and the note must be the checkpoint's own text.
func (l *Log) AddCosignature(ctx context.Context, size int64, witnessKey, signed string) error {
	if _, err := app.RequireWrite(ctx); err != nil {
		return err
	}
	if len(witnessKey) > 300 {
		return app.FieldError("witness", "error.too_long", "too long", map[string]any{"Max": 300})
	}
	if len(signed) > 8192 {
		return app.FieldError("signature", "error.too_long", "too long", map[string]any{"Max": 8192})
	}
	cp, err := l.CheckpointAt(ctx, size)
	if err != nil {
		return err
	}
	v, err := note.NewVerifier(strings.TrimSpace(witnessKey))
	if err != nil {
		return app.FieldError("witness", "error.witness_key", "not a note verifier key", nil)
	}
	if v.Name() == l.Verifier.Name() && v.KeyHash() == l.Verifier.KeyHash() {
		return app.FieldError("witness", "error.witness_key", "a witness cannot use the log's own key", nil)
	}
	n, err := note.Open([]byte(signed), note.VerifierList(v))
	if err != nil {
		return app.FieldError("signature", "error.cosignature", "the cosignature does not verify with the witness key", nil)
	}
	body, err := noteBody(cp.Note)
	if err != nil {
		return fmt.Errorf("auditlog: the stored checkpoint of size %d: %w", size, err)
	}
	if n.Text != body {
		return app.FieldError("signature", "error.cosignature", "the cosigned text is not this checkpoint", nil)
	}
	var line string
	for _, s := range n.Sigs {
		if s.Name == v.Name() && s.Hash == v.KeyHash() {
			line = "— " + s.Name + " " + s.Base64
		}
	}
	_, err = l.DB.ExecContext(ctx, `INSERT INTO log_cosignatures (size, witness, signature, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (size, witness) DO NOTHING`, size, strings.TrimSpace(witnessKey), line, l.Now())
	if err != nil {
		return fmt.Errorf("auditlog: storing a cosignature of size %d: %w", size, err)
	}
	return nil
}

// CheckpointBodyOf returns the text of a signed checkpoint without its
// signatures: what a witness signs.
func CheckpointBodyOf(signed string) string {
	b, _ := noteBody(signed)
	return b
}

// noteBody returns the text of a signed note, before its signatures.
func noteBody(signed string) (string, error) {
	i := strings.Index(signed, "\n\n")
	if i < 0 {
		return "", errors.New("malformed note")
	}
	return signed[:i+1], nil
}
