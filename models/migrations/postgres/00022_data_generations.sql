-- Lists are kept rendered while nothing they show has changed. "Changed"
-- has to hold for every writer: another instance, a migration, an operator's
-- SQL. So the database counts it itself: every write to a table a kept list
-- reads from adds one to the generation of the table's area, in the
-- writer's own transaction, and a reader compares the sum of its areas'
-- generations with the one its kept list was drawn at.
--
--   requests:  requests, rules, reviews, users (who filed and approved them)
--   recert:    recert_campaigns, recertifications
--   inventory: zones, assets, applications, settings, scan_schedules
--   scans:     scan_runs (their status and progress as the scanner writes
--              them), scan_results
--   drift:     drift_items
--   alerts:    alert_deliveries
--
-- On PostgreSQL a statement adds one however many rows it wrote. The row
-- of an area is locked until the writer commits; the trigger first takes
-- the audit log's lock (the same key as core.AuditLockKey), which every
-- audited step holds until it commits anyway, so whoever waits for an
-- area's row holds no other area's row, and the locks are always taken in
-- one order.

-- +goose Up
CREATE TABLE data_generations (area text PRIMARY KEY, generation bigint NOT NULL DEFAULT 0);
INSERT INTO data_generations (area, generation) VALUES ('requests', 0), ('recert', 0), ('inventory', 0), ('scans', 0), ('drift', 0), ('alerts', 0);
-- +goose StatementBegin
CREATE FUNCTION data_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(7274022);
	UPDATE data_generations SET generation = generation + 1 WHERE area = TG_ARGV[0];
	RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER requests_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON requests FOR EACH STATEMENT EXECUTE FUNCTION data_generation_bump('requests');
CREATE TRIGGER rules_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rules FOR EACH STATEMENT EXECUTE FUNCTION data_generation_bump('requests');
CREATE TRIGGER reviews_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON reviews FOR EACH STATEMENT EXECUTE FUNCTION data_generation_bump('requests');
CREATE TRIGGER users_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users FOR EACH STATEMENT EXECUTE FUNCTION data_generation_bump('requests');
CREATE TRIGGER recert_campaigns_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON recert_campaigns FOR EACH STATEMENT EXECUTE FUNCTION data_generation_bump('recert');
CREATE TRIGGER recertifications_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON recertifications FOR EACH STATEMENT EXECUTE FUNCTION data_generation_bump('recert');
CREATE TRIGGER zones_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON zones FOR EACH STATEMENT EXECUTE FUNCTION data_generation_bump('inventory');
CREATE TRIGGER assets_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON assets FOR EACH STATEMENT EXECUTE FUNCTION data_generation_bump('inventory');
CREATE TRIGGER applications_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON applications FOR EACH STATEMENT EXECUTE FUNCTION data_generation_bump('inventory');
CREATE TRIGGER settings_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON settings FOR EACH STATEMENT EXECUTE FUNCTION data_generation_bump('inventory');
CREATE TRIGGER scan_schedules_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scan_schedules FOR EACH STATEMENT EXECUTE FUNCTION data_generation_bump('inventory');
CREATE TRIGGER scan_runs_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scan_runs FOR EACH STATEMENT EXECUTE FUNCTION data_generation_bump('scans');
CREATE TRIGGER scan_results_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scan_results FOR EACH STATEMENT EXECUTE FUNCTION data_generation_bump('scans');
CREATE TRIGGER drift_items_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON drift_items FOR EACH STATEMENT EXECUTE FUNCTION data_generation_bump('drift');
CREATE TRIGGER alert_deliveries_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON alert_deliveries FOR EACH STATEMENT EXECUTE FUNCTION data_generation_bump('alerts');

-- +goose Down
DROP TRIGGER requests_generation ON requests;
DROP TRIGGER rules_generation ON rules;
DROP TRIGGER reviews_generation ON reviews;
DROP TRIGGER users_generation ON users;
DROP TRIGGER recert_campaigns_generation ON recert_campaigns;
DROP TRIGGER recertifications_generation ON recertifications;
DROP TRIGGER zones_generation ON zones;
DROP TRIGGER assets_generation ON assets;
DROP TRIGGER applications_generation ON applications;
DROP TRIGGER settings_generation ON settings;
DROP TRIGGER scan_schedules_generation ON scan_schedules;
DROP TRIGGER scan_runs_generation ON scan_runs;
DROP TRIGGER scan_results_generation ON scan_results;
DROP TRIGGER drift_items_generation ON drift_items;
DROP TRIGGER alert_deliveries_generation ON alert_deliveries;
DROP FUNCTION data_generation_bump();
DROP TABLE data_generations;
