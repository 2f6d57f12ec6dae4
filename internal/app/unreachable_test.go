package app

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
)

type sqlState string

func (s sqlState) Error() string    { return "pg error " + string(s) }
func (s sqlState) SQLState() string { return string(s) }

// TestWhatIsNotTheRequestsFault: a database that is down, busy or full is
// a 503 (try again), never a 500 or a 401; a client that hung up is not a
// failure at all.
func TestWhatIsNotTheRequestsFault(t *testing.T) {
	for _, c := range []struct {
		err  error
		want Code
	}{
		{fmt.Errorf("comms store: saving: %w", errors.New("database or disk is full (13)")), Unavailable},
		{fmt.Errorf("store: %w", sqlState("53100")), Unavailable}, // disk_full
		{fmt.Errorf("store: %w", sqlState("53300")), Unavailable}, // too_many_connections
		{fmt.Errorf("store: %w", sqlState("08006")), Unavailable},
		{fmt.Errorf("spool: %w", syscall.ENOSPC), Unavailable},
		{fmt.Errorf("store: %w", sqlState("23505")), Internal}, // a unique violation is a bug
		{errors.New("something else"), Internal},
	} {
		if got := ErrorCode(c.err); got != c.want {
			t.Errorf("%v: %s, want %s", c.err, got, c.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	err := fmt.Errorf("store: %w", context.Canceled)
	if ClientGone(ctx, err) {
		t.Error("a live request's error taken for a hang-up")
	}
	cancel()
	if !ClientGone(ctx, err) || ClientGone(ctx, errors.New("other")) {
		t.Error("a hang-up not recognised, or another error taken for one")
	}
}
