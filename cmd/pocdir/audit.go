package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/seal"
)

func runAudit(args []string) error {
	if len(args) == 0 {
		return errors.New(`say "pocdir audit key|check|verify|verify-receipt|cosign" (-h for flags)`)
	}
	switch args[0] {
	case "key":
		return auditKey(args[1:])
	case "check":
		return auditCheck(args[1:])
	case "verify":
		return auditVerify(args[1:], os.Stdout)
	case "verify-receipt":
		return auditVerifyReceipt(args[1:], os.Stdout)
	case "cosign":
		return auditCosign(args[1:], os.Stdout)
	case "-h", "--help":
		fmt.Println(`Usage: pocdir audit COMMAND [flags]

  key             print the public key of the log (from its key file)
  check           verify the whole log against the database (operators)
  verify          verify, from a server, that your State's history was not rewritten
  verify-receipt  verify a receipt offline with the log's public key
  cosign          as a witness, verify the latest checkpoint and cosign it

"pocdir audit COMMAND -h" lists each command's flags.`)
		return errFlagHelp
	}
	return fmt.Errorf("unknown audit command %q", args[0])
}

func auditKey(args []string) error {
	f := newFlags("audit key", "[--db URL] [--log-key FILE]")
	dbURL := f.String("db", "sqlite:pocdir.db", "database URL (to find the key file beside a SQLite database)")
	lc := addLogFlags(f)
	if err := f.Parse(args); err != nil {
		return err
	}
	path := lc().keyPath(*dbURL)
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("log key: %w", err)
	}
	vkey, err := auditlog.VerifierKeyOf(strings.TrimSpace(string(b)))
	if err != nil {
		return err
	}
	fmt.Println(vkey)
	return nil
}

func auditCheck(args []string) error {
	f := newFlags("audit check", "--db URL [--key VKEY | --log-key FILE] [--data-key FILE]")
	dbURL := f.String("db", "sqlite:pocdir.db", "database URL")
	vkey := f.Local("key", "", "the log's public key (name+hash+key); default: derived from the key file")
	lc := addLogFlags(f)
	if err := f.Parse(args); err != nil {
		return err
	}
	setupLog("text", "warn")
	key := *vkey
	if key == "" {
		b, err := os.ReadFile(lc().keyPath(*dbURL))
		if err != nil {
			return fmt.Errorf("no --key, and the log key file: %w", err)
		}
		if key, err = auditlog.VerifierKeyOf(strings.TrimSpace(string(b))); err != nil {
			return err
		}
	}
	v, err := note.NewVerifier(key)
	if err != nil {
		return fmt.Errorf("--key: %w", err)
	}
	ctx := context.Background()
	d, err := db.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer d.Close()
	// The communications' commitments cover their content, sealed under
	// the data keys: without them, those commitments are not checked.
	checkers := []auditlog.ContentChecker{directory.CheckCommitments}
	dataKey := lc().dataKeyPath(*dbURL)
	ring, err := seal.Load(dataKey)
	noKey := ""
	switch {
	case err == nil:
		checkers = append(checkers, comms.CheckCommitments(ring))
	case errors.Is(err, fs.ErrNotExist) && lc().dataKeyFile == "":
		noKey = fmt.Sprintf("no data key at %s (--data-key): the commitments of communications were not checked", dataKey)
		fmt.Println("NOTE:", noKey)
	default:
		return fmt.Errorf("--data-key: %w", err)
	}
	start := time.Now()
	rep, err := auditlog.Check(ctx, d, v, checkers...)
	if err != nil {
		return err
	}
	fmt.Printf("%d entries, %d tree hashes, %d checkpoints, %d cosignatures, %d content commitments checked in %s\n",
		rep.Entries, rep.Hashes, rep.Checkpoints, rep.Cosignatures, rep.Commitments, time.Since(start).Round(time.Millisecond))
	if !rep.OK() {
		for _, p := range rep.Problems {
			fmt.Println("PROBLEM:", p)
		}
		return fmt.Errorf("the log does not verify: %d problems", len(rep.Problems))
	}
	if noKey != "" {
		fmt.Println("the log verifies, but for the communications:", noKey)
		return nil
	}
	fmt.Println("the log verifies")
	return nil
}

// client talks to a pocdir server's API.
type client struct {
	base, token string
	http        *http.Client
}

func (c *client) get(path string, v any) error {
	req, err := http.NewRequest("GET", strings.TrimRight(c.base, "/")+path, nil)
	if err != nil {
		return err
	}
	return c.do(req, v)
}

func (c *client) do(req *http.Request, v any) error {
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, strings.TrimSpace(string(b)))
	}
	switch v := v.(type) {
	case nil:
		return nil
	case *string:
		*v = string(b)
		return nil
	default:
		return json.Unmarshal(b, v)
	}
}

// auditState is what verify remembers between runs: the key it trusts and
// the last checkpoint it verified, to detect forks and rollbacks.
type auditState struct {
	Server     string    `json:"server"`
	Key        string    `json:"key"`
	Size       int64     `json:"size"`
	Root       tlog.Hash `json:"root"`
	Checkpoint string    `json:"checkpoint"`
	VerifiedAt time.Time `json:"verified_at"`
}

type verifyResult struct {
	entries, commitments int
	checkpoint           string
	sizeN                int64
}

// verifyLog does the checks of "audit verify" and returns what it verified.
func verifyLog(c *client, stateFile, keyFlag string, out io.Writer) (*verifyResult, error) {
	var st auditState
	if b, err := os.ReadFile(stateFile); err == nil {
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("state file %s: %w", stateFile, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var keyResp struct{ Origin, Key string }
	if err := c.get("/api/v1/log/key", &keyResp); err != nil {
		return nil, err
	}
	key := keyFlag
	switch {
	case key == "" && st.Key != "":
		key = st.Key
	case key == "":
		key = keyResp.Key
		fmt.Fprintf(out, "first run: trusting the server's log key %s (compare it with the one shown in pocdir)\n", key)
	}
	if keyResp.Key != key {
		return nil, fmt.Errorf("MISMATCH: the server's log key %s is not the trusted key %s", keyResp.Key, key)
	}
	var signed string
	if err := c.get("/api/v1/log/checkpoint", &signed); err != nil {
		return nil, err
	}
	_, size, root, err := auditlog.OpenCheckpoint(signed, key)
	if err != nil {
		return nil, fmt.Errorf("MISMATCH: %w", err)
	}
	if st.Checkpoint != "" {
		switch {
		case size < st.Size:
			return nil, fmt.Errorf("MISMATCH: the log shrank from %d to %d entries (rollback)", st.Size, size)
		case size == st.Size && root != st.Root:
			return nil, fmt.Errorf("FORK: the server signed two different trees of size %d:\n%s\nand now\n%s", size, st.Checkpoint, signed)
		case size > st.Size:
			var cons struct{ Proof tlog.TreeProof }
			if err := c.get(fmt.Sprintf("/api/v1/log/consistency?old=%d&new=%d", st.Size, size), &cons); err != nil {
				return nil, err
			}
			if err := tlog.CheckTree(cons.Proof, size, root, st.Size, st.Root); err != nil {
				return nil, fmt.Errorf("FORK: the tree of size %d does not extend the one of size %d verified on %s: %v", size, st.Size, st.VerifiedAt.Format(time.RFC3339), err)
			}
		}
	}
	var me struct {
		Role, State string
	}
	if err := c.get("/api/v1/me", &me); err != nil {
		return nil, err
	}
	res := &verifyResult{checkpoint: signed, sizeN: size}
	commitments := map[int64]string{}
	for from := int64(0); from < size; {
		var page struct {
			Entries []struct {
				Index int64
				Data  []byte
				Proof []tlog.Hash
			}
		}
		if err := c.get(fmt.Sprintf("/api/v1/log/entries?from=%d&limit=500&proof_size=%d", from, size), &page); err != nil {
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
				return nil, fmt.Errorf("MISMATCH: entry %d is not in the signed tree: %v", e.Index, err)
			}
			ev, err := auditlog.Decode(e.Data)
			if err != nil {
				return nil, fmt.Errorf("MISMATCH: entry %d cannot be read: %v", e.Index, err)
			}
			if ev.Commitment != "" {
				commitments[e.Index] = ev.Commitment
			}
			res.entries++
			from = e.Index + 1
		}
	}
	// Recompute the commitments of the content this user can read: the
	// history of their State's entry.
	if me.State != "" {
		var h struct{ Changes []*directory.Change }
		if err := c.get("/api/v1/states/"+url.PathEscape(me.State)+"/history", &h); err != nil {
			return nil, err
		}
		for _, ch := range h.Changes {
			if ch.LogIndex == nil || *ch.LogIndex >= size {
				continue
			}
			want, ok := commitments[*ch.LogIndex]
			if !ok {
				return nil, fmt.Errorf("MISMATCH: change %d names log entry %d, which is not among your State's entries", ch.ID, *ch.LogIndex)
			}
			if auditlog.Commit(ch.CommitSalt, ch.Content()) != want {
				return nil, fmt.Errorf("MISMATCH: change %d of %s does not match its commitment in log entry %d (the record was altered)", ch.ID, me.State, *ch.LogIndex)
			}
			res.commitments++
		}
		// And the communications the State sent or received: the list
		// gives their content, fields and salt.
		var list struct{ Communications []*comms.Communication }
		if err := c.get("/api/v1/comms", &list); err != nil {
			return nil, err
		}
		for _, m := range list.Communications {
			if m.LogIndex == nil || *m.LogIndex >= size || m.Content == nil {
				continue
			}
			want, ok := commitments[*m.LogIndex]
			if !ok {
				return nil, fmt.Errorf("MISMATCH: communication %s names log entry %d, which is not among your State's entries", m.Ref, *m.LogIndex)
			}
			if m.Commitment() != want {
				return nil, fmt.Errorf("MISMATCH: communication %s does not match its commitment in log entry %d (the record was altered)", m.Ref, *m.LogIndex)
			}
			res.commitments++
		}
		if len(list.Communications) == comms.MaxListed {
			fmt.Fprintf(out, "note: the newest %d communications were checked, not the older ones\n", comms.MaxListed)
		}
	}
	st = auditState{Server: c.base, Key: key, Size: size, Root: root, Checkpoint: signed, VerifiedAt: time.Now().UTC()}
	b, _ := json.MarshalIndent(st, "", "  ")
	if err := os.WriteFile(stateFile, b, 0o600); err != nil {
		return nil, err
	}
	return res, nil
}

func auditVerify(args []string, out io.Writer) error {
	f := newFlags("audit verify", "--server URL --token T [--state-file FILE] [--key VKEY]")
	server := f.String("server", "", "address of the pocdir server, e.g. https://pocdir.example.org")
	token := f.String("token", "", "an API token (read scope is enough)")
	stateFile := f.String("state-file", "pocdir-audit.json", "where the last verified checkpoint and the trusted key are kept between runs")
	key := f.Local("key", "", "the log's public key, when known from elsewhere; otherwise trusted on first use and kept in the state file")
	if err := f.Parse(args); err != nil {
		return err
	}
	if *server == "" || *token == "" {
		return errors.New("--server and --token are required")
	}
	c := &client{base: *server, token: *token, http: &http.Client{Timeout: 60 * time.Second}}
	res, err := verifyLog(c, *stateFile, *key, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "verified: tree of %d entries, consistent with the last verified checkpoint; %d entries of yours included; %d commitments recomputed\n",
		res.sizeN, res.entries, res.commitments)
	return nil
}

func auditVerifyReceipt(args []string, out io.Writer) error {
	f := newFlags("audit verify-receipt", "FILE --key VKEY")
	key := f.Local("key", "", "the log's public key (name+hash+key), as shown on the log page")
	// Accept the file before or after the flags.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := f.Parse(args); err != nil {
		return err
	}
	if file == "" && f.NArg() == 1 {
		file = f.Arg(0)
	}
	if file == "" || *key == "" {
		return errors.New("give the receipt file and --key")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	r, err := auditlog.VerifyReceipt(b, *key)
	if err != nil {
		return fmt.Errorf("MISMATCH: %w", err)
	}
	fmt.Fprintf(out, "receipt verified: entry %d (%s by %s at %s, object %s) is in the log signed by %s\n",
		r.Index, r.Event.Type, r.Event.ActorEmail, r.Event.At.Format(time.RFC3339), r.Event.Object, strings.SplitN(*key, "+", 2)[0])
	return nil
}

func auditCosign(args []string, out io.Writer) error {
	f := newFlags("audit cosign", "--server URL --token T --witness-key FILE [--witness-name NAME]")
	server := f.String("server", "", "address of the pocdir server")
	token := f.String("token", "", "an API token with write scope")
	stateFile := f.String("state-file", "pocdir-audit.json", "the verify state file (the checkpoint is verified first)")
	key := f.Local("key", "", "the log's public key, when known")
	witnessFile := f.Local("witness-key", "pocdir-witness.key", "the witness's signing key file, created on first use")
	witnessName := f.Local("witness-name", "witness.example/pocdir", "the witness's name, used when its key is created")
	if err := f.Parse(args); err != nil {
		return err
	}
	if *server == "" || *token == "" {
		return errors.New("--server and --token are required")
	}
	keys, err := auditlog.LoadOrCreateKey(*witnessFile, *witnessName)
	if err != nil {
		return err
	}
	c := &client{base: *server, token: *token, http: &http.Client{Timeout: 60 * time.Second}}
	res, err := verifyLog(c, *stateFile, *key, out)
	if err != nil {
		return err
	}
	body := auditlog.CheckpointBodyOf(res.checkpoint)
	signed, err := note.Sign(&note.Note{Text: body}, keys.Signer)
	if err != nil {
		return err
	}
	payload, _ := json.Marshal(map[string]any{"size": res.sizeN, "witness": keys.VerifierKey, "signature": string(signed)})
	req, _ := http.NewRequest("POST", strings.TrimRight(*server, "/")+"/api/v1/log/cosignatures", strings.NewReader(string(payload)))
	req.Header.Set("Content-Type", "application/json")
	if err := c.do(req, nil); err != nil {
		return err
	}
	fmt.Fprintf(out, "cosigned the checkpoint of %d entries as %s\n", res.sizeN, keys.VerifierKey)
	return nil
}
