package notify_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/gopenpgp/v3/crypto"

	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/testkit"
)

// recipientKey generates a PoC's key pair: the private key, and the public
// key armored as the directory keeps it.
func recipientKey(t *testing.T, created time.Time, lifetime time.Duration) (*crypto.Key, string) {
	t.Helper()
	k, err := crypto.PGP().KeyGeneration().AddUserId("CERT duty officer", "cert@example.org").
		GenerationTime(created.Unix()).Lifetime(int32(lifetime / time.Second)).New().GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := k.GetArmoredPublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return k, pub
}

func signer(t *testing.T) *notify.PGPSigner {
	t.Helper()
	s, err := notify.LoadOrCreatePGPSigner(filepath.Join(t.TempDir(), "keys", "pgp.asc"), "pocdir", "pocdir@example.org")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// part reads the next part of a multipart body and returns its media type
// and content.
func part(t *testing.T, r *multipart.Reader) (*multipart.Part, string, string) {
	t.Helper()
	p, err := r.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	mt, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, mt, string(b)
}

func TestPGPMIMEOverSMTP(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		c := catcher(t)
		priv, pub := recipientKey(t, time.Now(), 0)
		s := signer(t)
		const body = "Incident PC-2026-000001 é\nIndicators: 198.51.100.7\nSubject: not a header\n"
		plaintext := notify.MIMEText(body)
		armored, err := s.EncryptAndSign(pub, plaintext)
		if err != nil {
			t.Fatal(err)
		}
		var pgpID int64
		err = sys.DB.Tx(context.Background(), func(tx *sql.Tx) error {
			pgpID, err = notify.EnqueueID(context.Background(), tx, sys.Clock.Now(),
				notify.Message{Kind: "comm", To: "cert@example.org", Subject: "PC-2026-000001", Body: armored, PGP: true})
			if err != nil {
				return err
			}
			return notify.Enqueue(context.Background(), tx, sys.Clock.Now(),
				notify.Message{Kind: "comm", To: "other@example.org", Subject: "In clear", Body: "Hello é"})
		})
		if err != nil {
			t.Fatal(err)
		}
		var stored bool
		if err := sys.DB.QueryRowContext(context.Background(), `SELECT pgp FROM outbox WHERE id = $1`, pgpID).Scan(&stored); err != nil || !stored {
			t.Fatalf("the outbox keeps pgp = %v (%v)", stored, err)
		}
		if n, err := sender(sys, c.Port()).RunOnce(context.Background()); n != 2 || err != nil {
			t.Fatalf("sent %d: %v", n, err)
		}
		var raw []byte
		for _, m := range c.Messages() {
			switch m.Subject {
			case "PC-2026-000001":
				raw = m.Raw
			case "In clear":
				msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
				if err != nil {
					t.Fatal(err)
				}
				if ct := msg.Header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" || strings.TrimSpace(m.Body) != "Hello é" {
					t.Errorf("a message in clear: Content-Type %q, body %q", ct, m.Body)
				}
			}
		}
		if raw == nil {
			t.Fatal("the encrypted message did not arrive")
		}
		t.Logf("received:\n%s", raw)

		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/encrypted" || params["protocol"] != "application/pgp-encrypted" || params["boundary"] == "" {
			t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
		}
		if cte := msg.Header.Get("Content-Transfer-Encoding"); cte != "" {
			t.Errorf("a multipart body has Content-Transfer-Encoding %q", cte)
		}
		r := multipart.NewReader(msg.Body, params["boundary"])

		t.Run("the first part is the version identification", func(t *testing.T) {
			p, mt, content := part(t, r)
			if mt != "application/pgp-encrypted" || strings.TrimSpace(content) != "Version: 1" {
				t.Errorf("got %s %q", mt, content)
			}
			if cte := p.Header.Get("Content-Transfer-Encoding"); cte != "7bit" && cte != "8bit" {
				t.Errorf("Content-Transfer-Encoding %q", cte)
			}
		})
		var got string
		t.Run("the second part is the armored OpenPGP message, as it was encrypted", func(t *testing.T) {
			p, mt, content := part(t, r)
			if mt != "application/octet-stream" {
				t.Errorf("got %s", mt)
			}
			if cte := p.Header.Get("Content-Transfer-Encoding"); cte != "7bit" && cte != "8bit" {
				t.Errorf("Content-Transfer-Encoding %q: the armor must go as it is", cte)
			}
			got = content
			if strings.ReplaceAll(strings.TrimSpace(content), "\r\n", "\n") != strings.TrimSpace(armored) {
				t.Errorf("got\n%s\nwant\n%s", content, armored)
			}
		})
		t.Run("there is no third part and the multipart is closed", func(t *testing.T) {
			if _, err := r.NextPart(); err != io.EOF {
				t.Errorf("got %v, want io.EOF", err)
			}
		})
		t.Run("the recipient decrypts it and verifies pocdir's signature", func(t *testing.T) {
			signerKey, err := crypto.NewKeyFromArmored(s.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			dec, err := crypto.PGP().Decryption().DecryptionKey(priv).VerificationKey(signerKey).New()
			if err != nil {
				t.Fatal(err)
			}
			res, err := dec.Decrypt([]byte(got), crypto.Armor)
			if err != nil {
				t.Fatal(err)
			}
			if err := res.SignatureError(); err != nil {
				t.Errorf("signature: %v", err)
			}
			if fp := strings.ToUpper(signerKey.GetFingerprint()); fp != s.Fingerprint() {
				t.Errorf("public key %s, signer %s", fp, s.Fingerprint())
			}
			if !bytes.Equal(res.Bytes(), plaintext) {
				t.Errorf("decrypted\n%q\nwant\n%q", res.Bytes(), plaintext)
			}
			// The plaintext is the MIME entity a mail client shows.
			entity, err := mail.ReadMessage(bytes.NewReader(res.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if ct := entity.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Errorf("inner Content-Type %q", ct)
			}
			text, err := io.ReadAll(quotedprintable.NewReader(entity.Body))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.ReplaceAll(string(text), "\r\n", "\n"); got != body {
				t.Errorf("text %q, want %q", got, body)
			}
		})
		t.Run("another key's signature does not verify", func(t *testing.T) {
			_, otherPub := recipientKey(t, time.Now(), 0)
			other, err := crypto.NewKeyFromArmored(otherPub)
			if err != nil {
				t.Fatal(err)
			}
			dec, err := crypto.PGP().Decryption().DecryptionKey(priv).VerificationKey(other).New()
			if err != nil {
				t.Fatal(err)
			}
			res, err := dec.Decrypt([]byte(got), crypto.Armor)
			if err != nil {
				t.Fatal(err)
			}
			if res.SignatureError() == nil {
				t.Error("verified with a key that did not sign")
			}
		})
	})
}

func TestAPGPMessageNeedsAnArmoredBody(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	err := sys.DB.Tx(context.Background(), func(tx *sql.Tx) error {
		return notify.Enqueue(context.Background(), tx, sys.Clock.Now(), notify.Message{Kind: "comm", To: "cert@example.org", Subject: "x", Body: "in clear", PGP: true})
	})
	if err == nil {
		t.Error("a body in clear was queued as PGP/MIME")
	}
}

func TestPGPSignerKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pocdir-pgp.asc")
	s, err := notify.LoadOrCreatePGPSigner(path, "pocdir", "pocdir@example.org")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the key file is created readable by its owner only", func(t *testing.T) {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, %v", fi.Mode().Perm(), err)
		}
		b, _ := os.ReadFile(path)
		if !strings.Contains(string(b), "-----BEGIN PGP PRIVATE KEY BLOCK-----") {
			t.Errorf("the file holds\n%s", b)
		}
	})
	t.Run("the public key and the fingerprint are published", func(t *testing.T) {
		k, err := crypto.NewKeyFromArmored(s.PublicKey())
		if err != nil || k.IsPrivate() || !strings.Contains(s.PublicKey(), "-----BEGIN PGP PUBLIC KEY BLOCK-----") {
			t.Fatalf("public key %v:\n%s", err, s.PublicKey())
		}
		if len(s.Fingerprint()) != 40 || s.Fingerprint() != strings.ToUpper(k.GetFingerprint()) {
			t.Errorf("fingerprint %q", s.Fingerprint())
		}
	})
	t.Run("the key reloads with the same fingerprint", func(t *testing.T) {
		again, err := notify.LoadOrCreatePGPSigner(path, "other", "POCDIR@example.org")
		if err != nil {
			t.Fatal(err)
		}
		if again.Fingerprint() != s.Fingerprint() {
			t.Errorf("got %s, want %s", again.Fingerprint(), s.Fingerprint())
		}
	})
	t.Run("a new From address gets a new key with its user ID, the old one kept", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "pgp.asc")
		first, err := notify.LoadOrCreatePGPSigner(p, "pocdir", "pocdir@old.example")
		if err != nil {
			t.Fatal(err)
		}
		moved, err := notify.LoadOrCreatePGPSigner(p, "pocdir", "notifications@new.example")
		if err != nil {
			t.Fatal(err)
		}
		k, _ := crypto.NewKeyFromArmored(moved.PublicKey())
		if moved.Fingerprint() == first.Fingerprint() || !hasIdentity(k, "notifications@new.example") {
			t.Errorf("the key of the new address: %s", moved.Fingerprint())
		}
		kept, _ := filepath.Glob(p + ".replaced-*")
		if len(kept) != 1 {
			t.Errorf("the old key is not kept: %v", kept)
		}
	})
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		t.Run("a key file open to others is refused: "+mode.String(), func(t *testing.T) {
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(path, 0o600) })
			if _, err := notify.LoadOrCreatePGPSigner(path, "pocdir", "pocdir@example.org"); err == nil {
				t.Error("loaded")
			}
		})
	}
	t.Run("a public key in the file is refused", func(t *testing.T) {
		p := filepath.Join(dir, "public.asc")
		if err := os.WriteFile(p, []byte(s.PublicKey()), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := notify.LoadOrCreatePGPSigner(p, "pocdir", "pocdir@example.org"); err == nil {
			t.Error("loaded")
		}
	})
}

func TestEncryptAndSignRefusesUnusableKeys(t *testing.T) {
	s := signer(t)
	now := time.Now()
	_, expired := recipientKey(t, now.Add(-48*time.Hour), 24*time.Hour)
	_, shortLived := recipientKey(t, now, 24*time.Hour)
	priv, _ := recipientKey(t, now, 0)
	privArmored, err := priv.Armor()
	if err != nil {
		t.Fatal(err)
	}
	revokedKey, _ := recipientKey(t, now, 0)
	if err := revokedKey.GetEntity().Revoke(0, "compromised", nil); err != nil {
		t.Fatal(err)
	}
	revoked, err := revokedKey.GetArmoredPublicKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		key   string
		clock func() time.Time
		want  string // in the error
	}{
		{"an expired key", expired, nil, "expired"},
		{"a key that has expired by the signer's clock", shortLived, func() time.Time { return now.Add(48 * time.Hour) }, "expired"},
		{"a revoked key", revoked, nil, "revoked"},
		{"a private key", privArmored, nil, "private key"},
		{"a private key under a public key's armor", strings.ReplaceAll(privArmored, "PRIVATE", "PUBLIC"), nil, "private key"},
		{"no key at all", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbm90IGEga2V5\n-----END PGP PUBLIC KEY BLOCK-----\n", nil, "cannot be used"},
		{"an empty key", "", nil, "not an ASCII-armored public key"},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			s.Now = tc.clock
			defer func() { s.Now = nil }()
			out, err := s.EncryptAndSign(tc.key, []byte("secret"))
			if !errors.Is(err, notify.ErrUnusableKey) || !strings.Contains(err.Error(), tc.want) || out != "" {
				t.Errorf("got %q, %v", out, err)
			}
		})
	}
	t.Run("a key that is still valid is accepted", func(t *testing.T) {
		if _, err := s.EncryptAndSign(shortLived, []byte("secret")); err != nil {
			t.Error(err)
		}
	})
}

// TestEncryptAndSignKeepsKeysParsed: the signer keeps a recipient's key
// parsed between e-mails, yet judges it at each e-mail's time, and the
// same key serves many senders at once (run with -race).
func TestEncryptAndSignKeepsKeysParsed(t *testing.T) {
	s := signer(t)
	now := time.Now()
	priv, pub := recipientKey(t, now.Add(-time.Hour), 24*time.Hour)
	at := now
	s.Now = func() time.Time { return at }
	open := func(armored string) string {
		t.Helper()
		h, err := crypto.PGP().Decryption().DecryptionKey(priv).New()
		if err != nil {
			t.Fatal(err)
		}
		res, err := h.Decrypt([]byte(armored), crypto.Armor)
		if err != nil {
			t.Fatal(err)
		}
		return res.String()
	}
	parsed := notify.KeyParses()
	for i := range 3 {
		if out, err := s.EncryptAndSign(pub, []byte("first")); err != nil || open(out) != "first" {
			t.Fatalf("while valid (%d): %v", i, err)
		}
	}
	if n := notify.KeyParses() - parsed; n != 1 {
		t.Errorf("the key was parsed %d times for three e-mails", n)
	}
	at = now.Add(48 * time.Hour)
	if _, err := s.EncryptAndSign(pub, []byte("after")); !errors.Is(err, notify.ErrUnusableKey) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("a key kept from before its expiry was used after it: %v", err)
	}
	at = now
	parsed = notify.KeyParses()
	if _, err := s.EncryptAndSign(pub, []byte("back")); err != nil || notify.KeyParses()-parsed != 1 {
		t.Errorf("the clock went back: %v, the key parsed again %d times (once: what the library verified later is not reused)", err, notify.KeyParses()-parsed)
	}
	var wg sync.WaitGroup
	outs := make([]string, 16)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := s.EncryptAndSign(pub, []byte(fmt.Sprintf("message %d", i)))
			if err != nil {
				t.Error(err)
			}
			outs[i] = out
		}()
	}
	wg.Wait()
	for i, out := range outs {
		if got := open(out); got != fmt.Sprintf("message %d", i) {
			t.Errorf("message %d opens as %q", i, got)
		}
	}
}

func hasIdentity(k *crypto.Key, email string) bool {
	for _, id := range k.GetEntity().Identities {
		if id.UserId != nil && id.UserId.Email == email {
			return true
		}
	}
	return false
}
