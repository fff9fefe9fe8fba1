-- More pages are kept rendered (see 00022), and what they show is counted:
--   - the reports page: the reports and subscriptions, in an area of their own;
--   - the admin's applications page: the assessment questionnaire, under
--     inventory;
--   - the list of users: when each person last logged in, and why an
--     account was disabled, under requests (the stamp of an access check
--     still counts nowhere);
--   - a request's page: its comments, and its timeline, which is the audit
--     events about requests, under requests;
--   - the audit log: every event, in an area of its own (the log only
--     appends).
--
--   reports:   periodic_reports, report_subscriptions
--   audit:     audit_events
--   inventory: + assessment_questionnaires
--   requests:  + users.last_login_at and disabled_reason, comments, audit_events of requests

-- +goose Up
INSERT INTO data_generations (area, generation) VALUES ('reports', 0), ('audit', 0);
-- +goose StatementBegin
CREATE TRIGGER periodic_reports_generation_insert AFTER INSERT ON periodic_reports BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'reports'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER periodic_reports_generation_update AFTER UPDATE ON periodic_reports BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'reports'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER periodic_reports_generation_delete AFTER DELETE ON periodic_reports BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'reports'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER report_subscriptions_generation_insert AFTER INSERT ON report_subscriptions BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'reports'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER report_subscriptions_generation_update AFTER UPDATE ON report_subscriptions BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'reports'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER report_subscriptions_generation_delete AFTER DELETE ON report_subscriptions BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'reports'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER assessment_questionnaires_generation_insert AFTER INSERT ON assessment_questionnaires BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'inventory'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER assessment_questionnaires_generation_update AFTER UPDATE ON assessment_questionnaires BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'inventory'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER assessment_questionnaires_generation_delete AFTER DELETE ON assessment_questionnaires BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'inventory'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER comments_generation_insert AFTER INSERT ON comments BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'requests'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER comments_generation_update AFTER UPDATE ON comments BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'requests'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER comments_generation_delete AFTER DELETE ON comments BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'requests'; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_events_generation_insert AFTER INSERT ON audit_events BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'audit' OR (area = 'requests' AND NEW.object_type = 'request'); END;
-- +goose StatementEnd
DROP TRIGGER users_generation_update;
-- +goose StatementBegin
CREATE TRIGGER users_generation_update AFTER UPDATE OF email, name, team, roles, disabled_at, disabled_reason, last_login_at ON users BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'requests'; END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER users_generation_update;
-- +goose StatementBegin
CREATE TRIGGER users_generation_update AFTER UPDATE OF email, name, team, roles, disabled_at ON users BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'requests'; END;
-- +goose StatementEnd
DROP TRIGGER periodic_reports_generation_insert;
DROP TRIGGER periodic_reports_generation_update;
DROP TRIGGER periodic_reports_generation_delete;
DROP TRIGGER report_subscriptions_generation_insert;
DROP TRIGGER report_subscriptions_generation_update;
DROP TRIGGER report_subscriptions_generation_delete;
DROP TRIGGER assessment_questionnaires_generation_insert;
DROP TRIGGER assessment_questionnaires_generation_update;
DROP TRIGGER assessment_questionnaires_generation_delete;
DROP TRIGGER comments_generation_insert;
DROP TRIGGER comments_generation_update;
DROP TRIGGER comments_generation_delete;
DROP TRIGGER audit_events_generation_insert;
DELETE FROM data_generations WHERE area IN ('reports', 'audit');
