package account

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
)

// CreateToken creates an API token for the actor (or, from the command line,
// for the user named by userID). Scope is "read" or "write"; a write token
// can do what its user's role allows, a read token only reads.
func (s *Service) CreateToken(ctx context.Context, userID int64, name, scope string, ttl time.Duration) (*Token, error) {
	a, err := ownSession(ctx)
	if err != nil {
		return nil, err
	}
	if a != app.System {
		userID = a.UserID
	}
	var v app.Validation
	name = strings.TrimSpace(name)
	if name == "" {
		v.Add("name", "error.required", "this field is required", nil)
	} else if len(name) > 100 {
		v.Add("name", "error.too_long", "too long", map[string]any{"Max": 100})
	}
	if scope != "read" && scope != "write" {
		v.Add("scope", "error.scope", "the scope is read or write", nil)
	}
	if ttl < 0 || ttl > 2*365*24*time.Hour {
		v.Add("expires", "error.token_ttl", "a token lasts at most two years", nil)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	u, err := getUser(ctx, s.DB, "id = $1", userID)
	if err != nil {
		return nil, err
	}
	if u == nil || u.DisabledAt != nil {
		return nil, app.ErrNotFound("user")
	}
	now := s.Now()
	t := &Token{UserID: userID, Name: name, Scope: scope, CreatedAt: now, Secret: newSecret("pdt_")}
	if ttl > 0 {
		exp := now.Add(ttl)
		t.ExpiresAt = &exp
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := insertToken(ctx, tx, t, hashSecret(t.Secret)); err != nil {
			return err
		}
		if err := logEvent(ctx, tx, a, "token.create", "token", t.ID, u.State, now); err != nil {
			return err
		}
		return s.announceToken(ctx, tx, u, t, now)
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Tokens lists the actor's API tokens.
func (s *Service) Tokens(ctx context.Context) ([]*Token, error) {
	a, err := app.RequireAnyActor(ctx)
	if err != nil {
		return nil, err
	}
	return listTokens(ctx, s.DB, a.UserID)
}

// RevokeToken revokes one of the actor's API tokens.
func (s *Service) RevokeToken(ctx context.Context, id int64) error {
	a, err := ownWrite(ctx)
	if err != nil {
		return err
	}
	now := s.Now()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := exec1(ctx, tx, "revoking a token", `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL`, now, id, a.UserID)
		if err != nil {
			return err
		}
		if !ok {
			return app.ErrNotFound("token")
		}
		return logEvent(ctx, tx, a, "token.revoke", "token", id, a.State, now)
	})
	s.dropTokenCache()
	return err
}

func (s *Service) dropTokenCache() {
	s.cacheMu.Lock()
	s.cache = map[[sha256.Size]byte]cachedToken{}
	s.cacheMu.Unlock()
}

// AuthenticateToken resolves a bearer token to its actor. A verified token is
// trusted for TokenCacheTTL without reading the database again, which keeps
// the API fast; revocation through this instance takes effect at once, and
// through another instance within that time.
func (s *Service) AuthenticateToken(ctx context.Context, secret string) (*app.Actor, error) {
	if !strings.HasPrefix(secret, "pdt_") || len(secret) > 100 {
		return nil, app.ErrUnauthenticated()
	}
	// The cache is keyed by the digest itself: a request served from it
	// (nearly all) does not spell the digest out in hex. The secret is
	// hashed from a copy on the stack: a conversion of a string longer
	// than 32 bytes would allocate.
	var buf [100]byte
	key := sha256.Sum256(buf[:copy(buf[:], secret)])
	wall := time.Now()
	s.cacheMu.Lock()
	c, ok := s.cache[key]
	s.cacheMu.Unlock()
	if ok && wall.Before(c.until) {
		return c.actor, nil
	}
	now := s.Now()
	hash := hex.EncodeToString(key[:])
	t, err := scanToken(s.DB.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE token_hash = $1`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.ErrUnauthenticated()
	}
	if err != nil {
		// A database that does not answer is not a bad token.
		return nil, fmt.Errorf("account store: reading a token: %w", err)
	}
	if t.RevokedAt != nil || (t.ExpiresAt != nil && !t.ExpiresAt.After(now)) {
		return nil, app.ErrUnauthenticated()
	}
	u, err := getUser(ctx, s.DB, "id = $1", t.UserID)
	if err != nil {
		return nil, err
	}
	if u == nil || u.DisabledAt != nil {
		return nil, app.ErrUnauthenticated()
	}
	a := u.Actor()
	a.TokenID = t.ID
	if a.Grant, err = s.grantOf(ctx, u); err != nil {
		return nil, err
	}
	a.ReadOnly = t.Scope != "write"
	// last_used_at is written at most once a minute per token and instance.
	if !ok || wall.Sub(c.touched) > time.Minute {
		_ = exec(ctx, s.DB, "touching a token", `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, now, t.ID)
		c.touched = wall
	}
	s.cacheMu.Lock()
	if len(s.cache) > 10000 {
		s.cache = map[[sha256.Size]byte]cachedToken{}
	}
	s.cache[key] = cachedToken{actor: a, until: wall.Add(s.policy.TokenCacheTTL), touched: c.touched}
	s.cacheMu.Unlock()
	return a, nil
}
