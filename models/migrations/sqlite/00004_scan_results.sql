-- Per-host, per-port scan results: one row per host a run recorded
-- (protocol '' and port 0: the host's own state and tarpit flag) and one per
-- port it listed. Diffs between runs and the asset page read these rows
-- instead of parsing stored reports. The report blob stays on scan_runs for
-- GET /api/v1/scans/{id} (the scan-report contract).
--
-- Existing finished runs are converted here, from their stored reports.
-- rules(destination) serves the drift comparison and the asset page, which
-- read only the rules naming the hosts or their zones.

-- +goose Up
CREATE TABLE scan_results (
    id integer PRIMARY KEY AUTOINCREMENT,
    run_id integer NOT NULL REFERENCES scan_runs (id) ON DELETE CASCADE,
    address text NOT NULL,
    protocol text NOT NULL DEFAULT '',
    port integer NOT NULL DEFAULT 0,
    state text NOT NULL DEFAULT '',
    tarpit numeric NOT NULL DEFAULT false,
    service text NOT NULL DEFAULT '',
    product text NOT NULL DEFAULT '',
    version text NOT NULL DEFAULT '',
    tls numeric NOT NULL DEFAULT false,
    banner text NOT NULL DEFAULT '',
    findings text NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX idx_scan_results_run_address ON scan_results (run_id, address, protocol, port);
CREATE INDEX idx_scan_results_address_run ON scan_results (address, protocol, port, run_id);
CREATE INDEX idx_rules_destination ON rules (destination);
-- The few rules naming several addresses, read whole by the drift comparison.
CREATE INDEX idx_rules_multi_destination ON rules (destination) WHERE destination LIKE '%,%';

INSERT OR IGNORE INTO scan_results (run_id, address, protocol, port, state, tarpit)
SELECT r.id, json_extract(h.value, '$.address'), '', 0,
       coalesce(json_extract(h.value, '$.state'), 'up'), coalesce(json_extract(h.value, '$.tarpit'), 0)
FROM scan_runs r, json_each(r.report, '$.hosts') h
WHERE r.status = 'done' AND r.report <> '' AND json_valid(r.report)
  AND json_type(r.report, '$.hosts') = 'array' AND json_extract(h.value, '$.address') IS NOT NULL;

INSERT OR IGNORE INTO scan_results (run_id, address, protocol, port, state, tarpit, service, product, version, tls, banner, findings)
SELECT r.id, json_extract(h.value, '$.address'), coalesce(json_extract(p.value, '$.protocol'), 'tcp'),
       coalesce(json_extract(p.value, '$.port'), 0), coalesce(json_extract(p.value, '$.state'), ''),
       coalesce(json_extract(h.value, '$.tarpit'), 0), coalesce(json_extract(p.value, '$.service'), ''),
       coalesce(json_extract(p.value, '$.product'), ''), coalesce(json_extract(p.value, '$.version'), ''),
       coalesce(json_extract(p.value, '$.tls'), 0), coalesce(json_extract(p.value, '$.banner'), ''),
       coalesce(json_extract(p.value, '$.findings'), '[]')
FROM scan_runs r, json_each(r.report, '$.hosts') h, json_each(h.value, '$.ports') p
WHERE r.status = 'done' AND r.report <> '' AND json_valid(r.report)
  AND json_type(r.report, '$.hosts') = 'array' AND json_extract(h.value, '$.address') IS NOT NULL
  AND json_type(h.value, '$.ports') = 'array' AND json_type(p.value) = 'object';

-- The dashboard's live drift counts, one state at a time, from the index alone.
CREATE INDEX idx_drift_items_live_counts ON drift_items (state, zone, severity, kind);

-- +goose Down
DROP INDEX IF EXISTS idx_drift_items_live_counts;
DROP INDEX IF EXISTS idx_rules_multi_destination;
DROP INDEX IF EXISTS idx_rules_destination;
DROP TABLE IF EXISTS scan_results;
