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
-- SQLite has one writer at a time: a trigger per row written adds one in
-- the writer's transaction.

-- +goose Up
CREATE TABLE data_generations (area text PRIMARY KEY, generation integer NOT NULL DEFAULT 0);
INSERT INTO data_generations (area, generation) VALUES ('requests', 0), ('recert', 0), ('inventory', 0), ('scans', 0), ('drift', 0), ('alerts', 0);
-- +goose StatementBegin
CREATE TRIGGER requests_generation_insert AFTER INSERT ON requests BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'requests'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER requests_generation_update AFTER UPDATE ON requests BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'requests'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER requests_generation_delete AFTER DELETE ON requests BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'requests'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER rules_generation_insert AFTER INSERT ON rules BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'requests'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER rules_generation_update AFTER UPDATE ON rules BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'requests'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER rules_generation_delete AFTER DELETE ON rules BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'requests'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER reviews_generation_insert AFTER INSERT ON reviews BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'requests'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER reviews_generation_update AFTER UPDATE ON reviews BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'requests'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER reviews_generation_delete AFTER DELETE ON reviews BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'requests'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER users_generation_insert AFTER INSERT ON users BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'requests'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER users_generation_update AFTER UPDATE OF email, name, team, roles, disabled_at ON users BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'requests'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER users_generation_delete AFTER DELETE ON users BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'requests'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER recert_campaigns_generation_insert AFTER INSERT ON recert_campaigns BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'recert'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER recert_campaigns_generation_update AFTER UPDATE ON recert_campaigns BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'recert'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER recert_campaigns_generation_delete AFTER DELETE ON recert_campaigns BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'recert'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER recertifications_generation_insert AFTER INSERT ON recertifications BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'recert'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER recertifications_generation_update AFTER UPDATE ON recertifications BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'recert'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER recertifications_generation_delete AFTER DELETE ON recertifications BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'recert'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER zones_generation_insert AFTER INSERT ON zones BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'inventory'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER zones_generation_update AFTER UPDATE ON zones BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'inventory'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER zones_generation_delete AFTER DELETE ON zones BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'inventory'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER assets_generation_insert AFTER INSERT ON assets BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'inventory'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER assets_generation_update AFTER UPDATE ON assets BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'inventory'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER assets_generation_delete AFTER DELETE ON assets BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'inventory'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER applications_generation_insert AFTER INSERT ON applications BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'inventory'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER applications_generation_update AFTER UPDATE ON applications BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'inventory'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER applications_generation_delete AFTER DELETE ON applications BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'inventory'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER settings_generation_insert AFTER INSERT ON settings BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'inventory'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER settings_generation_update AFTER UPDATE ON settings BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'inventory'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER settings_generation_delete AFTER DELETE ON settings BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'inventory'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER scan_schedules_generation_insert AFTER INSERT ON scan_schedules BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'inventory'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER scan_schedules_generation_update AFTER UPDATE ON scan_schedules BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'inventory'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER scan_schedules_generation_delete AFTER DELETE ON scan_schedules BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'inventory'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER scan_runs_generation_insert AFTER INSERT ON scan_runs BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'scans'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER scan_runs_generation_update AFTER UPDATE ON scan_runs BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'scans'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER scan_runs_generation_delete AFTER DELETE ON scan_runs BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'scans'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER scan_results_generation_insert AFTER INSERT ON scan_results BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'scans'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER scan_results_generation_update AFTER UPDATE ON scan_results BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'scans'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER scan_results_generation_delete AFTER DELETE ON scan_results BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'scans'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER drift_items_generation_insert AFTER INSERT ON drift_items BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'drift'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER drift_items_generation_update AFTER UPDATE ON drift_items BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'drift'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER drift_items_generation_delete AFTER DELETE ON drift_items BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'drift'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER alert_deliveries_generation_insert AFTER INSERT ON alert_deliveries BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'alerts'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER alert_deliveries_generation_update AFTER UPDATE ON alert_deliveries BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'alerts'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER alert_deliveries_generation_delete AFTER DELETE ON alert_deliveries BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'alerts'; END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER requests_generation_insert;
DROP TRIGGER requests_generation_update;
DROP TRIGGER requests_generation_delete;
DROP TRIGGER rules_generation_insert;
DROP TRIGGER rules_generation_update;
DROP TRIGGER rules_generation_delete;
DROP TRIGGER reviews_generation_insert;
DROP TRIGGER reviews_generation_update;
DROP TRIGGER reviews_generation_delete;
DROP TRIGGER users_generation_insert;
DROP TRIGGER users_generation_update;
DROP TRIGGER users_generation_delete;
DROP TRIGGER recert_campaigns_generation_insert;
DROP TRIGGER recert_campaigns_generation_update;
DROP TRIGGER recert_campaigns_generation_delete;
DROP TRIGGER recertifications_generation_insert;
DROP TRIGGER recertifications_generation_update;
DROP TRIGGER recertifications_generation_delete;
DROP TRIGGER zones_generation_insert;
DROP TRIGGER zones_generation_update;
DROP TRIGGER zones_generation_delete;
DROP TRIGGER assets_generation_insert;
DROP TRIGGER assets_generation_update;
DROP TRIGGER assets_generation_delete;
DROP TRIGGER applications_generation_insert;
DROP TRIGGER applications_generation_update;
DROP TRIGGER applications_generation_delete;
DROP TRIGGER settings_generation_insert;
DROP TRIGGER settings_generation_update;
DROP TRIGGER settings_generation_delete;
DROP TRIGGER scan_schedules_generation_insert;
DROP TRIGGER scan_schedules_generation_update;
DROP TRIGGER scan_schedules_generation_delete;
DROP TRIGGER scan_runs_generation_insert;
DROP TRIGGER scan_runs_generation_update;
DROP TRIGGER scan_runs_generation_delete;
DROP TRIGGER scan_results_generation_insert;
DROP TRIGGER scan_results_generation_update;
DROP TRIGGER scan_results_generation_delete;
DROP TRIGGER drift_items_generation_insert;
DROP TRIGGER drift_items_generation_update;
DROP TRIGGER drift_items_generation_delete;
DROP TRIGGER alert_deliveries_generation_insert;
DROP TRIGGER alert_deliveries_generation_update;
DROP TRIGGER alert_deliveries_generation_delete;
DROP TABLE data_generations;
