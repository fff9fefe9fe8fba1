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
-- On PostgreSQL the count is taken at commit. A trigger on each row written
-- marks its area in a setting local to the transaction; a deferred trigger
-- then adds one to every marked area, once, as the transaction commits: in
-- one statement that locks the areas' rows in the order of their names. So
-- a transaction holds those rows only from its commit on, waits for nothing
-- but other commits' counts, and two commits never lock them in two orders;
-- and a bulk write does not pile up versions of one row.

-- +goose Up
CREATE TABLE data_generations (area text PRIMARY KEY, generation bigint NOT NULL DEFAULT 0);
INSERT INTO data_generations (area, generation) VALUES ('requests', 0), ('recert', 0), ('inventory', 0), ('scans', 0), ('drift', 0), ('alerts', 0);
-- +goose StatementBegin
CREATE FUNCTION data_generation_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('portcullis.wrote_' || TG_ARGV[0], true) IS DISTINCT FROM 'yes' THEN
		PERFORM set_config('portcullis.wrote_' || TG_ARGV[0], 'yes', true);
	END IF;
	RETURN NULL;
END;
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION data_generation_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('portcullis.counted', true) IS DISTINCT FROM 'yes' THEN
		PERFORM set_config('portcullis.counted', 'yes', true);
		UPDATE data_generations SET generation = generation + 1 WHERE area IN (
			SELECT area FROM data_generations
			WHERE current_setting('portcullis.wrote_' || area, true) = 'yes'
			ORDER BY area FOR UPDATE);
	END IF;
	RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER requests_generation_mark AFTER INSERT OR UPDATE OR DELETE ON requests FOR EACH ROW EXECUTE FUNCTION data_generation_mark('requests');
CREATE CONSTRAINT TRIGGER requests_generation_count AFTER INSERT OR UPDATE OR DELETE ON requests DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();
CREATE TRIGGER rules_generation_mark AFTER INSERT OR UPDATE OR DELETE ON rules FOR EACH ROW EXECUTE FUNCTION data_generation_mark('requests');
CREATE CONSTRAINT TRIGGER rules_generation_count AFTER INSERT OR UPDATE OR DELETE ON rules DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();
CREATE TRIGGER reviews_generation_mark AFTER INSERT OR UPDATE OR DELETE ON reviews FOR EACH ROW EXECUTE FUNCTION data_generation_mark('requests');
CREATE CONSTRAINT TRIGGER reviews_generation_count AFTER INSERT OR UPDATE OR DELETE ON reviews DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();
CREATE TRIGGER users_generation_mark AFTER INSERT OR UPDATE OF email, name, team, roles, disabled_at OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION data_generation_mark('requests');
CREATE CONSTRAINT TRIGGER users_generation_count AFTER INSERT OR UPDATE OF email, name, team, roles, disabled_at OR DELETE ON users DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();
CREATE TRIGGER recert_campaigns_generation_mark AFTER INSERT OR UPDATE OR DELETE ON recert_campaigns FOR EACH ROW EXECUTE FUNCTION data_generation_mark('recert');
CREATE CONSTRAINT TRIGGER recert_campaigns_generation_count AFTER INSERT OR UPDATE OR DELETE ON recert_campaigns DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();
CREATE TRIGGER recertifications_generation_mark AFTER INSERT OR UPDATE OR DELETE ON recertifications FOR EACH ROW EXECUTE FUNCTION data_generation_mark('recert');
CREATE CONSTRAINT TRIGGER recertifications_generation_count AFTER INSERT OR UPDATE OR DELETE ON recertifications DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();
CREATE TRIGGER zones_generation_mark AFTER INSERT OR UPDATE OR DELETE ON zones FOR EACH ROW EXECUTE FUNCTION data_generation_mark('inventory');
CREATE CONSTRAINT TRIGGER zones_generation_count AFTER INSERT OR UPDATE OR DELETE ON zones DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();
CREATE TRIGGER assets_generation_mark AFTER INSERT OR UPDATE OR DELETE ON assets FOR EACH ROW EXECUTE FUNCTION data_generation_mark('inventory');
CREATE CONSTRAINT TRIGGER assets_generation_count AFTER INSERT OR UPDATE OR DELETE ON assets DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();
CREATE TRIGGER applications_generation_mark AFTER INSERT OR UPDATE OR DELETE ON applications FOR EACH ROW EXECUTE FUNCTION data_generation_mark('inventory');
CREATE CONSTRAINT TRIGGER applications_generation_count AFTER INSERT OR UPDATE OR DELETE ON applications DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();
CREATE TRIGGER settings_generation_mark AFTER INSERT OR UPDATE OR DELETE ON settings FOR EACH ROW EXECUTE FUNCTION data_generation_mark('inventory');
CREATE CONSTRAINT TRIGGER settings_generation_count AFTER INSERT OR UPDATE OR DELETE ON settings DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();
CREATE TRIGGER scan_schedules_generation_mark AFTER INSERT OR UPDATE OR DELETE ON scan_schedules FOR EACH ROW EXECUTE FUNCTION data_generation_mark('inventory');
CREATE CONSTRAINT TRIGGER scan_schedules_generation_count AFTER INSERT OR UPDATE OR DELETE ON scan_schedules DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();
CREATE TRIGGER scan_runs_generation_mark AFTER INSERT OR UPDATE OR DELETE ON scan_runs FOR EACH ROW EXECUTE FUNCTION data_generation_mark('scans');
CREATE CONSTRAINT TRIGGER scan_runs_generation_count AFTER INSERT OR UPDATE OR DELETE ON scan_runs DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();
CREATE TRIGGER scan_results_generation_mark AFTER INSERT OR UPDATE OR DELETE ON scan_results FOR EACH ROW EXECUTE FUNCTION data_generation_mark('scans');
CREATE CONSTRAINT TRIGGER scan_results_generation_count AFTER INSERT OR UPDATE OR DELETE ON scan_results DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();
CREATE TRIGGER drift_items_generation_mark AFTER INSERT OR UPDATE OR DELETE ON drift_items FOR EACH ROW EXECUTE FUNCTION data_generation_mark('drift');
CREATE CONSTRAINT TRIGGER drift_items_generation_count AFTER INSERT OR UPDATE OR DELETE ON drift_items DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();
CREATE TRIGGER alert_deliveries_generation_mark AFTER INSERT OR UPDATE OR DELETE ON alert_deliveries FOR EACH ROW EXECUTE FUNCTION data_generation_mark('alerts');
CREATE CONSTRAINT TRIGGER alert_deliveries_generation_count AFTER INSERT OR UPDATE OR DELETE ON alert_deliveries DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();

-- +goose Down
DROP TRIGGER requests_generation_mark ON requests;
DROP TRIGGER requests_generation_count ON requests;
DROP TRIGGER rules_generation_mark ON rules;
DROP TRIGGER rules_generation_count ON rules;
DROP TRIGGER reviews_generation_mark ON reviews;
DROP TRIGGER reviews_generation_count ON reviews;
DROP TRIGGER users_generation_mark ON users;
DROP TRIGGER users_generation_count ON users;
DROP TRIGGER recert_campaigns_generation_mark ON recert_campaigns;
DROP TRIGGER recert_campaigns_generation_count ON recert_campaigns;
DROP TRIGGER recertifications_generation_mark ON recertifications;
DROP TRIGGER recertifications_generation_count ON recertifications;
DROP TRIGGER zones_generation_mark ON zones;
DROP TRIGGER zones_generation_count ON zones;
DROP TRIGGER assets_generation_mark ON assets;
DROP TRIGGER assets_generation_count ON assets;
DROP TRIGGER applications_generation_mark ON applications;
DROP TRIGGER applications_generation_count ON applications;
DROP TRIGGER settings_generation_mark ON settings;
DROP TRIGGER settings_generation_count ON settings;
DROP TRIGGER scan_schedules_generation_mark ON scan_schedules;
DROP TRIGGER scan_schedules_generation_count ON scan_schedules;
DROP TRIGGER scan_runs_generation_mark ON scan_runs;
DROP TRIGGER scan_runs_generation_count ON scan_runs;
DROP TRIGGER scan_results_generation_mark ON scan_results;
DROP TRIGGER scan_results_generation_count ON scan_results;
DROP TRIGGER drift_items_generation_mark ON drift_items;
DROP TRIGGER drift_items_generation_count ON drift_items;
DROP TRIGGER alert_deliveries_generation_mark ON alert_deliveries;
DROP TRIGGER alert_deliveries_generation_count ON alert_deliveries;
DROP FUNCTION data_generation_count();
DROP FUNCTION data_generation_mark();
DROP TABLE data_generations;
