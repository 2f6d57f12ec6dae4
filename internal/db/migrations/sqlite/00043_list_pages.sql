-- +goose Up
-- The lists that come a page at a time, newest first, walk these from a
-- cursor (issue 19 §4): the accounts, the invitations (all, and a
-- State's), and the four lists of capacity-building. Without them each
-- page sorted every row of its table.
CREATE INDEX users_created ON users(created_at, id);
CREATE INDEX invitations_created ON invitations(created_at, id);
CREATE INDEX invitations_state ON invitations(state_code, created_at, id);
CREATE INDEX capacity_needs_created ON capacity_needs(created_at, id);
CREATE INDEX capacity_offers_created ON capacity_offers(created_at, id);
CREATE INDEX capacity_matches_at ON capacity_matches(proposed_at, id);
CREATE INDEX capacity_activities_created ON capacity_activities(created_at, id);

-- +goose Down
DROP INDEX capacity_activities_created;
DROP INDEX capacity_matches_at;
DROP INDEX capacity_offers_created;
DROP INDEX capacity_needs_created;
DROP INDEX invitations_state;
DROP INDEX invitations_created;
DROP INDEX users_created;
