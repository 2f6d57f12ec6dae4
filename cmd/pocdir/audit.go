package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/auditlog/verify"
	"github.com/pocdir/pocdir/internal/cii"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/seal"
	"github.com/pocdir/pocdir/internal/system"
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
	lc := addLogFlags(f, flagLogKey)
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
	lc := addLogFlags(f, flagLogKey, flagDataKey)
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
	checkers := []auditlog.ContentChecker{directory.CheckCommitments, cii.CheckCommitments}
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
	fmt.Printf("%d entries, %d tree hashes, %d checkpoints, %d cosignatures, %d content commitments checked in %s (the log in %s, the content in %s)\n",
		rep.Entries, rep.Hashes, rep.Checkpoints, rep.Cosignatures, rep.Commitments, time.Since(start).Round(time.Millisecond),
		rep.TreeTime.Round(time.Millisecond), rep.ContentTime.Round(time.Millisecond))
	if rep.Pending > 0 {
		fmt.Printf("NOTE: %d entries were recorded with their changes and wait to be integrated into the tree (the oldest since %s); a running pocdir integrates them within a second\n",
			rep.Pending, rep.PendingSince.UTC().Format(time.RFC3339))
	}
	start = time.Now()
	counters, err := system.Recount(ctx, d)
	if err != nil {
		return err
	}
	fmt.Printf("the counters of the campaigns' answers, the communications sent, the recipient lines, the communications waiting, the open requests to share, the outbox's totals and the 30-day rule's figures counted again in %s: %d differ\n",
		time.Since(start).Round(time.Millisecond), len(counters))
	if !rep.OK() || len(counters) > 0 {
		for _, p := range append(rep.Problems, counters...) {
			fmt.Println("PROBLEM:", p)
		}
		if !rep.OK() {
			return fmt.Errorf("the log does not verify: %d problems", len(rep.Problems))
		}
		return fmt.Errorf("the counters differ from the rows: %d problems", len(counters))
	}
	if noKey != "" {
		fmt.Println("the log verifies, but for the communications:", noKey)
		return nil
	}
	fmt.Println("the log verifies")
	return nil
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
	_, res, err := verifyLog(*server, *token, *stateFile, *key, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "verified: tree of %d entries, consistent with the last verified checkpoint; %d entries of yours included; %d commitments recomputed\n",
		res.Size, res.Entries, res.Commitments)
	return nil
}

// verifyLog verifies the server's log against the state file, and saves the
// verified checkpoint there.
func verifyLog(server, token, stateFile, key string, out io.Writer) (*verify.Client, *verify.Result, error) {
	st, err := verify.LoadState(stateFile)
	if err != nil {
		return nil, nil, err
	}
	c := verify.NewClient(server, token, &http.Client{Timeout: 60 * time.Second})
	c.Note = func(msg string) { fmt.Fprintln(out, msg) }
	res, err := c.Verify(context.Background(), st, key)
	if err != nil {
		return nil, nil, err
	}
	if err := st.Save(stateFile); err != nil {
		return nil, nil, err
	}
	return c, res, nil
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
	c, res, err := verifyLog(*server, *token, *stateFile, *key, out)
	if err != nil {
		return err
	}
	if err := c.Cosign(context.Background(), res, keys); err != nil {
		return err
	}
	fmt.Fprintf(out, "cosigned the checkpoint of %d entries as %s\n", res.Size, keys.VerifierKey)
	return nil
}
