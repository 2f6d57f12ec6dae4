package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/gopenpgp/v3/crypto"

	"github.com/pocdir/pocdir/internal/offline"
	"github.com/pocdir/pocdir/internal/testkit"
)

func TestOfflineCopyAPI(t *testing.T) {
	f := newFixture(t, testkit.Engines()[0])
	key, err := crypto.PGP().KeyGeneration().AddUserId("CERT", "cert@example.org").GenerationTime(f.sys.Clock.Now().Add(-time.Hour).Unix()).New().GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	in := testkit.ValidPoC()
	in.PGPKey = armoredPublic(t, key)
	withKey := f.sys.AddPoC(t, f.fpA.Ctx(), stateA, in)
	pass := "correct horse battery staple"
	open := func(t *testing.T, body []byte, dec crypto.PGPDecryption) *offline.Verified {
		t.Helper()
		res, err := dec.Decrypt(body, crypto.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		v, err := offline.Verify(res.Bytes(), f.sys.Keys.VerifierKey)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	t.Run("a copy under the header's passphrase opens with it and verifies", func(t *testing.T) {
		r := f.do(t, "GET", "/api/v1/offline-copy", f.offATok, nil, "Offline-Copy-Passphrase", pass)
		if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/pgp-encrypted" {
			t.Fatalf("status %d, %s: %.200s", r.Status, r.Header.Get("Content-Type"), r.Body)
		}
		dec, _ := crypto.PGP().Decryption().Password([]byte(pass)).New()
		if v := open(t, r.Body, dec); v.Manifest.Holder != f.offA.Email {
			t.Errorf("holder %q", v.Manifest.Holder)
		}
	})
	t.Run("a copy for a PoC opens with the PoC's private key", func(t *testing.T) {
		r := f.do(t, "GET", fmt.Sprintf("/api/v1/offline-copy?poc=%d", withKey.ID), f.offATok, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("status %d: %.200s", r.Status, r.Body)
		}
		dec, _ := crypto.PGP().Decryption().DecryptionKey(key).New()
		open(t, r.Body, dec)
	})
	tests := []struct {
		name   string
		path   string
		token  string
		header []string
		status int
	}{
		{"no passphrase is refused", "/api/v1/offline-copy", f.offATok, nil, 400},
		{"a short passphrase is refused", "/api/v1/offline-copy", f.offATok, []string{"Offline-Copy-Passphrase", "short"}, 400},
		{"a PoC id that is not a number is refused", "/api/v1/offline-copy?poc=x", f.offATok, nil, 400},
		{"another State's PoC is refused", fmt.Sprintf("/api/v1/offline-copy?poc=%d", withKey.ID), f.offBTok, nil, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, "GET", tt.path, tt.token, nil, tt.header...)
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %.200s", r.Status, tt.status, r.Body)
			}
			checkError(t, r)
		})
	}
	t.Run("?to=mine without a key on the account is refused", func(t *testing.T) {
		r := f.do(t, "GET", "/api/v1/offline-copy?to=mine", f.offATok, nil)
		if r.Status != http.StatusBadRequest {
			t.Fatalf("status %d: %.200s", r.Status, r.Body)
		}
		checkError(t, r)
	})
	own := testkit.NewKeyPair(t, "Officer B", f.offB.Email)
	if _, err := f.sys.Accounts.SetOpenPGPKey(f.offB.Ctx(), own.Public); err != nil {
		t.Fatal(err)
	}
	t.Run("the State's users list says the key's fingerprint, as openapi.yaml describes", func(t *testing.T) {
		r := f.do(t, "GET", "/api/v1/users", f.fpBTok, nil)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"openpgp_fingerprint":"`+strings.ToUpper(own.Private.GetFingerprint())+`"`) {
			t.Errorf("status %d: %.300s", r.Status, r.Body)
		}
		if err := newValidator(t).check("GET", "/api/v1/users", nil, nil, true, r); err != nil {
			t.Error(err)
		}
	})
	for _, path := range []string{"/api/v1/offline-copy", "/api/v1/offline-copy?to=mine"} {
		t.Run("with a key on the account, "+path+" is a copy encrypted to it", func(t *testing.T) {
			r := f.do(t, "GET", path, f.offBTok, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("status %d: %.200s", r.Status, r.Body)
			}
			dec, _ := crypto.PGP().Decryption().DecryptionKey(own.Private).New()
			if v := open(t, r.Body, dec); v.Manifest.Holder != f.offB.Email {
				t.Errorf("holder %q", v.Manifest.Holder)
			}
		})
	}
	t.Run("with a key on the account, a passphrase is still honoured", func(t *testing.T) {
		r := f.do(t, "GET", "/api/v1/offline-copy", f.offBTok, nil, "Offline-Copy-Passphrase", pass)
		if r.Status != http.StatusOK {
			t.Fatalf("status %d: %.200s", r.Status, r.Body)
		}
		dec, _ := crypto.PGP().Decryption().Password([]byte(pass)).New()
		open(t, r.Body, dec)
	})
}
