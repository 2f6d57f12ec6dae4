package account_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/seal"
	"github.com/pocdir/pocdir/internal/testkit"
)

func TestTOTPSecretsAreSealedAtRest(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		acc := sys.Accounts
		// withKeys is the accounts of an instance with other data keys.
		withKeys := func(r *seal.Keyring) *account.Service {
			return account.New(account.Config{DB: sys.DB, Now: sys.Clock.Now, Mail: sys.Mail, Seal: r, KnownState: directory.KnownState})
		}
		ctx := context.Background()
		a := sys.User(t, "a@fra.example", app.RoleFocalPoint, "FRA")
		b := sys.User(t, "b@ken.example", app.RoleFocalPoint, "KEN")
		stored := func(u *testkit.User) string {
			t.Helper()
			var v string
			if err := sys.DB.QueryRowContext(ctx, `SELECT totp_secret FROM users WHERE id = $1`, u.ID).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		login := func(u *testkit.User) error {
			t.Helper()
			sys.Clock.Advance(30 * time.Second)
			p, err := acc.Login(ctx, u.Email, testkit.Password, "192.0.2.9", "t")
			if err != nil {
				t.Fatal(err)
			}
			_, err = acc.VerifyTOTP(ctx, p.Token, sys.Code(t, u))
			return err
		}
		if v := stored(a); !seal.IsSealed(v) || strings.Contains(v, a.Secret) {
			t.Fatalf("stored %q", v)
		}
		if err := login(a); err != nil {
			t.Fatalf("login with a sealed secret: %v", err)
		}
		t.Run("a sealed secret copied to another account does not open", func(t *testing.T) {
			if _, err := sys.DB.ExecContext(ctx, `UPDATE users SET totp_secret = $1 WHERE id = $2`, stored(a), b.ID); err != nil {
				t.Fatal(err)
			}
			if err := login(b); err == nil {
				t.Error("b signed in with a's secret")
			}
		})
		t.Run("secrets stored in clear before sealing are sealed, and still work", func(t *testing.T) {
			if _, err := sys.DB.ExecContext(ctx, `UPDATE users SET totp_secret = $1 WHERE id = $2`, b.Secret, b.ID); err != nil {
				t.Fatal(err)
			}
			n, err := acc.SealTOTPSecrets(ctx)
			if err != nil || n != 1 {
				t.Fatalf("sealed %d: %v", n, err)
			}
			if v := stored(b); !seal.IsSealed(v) {
				t.Errorf("still in clear")
			}
			if err := login(b); err != nil {
				t.Errorf("login after sealing: %v", err)
			}
		})
		t.Run("after a key rotation, secrets are sealed again with the new key", func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "data.key")
			old, err := seal.LoadOrCreate(path)
			if err != nil {
				t.Fatal(err)
			}
			acc = withKeys(old)
			// Re-seal with this test's key first (the accounts were sealed with testkit's).
			if _, err := sys.DB.ExecContext(ctx, `UPDATE users SET totp_secret = $1 WHERE id = $2`, a.Secret, a.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := sys.DB.ExecContext(ctx, `UPDATE users SET totp_secret = $1 WHERE id = $2`, b.Secret, b.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := acc.SealTOTPSecrets(ctx); err != nil {
				t.Fatal(err)
			}
			ring, err := seal.Rotate(path)
			if err != nil {
				t.Fatal(err)
			}
			acc = withKeys(ring)
			if err := login(a); err != nil {
				t.Errorf("login with a secret of the old key: %v", err)
			}
			if n, err := acc.SealTOTPSecrets(ctx); err != nil || n != 2 {
				t.Errorf("resealed %d: %v", n, err)
			}
			if seal.SealedWith(stored(a)) != ring.Current() {
				t.Error("not sealed with the new key")
			}
			if err := login(a); err != nil {
				t.Errorf("login after resealing: %v", err)
			}
		})
		t.Run("without a data key, no secret is stored in clear", func(t *testing.T) {
			acc = withKeys(nil)
			err := acc.SetTOTPSecret(app.WithActor(ctx, app.System), a.ID, "JBSWY3DPEHPK3PXP")
			if app.ErrorCode(err) != app.Internal {
				t.Errorf("got %v", err)
			}
		})
	})
}
