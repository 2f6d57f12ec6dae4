package account_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/testkit"
)

func TestOpenPGPKeyOnTheAccount(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		acc := sys.Accounts
		off := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
		other := sys.User(t, "other@fra.example", app.RoleOfficer, "FRA")
		first, second := testkit.NewKeyPair(t, "Officer", "off@fra.example"), testkit.NewKeyPair(t, "Officer", "off@fra.example")
		fpOf := func(k testkit.KeyPair) string { return strings.ToUpper(k.Private.GetFingerprint()) }
		// events counts the account's key events in the log.
		events := func(t *testing.T, typ string) int {
			t.Helper()
			all, err := sys.Audit.Entries(app.WithActor(context.Background(), app.System), 0, 10000)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, en := range all {
				if en.Type == typ && en.ActorEmail == off.Email {
					n++
				}
			}
			return n
		}
		keyOf := func(t *testing.T, u *testkit.User) (armored, fingerprint string) {
			t.Helper()
			k, err := acc.OpenPGPKey(u.Ctx())
			if err != nil {
				t.Fatal(err)
			}
			me, err := acc.Me(u.Ctx())
			if err != nil {
				t.Fatal(err)
			}
			return k, me.OpenPGPFingerprint
		}
		t.Run("a user sets a public key and sees its fingerprint, and the log records it", func(t *testing.T) {
			got, err := acc.SetOpenPGPKey(off.Ctx(), "\n"+first.Public+"\n")
			if err != nil {
				t.Fatal(err)
			}
			if got != fpOf(first) {
				t.Errorf("fingerprint %q, want %q", got, fpOf(first))
			}
			k, fp := keyOf(t, off)
			if k != strings.TrimSpace(first.Public) || fp != fpOf(first) {
				t.Errorf("kept %q (%s)", k, fp)
			}
			if n := events(t, "account.openpgp_key.set"); n != 1 {
				t.Errorf("%d set events, want 1", n)
			}
		})
		t.Run("another key replaces it", func(t *testing.T) {
			if _, err := acc.SetOpenPGPKey(off.Ctx(), second.Public); err != nil {
				t.Fatal(err)
			}
			if _, fp := keyOf(t, off); fp != fpOf(second) {
				t.Errorf("fingerprint %q, want %q", fp, fpOf(second))
			}
			if n := events(t, "account.openpgp_key.set"); n != 2 {
				t.Errorf("%d set events, want 2", n)
			}
		})
		t.Run("another user's account is not changed", func(t *testing.T) {
			if k, fp := keyOf(t, other); k != "" || fp != "" {
				t.Errorf("the other user has key %q", fp)
			}
		})
		refused := []struct {
			name, key, want string
		}{
			{"a private key is refused", first.ArmoredPrivate(t, nil), "error.pgp_private"},
			{"text that is no key is refused", "my key", "error.pgp_armor"},
			{"a key longer than the limit is refused", second.Public + strings.Repeat("A", 70<<10), "error.too_long"},
		}
		for _, tt := range refused {
			t.Run(tt.name+", and the key in place stays", func(t *testing.T) {
				_, err := acc.SetOpenPGPKey(off.Ctx(), tt.key)
				if ae := app.AsError(err); ae == nil || ae.Key != tt.want || ae.Field != "openpgp_key" {
					t.Errorf("error %v, want %s on openpgp_key", err, tt.want)
				}
				if _, fp := keyOf(t, off); fp != fpOf(second) {
					t.Errorf("fingerprint %q, want %q", fp, fpOf(second))
				}
			})
		}
		t.Run("an API token cannot set the key: it needs a signed-in session", func(t *testing.T) {
			a, err := acc.AuthenticateToken(context.Background(), sys.Token(t, off, "write"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := acc.SetOpenPGPKey(app.WithActor(context.Background(), a), first.Public); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("got %v, want forbidden", err)
			}
		})
		t.Run("without an actor nothing is set or read", func(t *testing.T) {
			if _, err := acc.SetOpenPGPKey(context.Background(), first.Public); app.ErrorCode(err) != app.Unauthorized {
				t.Errorf("set: %v", err)
			}
			if _, err := acc.OpenPGPKey(context.Background()); app.ErrorCode(err) != app.Unauthorized {
				t.Errorf("read: %v", err)
			}
		})
		t.Run("the user removes the key, and the log records it once", func(t *testing.T) {
			for range 2 {
				if _, err := acc.SetOpenPGPKey(off.Ctx(), ""); err != nil {
					t.Fatal(err)
				}
			}
			if k, fp := keyOf(t, off); k != "" || fp != "" {
				t.Errorf("still %q", fp)
			}
			if n := events(t, "account.openpgp_key.remove"); n != 1 {
				t.Errorf("%d remove events, want 1", n)
			}
		})
	})
}
