-- +goose Up
-- What every page and every poll reads, found by looking for reads that
-- grow with the years (issue 19 §4): the navigation's count reads the
-- resets waiting for a decision and the proposed capacity matches (each a
-- few rows among all there ever were); the account page a user's sessions
-- that have not expired (a session is kept once expired: a year of daily
-- sign-ins is 365 rows) and tokens; the Secretariat's nominations come
-- newest first by creation, a page at a time.
CREATE INDEX factor_resets_pending ON factor_resets(id) WHERE decided_at IS NULL;
CREATE INDEX capacity_matches_proposed ON capacity_matches(proposed_at) WHERE status = 'proposed';
CREATE INDEX sessions_user_expiry ON sessions(user_id, expires_at);
DROP INDEX sessions_user;
CREATE INDEX api_tokens_user ON api_tokens(user_id);
CREATE INDEX users_state ON users(state_code);
CREATE INDEX nominations_created ON nominations(created_at, id);

-- +goose Down
DROP INDEX nominations_created;
DROP INDEX users_state;
DROP INDEX api_tokens_user;
CREATE INDEX sessions_user ON sessions(user_id);
DROP INDEX sessions_user_expiry;
DROP INDEX capacity_matches_proposed;
DROP INDEX factor_resets_pending;
