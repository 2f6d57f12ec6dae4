package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
)

// The errors of a log that does not verify, as distinct from a server that
// cannot be reached or a token that is refused: Verify's error wraps one of
// them when the server shows something a faithful log would not, and its
// text begins with theirs.
var (
	// ErrMismatch: the server's key is not the trusted one, the log shrank,
	// a checkpoint or an entry does not verify, or content no longer
	// matches its commitment.
	ErrMismatch = errors.New("MISMATCH")
	// ErrFork: the server showed a tree that is not an extension of the
	// one verified last, so it shows different histories to different
	// readers or rewrote its past.
	ErrFork = errors.New("FORK")
)

// State is what Verify remembers between runs: the key it trusts and the
// last checkpoint it verified, to detect forks and rollbacks. Its JSON is
// the state file of "pocdir audit verify" (--state-file).
type State struct {
	Server     string    `json:"server"`
	Key        string    `json:"key"`
	Size       int64     `json:"size"`
	Root       tlog.Hash `json:"root"`
	Checkpoint string    `json:"checkpoint"`
	VerifiedAt time.Time `json:"verified_at"`
}

// LoadState reads a state file. A file that does not exist is a first run:
// an empty State and no error.
func LoadState(path string) (*State, error) {
	st := &State{}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	return st, nil
}

// Save writes the state file, readable by its owner only.
func (st *State) Save(path string) error {
	b, _ := json.MarshalIndent(st, "", "  ")
	return os.WriteFile(path, b, 0o600)
}

// Result is what Verify verified.
type Result struct {
	// Key is the log's public key the checkpoint verified with.
	Key string
	// Checkpoint is the signed checkpoint verified, Size and Root its tree.
	Checkpoint string
	Size       int64
	Root       tlog.Hash
	// Entries counts the entries the token may see (its State's, or all
	// for the Secretariat), each found in the signed tree.
	Entries int
	// Commitments counts the commitments recomputed from content: the
	// State's directory changes and communications.
	Commitments int
}

// Verify checks the server's log against st, the state of the last run (a
// zero State on the first), and on success moves st to the checkpoint it
// verified; the caller saves it. trustedKey is the log's public key when
// known from elsewhere; when empty, st's key is trusted, and on a first run
// the server's own (told to Note).
//
// It fails with ErrMismatch when the server's key is not the trusted one,
// the checkpoint's signature does not verify, the log shrank, an entry is
// not in the signed tree or is unreadable, or a directory change or a
// communication of the token's State does not match its commitment (every
// communication the State sent or received, read a page at a time); with ErrFork
// when the tree has the size of the last one verified and another root, or
// does not extend it.
func (c *Client) Verify(ctx context.Context, st *State, trustedKey string) (*Result, error) {
	var keyResp struct{ Origin, Key string }
	if err := c.get(ctx, "/api/v1/log/key", &keyResp); err != nil {
		return nil, err
	}
	key := trustedKey
	switch {
	case key == "" && st.Key != "":
		key = st.Key
	case key == "":
		key = keyResp.Key
		c.note("first run: trusting the server's log key %s (compare it with the one shown in pocdir)", key)
	}
	if keyResp.Key != key {
		return nil, fmt.Errorf("%w: the server's log key %s is not the trusted key %s", ErrMismatch, keyResp.Key, key)
	}
	var signed string
	if err := c.get(ctx, "/api/v1/log/checkpoint", &signed); err != nil {
		return nil, err
	}
	_, size, root, err := auditlog.OpenCheckpoint(signed, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMismatch, err)
	}
	if err := c.consistent(ctx, st, signed, size, root); err != nil {
		return nil, err
	}
	var me struct {
		Role, State string
	}
	if err := c.get(ctx, "/api/v1/me", &me); err != nil {
		return nil, err
	}
	res := &Result{Key: key, Checkpoint: signed, Size: size, Root: root}
	commitments, err := c.entries(ctx, res)
	if err != nil {
		return nil, err
	}
	if me.State != "" {
		if err := c.content(ctx, me.State, size, commitments, res); err != nil {
			return nil, err
		}
	}
	*st = State{Server: c.base, Key: key, Size: size, Root: root, Checkpoint: signed, VerifiedAt: time.Now().UTC()}
	return res, nil
}

// consistent checks that the tree of size and root extends the one st
// verified last.
func (c *Client) consistent(ctx context.Context, st *State, signed string, size int64, root tlog.Hash) error {
	if st.Checkpoint == "" {
		return nil
	}
	switch {
	case size < st.Size:
		return fmt.Errorf("%w: the log shrank from %d to %d entries (rollback)", ErrMismatch, st.Size, size)
	case size == st.Size && root != st.Root:
		return fmt.Errorf("%w: the server signed two different trees of size %d:\n%s\nand now\n%s", ErrFork, size, st.Checkpoint, signed)
	case size > st.Size:
		var cons struct{ Proof tlog.TreeProof }
		if err := c.get(ctx, fmt.Sprintf("/api/v1/log/consistency?old=%d&new=%d", st.Size, size), &cons); err != nil {
			return err
		}
		if err := tlog.CheckTree(cons.Proof, size, root, st.Size, st.Root); err != nil {
			return fmt.Errorf("%w: the tree of size %d does not extend the one of size %d verified on %s: %v", ErrFork, size, st.Size, st.VerifiedAt.Format(time.RFC3339), err)
		}
	}
	return nil
}

// entries checks that every entry the token may see, up to the verified
// size, is in the signed tree, and returns their commitments by index.
func (c *Client) entries(ctx context.Context, res *Result) (map[int64]string, error) {
	size, root := res.Size, res.Root
	commitments := map[int64]string{}
	for from := int64(0); from < size; {
		var page struct {
			Entries []struct {
				Index int64
				Data  []byte
				Proof []tlog.Hash
			}
		}
		if err := c.get(ctx, fmt.Sprintf("/api/v1/log/entries?from=%d&limit=500&proof_size=%d", from, size), &page); err != nil {
			return nil, err
		}
		if len(page.Entries) == 0 {
			break
		}
		for _, e := range page.Entries {
			if e.Index >= size {
				from = size
				break
			}
			if err := tlog.CheckRecord(e.Proof, size, root, e.Index, tlog.RecordHash(e.Data)); err != nil {
				return nil, fmt.Errorf("%w: entry %d is not in the signed tree: %v", ErrMismatch, e.Index, err)
			}
			ev, err := auditlog.Decode(e.Data)
			if err != nil {
				return nil, fmt.Errorf("%w: entry %d cannot be read: %v", ErrMismatch, e.Index, err)
			}
			if ev.Commitment != "" {
				commitments[e.Index] = ev.Commitment
			}
			res.Entries++
			from = e.Index + 1
		}
	}
	return commitments, nil
}

// content recomputes the commitments of the content the token can read:
// the history of its State's entry, and the communications the State sent
// or received (the list gives their content, fields and salt).
func (c *Client) content(ctx context.Context, state string, size int64, commitments map[int64]string, res *Result) error {
	var h struct{ Changes []*directory.Change }
	if err := c.get(ctx, "/api/v1/states/"+url.PathEscape(state)+"/history", &h); err != nil {
		return err
	}
	for _, ch := range h.Changes {
		if ch.LogIndex == nil || *ch.LogIndex >= size {
			continue
		}
		want, ok := commitments[*ch.LogIndex]
		if !ok {
			return fmt.Errorf("%w: change %d names log entry %d, which is not among your State's entries", ErrMismatch, ch.ID, *ch.LogIndex)
		}
		if auditlog.Commit(ch.CommitSalt, ch.Content()) != want {
			return fmt.Errorf("%w: change %d of %s does not match its commitment in log entry %d (the record was altered)", ErrMismatch, ch.ID, state, *ch.LogIndex)
		}
		res.Commitments++
	}
	// Every communication the State sent or received, a page at a time
	// (the API's largest), newest first.
	path := fmt.Sprintf("/api/v1/comms?limit=%d", app.MaxPageSize)
	for path != "" {
		var list struct {
			Communications []*comms.Communication
			Next           string
		}
		if err := c.get(ctx, path, &list); err != nil {
			return err
		}
		for _, m := range list.Communications {
			if m.LogIndex == nil || *m.LogIndex >= size || m.Content == nil {
				continue
			}
			want, ok := commitments[*m.LogIndex]
			if !ok {
				return fmt.Errorf("%w: communication %s names log entry %d, which is not among your State's entries", ErrMismatch, m.Ref, *m.LogIndex)
			}
			if m.Commitment() != want {
				return fmt.Errorf("%w: communication %s does not match its commitment in log entry %d (the record was altered)", ErrMismatch, m.Ref, *m.LogIndex)
			}
			res.Commitments++
		}
		path = ""
		if list.Next != "" {
			path = fmt.Sprintf("/api/v1/comms?limit=%d&cursor=%s", app.MaxPageSize, url.QueryEscape(list.Next))
		}
	}
	return nil
}
