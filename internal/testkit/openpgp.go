package testkit

import (
	"testing"
	"time"

	"github.com/ProtonMail/gopenpgp/v3/crypto"
)

// KeyPair is an OpenPGP key made for a test: the armored public key, as a
// PoC's entry or an account holds it, and the private key that opens what
// is encrypted to it.
type KeyPair struct {
	Public  string
	Private *crypto.Key
}

// NewKeyPair generates an OpenPGP key (the library's default profile:
// Ed25519 and X25519, no expiry) for the address, made on 1 January 2020
// so that it is valid at the tests' clock.
func NewKeyPair(t testing.TB, name, email string) KeyPair {
	t.Helper()
	k, err := crypto.PGP().KeyGeneration().AddUserId(name, email).GenerationTime(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix()).New().GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := k.GetArmoredPublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return KeyPair{Public: pub, Private: k}
}

// ArmoredPrivate returns the private key ASCII-armored, locked with
// passphrase when one is given.
func (k KeyPair) ArmoredPrivate(t testing.TB, passphrase []byte) string {
	t.Helper()
	key := k.Private
	if len(passphrase) > 0 {
		var err error
		if key, err = crypto.PGP().LockKey(key, passphrase); err != nil {
			t.Fatal(err)
		}
	}
	s, err := key.Armor()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
