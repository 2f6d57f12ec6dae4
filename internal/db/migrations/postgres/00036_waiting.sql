-- +goose Up
-- The communications that wait for each State (at least one of its lines
-- not yet acknowledged, or acknowledged and waiting for an answer, and not
-- handed over or answered), counted in the transactions that change the
-- lines (issue 19 §4): the inbox's count, on every page, read a few
-- thousand lines for a State that never acknowledges.
CREATE TABLE comm_waiting (
    state_code TEXT PRIMARY KEY,
    n          BIGINT NOT NULL
);
INSERT INTO comm_waiting (state_code, n)
SELECT state_code, COUNT(*) FROM (SELECT DISTINCT state_code, comm_id FROM comm_recipients
    WHERE moved_at IS NULL AND outcome = '' AND (acked_at IS NULL OR respond_by IS NOT NULL)) w
GROUP BY state_code;

-- +goose Down
DROP TABLE comm_waiting;
