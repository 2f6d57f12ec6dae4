package auditlog

import (
	"crypto/ed25519"
	"encoding/base64"
)

func decodeKey(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

func ed25519Public(seed []byte) ed25519.PublicKey {
	return ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
}
