-- Indexes for the hot queries: each matches a query's WHERE and then its
-- ORDER BY, so that a page is an index range read and keyset paging
-- ("... AND id < ? ORDER BY id DESC LIMIT n") never sorts or scans the table.
-- Single-column indexes that a new composite one starts with are dropped:
-- the composite one serves their queries too. The queries these serve are
-- listed in models/queryplan_test.go.

-- +goose Up
DROP INDEX IF EXISTS idx_requests_state;
CREATE INDEX idx_requests_state_id ON requests (state, id);
DROP INDEX IF EXISTS idx_requests_requester_id;
CREATE INDEX idx_requests_requester_id_id ON requests (requester_id, id);
CREATE INDEX idx_requests_team_id ON requests (team, id);
CREATE INDEX idx_requests_state_submitted_at ON requests (state, submitted_at, id);
CREATE INDEX idx_requests_state_expires_at ON requests (state, expires_at, id);
CREATE INDEX idx_requests_expires_at_id ON requests (expires_at, id);
DROP INDEX IF EXISTS idx_reviews_request_id;
CREATE INDEX idx_reviews_request_decision ON reviews (request_id, decision, voided, kind);
DROP INDEX IF EXISTS idx_rules_request_id;
CREATE INDEX idx_rules_request_id_position ON rules (request_id, position);
CREATE INDEX idx_audit_events_object ON audit_events (object_type, object_id, seq);
DROP INDEX IF EXISTS idx_audit_events_at;
CREATE INDEX idx_audit_events_at_seq ON audit_events (at, seq);
DROP INDEX IF EXISTS idx_drift_items_state;
CREATE INDEX idx_drift_items_state_severity_id ON drift_items (state, severity, id);
DROP INDEX IF EXISTS idx_drift_items_address;
CREATE INDEX idx_drift_items_address_state ON drift_items (address, state);
DROP INDEX IF EXISTS idx_drift_items_kind;
CREATE INDEX idx_drift_items_kind_state ON drift_items (kind, state);
CREATE INDEX idx_drift_items_zone_state ON drift_items (zone, state);
DROP INDEX IF EXISTS idx_scan_runs_status;
CREATE INDEX idx_scan_runs_status_id ON scan_runs (status, id);
DROP INDEX IF EXISTS idx_scan_runs_kind;
CREATE INDEX idx_scan_runs_kind_zone_id ON scan_runs (kind, zone, id);
DROP INDEX IF EXISTS idx_scan_runs_request_id;
CREATE INDEX idx_scan_runs_request_id_kind_id ON scan_runs (request_id, kind, id);
CREATE INDEX idx_scan_runs_zone_id ON scan_runs (zone, id);
CREATE INDEX idx_scan_runs_queued_at ON scan_runs (queued_at);
DROP INDEX IF EXISTS idx_assets_zone_id;
CREATE INDEX idx_assets_zone_id_address ON assets (zone_id, address);
DROP INDEX IF EXISTS idx_recertifications_campaign_id;
CREATE INDEX idx_recertifications_campaign_team ON recertifications (campaign_id, team, request_id);
DROP INDEX IF EXISTS idx_recertifications_request_id;
CREATE INDEX idx_recertifications_request_status ON recertifications (request_id, status);
DROP INDEX IF EXISTS idx_recertifications_status;
CREATE INDEX idx_recertifications_status_campaign ON recertifications (status, campaign_id);
CREATE INDEX idx_recertifications_team_status ON recertifications (team, status, id);
DROP INDEX IF EXISTS idx_alert_deliveries_status;
CREATE INDEX idx_alert_deliveries_status_id ON alert_deliveries (status, id);
CREATE INDEX idx_users_email_lower ON users (lower(email));
CREATE INDEX idx_zones_name_lower ON zones (lower(name));

-- +goose Down
DROP INDEX IF EXISTS idx_zones_name_lower;
DROP INDEX IF EXISTS idx_users_email_lower;
DROP INDEX IF EXISTS idx_alert_deliveries_status_id;
CREATE INDEX idx_alert_deliveries_status ON alert_deliveries (status);
DROP INDEX IF EXISTS idx_recertifications_team_status;
DROP INDEX IF EXISTS idx_recertifications_status_campaign;
CREATE INDEX idx_recertifications_status ON recertifications (status);
DROP INDEX IF EXISTS idx_recertifications_request_status;
CREATE INDEX idx_recertifications_request_id ON recertifications (request_id);
DROP INDEX IF EXISTS idx_recertifications_campaign_team;
CREATE INDEX idx_recertifications_campaign_id ON recertifications (campaign_id);
DROP INDEX IF EXISTS idx_assets_zone_id_address;
CREATE INDEX idx_assets_zone_id ON assets (zone_id);
DROP INDEX IF EXISTS idx_scan_runs_queued_at;
DROP INDEX IF EXISTS idx_scan_runs_zone_id;
DROP INDEX IF EXISTS idx_scan_runs_request_id_kind_id;
CREATE INDEX idx_scan_runs_request_id ON scan_runs (request_id);
DROP INDEX IF EXISTS idx_scan_runs_kind_zone_id;
CREATE INDEX idx_scan_runs_kind ON scan_runs (kind);
DROP INDEX IF EXISTS idx_scan_runs_status_id;
CREATE INDEX idx_scan_runs_status ON scan_runs (status);
DROP INDEX IF EXISTS idx_drift_items_zone_state;
DROP INDEX IF EXISTS idx_drift_items_kind_state;
CREATE INDEX idx_drift_items_kind ON drift_items (kind);
DROP INDEX IF EXISTS idx_drift_items_address_state;
CREATE INDEX idx_drift_items_address ON drift_items (address);
DROP INDEX IF EXISTS idx_drift_items_state_severity_id;
CREATE INDEX idx_drift_items_state ON drift_items (state);
DROP INDEX IF EXISTS idx_audit_events_at_seq;
CREATE INDEX idx_audit_events_at ON audit_events (at);
DROP INDEX IF EXISTS idx_audit_events_object;
DROP INDEX IF EXISTS idx_rules_request_id_position;
CREATE INDEX idx_rules_request_id ON rules (request_id);
DROP INDEX IF EXISTS idx_reviews_request_decision;
CREATE INDEX idx_reviews_request_id ON reviews (request_id);
DROP INDEX IF EXISTS idx_requests_state_expires_at;
DROP INDEX IF EXISTS idx_requests_expires_at_id;
DROP INDEX IF EXISTS idx_requests_state_submitted_at;
DROP INDEX IF EXISTS idx_requests_team_id;
DROP INDEX IF EXISTS idx_requests_requester_id_id;
CREATE INDEX idx_requests_requester_id ON requests (requester_id);
DROP INDEX IF EXISTS idx_requests_state_id;
CREATE INDEX idx_requests_state ON requests (state);
