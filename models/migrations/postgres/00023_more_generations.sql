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
CREATE TRIGGER periodic_reports_generation_mark AFTER INSERT OR UPDATE OR DELETE ON periodic_reports FOR EACH ROW EXECUTE FUNCTION data_generation_mark('reports');
CREATE CONSTRAINT TRIGGER periodic_reports_generation_count AFTER INSERT OR UPDATE OR DELETE ON periodic_reports DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();
CREATE TRIGGER report_subscriptions_generation_mark AFTER INSERT OR UPDATE OR DELETE ON report_subscriptions FOR EACH ROW EXECUTE FUNCTION data_generation_mark('reports');
CREATE CONSTRAINT TRIGGER report_subscriptions_generation_count AFTER INSERT OR UPDATE OR DELETE ON report_subscriptions DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();
CREATE TRIGGER assessment_questionnaires_generation_mark AFTER INSERT OR UPDATE OR DELETE ON assessment_questionnaires FOR EACH ROW EXECUTE FUNCTION data_generation_mark('inventory');
CREATE CONSTRAINT TRIGGER assessment_questionnaires_generation_count AFTER INSERT OR UPDATE OR DELETE ON assessment_questionnaires DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();
CREATE TRIGGER comments_generation_mark AFTER INSERT OR UPDATE OR DELETE ON comments FOR EACH ROW EXECUTE FUNCTION data_generation_mark('requests');
CREATE CONSTRAINT TRIGGER comments_generation_count AFTER INSERT OR UPDATE OR DELETE ON comments DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();
CREATE TRIGGER audit_events_generation_mark AFTER INSERT ON audit_events FOR EACH ROW WHEN (NEW.object_type = 'request') EXECUTE FUNCTION data_generation_mark('requests');
CREATE TRIGGER audit_events_generation_mark_audit AFTER INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION data_generation_mark('audit');
CREATE CONSTRAINT TRIGGER audit_events_generation_count AFTER INSERT ON audit_events DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();
DROP TRIGGER users_generation_mark ON users;
DROP TRIGGER users_generation_count ON users;
CREATE TRIGGER users_generation_mark AFTER INSERT OR UPDATE OF email, name, team, roles, disabled_at, disabled_reason, last_login_at OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION data_generation_mark('requests');
CREATE CONSTRAINT TRIGGER users_generation_count AFTER INSERT OR UPDATE OF email, name, team, roles, disabled_at, disabled_reason, last_login_at OR DELETE ON users DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();

-- +goose Down
DROP TRIGGER users_generation_mark ON users;
DROP TRIGGER users_generation_count ON users;
CREATE TRIGGER users_generation_mark AFTER INSERT OR UPDATE OF email, name, team, roles, disabled_at OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION data_generation_mark('requests');
CREATE CONSTRAINT TRIGGER users_generation_count AFTER INSERT OR UPDATE OF email, name, team, roles, disabled_at OR DELETE ON users DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_count();
DROP TRIGGER periodic_reports_generation_mark ON periodic_reports;
DROP TRIGGER periodic_reports_generation_count ON periodic_reports;
DROP TRIGGER report_subscriptions_generation_mark ON report_subscriptions;
DROP TRIGGER report_subscriptions_generation_count ON report_subscriptions;
DROP TRIGGER assessment_questionnaires_generation_mark ON assessment_questionnaires;
DROP TRIGGER assessment_questionnaires_generation_count ON assessment_questionnaires;
DROP TRIGGER comments_generation_mark ON comments;
DROP TRIGGER comments_generation_count ON comments;
DROP TRIGGER audit_events_generation_mark ON audit_events;
DROP TRIGGER audit_events_generation_mark_audit ON audit_events;
DROP TRIGGER audit_events_generation_count ON audit_events;
DELETE FROM data_generations WHERE area IN ('reports', 'audit');
