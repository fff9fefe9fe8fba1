-- The role homes and the dashboard: "drift on my team's assets" starts from
-- the team's assets; the riskiest assets count live drift by address and
-- severity from the index alone; the oldest open drift is the start of a
-- (state, first_seen) range, not a walk of a year of resolved items.

-- +goose Up
CREATE INDEX idx_assets_owner_team_address ON assets (owner_team, address);
CREATE INDEX idx_drift_items_state_address_severity ON drift_items (state, address, severity);
CREATE INDEX idx_drift_items_state_first_seen ON drift_items (state, first_seen, id);

-- +goose Down
DROP INDEX idx_drift_items_state_first_seen;
DROP INDEX idx_drift_items_state_address_severity;
DROP INDEX idx_assets_owner_team_address;
