package upload

import (
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
)

func largeRequest(t *testing.T, body []byte) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/api/v1/comms", bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return r
}

func TestLargeBodiesAreSpooledEncryptedAndUnnamed(t *testing.T) {
	body := make([]byte, 5<<20+123)
	rand.Read(body)
	copy(body, "A RECOGNISABLE PLAINTEXT MARKER")
	l := New(1, time.Second)
	r := largeRequest(t, body)
	before, _ := filepath.Glob(filepath.Join(os.TempDir(), "pocdir-upload-*"))
	release, err := l.Take(r)
	if err != nil {
		t.Fatal(err)
	}
	sp := r.Body.(*spooled)
	after, _ := filepath.Glob(filepath.Join(os.TempDir(), "pocdir-upload-*"))
	if len(after) != len(before) {
		t.Errorf("the temporary file has a name: %v", after)
	}
	raw, err := os.ReadFile("/proc/self/fd/" + strconv.Itoa(int(sp.f.Fd())))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("RECOGNISABLE PLAINTEXT")) || len(raw) < len(body) {
		t.Error("the body lies readable on the disk")
	}
	got, err := io.ReadAll(r.Body)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("the body read back differs (%d bytes, %v)", len(got), err)
	}
	release()
}

func TestSmallBodiesPass(t *testing.T) {
	l := New(1, time.Millisecond)
	l.places <- struct{}{} // no place free: a small body does not need one
	r := largeRequest(t, []byte(`{"a":1}`))
	release, err := l.Take(r)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if b, _ := io.ReadAll(r.Body); string(b) != `{"a":1}` {
		t.Errorf("%q", b)
	}
}

func TestBusyAndTooLarge(t *testing.T) {
	l := New(1, 100*time.Millisecond)
	first := largeRequest(t, make([]byte, 2<<20))
	release, err := l.Take(first)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Take(largeRequest(t, make([]byte, 2<<20)))
	if app.ErrorCode(err) != app.Unavailable || app.AsError(err).Key != "error.busy" {
		t.Errorf("a second large body while the only place is taken: %v", err)
	}
	release()
	again, err := l.Take(largeRequest(t, make([]byte, 2<<20)))
	if err != nil {
		t.Fatalf("the place was not given back: %v", err)
	}
	again()

	big := httptest.NewRequest(http.MethodPost, "/", io.LimitReader(zeros{}, MaxBody+10))
	big.ContentLength = -1 // sent in chunks, its length unknown
	if _, err := l.Take(big); app.ErrorCode(err) != app.Invalid || app.AsError(err).Key != "error.too_large" {
		t.Errorf("a body over the limit: %v", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
