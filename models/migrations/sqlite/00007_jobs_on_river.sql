-- Background work runs on River (its tables come from River's own
-- migrations, run after these): the hand-written job leases are gone.

-- +goose Up
DROP TABLE IF EXISTS job_leases;

-- +goose Down
CREATE TABLE job_leases (
    name text PRIMARY KEY,
    holder text NOT NULL,
    lease_until timestamp,
    last_run_at timestamp
);
