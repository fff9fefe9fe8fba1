-- Texts stored once are said in each reader's language (issue 13): the
-- periodic reports keep the figures of their one-line headline, and drift
-- items the facts their explanation quotes, beside the English as
-- recorded. Empty for rows written before: those show the recorded text.

-- +goose Up
ALTER TABLE periodic_reports ADD COLUMN headline_facts text NOT NULL DEFAULT '';
ALTER TABLE drift_items ADD COLUMN detail_facts text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE drift_items DROP COLUMN detail_facts;
ALTER TABLE periodic_reports DROP COLUMN headline_facts;
