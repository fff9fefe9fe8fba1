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
    id bigserial PRIMARY KEY,
    run_id bigint NOT NULL REFERENCES scan_runs (id) ON DELETE CASCADE,
    address text NOT NULL,
    protocol text NOT NULL DEFAULT '',
    port integer NOT NULL DEFAULT 0,
    state text NOT NULL DEFAULT '',
    tarpit boolean NOT NULL DEFAULT false,
    service text NOT NULL DEFAULT '',
    product text NOT NULL DEFAULT '',
    version text NOT NULL DEFAULT '',
    tls boolean NOT NULL DEFAULT false,
    banner text NOT NULL DEFAULT '',
    findings text NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX idx_scan_results_run_address ON scan_results (run_id, address, protocol, port);
CREATE INDEX idx_scan_results_address_run ON scan_results (address, protocol, port, run_id);
CREATE INDEX idx_rules_destination ON rules (destination);
-- The few rules naming several addresses, read whole by the drift comparison.
CREATE INDEX idx_rules_multi_destination ON rules (destination) WHERE destination LIKE '%,%';

INSERT INTO scan_results (run_id, address, protocol, port, state, tarpit)
SELECT r.id, h->>'address', '', 0, coalesce(h->>'state', 'up'), coalesce((h->>'tarpit')::boolean, false)
FROM scan_runs r
CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(r.report::jsonb->'hosts') = 'array' THEN r.report::jsonb->'hosts' ELSE '[]'::jsonb END) AS h
WHERE r.status = 'done' AND r.report <> '' AND h->>'address' IS NOT NULL
ON CONFLICT DO NOTHING;

INSERT INTO scan_results (run_id, address, protocol, port, state, tarpit, service, product, version, tls, banner, findings)
SELECT r.id, h->>'address', coalesce(p->>'protocol', 'tcp'), coalesce((p->>'port')::integer, 0), coalesce(p->>'state', ''),
       coalesce((h->>'tarpit')::boolean, false), coalesce(p->>'service', ''), coalesce(p->>'product', ''),
       coalesce(p->>'version', ''), coalesce((p->>'tls')::boolean, false), coalesce(p->>'banner', ''),
       coalesce(CASE WHEN jsonb_typeof(p->'findings') = 'array' THEN (p->'findings')::text END, '[]')
FROM scan_runs r
CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(r.report::jsonb->'hosts') = 'array' THEN r.report::jsonb->'hosts' ELSE '[]'::jsonb END) AS h
CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(h->'ports') = 'array' THEN h->'ports' ELSE '[]'::jsonb END) AS p
WHERE r.status = 'done' AND r.report <> '' AND h->>'address' IS NOT NULL
ON CONFLICT DO NOTHING;

-- The dashboard's live drift counts, one state at a time, from the index alone.
CREATE INDEX idx_drift_items_live_counts ON drift_items (state, zone, severity, kind);

-- +goose Down
DROP INDEX IF EXISTS idx_drift_items_live_counts;
DROP INDEX IF EXISTS idx_rules_multi_destination;
DROP INDEX IF EXISTS idx_rules_destination;
DROP TABLE IF EXISTS scan_results;
