-- Pages are kept rendered while nothing they show has changed. "Changed"
-- has to hold for every writer: another instance, the scanner, an
-- operator's SQL. So the database counts it itself: a transaction that
-- writes a table a kept page reads from adds one to the generation of the
-- table's area when it commits, and a reader compares the sum of its areas'
-- generations with the one its kept page was drawn at.
--
--   requests:  requests, rules, reviews, users (of users only what lists
--              show: not the stamps a login or an access check writes)
--   recert:    recert_campaigns, recertifications
--   inventory: zones, assets, applications, settings, scan_schedules
--   scans:     scan_runs, scan_results
--   drift:     drift_items
--   alerts:    alert_deliveries
--
-- On PostgreSQL the count is taken at commit: the triggers are deferred,
-- and the first one of an area in a transaction marks it done (a setting
-- local to the transaction), so a transaction adds one to an area however
-- many rows it wrote, and bulk writes do not pile up versions of one row.
-- The area's row stays locked only from that moment to the commit, after
-- the transaction's own writes and audit event: before the update the
-- trigger takes the audit log's advisory lock (core.AuditLockKey), which an
-- audited step takes at its audit event and holds to its commit anyway, so
-- two transactions committing the same areas never lock their rows in two
-- orders.

-- +goose Up
CREATE TABLE data_generations (area text PRIMARY KEY, generation bigint NOT NULL DEFAULT 0);
INSERT INTO data_generations (area, generation) VALUES ('requests', 0), ('recert', 0), ('inventory', 0), ('scans', 0), ('drift', 0), ('alerts', 0);
-- +goose StatementBegin
CREATE FUNCTION data_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('portcullis.counted_' || TG_ARGV[0], true) IS DISTINCT FROM 'yes' THEN
		PERFORM set_config('portcullis.counted_' || TG_ARGV[0], 'yes', true);
		PERFORM pg_advisory_xact_lock(7274022);
		UPDATE data_generations SET generation = generation + 1 WHERE area = TG_ARGV[0];
	END IF;
	RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER requests_generation AFTER INSERT OR UPDATE OR DELETE ON requests DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_bump('requests');
CREATE CONSTRAINT TRIGGER rules_generation AFTER INSERT OR UPDATE OR DELETE ON rules DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_bump('requests');
CREATE CONSTRAINT TRIGGER reviews_generation AFTER INSERT OR UPDATE OR DELETE ON reviews DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_bump('requests');
CREATE CONSTRAINT TRIGGER users_generation AFTER INSERT OR UPDATE OF email, name, team, roles, disabled_at OR DELETE ON users DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_bump('requests');
CREATE CONSTRAINT TRIGGER recert_campaigns_generation AFTER INSERT OR UPDATE OR DELETE ON recert_campaigns DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_bump('recert');
CREATE CONSTRAINT TRIGGER recertifications_generation AFTER INSERT OR UPDATE OR DELETE ON recertifications DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_bump('recert');
CREATE CONSTRAINT TRIGGER zones_generation AFTER INSERT OR UPDATE OR DELETE ON zones DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_bump('inventory');
CREATE CONSTRAINT TRIGGER assets_generation AFTER INSERT OR UPDATE OR DELETE ON assets DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_bump('inventory');
CREATE CONSTRAINT TRIGGER applications_generation AFTER INSERT OR UPDATE OR DELETE ON applications DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_bump('inventory');
CREATE CONSTRAINT TRIGGER settings_generation AFTER INSERT OR UPDATE OR DELETE ON settings DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_bump('inventory');
CREATE CONSTRAINT TRIGGER scan_schedules_generation AFTER INSERT OR UPDATE OR DELETE ON scan_schedules DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_bump('inventory');
CREATE CONSTRAINT TRIGGER scan_runs_generation AFTER INSERT OR UPDATE OR DELETE ON scan_runs DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_bump('scans');
CREATE CONSTRAINT TRIGGER scan_results_generation AFTER INSERT OR UPDATE OR DELETE ON scan_results DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_bump('scans');
CREATE CONSTRAINT TRIGGER drift_items_generation AFTER INSERT OR UPDATE OR DELETE ON drift_items DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_bump('drift');
CREATE CONSTRAINT TRIGGER alert_deliveries_generation AFTER INSERT OR UPDATE OR DELETE ON alert_deliveries DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_bump('alerts');

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
