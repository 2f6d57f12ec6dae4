package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/offline"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestOfflineVerify drives "pocdir offline verify" through its flags and
// reads what it prints; the checks themselves are tested in
// internal/offline.
func TestOfflineVerify(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC())
	a, err := sys.Offline.Archive(fp.Ctx())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "copy.tar")
	bad := filepath.Join(dir, "bad.tar")
	if err := os.WriteFile(good, a.Tar, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, bytes.Replace(a.Tar, []byte("National CERT"), []byte("National CERX"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	pass := "correct horse battery staple"
	enc, err := sys.Offline.Copy(fp.Ctx(), offline.Recipient{Passphrase: []byte(pass)})
	if err != nil {
		t.Fatal(err)
	}
	encFile, passFile, wrongFile := filepath.Join(dir, "copy.tar.gpg"), filepath.Join(dir, "pass"), filepath.Join(dir, "wrong")
	for name, body := range map[string][]byte{encFile: enc.Body, passFile: []byte(pass + "\n"), wrongFile: []byte("wrong horse battery staple\n")} {
		if err := os.WriteFile(name, body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A copy encrypted to a holder's key, and that key's private half, in
	// clear and locked.
	holder, other := testkit.NewKeyPair(t, "Holder", "fp@fra.example"), testkit.NewKeyPair(t, "Other", "other@fra.example")
	toKey, err := sys.Offline.Copy(fp.Ctx(), offline.Recipient{PublicKey: holder.Public})
	if err != nil {
		t.Fatal(err)
	}
	keyFile, privFile, lockedFile, otherFile, keyPassFile := filepath.Join(dir, "key.tar.gpg"), filepath.Join(dir, "priv.asc"), filepath.Join(dir, "locked.asc"), filepath.Join(dir, "other.asc"), filepath.Join(dir, "keypass")
	pubFile := filepath.Join(dir, "pub.asc")
	for name, body := range map[string][]byte{keyFile: toKey.Body, privFile: []byte(holder.ArmoredPrivate(t, nil)), lockedFile: []byte(holder.ArmoredPrivate(t, []byte("key passphrase"))),
		otherFile: []byte(other.ArmoredPrivate(t, nil)), keyPassFile: []byte("key passphrase\n"), pubFile: []byte(holder.Public)} {
		if err := os.WriteFile(name, body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A key of the log's very name, as a forger would make.
	_, otherKey, err := note.GenerateKey(rand.Reader, "pocdir.test/log")
	if err != nil {
		t.Fatal(err)
	}
	later := func() time.Time { return sys.Clock.Now().Add(49 * time.Hour) }
	tests := []struct {
		name string
		args []string
		want []string // in what it prints, or in its error
		ok   bool
	}{
		{"a genuine copy verifies with the log's key, and says its date and checkpoint", []string{good, "--key", sys.Keys.VerifierKey},
			[]string{"genuine", "date: 2026-03-02T09:00:00Z (49h0m0s old)", "holder: fp@fra.example, language en", "checkpoint: pocdir.test/log, tree of ", "file: pocdir-offline-copy/index.html"}, true},
		{"the key comes from the log's key file without --key", []string{"--log-key", sys.LogKeyPath, good}, []string{"genuine"}, true},
		{"a changed copy is not genuine", []string{bad, "--key", sys.Keys.VerifierKey}, []string{"NOT GENUINE", "index.html was changed"}, false},
		{"another key is not pocdir's", []string{good, "--key", otherKey}, []string{"NOT GENUINE", "does not verify"}, false},
		{"an encrypted copy verifies with its passphrase", []string{encFile, "--key", sys.Keys.VerifierKey, "--passphrase-file", passFile}, []string{"genuine"}, true},
		{"an encrypted copy does not open with another passphrase", []string{encFile, "--key", sys.Keys.VerifierKey, "--passphrase-file", wrongFile}, []string{"does not open with this passphrase"}, false},
		{"an encrypted copy without its passphrase says to decrypt it", []string{encFile, "--key", sys.Keys.VerifierKey}, []string{"decrypt it first"}, false},
		{"a copy encrypted to a key verifies with its private key", []string{keyFile, "--key", sys.Keys.VerifierKey, "--private-key", privFile}, []string{"genuine", "holder: fp@fra.example"}, true},
		{"a locked private key opens the copy with its passphrase", []string{keyFile, "--key", sys.Keys.VerifierKey, "--private-key", lockedFile, "--key-passphrase-file", keyPassFile}, []string{"genuine"}, true},
		{"a locked private key without its passphrase says to give it", []string{keyFile, "--key", sys.Keys.VerifierKey, "--private-key", lockedFile}, []string{"the private key is locked", "--key-passphrase-file"}, false},
		{"a locked private key does not unlock with another passphrase", []string{keyFile, "--key", sys.Keys.VerifierKey, "--private-key", lockedFile, "--key-passphrase-file", wrongFile}, []string{"does not unlock with this passphrase"}, false},
		{"another private key does not open the copy", []string{keyFile, "--key", sys.Keys.VerifierKey, "--private-key", otherFile}, []string{"does not open with this key"}, false},
		{"a public key is not the private key", []string{keyFile, "--key", sys.Keys.VerifierKey, "--private-key", pubFile}, []string{"this is a public key"}, false},
		{"a file that is no key says how to export one", []string{keyFile, "--key", sys.Keys.VerifierKey, "--private-key", passFile}, []string{"cannot be read", "--export-secret-keys --armor"}, false},
		{"a copy under a passphrase does not open with a key", []string{encFile, "--key", sys.Keys.VerifierKey, "--private-key", privFile}, []string{"does not open with this key"}, false},
		{"a passphrase and a private key together are refused", []string{keyFile, "--key", sys.Keys.VerifierKey, "--private-key", privFile, "--passphrase-file", passFile}, []string{"not both"}, false},
		{"a key's passphrase without the key is refused", []string{keyFile, "--key", sys.Keys.VerifierKey, "--key-passphrase-file", keyPassFile}, []string{"give it too"}, false},
		{"a copy encrypted to a key without the key says to decrypt it", []string{keyFile, "--key", sys.Keys.VerifierKey}, []string{"decrypt it first", "--private-key"}, false},
		{"a file is required", []string{"--key", sys.Keys.VerifierKey}, []string{"give the copy's file"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := offlineVerify(tt.args, &out, later)
			got := out.String()
			if err != nil {
				got += err.Error()
			}
			if (err == nil) != tt.ok {
				t.Errorf("error %v, want ok=%v", err, tt.ok)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
		})
	}
}
