package offline_test

import (
	"testing"

	"github.com/pocdir/pocdir/internal/offline"
	"github.com/pocdir/pocdir/internal/testkit"
)

// FuzzDecryptWithKey feeds "pocdir offline verify --private-key" what a
// holder may give it: any key file and any copy. It opens the copy with
// its key, or says why not; it never panics.
func FuzzDecryptWithKey(f *testing.F) {
	k := testkit.NewKeyPair(f, "Holder", "holder@example.org")
	priv := k.ArmoredPrivate(f, nil)
	msg, err := offline.Encrypt([]byte("a copy"), offline.Recipient{PublicKey: k.Public}, 1772442000)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(priv, msg, "")
	f.Add(k.ArmoredPrivate(f, []byte("pass")), msg, "pass")
	f.Add(k.Public, msg, "")
	f.Add("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n-----END PGP PRIVATE KEY BLOCK-----\n", []byte{0x85, 0x01}, "")
	f.Fuzz(func(t *testing.T, key string, copy []byte, pass string) {
		out, err := offline.DecryptWithKey(copy, key, []byte(pass))
		if key == priv && string(copy) == string(msg) && (err != nil || string(out) != "a copy") {
			t.Fatalf("the copy with its key opened as %q: %v", out, err)
		}
		if err == nil && len(out) > len(copy)*1024+1<<20 {
			t.Fatalf("%d bytes out of %d", len(out), len(copy))
		}
	})
}
