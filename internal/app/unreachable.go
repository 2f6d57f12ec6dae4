package app

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// unreachable reports whether err says that the database could not be
// reached or dropped the connection (the stores wrap what the driver
// returned with %w): a 503 for the user, not a 500, and never a 401.
func unreachable(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	var state interface{ SQLState() string }
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &ne):
		return true
	case errors.As(err, &state):
		// PostgreSQL: connection exceptions (08…), a server that is
		// shutting down or starting (57P01–57P03), and insufficient
		// resources (53…: a full disk, out of memory, too many
		// connections): the server cannot take the write now, the
		// request was right.
		c := state.SQLState()
		return strings.HasPrefix(c, "08") || strings.HasPrefix(c, "53") || c == "57P01" || c == "57P02" || c == "57P03"
	}
	// SQLite busy beyond its timeout, a full disk (SQLITE_FULL), and a
	// pool that has been closed.
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "sql: database is closed") ||
		strings.Contains(msg, "database or disk is full") || strings.Contains(msg, "SQLITE_FULL") || errors.Is(err, syscall.ENOSPC)
}

// ClientGone reports whether err is only that the client of the request
// hung up (its context was canceled): not a failure of pocdir, and not
// logged as one.
func ClientGone(ctx context.Context, err error) bool {
	return ctx.Err() != nil && errors.Is(err, context.Canceled)
}
