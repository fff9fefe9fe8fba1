-- A stricter path for new businesses (issue 14 item 4). Applications (the
-- `application` of assets) get a risk tier; an admin-edited security
-- questionnaire is kept in versions, so that a request answered against one
-- version keeps the questions it was asked; a request touching an
-- innovation-tier application carries its answers and is marked as such.
-- Numbered 10: other branches in flight take 7 to 9.

-- +goose Up
CREATE TABLE applications (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    tier text NOT NULL DEFAULT 'standard',
    updated_by text NOT NULL DEFAULT '',
    updated_at timestamp with time zone
);
CREATE UNIQUE INDEX idx_applications_name ON applications (name);
CREATE INDEX idx_applications_tier ON applications (tier);
CREATE TABLE assessment_questionnaires (
    version bigint PRIMARY KEY,
    questions text NOT NULL,
    created_by text NOT NULL DEFAULT '',
    created_at timestamp with time zone
);
ALTER TABLE requests ADD COLUMN assessment text NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN innovation boolean NOT NULL DEFAULT false;
CREATE INDEX idx_assets_application ON assets (application);

-- +goose Down
DROP INDEX idx_assets_application;
ALTER TABLE requests DROP COLUMN innovation;
ALTER TABLE requests DROP COLUMN assessment;
DROP TABLE assessment_questionnaires;
DROP INDEX idx_applications_tier;
DROP INDEX idx_applications_name;
DROP TABLE applications;
