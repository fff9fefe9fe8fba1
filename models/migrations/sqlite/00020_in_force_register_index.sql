-- The rule register lists the requests in force, soonest expiry first. Read
-- one state at a time from (state, expires_at, id) it took a pass over each
-- state's keys and a merge before the page's rows; this index holds only
-- the requests in force, in the register's order, so a page is one walk.
-- The state list is the one workflow/requests writes in its queries
-- (inForceClause), word for word: a planner uses a partial index only for
-- a query whose condition it can match with the index's.
--
-- Who approved each request on a page, in the order they approved, is read
-- from the review index alone: it holds the reviewer and the review's id
-- (PostgreSQL keeps no row id in an index; SQLite's is the id already).

-- +goose Up
CREATE INDEX idx_requests_in_force_expiry ON requests (expires_at, id) WHERE state IN ('approved', 'implemented', 'verified', 'verification_failed', 'active');
CREATE INDEX idx_reviews_request_decision_reviewer ON reviews (request_id, decision, voided, kind, reviewer_id, id);
DROP INDEX idx_reviews_request_decision;

-- +goose Down
CREATE INDEX idx_reviews_request_decision ON reviews (request_id, decision, voided, kind);
DROP INDEX idx_reviews_request_decision_reviewer;
DROP INDEX idx_requests_in_force_expiry;
