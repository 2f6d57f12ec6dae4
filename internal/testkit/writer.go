package testkit

import (
	"context"
	"database/sql"
	"os"
	"strconv"
	"sync"
	"testing"
)

// HoldWriter opens a write transaction and holds it (on SQLite, the one
// writer's place) until release is called: what a crisis's sends do most
// of the time. release may be called more than once; it fails the test if
// the transaction could not be opened or committed.
func (s *System) HoldWriter(t testing.TB) (release func()) {
	t.Helper()
	holding, free, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.DB.Tx(context.Background(), func(tx *sql.Tx) error {
			if _, err := tx.Exec(`UPDATE states SET name = name WHERE code = 'FRA'`); err != nil {
				return err
			}
			close(holding)
			<-free
			return nil
		})
	}()
	select {
	case <-holding:
	case err := <-done:
		t.Fatalf("holding the writer: %v", err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(free)
			if err := <-done; err != nil {
				t.Errorf("releasing the writer: %v", err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

// BenchCount is the count a benchmark works on: the environment variable
// name's integer when set, otherwise def.
func BenchCount(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		b.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}
