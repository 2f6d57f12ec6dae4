package offline_test

import (
	"strings"
	"testing"

	"github.com/ProtonMail/gopenpgp/v3/crypto"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/offline"
	"github.com/pocdir/pocdir/internal/testkit"
)

func TestCopyToTheUsersOwnKey(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys, _ := setup(t, e)
		u := sys.User(t, "keyholder@egy.example", app.RoleOfficer, "EGY")
		k := testkit.NewKeyPair(t, "Key holder", u.Email)
		t.Run("a user without a key on the account is told to set one, and nothing is logged", func(t *testing.T) {
			before, _ := sys.Audit.Latest(u.Ctx())
			_, err := sys.Offline.Copy(u.Ctx(), offline.Recipient{Mine: true})
			if ae := app.AsError(err); ae == nil || ae.Key != "error.offline_no_own_key" {
				t.Errorf("got %v", err)
			}
			after, _ := sys.Audit.Latest(u.Ctx())
			if after.Size != before.Size {
				t.Errorf("the log grew from %d to %d", before.Size, after.Size)
			}
		})
		fp, err := sys.Accounts.SetOpenPGPKey(u.Ctx(), k.Public)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("the copy opens with the user's private key only, and verifies", func(t *testing.T) {
			f, err := sys.Offline.Copy(u.Ctx(), offline.Recipient{Mine: true})
			if err != nil {
				t.Fatal(err)
			}
			tar, err := offline.DecryptWithKey(f.Body, k.ArmoredPrivate(t, nil), nil)
			if err != nil {
				t.Fatal(err)
			}
			v, err := offline.Verify(tar, sys.Keys.VerifierKey)
			if err != nil {
				t.Fatal(err)
			}
			if v.Manifest.Holder != u.Email {
				t.Errorf("holder %q", v.Manifest.Holder)
			}
			other := testkit.NewKeyPair(t, "Other", "other@egy.example")
			if _, err := offline.DecryptWithKey(f.Body, other.ArmoredPrivate(t, nil), nil); err == nil {
				t.Error("another key opened the copy")
			}
			dec, _ := crypto.PGP().Decryption().Password([]byte("correct horse battery staple")).New()
			if _, err := dec.Decrypt(f.Body, crypto.Bytes); err == nil {
				t.Error("a passphrase opened a copy encrypted to a key")
			}
		})
		t.Run("the log names the key's fingerprint", func(t *testing.T) {
			all, err := sys.Audit.Entries(u.Ctx(), 0, 10000)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, en := range all {
				found = found || en.Type == "directory.exported" && strings.HasSuffix(en.Object, "?key="+fp)
			}
			if !found {
				t.Error("no export names the key")
			}
		})
	})
}
