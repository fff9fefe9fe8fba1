-- More pages are kept rendered (see 00022): the reports, whose rows and
-- subscriptions count under an area of their own; the admin's applications
-- page, which shows the assessment questionnaire beside the applications:
-- it counts under inventory; and the list of users, which shows when each
-- person last logged in: that stamp counts under requests now (an access
-- check's does not).
--
--   reports:   periodic_reports, report_subscriptions
--   inventory: + assessment_questionnaires
--   requests:  + users.last_login_at

-- +goose Up
INSERT INTO data_generations (area, generation) VALUES ('reports', 0);
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
DROP TRIGGER users_generation_update;
-- +goose StatementBegin
CREATE TRIGGER users_generation_update AFTER UPDATE OF email, name, team, roles, disabled_at, last_login_at ON users BEGIN UPDATE data_generations SET generation = generation + 1 WHERE area = 'requests'; END;
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
DELETE FROM data_generations WHERE area = 'reports';
