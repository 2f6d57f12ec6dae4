-- +goose Up
-- How each user hears of new work: an e-mail for each communication their
-- State receives (each), a daily digest (digest) or none; and, while away,
-- another user of their State who receives it in their place.
ALTER TABLE users ADD COLUMN notify_new TEXT NOT NULL DEFAULT 'none';
ALTER TABLE users ADD COLUMN away_until TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN delegate_id BIGINT REFERENCES users(id);
ALTER TABLE users ADD COLUMN digest_sent_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE users DROP COLUMN digest_sent_at;
ALTER TABLE users DROP COLUMN delegate_id;
ALTER TABLE users DROP COLUMN away_until;
ALTER TABLE users DROP COLUMN notify_new;
