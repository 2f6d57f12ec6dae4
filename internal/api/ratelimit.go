package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
)

// DefaultRateLimit is how many requests a token may make in a minute.
const DefaultRateLimit = 1200

// rateLimiter limits the requests of each token per minute, across every
// instance: the count is in the database (api_rate). So that a read does
// not wait for a write, an instance adds what it served in batches, at
// least every second and every twentieth of the limit; between two, it
// decides on the last total it read plus its own. A token may so go over
// the limit by at most a twentieth per instance. (A batch of at most 100
// made a token with a high limit write to the database every hundred
// requests: a tenth of the cost of the busiest read.)
type rateLimiter struct {
	db    *db.DB
	now   func() time.Time
	limit int
	batch int

	mu     sync.Mutex
	tokens map[int64]*tokenRate
}

type tokenRate struct {
	minute  int64     // Unix minute counted
	total   int       // the minute's total across instances, as last read
	pending int       // served here and not yet added
	synced  time.Time // when pending was last added (wall clock)
}

func newRateLimiter(d *db.DB, now func() time.Time, limit int) *rateLimiter {
	if now == nil {
		now = time.Now
	}
	if limit <= 0 {
		limit = DefaultRateLimit
	}
	return &rateLimiter{db: d, now: now, limit: limit, batch: max(1, limit/20), tokens: map[int64]*tokenRate{}}
}

// allow counts one request of the token. It returns 0 when the request may
// go on, or else the seconds until the next minute.
func (l *rateLimiter) allow(ctx context.Context, tokenID int64) (int, error) {
	now := l.now()
	minute := now.Unix() / 60
	wall := time.Now()
	l.mu.Lock()
	tr := l.tokens[tokenID]
	if tr == nil || tr.minute < minute {
		if len(l.tokens) > 10000 {
			for id, old := range l.tokens {
				if old.minute < minute {
					delete(l.tokens, id)
				}
			}
		}
		tr = &tokenRate{minute: minute}
		l.tokens[tokenID] = tr
	}
	if tr.total+tr.pending >= l.limit {
		l.mu.Unlock()
		return int(60 - now.Unix()%60), nil
	}
	tr.pending++
	add := 0
	if tr.pending >= l.batch || wall.Sub(tr.synced) >= time.Second {
		add, tr.pending, tr.synced = tr.pending, 0, wall
		tr.total += add
	}
	l.mu.Unlock()
	if add == 0 {
		return 0, nil
	}
	total, err := db.AddHits(ctx, l.db, tokenID, minute, add)
	if err != nil {
		return 0, err
	}
	l.mu.Lock()
	if tr.total < total {
		tr.total = total
	}
	l.mu.Unlock()
	return 0, nil
}

// rateLimit refuses a token's request over its limit: 429 with
// Retry-After, the seconds until the count starts again.
func (a *API) rateLimit(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor := app.ActorFrom(r.Context())
		if actor == nil || actor.TokenID == 0 {
			h.ServeHTTP(w, r)
			return
		}
		wait, err := a.limiter.allow(r.Context(), actor.TokenID)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(wait))
			a.fail(w, r, &app.Error{Code: app.TooMany, Key: "error.api_rate", Args: map[string]any{"Seconds": wait, "Limit": a.limiter.limit},
				Message: fmt.Sprintf("this token has made more than %d requests in this minute: try again in %d seconds", a.limiter.limit, wait)})
			return
		}
		h.ServeHTTP(w, r)
	})
}
