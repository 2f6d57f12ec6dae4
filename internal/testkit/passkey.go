package testkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// Authenticator is a software WebAuthn authenticator for tests of the
// services: it holds one ES256 passkey and answers the options pocdir
// sends as a browser would pass on a security key's answer ("none"
// attestation). The browser tests use chromium's own virtual
// authenticator instead.
type Authenticator struct {
	key     *ecdsa.PrivateKey
	ID      []byte
	Counter uint32
	user    []byte
}

// NewAuthenticator returns an authenticator with a fresh key.
func NewAuthenticator(t testing.TB) *Authenticator {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	return &Authenticator{key: k, ID: id}
}

var b64 = base64.RawURLEncoding

type wireOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"publicKey"`
}

func clientData(t testing.TB, typ, challenge, origin string) []byte {
	b, err := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Register answers the options of a registration (as BeginPasskey returns
// them) from origin, and returns the browser's answer as JSON.
func (a *Authenticator) Register(t testing.TB, options []byte, origin string) []byte {
	t.Helper()
	var o wireOptions
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatalf("registration options: %v in %s", err, options)
	}
	a.user, _ = b64.DecodeString(o.PublicKey.User.ID)
	cdj := clientData(t, "webauthn.create", o.PublicKey.Challenge, origin)
	pub, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: a.key.X.FillBytes(make([]byte, 32)), -3: a.key.Y.FillBytes(make([]byte, 32))})
	if err != nil {
		t.Fatal(err)
	}
	rp := sha256.Sum256([]byte(o.PublicKey.RP.ID))
	auth := append([]byte{}, rp[:]...)
	auth = append(auth, 0x45) // user present, user verified, credential data
	auth = binary.BigEndian.AppendUint32(auth, a.Counter)
	auth = append(auth, make([]byte, 16)...) // AAGUID
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(a.ID)))
	auth = append(auth, a.ID...)
	auth = append(auth, pub...)
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": auth})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{"id": b64.EncodeToString(a.ID), "rawId": b64.EncodeToString(a.ID), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response":               map[string]any{"clientDataJSON": b64.EncodeToString(cdj), "attestationObject": b64.EncodeToString(att)}})
	return out
}

// Assert answers the options of a sign-in from origin, and returns the
// browser's answer as JSON. Each answer counts one more signature.
func (a *Authenticator) Assert(t testing.TB, options []byte, origin string) []byte {
	t.Helper()
	var o wireOptions
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatalf("sign-in options: %v in %s", err, options)
	}
	a.Counter++
	cdj := clientData(t, "webauthn.get", o.PublicKey.Challenge, origin)
	rp := sha256.Sum256([]byte(o.PublicKey.RPID))
	auth := append([]byte{}, rp[:]...)
	auth = append(auth, 0x05) // user present, user verified
	auth = binary.BigEndian.AppendUint32(auth, a.Counter)
	h := sha256.Sum256(cdj)
	digest := sha256.Sum256(append(append([]byte{}, auth...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{"id": b64.EncodeToString(a.ID), "rawId": b64.EncodeToString(a.ID), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(cdj), "authenticatorData": b64.EncodeToString(auth),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(a.user)}})
	return out
}
