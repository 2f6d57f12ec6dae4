package auditlog

import (
	"fmt"
	"slices"
	"sync"
)

// The event types are the log's vocabulary. Each capability declares the
// types it writes with Register, next to the code that writes them, and
// Append refuses a type nobody declared: the pages show every declared type
// translated (a test wants each in every catalog), so a type cannot reach
// the log without a sentence that people read.
var eventTypes struct {
	sync.RWMutex
	known map[string]bool
}

// Register declares event types that a capability writes to the log, and
// returns them. Capabilities call it when their package is initialised.
func Register(types ...string) []string {
	eventTypes.Lock()
	defer eventTypes.Unlock()
	if eventTypes.known == nil {
		eventTypes.known = map[string]bool{}
	}
	for _, t := range types {
		if t == "" {
			panic("auditlog: an empty event type")
		}
		eventTypes.known[t] = true
	}
	return types
}

// EventTypes returns every declared event type, sorted.
func EventTypes() []string {
	eventTypes.RLock()
	defer eventTypes.RUnlock()
	out := make([]string, 0, len(eventTypes.known))
	for t := range eventTypes.known {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// checkType refuses an event type that no capability declared.
func checkType(t string) error {
	eventTypes.RLock()
	ok := eventTypes.known[t]
	eventTypes.RUnlock()
	if !ok {
		return fmt.Errorf("auditlog: the event type %q is not declared: declare it with auditlog.Register where it is written, and translate it (logevent.%s) in every catalog", t, t)
	}
	return nil
}
