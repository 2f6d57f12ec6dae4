package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/notify"
)

// SetOpenPGPKey sets, replaces or (with an empty key) removes the
// signed-in user's OpenPGP public key, to which their offline copy of the
// directory is encrypted. The key must be able to encrypt now (not expired,
// not revoked, with an encryption subkey); its fingerprint is returned. It
// needs a signed-in session, as passkeys do: whoever sets the key reads the
// copies. Each change is recorded in the log.
func (s *Service) SetOpenPGPKey(ctx context.Context, armored string) (fingerprint string, err error) {
	a, err := requireSession(ctx)
	if err != nil {
		return "", err
	}
	if a.UserID == 0 {
		return "", app.ErrForbidden()
	}
	now := s.Now()
	armored = strings.TrimSpace(armored)
	typ := "openpgp_key.remove"
	if armored != "" {
		k, err := notify.ParsePublicKey(armored, now)
		if err != nil {
			return "", err
		}
		armored, fingerprint, typ = k.Armored, k.Fingerprint, "openpgp_key.set"
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var old string
		if err := tx.QueryRowContext(ctx, `SELECT openpgp_fingerprint FROM users WHERE id = $1`, a.UserID).Scan(&old); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return app.ErrUnauthenticated()
			}
			return fmt.Errorf("account store: reading the OpenPGP key: %w", err)
		}
		if old == "" && armored == "" {
			return nil // nothing to remove
		}
		if err := exec(ctx, tx, "saving the OpenPGP key", `UPDATE users SET openpgp_key = $1, openpgp_fingerprint = $2 WHERE id = $3`,
			armored, fingerprint, a.UserID); err != nil {
			return err
		}
		return logEvent(ctx, tx, a, typ, "user", a.UserID, a.State, now)
	})
	if err != nil {
		return "", err
	}
	return fingerprint, nil
}

// OpenPGPKey returns the signed-in user's own OpenPGP public key
// (ASCII-armored), or "" when they have none.
func (s *Service) OpenPGPKey(ctx context.Context) (string, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return "", err
	}
	if a.UserID == 0 {
		return "", nil
	}
	var key string
	err = s.DB.QueryRowContext(ctx, `SELECT openpgp_key FROM users WHERE id = $1`, a.UserID).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return "", app.ErrUnauthenticated()
	}
	if err != nil {
		return "", fmt.Errorf("account store: reading the OpenPGP key: %w", err)
	}
	return key, nil
}
