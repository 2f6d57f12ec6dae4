//go:build !unix

package testkit

import "time"

// CPUTime is 0 here: this system's CPU time is not read (see cputime.go).
func CPUTime() time.Duration { return 0 }
