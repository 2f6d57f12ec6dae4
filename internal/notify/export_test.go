package notify

// KeyParses is how many recipients' keys the signers parsed.
func KeyParses() int64 { return parses.Load() }
