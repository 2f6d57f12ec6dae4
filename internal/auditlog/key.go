package auditlog

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/pocdir/pocdir/internal/seal"
)

// LoadOrCreateKey reads the log's signing key from path, generating it on
// first start. The key lives outside the database, so that whoever can write
// the database still cannot sign a rewritten history. Several instances on
// one database must share the file.
func LoadOrCreateKey(path, origin string) (*Keys, error) {
	b, err := seal.ReadSecretFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if origin == "" || strings.ContainsAny(origin, " +\n") {
			return nil, fmt.Errorf("log origin %q: give a name without spaces or '+', e.g. pocdir.example.org/log", origin)
		}
		skey, _, err := note.GenerateKey(rand.Reader, origin)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("log key: %w", err)
		}
		if _, err := f.WriteString(skey + "\n"); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		b = []byte(skey)
	} else if err != nil {
		return nil, fmt.Errorf("log key: %w", err)
	}
	return ParseSignerKey(strings.TrimSpace(string(b)))
}

// Keys are the log's signing key and its public verifier key.
type Keys struct {
	Signer   note.Signer
	Verifier note.Verifier
	// VerifierKey is the public key as text ("name+hash+key"), which users
	// keep to verify checkpoints offline.
	VerifierKey string
}

// ParseSignerKey parses a note signer key and derives its verifier.
func ParseSignerKey(skey string) (*Keys, error) {
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("log key: %w", err)
	}
	vkey, err := VerifierKeyOf(skey)
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	return &Keys{Signer: signer, Verifier: v, VerifierKey: vkey}, nil
}

// VerifierKeyOf derives the public verifier key ("name+hash+key") from a
// signer key ("PRIVATE+KEY+name+hash+key").
func VerifierKeyOf(skey string) (string, error) {
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", errors.New("log key: not a note signer key")
	}
	priv, err := decodeKey(parts[4])
	if err != nil {
		return "", err
	}
	// An Ed25519 note key is the algorithm byte and the 32-byte seed.
	if len(priv) != 33 || priv[0] != 1 {
		return "", errors.New("log key: not an Ed25519 key")
	}
	return note.NewEd25519VerifierKey(parts[2], ed25519Public(priv[1:]))
}
