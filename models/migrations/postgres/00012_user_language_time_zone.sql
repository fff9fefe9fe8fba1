-- Each person's language and time zone (issue 13 item 1), chosen on the
-- profile. Empty means "not chosen": the browser's Accept-Language and the
-- server's --default-language / --default-timezone apply.

-- +goose Up
ALTER TABLE users ADD COLUMN language text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN time_zone text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE users DROP COLUMN time_zone;
ALTER TABLE users DROP COLUMN language;
