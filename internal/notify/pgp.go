package notify

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ProtonMail/gopenpgp/v3/crypto"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/seal"
)

// PGPSigner holds pocdir's own OpenPGP key pair, which signs the emails it
// encrypts to a PoC, so that the PoC can tell them from forgeries.
type PGPSigner struct {
	// Now is the time at which a recipient's key must be valid (the real
	// time when nil), so that it agrees with the directory's checks of the
	// same key. Signatures always carry the real time.
	Now app.Clock

	pgp  *crypto.PGPHandle
	key  *crypto.Key // the unlocked private key
	pub  string
	fp   string
	keys *recipientKeys // shared by the copies At makes
}

// LoadOrCreatePGPSigner reads pocdir's OpenPGP private key (ASCII-armored)
// from path, generating it on first start with the user ID "name <email>"
// (Ed25519 for signatures, X25519 for encryption, no expiry). email is the
// address pocdir's mail comes From: when the key has no user ID with it
// (the address changed), a new key is made and the old one kept beside
// the file.
//
// The key in the file is not protected by a passphrase: like the log's
// signing key, it is protected by living outside the database in a file
// that only its owner may read (mode 0600), and a file that others may read
// or write is refused. Whoever can read the file can sign as pocdir. Several
// instances on one database must share the file.
func LoadOrCreatePGPSigner(path, name, email string) (*PGPSigner, error) {
	pgp := crypto.PGP()
	b, err := seal.ReadSecretFile(path)
	if errors.Is(err, os.ErrNotExist) {
		b, err = createPGPKey(pgp, path, name, email)
	}
	if err != nil {
		return nil, fmt.Errorf("openpgp key: %w", err)
	}
	key, err := crypto.NewKeyFromArmored(string(b))
	if err != nil {
		return nil, fmt.Errorf("openpgp key %s: %w", path, err)
	}
	if !key.IsPrivate() {
		return nil, fmt.Errorf("openpgp key %s: not a private key", path)
	}
	if locked, err := key.IsLocked(); err != nil || locked {
		return nil, fmt.Errorf("openpgp key %s: the key is protected by a passphrase; pocdir needs it without one (the file's mode protects it)", path)
	}
	if now := time.Now().Unix(); key.IsRevoked(now) || key.IsExpired(now) || !key.CanVerify(now) {
		return nil, fmt.Errorf("openpgp key %s: the key is revoked, expired, or cannot sign", path)
	}
	if email != "" && !hasUserEmail(key, email) {
		// Mail clients tie a signature to the sender's address: a key
		// whose user ID is not the From address shows as doubtful. pocdir
		// makes a new key for the address, and keeps the old one beside.
		old := path + ".replaced-" + strings.ToLower(key.GetFingerprint())[:16]
		if err := os.Rename(path, old); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("openpgp key %s: %w", path, err)
		}
		return LoadOrCreatePGPSigner(path, name, email)
	}
	pub, err := key.GetArmoredPublicKey()
	if err != nil {
		return nil, fmt.Errorf("openpgp key %s: %w", path, err)
	}
	return &PGPSigner{pgp: pgp, key: key, pub: pub, fp: strings.ToUpper(key.GetFingerprint()), keys: &recipientKeys{}}, nil
}

// At returns the signer checking recipients' keys at the time now tells
// (the directory's clock), so that it agrees with the directory's checks of
// the same keys.
func (s *PGPSigner) At(now app.Clock) *PGPSigner {
	cp := *s
	cp.Now = now
	return &cp
}

// createPGPKey generates a key and writes it to path (mode 0600). The file
// appears whole or not at all; when another instance wrote it first, its
// key is the one used.
func createPGPKey(pgp *crypto.PGPHandle, path, name, email string) ([]byte, error) {
	if strings.TrimSpace(email) == "" || strings.ContainsAny(name+email, "<>\r\n") {
		return nil, fmt.Errorf("user ID %q <%s>: give a name and an email address", name, email)
	}
	key, err := pgp.KeyGeneration().AddUserId(name, email).New().GenerateKey()
	if err != nil {
		return nil, err
	}
	armored, err := key.Armor()
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, ".pgpkey-*") // mode 0600
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(armored + "\n"); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	return seal.ReadSecretFile(path)
}

// PublicKey is pocdir's OpenPGP public key, ASCII-armored, for PoCs to
// verify the signatures of the emails they receive.
func (s *PGPSigner) PublicKey() string { return s.pub }

// Fingerprint is the fingerprint of pocdir's key in upper-case hex.
func (s *PGPSigner) Fingerprint() string { return s.fp }

// ErrUnusableKey is returned (wrapped, with the reason) by EncryptAndSign
// for a recipient key that cannot be encrypted to: the caller may then send
// a notice without the content instead.
var ErrUnusableKey = errors.New("the recipient's OpenPGP key cannot be used")

// EncryptAndSign encrypts plaintext to the recipient's ASCII-armored public
// key and signs it with pocdir's key, in one OpenPGP message (RFC 3156
// §6.2, combined method), and returns that message ASCII-armored. A private
// key, an expired, revoked or unreadable key, and a key without a valid
// encryption subkey are refused with an error wrapping ErrUnusableKey.
//
// For a PGP/MIME email (Message.PGP), plaintext must be a MIME entity, its
// headers included: see MIMEText.
func (s *PGPSigner) EncryptAndSign(recipientArmoredPublicKey string, plaintext []byte) (string, error) {
	armored := recipientArmoredPublicKey
	if !strings.Contains(armored, "-----BEGIN PGP PUBLIC KEY BLOCK-----") {
		if strings.Contains(armored, "PRIVATE KEY") {
			return "", fmt.Errorf("%w: it is a private key", ErrUnusableKey)
		}
		return "", fmt.Errorf("%w: not an ASCII-armored public key", ErrUnusableKey)
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	t := now.Unix()
	rk := s.keys.of(armored)
	// The library records on the parsed key what it verified: one
	// goroutine at a time uses it.
	rk.mu.Lock()
	defer rk.mu.Unlock()
	key, err := rk.at(t)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnusableKey, err)
	}
	switch {
	case key.IsPrivate():
		return "", fmt.Errorf("%w: it is a private key", ErrUnusableKey)
	case key.IsRevoked(t):
		return "", fmt.Errorf("%w: it is revoked", ErrUnusableKey)
	case key.IsExpired(t):
		return "", fmt.Errorf("%w: it has expired", ErrUnusableKey)
	case !key.CanEncrypt(t):
		return "", fmt.Errorf("%w: it has no valid encryption key", ErrUnusableKey)
	}
	h, err := s.pgp.Encryption().Recipient(key).SigningKey(s.key).EncryptionTime(t).New()
	if err != nil {
		return "", err
	}
	msg, err := h.Encrypt(plaintext)
	if err != nil {
		return "", fmt.Errorf("openpgp: %w", err)
	}
	return msg.Armor()
}

// recipientKeys keeps the recipients' public keys parsed, by the digest of
// their armored text, so that a PoC's key is parsed and its self-signatures
// verified once (the OpenPGP library keeps each verification's result on the
// parsed key), not once for every e-mail: a crisis writes to the same PoCs
// again and again, and each parse and verification took more of an
// encrypted e-mail's time than encrypting it. Whether the key may be used is
// still judged at each e-mail's time, as before.
type recipientKeys struct {
	mu    sync.Mutex
	keys  map[[32]byte]*recipientKey
	bytes int // of their armored texts
}

// maxRecipientKeys and maxRecipientKeyBytes bound the keys kept: four
// times a full directory's PoCs, and 32 MB of armored keys (a key may take
// 64 KB). Past either, keys are forgotten for each new one.
const (
	maxRecipientKeys     = 4096
	maxRecipientKeyBytes = 32 << 20
)

// parses counts the keys parsed, for the test that they are kept.
var parses atomic.Int64

type recipientKey struct {
	mu      sync.Mutex
	armored string
	key     *crypto.Key
	err     error
	latest  int64 // the latest time the key was judged at
}

// of returns the entry of an armored key, unparsed when new.
func (c *recipientKeys) of(armored string) *recipientKey {
	d := sha256.Sum256([]byte(armored))
	c.mu.Lock()
	defer c.mu.Unlock()
	if rk := c.keys[d]; rk != nil {
		return rk
	}
	if c.keys == nil {
		c.keys = map[[32]byte]*recipientKey{}
	}
	for k, old := range c.keys {
		if len(c.keys) < maxRecipientKeys && c.bytes+len(armored) <= maxRecipientKeyBytes {
			break
		}
		delete(c.keys, k)
		c.bytes -= len(old.armored)
	}
	rk := &recipientKey{armored: armored}
	c.keys[d] = rk
	c.bytes += len(armored)
	return rk
}

// at returns the parsed key, to be judged at t (rk.mu held). A clock that
// went back (a test's, or the directory's set by hand) parses the key
// again: the library's verifications judged at a later time are not reused
// for an earlier one.
func (rk *recipientKey) at(t int64) (*crypto.Key, error) {
	if (rk.key == nil && rk.err == nil) || t < rk.latest {
		parses.Add(1)
		rk.key, rk.err = crypto.NewKeyFromArmored(rk.armored)
	}
	rk.latest = t
	return rk.key, rk.err
}

// MIMEText returns body as a MIME entity (text/plain in UTF-8, quoted-
// printable, CRLF line endings): what a PGP/MIME message encrypts, since a
// mail client reads the decrypted data as a MIME entity, headers first.
func MIMEText(body string) []byte {
	var b bytes.Buffer
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(body)) // writes to a bytes.Buffer do not fail
	w.Close()
	return b.Bytes()
}

// hasUserEmail reports whether one of the key's user IDs has the address.
func hasUserEmail(key *crypto.Key, email string) bool {
	for _, id := range key.GetEntity().Identities {
		if id.UserId != nil && strings.EqualFold(id.UserId.Email, email) {
			return true
		}
	}
	return false
}

// Decrypt decrypts an ASCII-armored OpenPGP message encrypted to pocdir's
// key (a PoC's reply). When signer is the sender's ASCII-armored public
// key, signed reports whether the message carries a valid signature by it
// (RFC 3156 §6.2, combined method); a message signed by another key, or
// not signed, is not signed by the sender.
func (s *PGPSigner) Decrypt(armored string, signer string) (plain []byte, signed bool, err error) {
	b := s.pgp.Decryption().DecryptionKey(s.key)
	var pub *crypto.Key
	if signer != "" {
		if pub, err = crypto.NewKeyFromArmored(signer); err == nil && !pub.IsPrivate() {
			b = b.VerificationKey(pub)
		} else {
			pub = nil
		}
	}
	h, err := b.New()
	if err != nil {
		return nil, false, err
	}
	res, err := h.Decrypt([]byte(armored), crypto.Armor)
	if err != nil {
		return nil, false, fmt.Errorf("openpgp: %w", err)
	}
	return res.Bytes(), pub != nil && res.SignatureError() == nil, nil
}

// VerifyDetached reports whether sig (ASCII-armored) is a valid signature
// of data by the ASCII-armored public key (a PGP/MIME signed reply, RFC
// 3156 §5).
func (s *PGPSigner) VerifyDetached(signer string, data []byte, sig string) bool {
	pub, err := crypto.NewKeyFromArmored(signer)
	if err != nil || pub.IsPrivate() {
		return false
	}
	v, err := s.pgp.Verify().VerificationKey(pub).New()
	if err != nil {
		return false
	}
	res, err := v.VerifyDetached(data, []byte(sig), crypto.Armor)
	return err == nil && res.SignatureError() == nil
}

// VerifyCleartext returns the text of an inline cleartext-signed message
// and whether its signature by the ASCII-armored public key holds.
func (s *PGPSigner) VerifyCleartext(signer string, armored string) (string, bool) {
	pub, err := crypto.NewKeyFromArmored(signer)
	if err != nil || pub.IsPrivate() {
		return "", false
	}
	v, err := s.pgp.Verify().VerificationKey(pub).New()
	if err != nil {
		return "", false
	}
	res, err := v.VerifyCleartext([]byte(armored))
	if err != nil {
		return "", false
	}
	return string(res.Cleartext()), res.SignatureError() == nil
}
