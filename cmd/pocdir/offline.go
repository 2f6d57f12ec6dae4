package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/offline"
)

func runOffline(args []string) error {
	if len(args) == 0 {
		return errors.New(`say "pocdir offline verify FILE" (-h for flags)`)
	}
	switch args[0] {
	case "verify":
		return offlineVerify(args[1:], os.Stdout, time.Now)
	case "-h", "--help":
		fmt.Println(`Usage: pocdir offline COMMAND [flags]

  verify FILE  check an offline copy of the directory (the .tar that "gpg --decrypt"
               gives, or the encrypted copy with --passphrase-file or
               --private-key): pocdir's signature, each file, the log
               checkpoint; say its date

"pocdir offline COMMAND -h" lists each command's flags. The README says how to do
the same with GnuPG, OpenSSL and coreutils alone.`)
		return errFlagHelp
	}
	return fmt.Errorf("unknown offline command %q", args[0])
}

func offlineVerify(args []string, out io.Writer, now func() time.Time) error {
	f := newFlags("offline verify", "FILE [--key VKEY | --db URL [--log-key FILE]] [--passphrase-file FILE | --private-key FILE [--key-passphrase-file FILE]]")
	key := f.Local("key", "", "the log's public key (name+hash+key), as shown on the log page; default: derived from the log's key file (on the server)")
	dbURL := f.String("db", "sqlite:pocdir.db", "database URL (to find the log's key file beside a SQLite database, without --key)")
	lc := addLogFlags(f, flagLogKey)
	passFile := f.Local("passphrase-file", "", "a file holding the passphrase of a copy encrypted under one, to verify it without decrypting it first (its first line is the passphrase)")
	privFile := f.Local("private-key", "", "a file holding the holder's OpenPGP private key (ASCII-armored, as gpg --export-secret-keys --armor writes it), to verify a copy encrypted to that key without decrypting it first")
	keyPassFile := f.Local("key-passphrase-file", "", "with --private-key, a file holding the passphrase that unlocks the private key (its first line)")
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
	if file == "" {
		return errors.New("give the copy's file (the .tar that gpg --decrypt gives)")
	}
	vkey := *key
	if vkey == "" {
		b, err := os.ReadFile(lc().keyPath(*dbURL))
		if err != nil {
			return fmt.Errorf("no --key, and the log key file: %w", err)
		}
		if vkey, err = auditlog.VerifierKeyOf(strings.TrimSpace(string(b))); err != nil {
			return err
		}
	}
	if st, err := os.Stat(file); err != nil {
		return err
	} else if st.Size() > offline.MaxFile {
		return fmt.Errorf("NOT GENUINE: %s is larger than any offline copy (%d bytes)", file, offline.MaxFile)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if *passFile != "" && *privFile != "" {
		return errors.New("a copy is encrypted under a passphrase or to a key: give --passphrase-file or --private-key, not both")
	}
	if *keyPassFile != "" && *privFile == "" {
		return errors.New("--key-passphrase-file unlocks the key of --private-key: give it too")
	}
	switch {
	case *passFile != "":
		pass, err := firstLine("--passphrase-file", *passFile)
		if err != nil {
			return err
		}
		if b, err = offline.Decrypt(b, pass); err != nil {
			return err
		}
	case *privFile != "":
		if st, err := os.Stat(*privFile); err != nil {
			return fmt.Errorf("--private-key: %w", err)
		} else if st.Size() > offline.MaxPrivateKey {
			return fmt.Errorf("--private-key: %s is larger than any OpenPGP key (%d bytes)", *privFile, offline.MaxPrivateKey)
		}
		priv, err := os.ReadFile(*privFile)
		if err != nil {
			return fmt.Errorf("--private-key: %w", err)
		}
		var pass []byte
		if *keyPassFile != "" {
			if pass, err = firstLine("--key-passphrase-file", *keyPassFile); err != nil {
				return err
			}
		}
		if b, err = offline.DecryptWithKey(b, string(priv), pass); err != nil {
			return fmt.Errorf("--private-key: %w", err)
		}
	}
	v, err := offline.Verify(b, vkey)
	if err != nil {
		return fmt.Errorf("NOT GENUINE: %w", err)
	}
	m := v.Manifest
	age := now().Sub(m.Created).Truncate(time.Hour)
	fmt.Fprintf(out, "genuine: an offline copy of the directory signed by %s\n", strings.SplitN(vkey, "+", 2)[0])
	fmt.Fprintf(out, "date: %s (%s old)\n", m.Created.UTC().Format(time.RFC3339), age)
	fmt.Fprintf(out, "holder: %s, language %s\n", m.Holder, m.Language)
	fmt.Fprintf(out, "checkpoint: %s, tree of %d entries, root hash %s\n", m.Origin, m.Size, m.Root)
	for _, fs := range m.Files {
		fmt.Fprintf(out, "file: %s/%s (%d bytes)\n", offline.Folder, fs.Name, len(v.Files[fs.Name]))
	}
	return nil
}

// firstLine reads the passphrase that a file's first line holds, as the
// flag named flag gives it.
func firstLine(flag, name string) ([]byte, error) {
	p, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	pass, _, _ := strings.Cut(string(p), "\n")
	return []byte(strings.TrimSuffix(pass, "\r")), nil
}
