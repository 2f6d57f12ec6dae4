package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/testkit"
)

func TestParsePublicKey(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	k := testkit.NewKeyPair(t, "CERT", "cert@example.org")
	tests := []struct {
		name    string
		armored string
		wantKey string // the error's catalog key; "" when the key is kept
	}{
		{"a public key that can encrypt is kept with its fingerprint", k.Public, ""},
		{"a private key is refused", k.ArmoredPrivate(t, nil), "error.pgp_private"},
		{"text that is no key is refused", "hello", "error.pgp_armor"},
		{"a damaged armor is refused", strings.Replace(k.Public, "\n\n", "\n\n!!", 1), "error.pgp_parse"},
		{"a key longer than the limit is refused before it is read", k.Public + strings.Repeat(" ", notify.MaxPublicKey), "error.too_long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := notify.ParsePublicKey(tt.armored, now)
			if tt.wantKey == "" {
				if err != nil {
					t.Fatal(err)
				}
				if want := strings.ToUpper(k.Private.GetFingerprint()); info.Fingerprint != want {
					t.Errorf("fingerprint %q, want %q", info.Fingerprint, want)
				}
				return
			}
			if got := app.AsError(err); got == nil || got.Key != tt.wantKey {
				t.Errorf("error %v, want %s", err, tt.wantKey)
			}
		})
	}
}

// FuzzParsePublicKey feeds the key parser what a user may paste: it
// returns a key or a field error, never panics.
func FuzzParsePublicKey(f *testing.F) {
	k := testkit.NewKeyPair(f, "CERT", "cert@example.org")
	f.Add(k.Public)
	f.Add("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----\n")
	f.Add("-----BEGIN PGP PRIVATE KEY BLOCK-----")
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		info, err := notify.ParsePublicKey(s, now)
		if err == nil && (info == nil || info.Fingerprint == "") {
			t.Fatalf("a key without a fingerprint: %+v", info)
		}
		if err != nil && app.ErrorCode(err) != app.Invalid {
			t.Fatalf("not a field error: %v", err)
		}
	})
}
