package db

import (
	"github.com/pressly/goose/v3/lock"
)

// pocdirLockID is the advisory lock key that serialises migrations across
// instances on PostgreSQL.
const pocdirLockID int64 = 0x706f6364 // "pocd"

func newPostgresLocker() (lock.SessionLocker, error) {
	return lock.NewPostgresSessionLocker(lock.WithLockID(pocdirLockID))
}
