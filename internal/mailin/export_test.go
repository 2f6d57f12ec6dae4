package mailin

import "github.com/pocdir/pocdir/internal/db"

// GroupOf is the group in which the gateway records messages, for the
// tests that build a batch.
func GroupOf(g *Gateway) *db.Group { return g.group }
