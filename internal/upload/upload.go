// Package upload bounds the memory that large request bodies can hold at
// once. A communication with its files is up to 40 MB as JSON, and eight
// at once took the server from 38 to 574 MB: so a large body is first
// received into a temporary file, which costs no memory however slow the
// sender's link, and is handled only when one of a few places is free; the
// others wait for one, then are refused as busy (503, Retry-After).
//
// The temporary file holds the body encrypted under a key that exists only
// in memory for the request, and has no name once created: a
// communication's content never lies readable on the disk, nor stays there
// after a crash.
package upload

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/pocdir/pocdir/internal/app"
)

// Large is the size from which a body is a large one.
const Large = 1 << 20

// MaxBody is the most a body may hold: above every handler's own limit,
// which refuses with its own message.
const MaxBody = 64 << 20

// DefaultPlaces is how many large bodies are handled at once.
const DefaultPlaces = 2

// DefaultWait is how long a large body waits for a free place.
const DefaultWait = time.Minute

// RetryAfter is the Retry-After, in seconds, of a refusal for being busy.
const RetryAfter = "60"

// IsLarge reports whether r's body is a large one: over Large bytes, or of
// a length not given (sent in chunks).
func IsLarge(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && (r.ContentLength < 0 || r.ContentLength > Large)
}

// Limiter hands large bodies to their handlers a few at a time. The API
// and the pages share one.
type Limiter struct {
	places chan struct{}
	wait   time.Duration
}

// New returns a limiter with places large bodies handled at once
// (DefaultPlaces when 0), each waiting at most wait for a place
// (DefaultWait when 0).
func New(places int, wait time.Duration) *Limiter {
	if places <= 0 {
		places = DefaultPlaces
	}
	if wait <= 0 {
		wait = DefaultWait
	}
	return &Limiter{places: make(chan struct{}, places), wait: wait}
}

// Take receives r's body, when it is a large one, into an encrypted
// temporary file that replaces it, and waits for a place. The caller calls
// release when the request is handled. The error is an *app.Error: a body
// too large or that could not be received (Invalid), or no place free in
// time (Unavailable: answer with Retry-After).
func (l *Limiter) Take(r *http.Request) (release func(), err error) {
	if !IsLarge(r) {
		return func() {}, nil
	}
	sp, err := spool(r.Body)
	if err != nil {
		if sp != nil {
			sp.Close()
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, app.Errorf(app.Invalid, "error.too_large", "the body is larger than %d bytes", MaxBody)
		}
		// The sender went away, or the disk is full.
		return nil, app.Errorf(app.Invalid, "error.form", "the body could not be received: %v", err)
	}
	ctx, cancel := context.WithTimeout(r.Context(), l.wait)
	defer cancel()
	select {
	case l.places <- struct{}{}:
	case <-ctx.Done():
		sp.Close()
		return nil, app.Errorf(app.Unavailable, "error.busy", "the server is handling other large bodies: send again in a minute")
	}
	r.Body = sp
	return func() {
		sp.Close()
		<-l.places
	}, nil
}

// spooled is a body received into an encrypted, unnamed temporary file.
type spooled struct {
	f     *os.File
	aead  cipher.AEAD
	chunk uint64
	buf   []byte // ciphertext being read
	plain []byte // what is left of the current chunk
}

const spoolChunk = 64 << 10

// spool reads body (at most MaxBody bytes) into a temporary file,
// sealed in chunks under a fresh key, and returns it ready to be read.
func spool(body io.Reader) (*spooled, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "pocdir-upload-*")
	if err != nil {
		return nil, err
	}
	// Unnamed from now on: the file goes with its descriptor.
	os.Remove(f.Name())
	sp := &spooled{f: f, aead: aead}
	plain := make([]byte, spoolChunk)
	sealed := make([]byte, 0, spoolChunk+aead.Overhead())
	lim := &io.LimitedReader{R: body, N: MaxBody + 1}
	var n uint64
	for {
		k, rerr := io.ReadFull(lim, plain)
		if k > 0 {
			sealed = aead.Seal(sealed[:0], sp.nonce(n), plain[:k], nil)
			if _, err := f.Write(sealed); err != nil {
				return sp, err
			}
			n++
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return sp, rerr
		}
	}
	if lim.N <= 0 {
		return sp, &http.MaxBytesError{Limit: MaxBody}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return sp, err
	}
	sp.buf = make([]byte, spoolChunk+aead.Overhead())
	return sp, nil
}

func (s *spooled) nonce(n uint64) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	binary.BigEndian.PutUint64(nonce[len(nonce)-8:], n)
	return nonce
}

func (s *spooled) Read(p []byte) (int, error) {
	if len(s.plain) == 0 {
		k, err := io.ReadFull(s.f, s.buf)
		if k == 0 {
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			return 0, err
		}
		if err != nil && err != io.ErrUnexpectedEOF {
			return 0, err
		}
		plain, oerr := s.aead.Open(s.buf[:0], s.nonce(s.chunk), s.buf[:k], nil)
		if oerr != nil {
			return 0, fmt.Errorf("reading a large body back: %w", oerr)
		}
		s.chunk++
		s.plain = plain
	}
	n := copy(p, s.plain)
	s.plain = s.plain[n:]
	return n, nil
}

func (s *spooled) Close() error { return s.f.Close() }
