package seal_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/seal"
)

func TestSealOpenRotate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.key")
	k, err := seal.LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", fi.Mode().Perm())
	}
	v, err := k.Seal("users.totp_secret:1", []byte("JBSWY3DPEHPK3PXP"))
	if err != nil {
		t.Fatal(err)
	}
	if !seal.IsSealed(v) || strings.Contains(v, "JBSWY3DPEHPK3PXP") {
		t.Fatalf("sealed %q", v)
	}
	if again, _ := k.Seal("users.totp_secret:1", []byte("JBSWY3DPEHPK3PXP")); again == v {
		t.Error("two seals of one value are equal (nonce reused)")
	}
	if pt, err := k.Open("users.totp_secret:1", v); err != nil || string(pt) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("open: %q %v", pt, err)
	}
	t.Run("a value moved to another row, or tampered, does not open", func(t *testing.T) {
		if _, err := k.Open("users.totp_secret:2", v); err != seal.ErrOpen {
			t.Errorf("another row: %v", err)
		}
		b := []byte(v)
		b[len(b)-3] ^= 1
		if _, err := k.Open("users.totp_secret:1", string(b)); err != seal.ErrOpen {
			t.Errorf("tampered: %v", err)
		}
		if _, err := k.Open("users.totp_secret:1", "JBSWY3DPEHPK3PXP"); err != seal.ErrOpen {
			t.Errorf("clear text: %v", err)
		}
	})
	t.Run("after rotation, new values use the new key and old ones still open", func(t *testing.T) {
		r, err := seal.Rotate(path)
		if err != nil {
			t.Fatal(err)
		}
		if r.Current() == k.Current() {
			t.Fatal("the current key did not change")
		}
		if pt, err := r.Open("users.totp_secret:1", v); err != nil || string(pt) != "JBSWY3DPEHPK3PXP" {
			t.Errorf("old value: %v", err)
		}
		nv, _ := r.Seal("x", []byte("y"))
		if seal.SealedWith(nv) != r.Current() || seal.SealedWith(v) != k.Current() {
			t.Error("key ids")
		}
		// A process that loaded the file before the rotation (a running
		// instance) opens what another sealed under the new key.
		if pt, err := k.Open("x", nv); err != nil || string(pt) != "y" {
			t.Errorf("the keyring of a running instance does not open a value of the new key: %v", err)
		}
		other, _ := seal.LoadOrCreate(filepath.Join(t.TempDir(), "other.key"))
		foreign, _ := other.Seal("x", []byte("y"))
		if _, err := k.Open("x", foreign); err != seal.ErrOpen {
			t.Errorf("a value of a key in no file: %v", err)
		}
	})
	t.Run("a malformed key file is refused", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.key")
		os.WriteFile(bad, []byte("abc 1234\n"), 0o600)
		if _, err := seal.Load(bad); err == nil {
			t.Error("loaded")
		}
	})
}

// TestLooseKeyFilesAreRefused: a key file that the group or others may
// read is refused, for the data keys as for every key pocdir keeps.
func TestLooseKeyFilesAreRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.key")
	if _, err := seal.LoadOrCreate(path); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := seal.Load(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %#o: %v", mode, err)
		}
	}
}
