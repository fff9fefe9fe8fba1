-- Indexes for the requests feature's aggregates and its implementation queue:
-- - the counts of what a requester sees, one aggregate per branch (their own
--   requests; their team's filed by others), answered from the index alone;
-- - the version of the rules in force (COUNT, SUM(id), SUM(version) over the
--   in-force states) that tells every instance when to rebuild its cached
--   index of active rules, answered from the index alone;
-- - the implementation queue, one state at a time in (approved_at, id) order,
--   keyset-paged.

-- +goose Up
CREATE INDEX idx_requests_requester_state ON requests (requester_id, state);
CREATE INDEX idx_requests_team_state ON requests (team, state, requester_id);
CREATE INDEX idx_requests_state_version ON requests (state, version);
CREATE INDEX idx_requests_state_approved_at ON requests (state, approved_at, id);

-- +goose Down
DROP INDEX IF EXISTS idx_requests_state_approved_at;
DROP INDEX IF EXISTS idx_requests_state_version;
DROP INDEX IF EXISTS idx_requests_team_state;
DROP INDEX IF EXISTS idx_requests_requester_state;
