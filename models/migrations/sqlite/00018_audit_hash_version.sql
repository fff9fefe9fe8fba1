-- Which canonical encoding each audit event's hash covers (issue 12):
-- 1, the events written before, whose hash leaves the client address out;
-- 2, events from now on, whose hash covers it. Adding the column with a
-- default rewrites no row, so the append-only triggers are not involved.

-- +goose Up
ALTER TABLE audit_events ADD COLUMN hash_version integer NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE audit_events DROP COLUMN hash_version;
