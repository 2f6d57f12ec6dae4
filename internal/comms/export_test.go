package comms

import "github.com/pocdir/pocdir/internal/db"

// SendsOf is the group in which s's sends commit together (nil on
// PostgreSQL).
func SendsOf(s *Service) *db.Group { return s.sends }
