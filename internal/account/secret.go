package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/seal"
)

// newSecret returns a random URL-safe secret of 256 bits with a prefix that
// tells what it is when found in a log or a leak scanner.
func newSecret(prefix string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// hashSecret is how secrets are stored: a SHA-256, enough for 256-bit random
// values, and fast for the lookup on every request.
func hashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TOTP secrets must be read back to check codes, so they are not hashed
// but sealed (encrypted at rest, bound to their user's row) with the data
// key, which is kept outside the database.

func totpAAD(userID int64) string { return "users.totp_secret:" + strconv.FormatInt(userID, 10) }

func (s *Service) sealTOTP(userID int64, secret string) (string, error) {
	if s.seal == nil {
		return "", app.Errorf(app.Internal, "error.internal", "no data key: TOTP secrets cannot be stored")
	}
	return s.seal.Seal(totpAAD(userID), []byte(secret))
}

// openTOTP returns the user's TOTP secret in clear ("" when none). A value
// stored before secrets were sealed is read as is until SealTOTPSecrets
// seals it.
func (s *Service) openTOTP(u *User) (string, error) {
	if u.totpSecret == "" || !seal.IsSealed(u.totpSecret) {
		return u.totpSecret, nil
	}
	if s.seal == nil {
		return "", app.Errorf(app.Internal, "error.internal", "no data key: TOTP secrets cannot be read")
	}
	b, err := s.seal.Open(totpAAD(u.ID), u.totpSecret)
	if err != nil {
		return "", fmt.Errorf("user %d: %w", u.ID, err)
	}
	return string(b), nil
}

// SealTOTPSecrets seals the TOTP secrets stored in clear (before sealing
// existed) and seals again, under the current key, those sealed under an
// older one (after a key rotation). It returns how many it wrote; it runs
// at every start and is cheap when there is nothing to do.
func (s *Service) SealTOTPSecrets(ctx context.Context) (int, error) {
	if s.seal == nil {
		return 0, nil
	}
	stored, err := storedTOTPSecrets(ctx, s.DB)
	if err != nil {
		return 0, err
	}
	var todo []storedSecret
	for _, r := range stored {
		if !seal.IsSealed(r.stored) || seal.SealedWith(r.stored) != s.seal.Current() {
			todo = append(todo, r)
		}
	}
	n := 0
	for _, r := range todo {
		secret, err := s.openTOTP(&User{ID: r.id, totpSecret: r.stored})
		if err != nil {
			return n, err
		}
		sealed, err := s.sealTOTP(r.id, secret)
		if err != nil {
			return n, err
		}
		// Only if unchanged meanwhile (an enrolment on another instance).
		if err := exec(ctx, s.DB, "sealing a TOTP secret again", `UPDATE users SET totp_secret = $1 WHERE id = $2 AND totp_secret = $3`, sealed, r.id, r.stored); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// FormToken is the anti-forgery token of the forms that a browser holding
// secret (its session token, or before sign-in its form cookie) may post:
// a hash of the secret, so that a page that shows it gives nothing away,
// and one no other site can compute, since the secret is in a cookie only
// pocdir reads. It needs no storage, so any instance checks it.
func FormToken(secret string) string {
	h := sha256.Sum256([]byte("pocdir form token\x00" + secret))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// NewFormSecret returns the secret of a browser that has no session yet.
func NewFormSecret() string { return newSecret("pocdir_form_") }
