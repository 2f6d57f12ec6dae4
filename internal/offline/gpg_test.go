package offline_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/offline"
	"github.com/pocdir/pocdir/internal/testkit"
)

// gnupg is a GnuPG home of its own, as a holder's machine has.
type gnupg struct {
	t    *testing.T
	home string
}

func newGnuPG(t *testing.T) *gnupg {
	t.Helper()
	if _, err := exec.LookPath("gpg"); err != nil {
		if os.Getenv("POCDIR_REQUIRE_BROWSER") == "1" {
			t.Fatal("gpg is required (CI installs gnupg)")
		}
		t.Skip("gpg is not installed")
	}
	// A short path: gpg-agent's socket must fit in a Unix socket's name.
	home, err := os.MkdirTemp("", "gnupg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
		os.RemoveAll(home)
	})
	return &gnupg{t: t, home: home}
}

// run runs gpg with stdin, failing the test when it fails.
func (g *gnupg) run(stdin []byte, args ...string) []byte {
	g.t.Helper()
	out, err := g.try(stdin, args...)
	if err != nil {
		g.t.Fatalf("gpg %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func (g *gnupg) try(stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command("gpg", append([]string{"--homedir", g.home, "--batch", "--no-tty", "--quiet"}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, &gpgError{err, stderr.String()}
	}
	return out, nil
}

type gpgError struct {
	err    error
	stderr string
}

func (e *gpgError) Error() string { return e.err.Error() + ": " + e.stderr }

// readmeSteps is the README's shell block that checks a copy with GnuPG,
// OpenSSL and coreutils alone: the test runs what the README says.
func readmeSteps(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- offline-verify: the tests run this block -->\n```sh\n")
	block, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatal("the README has no offline-verify block")
	}
	return block
}

func TestGnuPG(t *testing.T) {
	g := newGnuPG(t)
	for _, tool := range []string{"openssl", "sha256sum", "tar", "base64", "awk", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("POCDIR_REQUIRE_BROWSER") == "1" {
				t.Fatalf("%s is required (CI installs it)", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	sys, ctx := setup(t, testkit.Engines()[0])
	// The keys are made before the test clock's now, at which pocdir checks
	// that they can encrypt.
	made := sys.Clock.Now().Add(-time.Hour).UTC().Format("20060102T150405") + "!"
	g.run(nil, "--faked-system-time", made, "--passphrase", "", "--quick-gen-key", "Holder <holder@example.org>", "future-default", "default", "never")
	pub := string(g.run(nil, "--armor", "--export", "holder@example.org"))
	vkey := sys.Keys.VerifierKey
	steps := readmeSteps(t)
	shell := func(t *testing.T, encrypted []byte) (string, error) {
		dir := t.TempDir()
		file := filepath.Join(dir, "copy.tar.gpg")
		if err := os.WriteFile(file, encrypted, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sh", "-e", "-c", steps)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GNUPGHOME="+g.home, "FILE="+file, "KEY="+vkey)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	t.Run("a copy encrypted to the holder's key is decrypted by GnuPG and verified as the README says", func(t *testing.T) {
		f, err := sys.Offline.Copy(ctx, offline.Recipient{PublicKey: pub})
		if err != nil {
			t.Fatal(err)
		}
		out, err := shell(t, f.Body)
		if err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		if strings.Count(out, "Signature Verified Successfully") != 2 || !strings.Contains(out, "created "+sys.Clock.Now().UTC().Format("2006-01-02T15:04")) {
			t.Errorf("the steps said:\n%s", out)
		}
		tarball := g.run(f.Body, "--decrypt")
		if _, err := offline.Verify(tarball, vkey); err != nil {
			t.Errorf("pocdir does not verify what GnuPG decrypted: %v", err)
		}
	})
	a, err := sys.Offline.Archive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tampered := []struct {
		name string
		tar  []byte
		why  string // what the steps say
	}{
		{"the README's steps reject a changed page", rewrite(t, a.Tar, func(name string, body []byte) []byte {
			if name == "index.html" {
				return bytes.Replace(body, []byte(arabicAgency), []byte("Forged agency"), 1)
			}
			return body
		}, nil), "index.html: FAILED"},
		{"the README's steps reject an added file", rewrite(t, a.Tar, keep, map[string][]byte{offline.Folder + "/call-me.html": []byte("<p>+1 555 0100</p>")}), "call-me.html"},
		{"the README's steps reject a changed manifest", rewrite(t, a.Tar, func(name string, body []byte) []byte {
			if name == offline.ManifestName {
				return bytes.Replace(body, []byte("language ar"), []byte("language en"), 1)
			}
			return body
		}, nil), "Signature Verification Failure"},
	}
	for _, tt := range tampered {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := offline.Encrypt(tt.tar, offline.Recipient{PublicKey: pub}, sys.Clock.Now().Unix())
			if err != nil {
				t.Fatal(err)
			}
			if out, err := shell(t, enc); err == nil || !strings.Contains(out, tt.why) {
				t.Errorf("want a failure with %q; the steps said (%v):\n%s", tt.why, err, out)
			}
		})
	}
	t.Run("a copy under a passphrase is decrypted by GnuPG with it, and not without it", func(t *testing.T) {
		pass := "correct horse battery staple"
		f, err := sys.Offline.Copy(ctx, offline.Recipient{Passphrase: []byte(pass)})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		file := filepath.Join(dir, f.Name)
		if err := os.WriteFile(file, f.Body, 0o600); err != nil {
			t.Fatal(err)
		}
		tarball := g.run([]byte(pass), "--pinentry-mode", "loopback", "--passphrase-fd", "0", "--decrypt", file)
		v, err := offline.Verify(tarball, vkey)
		if err != nil {
			t.Fatal(err)
		}
		if v.Manifest.Holder != "off@egy.example" {
			t.Errorf("holder %q", v.Manifest.Holder)
		}
		if _, err := g.try([]byte("wrong horse battery staple"), "--pinentry-mode", "loopback", "--passphrase-fd", "0", "--decrypt", file); err == nil {
			t.Error("GnuPG decrypted it under a wrong passphrase")
		}
	})
	t.Run("a copy encrypted to the key on the holder's PoC entry is decrypted by the holder's GnuPG", func(t *testing.T) {
		fp := sys.User(t, "fp2@egy.example", app.RoleFocalPoint, "EGY")
		in := testkit.ValidPoC()
		in.Agency, in.PGPKey = "Holder's own office", pub
		mine := sys.AddPoC(t, fp.Ctx(), "EGY", in)
		f, err := sys.Offline.Copy(ctx, offline.Recipient{PoC: mine.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := offline.Verify(g.run(f.Body, "--decrypt"), vkey); err != nil {
			t.Error(err)
		}
		entries, err := sys.Audit.Entries(app.WithActor(context.Background(), app.System), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if last := entries[len(entries)-1]; last.Object != fmt.Sprintf("export:offline-copy.tar?poc=%d", mine.ID) {
			t.Errorf("the log's last entry is %s %s, want the copy naming the PoC", last.Type, last.Object)
		}
		che, err := sys.Directory.Get(ctx, "CHE")
		if err != nil {
			t.Fatal(err)
		}
		egy, err := sys.Directory.Get(ctx, "EGY")
		if err != nil {
			t.Fatal(err)
		}
		var keyless int64
		for _, p := range egy.PoCs {
			if p.PGPKey == "" {
				keyless = p.ID
			}
		}
		for _, tt := range []struct {
			name string
			poc  int64
			want app.Code
		}{
			{"another State's PoC is refused", che.PoCs[0].ID, app.Forbidden},
			{"a PoC without a key is refused", keyless, app.Invalid},
			{"a PoC that does not exist is not found", 999999, app.NotFound},
		} {
			if _, err := sys.Offline.Copy(ctx, offline.Recipient{PoC: tt.poc}); app.ErrorCode(err) != tt.want {
				t.Errorf("%s: got %v, want %s", tt.name, err, tt.want)
			}
		}
	})
	t.Run("a copy encrypted to another key is not decrypted by the holder's GnuPG", func(t *testing.T) {
		other := newGnuPG(t)
		other.run(nil, "--faked-system-time", made, "--passphrase", "", "--quick-gen-key", "Other <other@example.org>", "future-default", "default", "never")
		f, err := sys.Offline.Copy(ctx, offline.Recipient{PublicKey: string(other.run(nil, "--armor", "--export", "other@example.org"))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := g.try(f.Body, "--decrypt"); err == nil {
			t.Error("decrypted with the wrong key")
		}
	})
}
