-- Scanner agents (issue 11): enrolled agents and their pinned keys, the
-- nonces of the replay window, the server key that signs their scope, the
-- chunks a zone scan is split into and who sent which host, and assets'
-- public (NAT) address for the internet vantage.
-- Numbered 8: other branches in flight take 7.

-- +goose Up
CREATE TABLE agents (
    id integer PRIMARY KEY AUTOINCREMENT,
    name text NOT NULL,
    zones text NOT NULL,
    state text NOT NULL,
    token_hash text NOT NULL DEFAULT '',
    token_expires_at datetime NOT NULL,
    public_key text NOT NULL DEFAULT '',
    version text NOT NULL DEFAULT '',
    scope_hash text NOT NULL DEFAULT '',
    scope_issued_at datetime,
    created_by text NOT NULL,
    created_at datetime NOT NULL,
    enrolled_at datetime,
    last_seen_at datetime,
    started_at datetime,
    current_work text NOT NULL DEFAULT '',
    ports_per_second real NOT NULL DEFAULT 0,
    revoked_at datetime,
    revoked_by text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX idx_agents_name ON agents (name);
CREATE INDEX idx_agents_token_hash ON agents (token_hash);

CREATE TABLE agent_nonces (
    agent_id integer NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    nonce text NOT NULL,
    seen_at datetime NOT NULL,
    PRIMARY KEY (agent_id, nonce)
);
CREATE INDEX idx_agent_nonces_seen_at ON agent_nonces (seen_at);

CREATE TABLE agent_server_keys (
    id integer PRIMARY KEY AUTOINCREMENT,
    private_key text NOT NULL,
    created_at datetime NOT NULL
);

CREATE TABLE scan_chunks (
    id integer PRIMARY KEY AUTOINCREMENT,
    run_id integer NOT NULL REFERENCES scan_runs (id) ON DELETE CASCADE,
    position integer NOT NULL,
    zone text NOT NULL,
    vantage text NOT NULL DEFAULT 'internal',
    targets text NOT NULL,
    tcp_ports text NOT NULL DEFAULT '',
    udp_ports text NOT NULL DEFAULT '',
    profile text NOT NULL,
    state text NOT NULL,
    agent_id integer REFERENCES agents (id) ON DELETE SET NULL,
    lease integer NOT NULL DEFAULT 0,
    lease_until datetime,
    hosts_done integer NOT NULL DEFAULT 0,
    refused text NOT NULL DEFAULT '',
    finished_at datetime
);
CREATE UNIQUE INDEX idx_scan_chunks_run_position ON scan_chunks (run_id, position, vantage);
CREATE INDEX idx_scan_chunks_state_zone ON scan_chunks (state, zone, id);

CREATE TABLE scan_chunk_hosts (
    chunk_id integer NOT NULL REFERENCES scan_chunks (id) ON DELETE CASCADE,
    address text NOT NULL,
    agent_id integer NOT NULL,
    at datetime NOT NULL,
    PRIMARY KEY (chunk_id, address)
);

CREATE TABLE scan_chunk_uploads (
    chunk_id integer NOT NULL REFERENCES scan_chunks (id) ON DELETE CASCADE,
    lease integer NOT NULL,
    seq integer NOT NULL,
    hosts integer NOT NULL,
    at datetime NOT NULL,
    PRIMARY KEY (chunk_id, lease, seq)
);

ALTER TABLE assets ADD COLUMN public_address text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE assets DROP COLUMN public_address;
DROP TABLE IF EXISTS scan_chunk_uploads;
DROP TABLE IF EXISTS scan_chunk_hosts;
DROP TABLE IF EXISTS scan_chunks;
DROP TABLE IF EXISTS agent_server_keys;
DROP TABLE IF EXISTS agent_nonces;
DROP TABLE IF EXISTS agents;
