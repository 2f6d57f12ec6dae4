package account

import (
	"crypto/subtle"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/pocdir/pocdir/internal/app"
)

const totpPeriod = 30

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// NewTOTPKey generates a TOTP secret for the account. The returned key gives
// the otpauth:// URL for authenticator apps and a QR code image.
func NewTOTPKey(email string) (*otp.Key, error) {
	return totp.Generate(totp.GenerateOpts{Issuer: "pocdir", AccountName: email, Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// TOTPCode returns the code for the secret at time t (used by the demo and
// the tests, which play the part of an authenticator app).
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totpOpts)
}

// errTOTPUsed says that a code was right but was already used: an
// authenticator shows the same code for thirty seconds, and a second
// sign-in in that time must wait for the next one.
func errTOTPUsed() error {
	return app.FieldError("code", "error.totp_used", "this code was already used: wait for the next one", nil)
}

// errTOTPWrong says that a code is wrong, or too old.
func errTOTPWrong() error { return app.FieldError("code", "error.totp", "wrong or expired code", nil) }

// checkTOTP checks code against the secret, allowing one step of clock skew
// each way, and refuses any step at or before lastStep so that a code cannot
// be replayed (errTOTPUsed: the person is told to wait for the next code). It returns the step that matched.
func checkTOTP(secret, code string, now time.Time, lastStep int64) (int64, error) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return 0, errTOTPWrong()
	}
	cur := now.Unix() / totpPeriod
	used := false
	for _, step := range []int64{cur - 1, cur, cur + 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0, errTOTPWrong()
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			if step <= lastStep {
				used = true
				continue
			}
			return step, nil
		}
	}
	if used {
		return 0, errTOTPUsed()
	}
	return 0, errTOTPWrong()
}
