-- The network address each audit event's request came from (issue 12):
-- nullable, as background work has none and earlier events never had one.
-- Numbered 5, not 3: other branches in flight take 3 and 4.

-- +goose Up
ALTER TABLE audit_events ADD COLUMN client_addr text;

-- +goose Down
ALTER TABLE audit_events DROP COLUMN client_addr;
