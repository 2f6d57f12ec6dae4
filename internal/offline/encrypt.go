package offline

import (
	"context"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/ProtonMail/gopenpgp/v3/crypto"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/export"
)

// MinPassphrase is the shortest passphrase a copy is encrypted under, in
// characters: the copy leaves pocdir and may be attacked at leisure.
const MinPassphrase = 12

// Recipient is whom a copy is encrypted to: an OpenPGP public key
// (ASCII-armored), or the one on a PoC's entry, or else a passphrase the
// holder chose.
type Recipient struct {
	PublicKey string
	// PoC, when set, names a PoC of the directory whose key on the entry
	// the copy is encrypted to: one of the actor's State's PoCs, or any for
	// the Secretariat.
	PoC        int64
	Passphrase []byte
}

// pocKey fills in the key of the PoC the recipient names.
func (s *Service) pocKey(ctx context.Context, to *Recipient) error {
	if to.PoC == 0 {
		return nil
	}
	a, err := app.RequireActor(ctx)
	if err != nil {
		return err
	}
	p, err := s.Export.Dir.GetPoC(ctx, to.PoC)
	if err != nil {
		return err
	}
	if a.State != "" && p.State != a.State {
		return app.ErrForbidden()
	}
	if p.PGPKey == "" {
		return app.FieldError("poc", "error.offline_no_key", "this PoC has no OpenPGP key on the entry", nil)
	}
	to.PublicKey = p.PGPKey
	return nil
}

// Encrypt encrypts an archive as an OpenPGP message (binary, as "gpg
// --decrypt" reads it): to the recipient's public key, or, without one,
// symmetrically under the passphrase.
func Encrypt(archive []byte, to Recipient, now int64) ([]byte, error) {
	pgp := crypto.PGP()
	var h crypto.PGPEncryption
	var err error
	switch {
	case to.PublicKey != "":
		key, kerr := crypto.NewKeyFromArmored(to.PublicKey)
		if kerr != nil {
			return nil, app.FieldError("openpgp_key", "error.offline_key", "the holder's OpenPGP key cannot be read", nil)
		}
		if !key.CanEncrypt(now) {
			return nil, app.FieldError("openpgp_key", "error.offline_key", "the holder's OpenPGP key cannot encrypt (expired or revoked?)", nil)
		}
		h, err = pgp.Encryption().Recipient(key).New()
	case utf8.RuneCount(to.Passphrase) >= MinPassphrase:
		h, err = pgp.Encryption().Password(to.Passphrase).New()
	default:
		return nil, app.FieldError("passphrase", "error.offline_passphrase", fmt.Sprintf("a passphrase of at least %d characters is required", MinPassphrase), map[string]any{"Min": MinPassphrase})
	}
	if err != nil {
		return nil, fmt.Errorf("offline: preparing the encryption: %w", err)
	}
	msg, err := h.Encrypt(archive)
	if err != nil {
		return nil, fmt.Errorf("offline: encrypting: %w", err)
	}
	return msg.Bytes(), nil
}

// Copy makes the actor's offline copy and encrypts it to them: a file
// named pocdir-offline-copy-DATE.tar.gpg. A PoC's key is checked (and a
// passphrase's length) before the copy is made and recorded.
func (s *Service) Copy(ctx context.Context, to Recipient) (*export.File, error) {
	// Refuse a key or passphrase that will not do before anything is
	// recorded in the log.
	if err := s.pocKey(ctx, &to); err != nil {
		return nil, err
	}
	if _, err := Encrypt([]byte{}, to, s.Now().Unix()); err != nil {
		return nil, err
	}
	// The log names the PoC whose key the copy was encrypted to.
	logged := "offline-copy.tar"
	if to.PoC != 0 {
		logged += "?poc=" + strconv.FormatInt(to.PoC, 10)
	}
	a, err := s.archive(ctx, logged)
	if err != nil {
		return nil, err
	}
	body, err := Encrypt(a.Tar, to, s.Now().Unix())
	if err != nil {
		return nil, err
	}
	return &export.File{
		Name: "pocdir-offline-copy-" + a.Manifest.Created.Format("2006-01-02") + ".tar.gpg",
		Type: "application/pgp-encrypted",
		Body: body,
	}, nil
}

// Decrypt opens a copy encrypted under a passphrase, for holders without
// GnuPG; a copy encrypted to a key is opened with GnuPG, which holds the
// private key.
func Decrypt(encrypted, passphrase []byte) ([]byte, error) {
	h, err := crypto.PGP().Decryption().Password(passphrase).New()
	if err != nil {
		return nil, fmt.Errorf("offline: preparing the decryption: %w", err)
	}
	res, err := h.Decrypt(encrypted, crypto.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the copy does not open with this passphrase (or is encrypted to a key: use gpg --decrypt): %w", err)
	}
	return res.Bytes(), nil
}
