package notify

import (
	"strings"
	"time"

	"github.com/ProtonMail/gopenpgp/v3/crypto"

	"github.com/pocdir/pocdir/internal/app"
)

// MaxPublicKey is the longest ASCII-armored public key pocdir keeps, in
// bytes: room for an RSA-4096 key with its subkeys and a few signatures.
const MaxPublicKey = 64 << 10

// KeyInfo is what pocdir keeps about an OpenPGP public key that it
// encrypts to: a PoC's on the entry, or a user's on their account.
type KeyInfo struct {
	Armored     string
	Fingerprint string // upper-case hex
	// ExpiresAt is when the key stops being usable for encryption: the
	// earlier of the primary key's and the encryption subkey's expiry; nil
	// when it does not expire.
	ExpiresAt *time.Time
}

// ParsePublicKey parses an ASCII-armored OpenPGP public key and checks that it
// can encrypt now. A private key, an expired or revoked key, and a key without
// an encryption subkey are refused, each with its own message.
func ParsePublicKey(armored string, now time.Time) (*KeyInfo, error) {
	if len(armored) > MaxPublicKey {
		return nil, app.FieldError("openpgp_key", "error.too_long", "too long", map[string]any{"Max": MaxPublicKey})
	}
	if !strings.Contains(armored, "-----BEGIN PGP PUBLIC KEY BLOCK-----") {
		if strings.Contains(armored, "PRIVATE KEY") {
			return nil, app.FieldError("openpgp_key", "error.pgp_private", "this is a private key: paste the public key only", nil)
		}
		return nil, app.FieldError("openpgp_key", "error.pgp_armor", "not an ASCII-armored OpenPGP public key (-----BEGIN PGP PUBLIC KEY BLOCK-----)", nil)
	}
	key, err := crypto.NewKeyFromArmored(armored)
	if err != nil {
		return nil, app.FieldError("openpgp_key", "error.pgp_parse", "the OpenPGP key could not be read", nil)
	}
	if key.IsPrivate() {
		return nil, app.FieldError("openpgp_key", "error.pgp_private", "this is a private key: paste the public key only", nil)
	}
	t := now.Unix()
	if key.IsRevoked(t) {
		return nil, app.FieldError("openpgp_key", "error.pgp_revoked", "the OpenPGP key is revoked", nil)
	}
	if key.IsExpired(t) {
		return nil, app.FieldError("openpgp_key", "error.pgp_expired", "the OpenPGP key has expired", nil)
	}
	if !key.CanEncrypt(t) {
		return nil, app.FieldError("openpgp_key", "error.pgp_no_encrypt", "the OpenPGP key has no valid encryption key", nil)
	}
	info := &KeyInfo{Armored: armored, Fingerprint: strings.ToUpper(key.GetFingerprint())}
	e := key.GetEntity()
	var exp *time.Time
	earliest := func(created time.Time, secs *uint32) {
		if secs == nil || *secs == 0 {
			return
		}
		x := created.Add(time.Duration(*secs) * time.Second).UTC()
		if exp == nil || x.Before(*exp) {
			exp = &x
		}
	}
	if sig, err := e.PrimarySelfSignature(now, nil); err == nil && sig != nil {
		earliest(e.PrimaryKey.CreationTime, sig.KeyLifetimeSecs)
	}
	if k, ok := e.EncryptionKey(now, nil); ok && k.SelfSignature != nil && k.PublicKey != e.PrimaryKey {
		earliest(k.PublicKey.CreationTime, k.SelfSignature.KeyLifetimeSecs)
	}
	info.ExpiresAt = exp
	return info, nil
}
