package offline

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	PoC int64
	// Mine, when set, encrypts the copy to the key the actor set on their
	// own account.
	Mine       bool
	Passphrase []byte
}

// recipientKey fills in the key of the PoC the recipient names, or the
// actor's own.
func (s *Service) recipientKey(ctx context.Context, to *Recipient) error {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return err
	}
	if to.Mine {
		key, err := s.Accounts.OpenPGPKey(ctx)
		if err != nil {
			return err
		}
		if key == "" {
			return app.FieldError("to", "error.offline_no_own_key", "you have set no OpenPGP key on your account", nil)
		}
		to.PublicKey = key
		return nil
	}
	if to.PoC == 0 {
		return nil
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
	if err := s.recipientKey(ctx, &to); err != nil {
		return nil, err
	}
	if _, err := Encrypt([]byte{}, to, s.Now().Unix()); err != nil {
		return nil, err
	}
	// The log names the PoC whose key the copy was encrypted to.
	logged := "offline-copy.tar"
	switch {
	case to.PoC != 0:
		logged += "?poc=" + strconv.FormatInt(to.PoC, 10)
	case to.Mine:
		logged += "?key=" + fingerprint(to.PublicKey)
	}
	a, err := s.archive(ctx, s.exported(logged))
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
// GnuPG; DecryptWithKey opens a copy encrypted to a key.
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

// MaxPrivateKey is the longest armored private key DecryptWithKey reads:
// a 16384-bit RSA key with its subkeys is under 64 KiB.
const MaxPrivateKey = 64 << 10

// DecryptWithKey opens a copy encrypted to an OpenPGP key with its private
// key (ASCII-armored), unlocked with passphrase when it is locked. Each
// failure says what to do: a public key, a locked key without its
// passphrase, a wrong passphrase, or a copy encrypted to another key.
func DecryptWithKey(encrypted []byte, armoredPrivate string, passphrase []byte) ([]byte, error) {
	if len(armoredPrivate) > MaxPrivateKey {
		return nil, fmt.Errorf("the private key is longer than %d bytes: is it an OpenPGP key?", MaxPrivateKey)
	}
	key, err := crypto.NewKeyFromArmored(armoredPrivate)
	if err != nil {
		return nil, fmt.Errorf("the private key cannot be read (give the ASCII-armored key, as gpg --export-secret-keys --armor writes it): %w", err)
	}
	if !key.IsPrivate() {
		return nil, errors.New("this is a public key: the copy opens with the private key (gpg --export-secret-keys --armor)")
	}
	locked, err := key.IsLocked()
	if err != nil {
		return nil, fmt.Errorf("the private key cannot be read: %w", err)
	}
	if locked {
		if len(passphrase) == 0 {
			return nil, errors.New("the private key is locked: give its passphrase (--key-passphrase-file)")
		}
		if key, err = key.Unlock(passphrase); err != nil {
			return nil, errors.New("the private key does not unlock with this passphrase")
		}
	}
	h, err := crypto.PGP().Decryption().DecryptionKey(key).New()
	if err != nil {
		return nil, fmt.Errorf("offline: preparing the decryption: %w", err)
	}
	res, err := h.Decrypt(encrypted, crypto.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the copy does not open with this key (is it encrypted to another key, or under a passphrase?): %w", err)
	}
	return res.Bytes(), nil
}

// fingerprint is the fingerprint of an armored key that Encrypt accepted.
func fingerprint(armored string) string {
	k, err := crypto.NewKeyFromArmored(armored)
	if err != nil {
		return ""
	}
	return strings.ToUpper(k.GetFingerprint())
}
