-- The second-approval queue reads requests in review that need a second
-- approval, oldest submission first. On (state, submitted_at, id) it read
-- every request in review in that order and skipped the three in four that
-- need none, looking each up in the table; this index walks only those
-- that do, in the queue's order.

-- +goose Up
CREATE INDEX idx_requests_state_second_submitted ON requests (state, needs_second_approval, submitted_at, id);

-- +goose Down
DROP INDEX idx_requests_state_second_submitted;
