-- +goose Up
-- A delegate receives a user's e-mails while they are away: one of the
-- same State, and, outside every State, of the same role and organisation.
-- Before this version the Secretariat could choose an observer (both have
-- no State): such a choice is undone; the user's mail goes to them again.
UPDATE users SET delegate_id = NULL
WHERE delegate_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM users d WHERE d.id = users.delegate_id
        AND COALESCE(d.state_code, '') = COALESCE(users.state_code, '')
        AND (users.state_code IS NOT NULL OR (d.role = users.role AND d.organisation = users.organisation)));

-- +goose Down
-- A delegate undone is not chosen again.
SELECT 1;
