-- The daily and weekly port reports (issue 14 item 1): each report kept with
-- its content (JSON), one per kind, zone, team ('' for the whole zone) and
-- period, so that generating it twice keeps the first; who subscribed to
-- which zone's or team's reports (active = 0 is an owner who opted out of
-- their team's); and each e-mail of a report to one recipient, at most once.

-- +goose Up
CREATE TABLE periodic_reports (
    id integer PRIMARY KEY AUTOINCREMENT,
    kind text NOT NULL,
    zone text NOT NULL,
    team text NOT NULL DEFAULT '',
    period text NOT NULL,
    window_start datetime NOT NULL,
    window_end datetime NOT NULL,
    run_id integer,
    nothing_new numeric NOT NULL DEFAULT false,
    headline text NOT NULL DEFAULT '',
    content text NOT NULL,
    created_at datetime
);
CREATE UNIQUE INDEX idx_periodic_reports_once ON periodic_reports (kind, zone, team, period);
CREATE INDEX idx_periodic_reports_team ON periodic_reports (team, id);

CREATE TABLE report_subscriptions (
    id integer PRIMARY KEY AUTOINCREMENT,
    user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    zone text NOT NULL DEFAULT '',
    team text NOT NULL DEFAULT '',
    active numeric NOT NULL DEFAULT true,
    updated_at datetime
);
CREATE UNIQUE INDEX idx_report_subscriptions_once ON report_subscriptions (user_id, zone, team);
CREATE INDEX idx_report_subscriptions_zone ON report_subscriptions (zone, team);

CREATE TABLE report_deliveries (
    id integer PRIMARY KEY AUTOINCREMENT,
    report_id integer NOT NULL REFERENCES periodic_reports (id) ON DELETE CASCADE,
    recipient text NOT NULL,
    status text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    last_error text NOT NULL DEFAULT '',
    next_attempt datetime,
    delivered_at datetime,
    created_at datetime
);
CREATE UNIQUE INDEX idx_report_deliveries_once ON report_deliveries (report_id, recipient);
CREATE INDEX idx_report_deliveries_due ON report_deliveries (status, next_attempt);

-- +goose Down
DROP TABLE IF EXISTS report_deliveries;
DROP TABLE IF EXISTS report_subscriptions;
DROP TABLE IF EXISTS periodic_reports;
