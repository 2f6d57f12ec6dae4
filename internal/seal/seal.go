// Package seal encrypts values at rest: AES-256-GCM under a key named by
// an id, with associated data that binds the value to its row (a value
// copied to another row or column does not open). Keys live in a file
// outside the database, the first one current; older keys stay to open
// what they sealed until it is sealed again (key rotation).
package seal

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// prefix marks a sealed value: "s1.<key id>.<base64url(nonce | ciphertext)>".
const prefix = "s1."

// Keyring holds the data keys: Current seals, all of them open. A keyring
// loaded from a file follows it: when another process rotates the key (an
// operator's "pocdir data-key rotate"), a value sealed under a key it does
// not know makes it read the file again at once, and it looks for a new
// current key every few seconds, so that running instances need no restart.
type Keyring struct {
	path string

	mu      sync.Mutex
	ring    *ring
	modTime time.Time
	checked time.Time
}

// ring is the keys as read once; a Keyring swaps it whole.
type ring struct {
	current string
	keys    map[string]cipher.AEAD
	order   []string
	raw     map[string][]byte
}

// refreshEvery is how often a Keyring looks at its file for a new key.
const refreshEvery = 5 * time.Second

// keys returns the keys, reading the file again when it changed since and
// the last look is older than refreshEvery (or at once when force).
func (k *Keyring) keys(force bool) *ring {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.path == "" || (!force && time.Since(k.checked) < refreshEvery) {
		return k.ring
	}
	k.checked = time.Now()
	fi, err := os.Stat(k.path)
	if err != nil || fi.ModTime().Equal(k.modTime) && !force {
		return k.ring
	}
	if fresh, err := Load(k.path); err == nil {
		k.ring, k.modTime = fresh.ring, fresh.modTime
	}
	return k.ring
}

// IsSealed reports whether v is a sealed value.
func IsSealed(v string) bool { return strings.HasPrefix(v, prefix) }

// Current is the id of the key that seals.
func (k *Keyring) Current() string { return k.keys(false).current }

// Seal encrypts plaintext under the current key, bound to aad.
func (k *Keyring) Seal(aad string, plaintext []byte) (string, error) {
	r := k.keys(false)
	aead := r.keys[r.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := aead.Seal(nonce, nonce, plaintext, []byte(aad))
	return prefix + r.current + "." + base64.RawURLEncoding.EncodeToString(ct), nil
}

// ErrOpen is returned for a value that does not open: another row's, a
// tampered one, or one sealed under a key that is not in the file.
var ErrOpen = errors.New("seal: the value does not open (wrong row, tampered, or unknown key)")

// Open decrypts a sealed value bound to aad.
func (k *Keyring) Open(aad, sealed string) ([]byte, error) {
	rest, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return nil, ErrOpen
	}
	id, data, ok := strings.Cut(rest, ".")
	if !ok {
		return nil, ErrOpen
	}
	aead := k.keys(false).keys[id]
	if aead == nil {
		// Sealed under a key this process has not read yet: another
		// process rotated the file.
		if aead = k.keys(true).keys[id]; aead == nil {
			return nil, ErrOpen
		}
	}
	b, err := base64.RawURLEncoding.DecodeString(data)
	if err != nil || len(b) < aead.NonceSize() {
		return nil, ErrOpen
	}
	pt, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], []byte(aad))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// SealedWith returns the id of the key a sealed value was sealed under.
func SealedWith(sealed string) string {
	rest, _ := strings.CutPrefix(sealed, prefix)
	id, _, _ := strings.Cut(rest, ".")
	return id
}

// LoadOrCreate reads the key file, creating it with one new key (mode 0600)
// when it does not exist.
func LoadOrCreate(path string) (*Keyring, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		k, err := newKey()
		if err != nil {
			return nil, err
		}
		if err := write(path, []string{k}); err != nil {
			return nil, err
		}
	}
	return Load(path)
}

// Load reads a key file: one key per line, "<id> <64 hex digits>", the
// first line the current key; lines starting with # are comments.
func Load(path string) (*Keyring, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	b, err := ReadSecretFile(path)
	if err != nil {
		return nil, err
	}
	k := &ring{keys: map[string]cipher.AEAD{}, raw: map[string][]byte{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, hexKey, ok := strings.Cut(line, " ")
		key, err := hex.DecodeString(strings.TrimSpace(hexKey))
		if !ok || err != nil || len(key) != 32 || id == "" || strings.ContainsAny(id, ". ") {
			return nil, fmt.Errorf("%s line %d: want \"<id> <64 hex digits>\"", path, n)
		}
		if k.keys[id] != nil {
			return nil, fmt.Errorf("%s line %d: key id %s twice", path, n, id)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		k.keys[id], k.raw[id] = aead, key
		k.order = append(k.order, id)
		if k.current == "" {
			k.current = id
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if k.current == "" {
		return nil, fmt.Errorf("%s: no key", path)
	}
	return &Keyring{path: path, ring: k, modTime: fi.ModTime(), checked: time.Now()}, nil
}

// Rotate puts a new current key at the top of the key file and returns the
// keyring read again; the older keys stay to open what they sealed.
func Rotate(path string) (*Keyring, error) {
	old, err := Load(path)
	if err != nil {
		return nil, err
	}
	k, err := newKey()
	if err != nil {
		return nil, err
	}
	lines := []string{k}
	for _, id := range old.ring.order {
		lines = append(lines, id+" "+hex.EncodeToString(old.ring.raw[id]))
	}
	if err := write(path, lines); err != nil {
		return nil, err
	}
	return Load(path)
}

func newKey() (string, error) {
	key := make([]byte, 32)
	id := make([]byte, 4)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	if _, err := rand.Read(id); err != nil {
		return "", err
	}
	return hex.EncodeToString(id) + " " + hex.EncodeToString(key), nil
}

// write replaces the file atomically, readable by its owner only.
func write(path string, lines []string) error {
	tmp := path + ".tmp"
	body := "# pocdir data keys: the first one seals, all of them open. Keep this file secret and backed up.\n" + strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
