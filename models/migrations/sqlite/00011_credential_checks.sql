-- Default-credential checks (issue 14 item 3): a per-zone switch an admin turns
-- on, and the admin's own list of defaults, sealed (AES-256-GCM under a key
-- derived from the audit signing key) because it holds passwords. One list per
-- installation: the table has at most the row with id 1.

-- +goose Up
ALTER TABLE zones ADD COLUMN check_credentials boolean NOT NULL DEFAULT false;
CREATE TABLE credential_lists (
	id integer PRIMARY KEY,
	sealed blob NOT NULL,
	entries integer NOT NULL DEFAULT 0,
	updated_by text NOT NULL DEFAULT '',
	updated_at datetime NOT NULL
);

-- +goose Down
DROP TABLE credential_lists;
ALTER TABLE zones DROP COLUMN check_credentials;
