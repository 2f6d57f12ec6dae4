package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// On SQLite, the write-ahead log's committed pages are copied into the
// database (a checkpoint) by a goroutine of their own, every
// checkpointEvery, on a connection of its own, rather than by whichever
// commit passed SQLite's threshold of 1,000 pages: that commit then copied
// the pages and waited for two fsyncs while every writer queued behind
// it (about 8 % of composing's CPU in a crisis burst, and 26 fsyncs a
// burst; issue 19 §5). The connections of the pool run with
// wal_autocheckpoint=0. A checkpoint is PASSIVE: it copies what no reader
// still needs and never waits for a lock, as SQLite's own did.

// checkpointEvery is how often the checkpointer runs: under a crisis
// burst's writes the log then holds under a thousand pages, what SQLite's
// threshold let it hold; idle, a run finds nothing to copy and
// costs a lock's system calls.
const checkpointEvery = 100 * time.Millisecond

type checkpointer struct {
	db      *sql.DB
	stop    chan struct{}
	done    sync.WaitGroup
	stopped sync.Once
}

// startCheckpointer opens its connection with the pool's settings and
// starts it.
func startCheckpointer(ctx context.Context, dsn string) (*checkpointer, error) {
	cdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	cdb.SetMaxOpenConns(1)
	if err := cdb.PingContext(ctx); err != nil {
		cdb.Close()
		return nil, err
	}
	c := &checkpointer{db: cdb, stop: make(chan struct{})}
	c.done.Go(c.run)
	return c, nil
}

func (c *checkpointer) run() {
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		err := c.checkpoint()
		// Said once when it starts failing and once when it works again,
		// not ten times a second.
		if err != nil && !failing {
			slog.Error("sqlite: checkpointing the write-ahead log", "err", err)
		} else if err == nil && failing {
			slog.Info("sqlite: checkpointing the write-ahead log again")
		}
		failing = err != nil
	}
}

func (c *checkpointer) checkpoint() error {
	var busy, frames, copied int64
	return c.db.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
}

// close stops the checkpointer and closes its connection; again, it does
// nothing.
func (c *checkpointer) close() {
	c.stopped.Do(func() {
		close(c.stop)
		c.done.Wait()
		_ = c.db.Close()
	})
}

// Close stops SQLite's checkpointer, then closes the database (SQLite's
// last connection checkpoints the log whole as it closes). Closing again
// does what sql.DB's Close does again.
func (d *DB) Close() error {
	if d.checkpoints != nil {
		d.checkpoints.close()
	}
	return d.DB.Close()
}

// Sync makes every commit so far survive a power cut. PostgreSQL's commits
// are durable already. SQLite runs with synchronous=NORMAL, whose commits
// reach the disk with the write-ahead log's next sync, which a checkpoint
// makes only when it has pages to copy: one that a reader's snapshot holds
// back, or that runs while the checkpointer does (SQLite then reports it
// busy, not failed), syncs nothing. Sync therefore syncs the two files
// itself: the log, which holds the commits not yet copied, and the
// database, which holds those copied (a checkpoint syncs it after copying,
// but Sync does not depend on having seen one end).
func (d *DB) Sync() error {
	if d.Dialect != SQLite || d.path == ":memory:" {
		return nil
	}
	for _, p := range []string{d.path + "-wal", d.path} {
		if err := syncFile(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("sqlite: syncing %s: %w", p, err)
		}
	}
	d.syncs.Add(1)
	return nil
}

// Syncs is how many times Sync synced SQLite's files (for the tests of
// what must be durable before it is signed).
func (d *DB) Syncs() int64 { return d.syncs.Load() }

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
