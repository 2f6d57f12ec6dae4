package auditlog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pocdir/pocdir/internal/db"
)

// A database restored to an older state has a shorter log than the
// checkpoints pocdir already published: every State's "audit verify", and
// every witness, would see the log rolled back. pocdir remembers, in a file
// beside the log's key (outside the database, which the restore replaced),
// the size of the latest checkpoint it signed, and refuses to serve a
// shorter log unless the operator says so explicitly.

// ErrRollback is returned by CheckRollback when the database's log is
// shorter than a checkpoint already published.
var ErrRollback = errors.New("the log is shorter than a checkpoint pocdir already published")

// PublishedFile is where the size of the latest checkpoint signed with the
// key at keyPath is remembered.
func PublishedFile(keyPath string) string { return keyPath + ".published" }

// ReadPublished returns the size remembered in the file, 0 when there is
// none.
func ReadPublished(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("auditlog: reading %s: %w", path, err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("auditlog: %s does not hold a log size: %w", path, err)
	}
	return n, nil
}

// writePublished remembers a size, atomically.
func writePublished(path string, n int64) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".published-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(strconv.FormatInt(n, 10) + "\n"); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// CheckRollback compares the database's log with the latest checkpoint
// remembered in path: ErrRollback (wrapped, with both sizes) when the log
// is shorter.
func CheckRollback(ctx context.Context, d *db.DB, path string) (size, published int64, err error) {
	if published, err = ReadPublished(path); err != nil {
		return 0, 0, err
	}
	if err := d.QueryRowContext(ctx, `SELECT size FROM log_head WHERE id = 1`).Scan(&size); err != nil {
		return 0, 0, fmt.Errorf("auditlog: reading the log's size: %w", err)
	}
	if size < published {
		return size, published, fmt.Errorf("%w: the database's log has %d entries, but this pocdir signed a checkpoint of %d (%s): the database was restored to an older state, or is not the one it served",
			ErrRollback, size, published, path)
	}
	return size, published, nil
}

// remember records a checkpoint's size when it is the largest signed.
func (l *Log) remember(n int64) error {
	cur, err := ReadPublished(l.PublishedFile)
	if err != nil || n <= cur {
		return err
	}
	return writePublished(l.PublishedFile, n)
}

// AcceptRollback makes the log of size n the one remembered, once the
// operator has accepted to serve a log restored to an older state.
func AcceptRollback(path string, n int64) error {
	if err := writePublished(path, n); err != nil {
		return fmt.Errorf("auditlog: remembering the rolled-back log: %w", err)
	}
	return nil
}
