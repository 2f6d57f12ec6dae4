-- +goose Up
-- API requests per token in the current minute, shared by every instance:
-- each instance adds what it served in small batches (api.rateLimiter).
CREATE TABLE api_rate (
    token_id INTEGER PRIMARY KEY REFERENCES api_tokens(id) ON DELETE CASCADE,
    minute   BIGINT NOT NULL,
    hits     INTEGER NOT NULL
);

-- +goose Down
DROP TABLE api_rate;
