package models_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models/modelstest"
)

// hotQuery is a query the application issues on a page or in a loop, as it
// issues it (placeholders as gorm writes them, identifiers unquoted).
type hotQuery struct {
	name string
	sql  string
	args []any
	// stopsAtLimit accepts a scan in the ORDER BY's order (the primary key
	// or an index), which a LIMIT stops after a page.
	stopsAtLimit bool
	// index, when set, is the index the plan must read (a partial index
	// the planner uses only when it matches the query's condition).
	index string
}

// on is the query as it is issued on the named database: the register
// names its partial index on SQLite (workflow/requests RegisterPage).
func (q hotQuery) on(db string) string {
	from := "requests"
	if db == "sqlite" {
		from = "requests INDEXED BY idx_requests_in_force_expiry"
	}
	return strings.ReplaceAll(q.sql, "REQUESTS_IN_FORCE", from)
}

var (
	someone = 4242     // a requester
	team    = "team-7" // their team
	cursor  = 50000    // keyset cursor: the last id of the previous page
	now     = "2026-06-01 00:00:00"
	inForce = []string{"approved", "implemented", "verified", "verification_failed", "active"}
	// inForceClause is the register's condition as workflow/requests writes
	// it, the partial index's word for word.
	inForceClause = "state IN ('approved', 'implemented', 'verified', 'verification_failed', 'active')"
	live          = []string{"open", "acknowledged"}
	unres         = []string{"open", "acknowledged", "suppressed"}
)

// hotQueries must stay in step with the queries in workflow/ and handlers/:
// each must be answered from an index, never by reading a large table whole.
var hotQueries = []hotQuery{
	// Request lists, keyset-paged newest first.
	{name: "requests newest first, first page", sql: `SELECT * FROM requests ORDER BY id DESC LIMIT 50`, stopsAtLimit: true},
	{name: "requests newest first, next page", sql: `SELECT * FROM requests WHERE id < ? ORDER BY id DESC LIMIT 50`, args: []any{cursor}},
	{name: "requests of a requester", sql: `SELECT * FROM requests WHERE requester_id = ? AND id < ? ORDER BY id DESC LIMIT 50`, args: []any{someone, cursor}},
	{name: "requests a team member sees", sql: `SELECT * FROM requests WHERE (requester_id = ? OR team = ?) AND id < ? ORDER BY id DESC LIMIT 50`, args: []any{someone, team, cursor}},
	{name: "requests by state", sql: `SELECT * FROM requests WHERE state IN ? AND id < ? ORDER BY id DESC LIMIT 50`, args: []any{[]string{"submitted", "in_review"}, cursor}},
	{name: "requests by state a team member sees", sql: `SELECT * FROM requests WHERE (requester_id = ? OR team = ?) AND state IN ? AND id < ? ORDER BY id DESC LIMIT 50`, args: []any{someone, team, []string{"active"}, cursor}},
	// The requests feature reads what a team member sees as a union of
	// branches, each from its own index (workflow/requests ListPage, Counts).
	{name: "requests of a team filed by others", sql: `SELECT id FROM requests WHERE team = ? AND requester_id <> ? AND id < ? ORDER BY id DESC LIMIT 51`, args: []any{team, someone, cursor}, index: "idx_requests_team_id_requester"},
	{name: "requests by one state", sql: `SELECT * FROM requests WHERE state = ? AND id < ? ORDER BY id DESC LIMIT 51`, args: []any{"submitted", cursor}},
	{name: "request counts of a requester", sql: `SELECT state, COUNT(*) AS n FROM requests WHERE requester_id = ? GROUP BY state`, args: []any{someone}},
	{name: "request counts of a team filed by others", sql: `SELECT state, COUNT(*) AS n FROM requests WHERE team = ? AND requester_id <> ? GROUP BY state`, args: []any{team, someone}},
	{name: "version of the rules in force", sql: `SELECT COUNT(*), COALESCE(SUM(id), 0), COALESCE(SUM(version), 0) FROM requests WHERE state IN ?`, args: []any{inForce}},
	{name: "review queue: submitted, next page", sql: `SELECT * FROM requests WHERE state = ? AND (submitted_at, id) > (?, ?) ORDER BY submitted_at, id LIMIT 51`, args: []any{"submitted", "2025-06-01 00:00:00", cursor}},
	{name: "review queue: in review without approval", sql: `SELECT * FROM requests WHERE state = ? AND NOT EXISTS (SELECT 1 FROM reviews WHERE reviews.request_id = requests.id AND reviews.voided = ? AND reviews.decision = ?) ORDER BY submitted_at, id LIMIT 51`, args: []any{"in_review", false, "approve"}},
	{name: "implementation queue, one state, next page", sql: `SELECT * FROM requests WHERE state = ? AND (approved_at, id) > (?, ?) ORDER BY approved_at, id LIMIT 51`, args: []any{"approved", "2025-06-01 00:00:00", cursor}},
	{name: "rule register, one state, next page", sql: `SELECT * FROM requests WHERE state = ? AND (expires_at, id) > (?, ?) ORDER BY expires_at, id LIMIT 51`, args: []any{"active", "2026-07-01 00:00:00", cursor}},
	{name: "users page", sql: `SELECT * FROM users WHERE (email, id) > (?, ?) ORDER BY email, id LIMIT 51`, args: []any{"user-77@example.test", 77}},
	{name: "request counts a team member sees", sql: `SELECT state, COUNT(*) AS n FROM requests WHERE requester_id = ? OR team = ? GROUP BY state`, args: []any{someone, team}},
	{name: "dashboard: requests waiting, by state", sql: `SELECT state, COUNT(*) AS n FROM requests WHERE state IN ? GROUP BY state`, args: []any{[]string{"submitted", "in_review", "changes_requested", "approved", "implemented", "verification_failed"}}},
	{name: "dashboard: expiring soon", sql: `SELECT * FROM requests WHERE state IN ? AND expires_at < ? ORDER BY expires_at LIMIT 20`, args: []any{inForce, now}},
	{name: "recert sweep: expired in force", sql: `SELECT id FROM requests WHERE state IN ? AND expires_at < ?`, args: []any{inForce, now}},
	// A scalar subquery, not NOT IN or NOT EXISTS: PostgreSQL turns those into a hash join over
	// every review, and evaluates this one per waiting request from an index.
	{name: "review queue", sql: `SELECT * FROM requests WHERE state IN ? AND (state = ? OR (SELECT COUNT(*) FROM reviews WHERE reviews.request_id = requests.id AND decision = ? AND voided = ?) = 0) ORDER BY submitted_at, id`, args: []any{[]string{"submitted", "in_review"}, "submitted", "approve", false}},
	{name: "approval queue, first page", sql: `SELECT * FROM requests WHERE state = ? AND needs_second_approval = ? AND EXISTS (SELECT 1 FROM reviews WHERE reviews.request_id = requests.id AND reviews.voided = ? AND reviews.decision = ? AND reviews.kind = 'review') ORDER BY submitted_at, id LIMIT 51`, args: []any{"in_review", true, false, "approve"}},
	{name: "approval queue", sql: `SELECT * FROM requests WHERE state = ? AND needs_second_approval = ? AND EXISTS (SELECT 1 FROM reviews WHERE reviews.request_id = requests.id AND voided = ? AND decision = ? AND kind = ?) ORDER BY submitted_at, id`, args: []any{"in_review", true, false, "approve", "review"}},
	{name: "implementation queue", sql: `SELECT * FROM requests WHERE state IN ? ORDER BY approved_at, id`, args: []any{[]string{"approved", "verification_failed"}}},
	{name: "rule register, first page", sql: `SELECT * FROM REQUESTS_IN_FORCE WHERE ` + inForceClause + ` ORDER BY expires_at, id LIMIT 51`, stopsAtLimit: true, index: "idx_requests_in_force_expiry"},
	{name: "rule register, next page", sql: `SELECT * FROM REQUESTS_IN_FORCE WHERE ` + inForceClause + ` AND (expires_at, id) > (?, ?) ORDER BY expires_at, id LIMIT 51`, args: []any{"2026-07-01 00:00:00", cursor}, index: "idx_requests_in_force_expiry"},
	{name: "request by id and version (transition)", sql: `UPDATE requests SET state = ?, version = version + 1 WHERE id = ? AND version = ?`, args: []any{"approved", cursor, 3}},
	// What a request's page and a list's preloads read.
	{name: "rules of a page of requests", sql: `SELECT * FROM rules WHERE request_id IN ? ORDER BY position`, args: []any{[]int{cursor, cursor + 1, cursor + 2}}},
	{name: "reviews of a request", sql: `SELECT * FROM reviews WHERE request_id = ? ORDER BY id`, args: []any{cursor}},
	{name: "approvers of a page of requests", sql: `SELECT reviews.request_id, users.email FROM reviews JOIN users ON users.id = reviews.reviewer_id WHERE reviews.request_id IN ? AND reviews.voided = ? AND reviews.decision = ? ORDER BY reviews.id`, args: []any{[]int{cursor, cursor + 1}, false, "approve"}, index: "idx_reviews_request_decision_reviewer"},
	{name: "comments of a request", sql: `SELECT * FROM comments WHERE request_id = ? ORDER BY id`, args: []any{cursor}},
	{name: "request timeline", sql: `SELECT * FROM audit_events WHERE object_type = ? AND object_id = ? ORDER BY seq`, args: []any{"request", cursor}},
	{name: "request timeline (today: by id)", sql: `SELECT * FROM audit_events WHERE object_type = ? AND object_id = ? ORDER BY id`, args: []any{"request", cursor}},
	{name: "latest verification verdict", sql: `SELECT * FROM audit_events WHERE object_type = ? AND object_id = ? AND action IN ? ORDER BY seq DESC LIMIT 1`, args: []any{"request", cursor, []string{"verify", "fail_verification"}}},
	{name: "destinations of a request", sql: `SELECT * FROM assets WHERE address IN ? ORDER BY address`, args: []any{[]string{"10.1.2.3", "10.1.2.4"}}},
	// The audit log.
	{name: "audit chain head", sql: `SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`, stopsAtLimit: true},
	{name: "audit export page", sql: `SELECT * FROM audit_events WHERE seq > ? ORDER BY seq LIMIT 1000`, args: []any{500000}},
	{name: "audit export page in a period", sql: `SELECT * FROM audit_events WHERE seq > ? AND at >= ? AND at < ? ORDER BY seq LIMIT 1000`, args: []any{400000, "2025-06-01 00:00:00", "2025-07-01 00:00:00"}},
	{name: "audit export: first event of a period", sql: `SELECT seq FROM audit_events WHERE at >= ? ORDER BY at, seq LIMIT 1`, args: []any{"2025-06-01 00:00:00"}},
	// Drift.
	{name: "drift list", sql: `SELECT * FROM drift_items WHERE state IN ? ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END, last_seen DESC, id DESC LIMIT 200`, args: []any{live}},
	{name: "drift list by severity", sql: `SELECT * FROM drift_items WHERE state IN ? AND severity = ? ORDER BY last_seen DESC, id DESC LIMIT 200`, args: []any{live, "critical"}},
	{name: "drift list by kind", sql: `SELECT * FROM drift_items WHERE state IN ? AND kind = ? ORDER BY last_seen DESC, id DESC LIMIT 200`, args: []any{live, "open_unapproved"}},
	{name: "drift of an asset", sql: `SELECT * FROM drift_items WHERE state IN ? AND address = ? ORDER BY last_seen DESC, id DESC LIMIT 200`, args: []any{live, "10.1.2.3"}},
	{name: "drift of an asset, a page", sql: `SELECT * FROM drift_items WHERE address = ? AND state IN ? AND severity IN ? ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 WHEN 'info' THEN 4 END, id DESC LIMIT 51`, args: []any{"10.1.2.3", []string{"open", "acknowledged", "suppressed", "resolved"}, []string{"critical", "high", "medium", "low", "info"}}},
	{name: "drift of a zone", sql: `SELECT * FROM drift_items WHERE state IN ? AND zone = ? ORDER BY last_seen DESC, id DESC LIMIT 200`, args: []any{live, "zone-3"}},
	{name: "drift by state, next page", sql: `SELECT * FROM drift_items WHERE state = ? AND severity = ? AND id < ? ORDER BY id DESC LIMIT 50`, args: []any{"resolved", "high", cursor}},
	{name: "dashboard: drift heat map", sql: `SELECT zone, severity, kind, COUNT(*) AS n FROM drift_items WHERE state IN ? GROUP BY zone, severity, kind`, args: []any{live}},
	{name: "dashboard: drift opened since", sql: `SELECT first_seen FROM drift_items WHERE first_seen >= ?`, args: []any{now}},
	{name: "dashboard: drift resolved since", sql: `SELECT resolved_at FROM drift_items WHERE resolved_at >= ?`, args: []any{now}},
	{name: "verification: unresolved drift", sql: `SELECT * FROM drift_items WHERE state IN ?`, args: []any{unres}},
	// Scans.
	{name: "scans newest first", sql: `SELECT id, kind, status, zone, queued_at FROM scan_runs ORDER BY id DESC LIMIT 50`, stopsAtLimit: true},
	{name: "next queued scan", sql: `SELECT * FROM scan_runs WHERE status = ? ORDER BY id LIMIT 1`, args: []any{"queued"}},
	{name: "previous finished scans", sql: `SELECT * FROM scan_runs WHERE status = ? AND id < ? ORDER BY id DESC LIMIT 50`, args: []any{"done", 15000}},
	{name: "last scheduled scan of a zone", sql: `SELECT * FROM scan_runs WHERE kind = ? AND zone = ? ORDER BY id DESC LIMIT 1`, args: []any{"daily", "zone-3"}},
	{name: "dashboard: last scan of a zone", sql: `SELECT * FROM scan_runs WHERE (zone = ? OR (zone = '' AND kind = ?)) AND status IN ? ORDER BY id DESC LIMIT 1`, args: []any{"zone-3", "on_demand", []string{"done", "failed", "running"}}},
	{name: "latest verification scan of a request", sql: `SELECT * FROM scan_runs WHERE request_id = ? AND kind = ? ORDER BY id DESC LIMIT 1`, args: []any{cursor, "verification"}},
	{name: "stale running scans", sql: `UPDATE scan_runs SET status = ? WHERE status = ? AND started_at < ?`, args: []any{"failed", "running", now}},
	{name: "scans in a period", sql: `SELECT id FROM scan_runs WHERE queued_at >= ? AND queued_at < ? ORDER BY queued_at, id`, args: []any{"2026-01-01 00:00:00", "2026-01-02 00:00:00"}},
	// Inventory.
	{name: "asset by address", sql: `SELECT * FROM assets WHERE address = ? LIMIT 1`, args: []any{"10.1.2.3"}},
	{name: "assets page", sql: `SELECT * FROM assets WHERE address > ? ORDER BY address LIMIT 50`, args: []any{"10.1.2.3"}},
	{name: "assets of a zone", sql: `SELECT assets.address FROM assets JOIN zones ON zones.id = assets.zone_id WHERE LOWER(zones.name) = LOWER(?) ORDER BY assets.address`, args: []any{"zone-3"}},
	// Re-certification.
	{name: "campaign items", sql: `SELECT * FROM recertifications WHERE campaign_id = ? ORDER BY team, request_id`, args: []any{3}},
	{name: "my team's pending recertifications", sql: `SELECT id FROM recertifications WHERE team = ? AND status = ? AND id > ? ORDER BY id LIMIT 51`, args: []any{team, "pending", 0}},
	// The navigation's inbox and the role homes (workflow/requests MyQueues,
	// workflow/recert CountMine and CountOverdue, workflow/drift).
	{name: "inbox: own requests submitted", sql: `SELECT COUNT(*) FROM requests WHERE requester_id = ? AND state = ?`, args: []any{someone, "submitted"}},
	{name: "inbox: requests one approver gave the first approval", sql: `SELECT COUNT(*) FROM requests WHERE state = ? AND needs_second_approval = ? AND EXISTS (SELECT 1 FROM reviews WHERE reviews.request_id = requests.id AND reviews.voided = ? AND reviews.decision = ? AND reviews.kind = 'review') AND (requester_id = ? OR EXISTS (SELECT 1 FROM reviews WHERE reviews.request_id = requests.id AND reviews.reviewer_id = ? AND reviews.kind = 'review' AND reviews.voided = ? AND reviews.decision = ?))`, args: []any{"in_review", true, false, "approve", someone, someone, false, "approve"}},
	{name: "inbox: my own pending recertifications, counted", sql: `SELECT COUNT(*) FROM recertifications WHERE requester_id = ? AND status = ?`, args: []any{someone, "pending"}},
	{name: "inbox: my team's pending recertifications, counted", sql: `SELECT COUNT(*) FROM recertifications WHERE team = ? AND status = ? AND requester_id <> ?`, args: []any{team, "pending", someone}},
	{name: "home: a team's assets ranked by live drift", sql: `SELECT assets.address, COUNT(*) AS n FROM assets JOIN drift_items ON drift_items.address = assets.address AND drift_items.state IN ? WHERE assets.owner_team = ? GROUP BY assets.address ORDER BY n DESC, assets.address LIMIT 5`, args: []any{live, team}},
	{name: "inbox: live drift on a team's assets", sql: `SELECT COUNT(*) FROM assets JOIN drift_items ON drift_items.address = assets.address AND drift_items.state IN ? WHERE assets.owner_team = ?`, args: []any{live, team}},
	{name: "home: overdue recertifications", sql: `SELECT COUNT(*) FROM recertifications WHERE status = ? AND campaign_id IN ?`, args: []any{"pending", []int{1, 2}}},
	{name: "dashboard: live drift by address", sql: `SELECT address, severity, COUNT(*) AS n FROM drift_items WHERE state = ? GROUP BY address, severity`, args: []any{"open"}},
	{name: "dashboard: oldest live drift", sql: `SELECT * FROM drift_items WHERE state = ? ORDER BY first_seen, id LIMIT 8`, args: []any{"open"}},
	{name: "my pending recertifications, own and team's, with campaigns", sql: `SELECT recertifications.*, recert_campaigns.name FROM recertifications JOIN recert_campaigns ON recert_campaigns.id = recertifications.campaign_id WHERE recertifications.id IN (SELECT id FROM (SELECT id FROM recertifications WHERE requester_id = ? AND status = ? AND id > ? ORDER BY id LIMIT 51) own_items UNION SELECT id FROM (SELECT id FROM recertifications WHERE team = ? AND status = ? AND id > ? ORDER BY id LIMIT 51) team_items) ORDER BY recertifications.id LIMIT 51`, args: []any{someone, "pending", 0, team, "pending", 0}},
	{name: "my own pending recertifications", sql: `SELECT id FROM recertifications WHERE requester_id = ? AND status = ? AND id > ? ORDER BY id LIMIT 51`, args: []any{someone, "pending", 0}},
	{name: "pending item of a request", sql: `SELECT * FROM recertifications WHERE request_id = ? AND status = ?`, args: []any{cursor, "pending"}},
	{name: "requests waiting for recertification", sql: `SELECT request_id FROM recertifications WHERE status = ?`, args: []any{"pending"}},
	{name: "overdue items", sql: `SELECT * FROM recertifications WHERE status = ? AND campaign_id IN (SELECT id FROM recert_campaigns WHERE due_by < ?)`, args: []any{"pending", now}},
	// Sessions, tokens, users.
	{name: "session by token", sql: `SELECT * FROM sessions WHERE token = ? AND expiry > ? LIMIT 1`, args: []any{"tok-77", now}},
	{name: "expired sessions", sql: `DELETE FROM sessions WHERE expiry < ?`, args: []any{now}},
	{name: "token by hash", sql: `SELECT * FROM api_tokens WHERE hash = ? LIMIT 1`, args: []any{"hash-77"}},
	{name: "tokens of a user", sql: `SELECT * FROM api_tokens WHERE user_id = ? ORDER BY id DESC`, args: []any{someone}},
	{name: "user by identity", sql: `SELECT * FROM users WHERE issuer = ? AND subject = ? LIMIT 1`, args: []any{"https://idp.test", "user-77"}},
	{name: "user by e-mail", sql: `SELECT * FROM users WHERE LOWER(email) = ? LIMIT 1`, args: []any{"user-77@example.test"}},
	// Proof side: drift comparison and asset page (rules that reach hosts), scan results, live counts.
	{name: "rules naming hosts or zones", sql: `SELECT rules.* FROM rules JOIN requests ON requests.id = rules.request_id WHERE requests.state IN ? AND rules.destination IN ?`, args: []any{inForce, []string{"10.1.2.3", "zone-3"}}},
	{name: "rules naming several addresses", sql: `SELECT id FROM rules WHERE destination LIKE '%,%'`},
	{name: "rules naming a host or its zones, and those naming several addresses", sql: `SELECT rules.* FROM rules JOIN requests ON requests.id = rules.request_id WHERE requests.state IN ? AND rules.direction <> ? AND rules.destination IN ? UNION ALL SELECT rules.* FROM rules JOIN requests ON requests.id = rules.request_id WHERE requests.state IN ? AND rules.direction <> ? AND rules.id IN (SELECT id FROM rules WHERE destination LIKE '%,%')`, args: []any{inForce, "egress", []string{"10.1.2.3", "zone-3"}, inForce, "egress"}},
	{name: "dashboard: live drift counts of a state", sql: `SELECT zone, severity, kind, COUNT(*) AS n FROM drift_items WHERE state = ? GROUP BY zone, severity, kind`, args: []any{"open"}},
	{name: "drift of scanned hosts", sql: `SELECT * FROM drift_items WHERE address IN ? AND state <> ?`, args: []any{[]string{"10.1.2.3", "10.1.2.4"}, "resolved"}},
	{name: "drift list page of a state and severity", sql: `SELECT * FROM drift_items WHERE state = ? AND severity = ? AND id < ? ORDER BY id DESC LIMIT 51`, args: []any{"open", "high", cursor}},
	{name: "scans page", sql: `SELECT id, kind, status FROM scan_runs WHERE id < ? ORDER BY id DESC LIMIT 51`, args: []any{15000}},
	{name: "dashboard: latest run per zone", sql: `SELECT z.name AS zone, (SELECT r.id FROM scan_runs r WHERE r.zone = z.name AND r.status IN ? ORDER BY r.id DESC LIMIT 1) AS id FROM zones z WHERE z.name IN ?`, args: []any{[]string{"done", "failed", "running"}, []string{"zone-3", "zone-4"}}},
	{name: "latest scheduled runs", sql: `SELECT z.name, (SELECT MAX(r.id) FROM scan_runs r WHERE r.kind = 'daily' AND r.zone = z.name) AS daily, (SELECT MAX(r.id) FROM scan_runs r WHERE r.kind = 'weekly' AND r.zone = z.name) AS weekly FROM zones z`},
	{name: "scan history of a host, page", sql: `SELECT id, kind, status FROM scan_runs WHERE id IN (SELECT run_id FROM scan_results WHERE address = ? AND protocol = '' AND port = 0 AND run_id < ? ORDER BY run_id DESC LIMIT 51) ORDER BY id DESC`, args: []any{"10.1.2.3", 15000}},
	{name: "asset with its zone", sql: `SELECT assets.*, zones.name FROM assets LEFT JOIN zones ON zones.id = assets.zone_id WHERE assets.id = ? ORDER BY assets.id LIMIT 1`, args: []any{cursor}},
	{name: "latest finished run of a host", sql: `SELECT p.* FROM scan_results p JOIN scan_runs r ON r.id = p.run_id WHERE p.address = ? AND p.protocol = '' AND p.port = 0 AND r.status = ? ORDER BY p.run_id DESC LIMIT 1`, args: []any{"10.1.2.3", "done"}},
	{name: "ports of a run, page", sql: `SELECT * FROM scan_results WHERE run_id = ? AND protocol <> '' AND (address, protocol, port) > (?, ?, ?) ORDER BY address, protocol, port LIMIT 51`, args: []any{7, "10.1.2.3", "tcp", 22}},
	{name: "latest broad scan of a host", sql: `SELECT p.* FROM scan_results p JOIN scan_runs r ON r.id = p.run_id WHERE p.address = ? AND p.protocol = '' AND p.port = 0 AND r.status = ? AND r.kind <> ? ORDER BY p.run_id DESC LIMIT 1`, args: []any{"10.1.2.3", "done", "verification"}},
	{name: "previous run of each host of a run", sql: `SELECT h.address, (SELECT p.run_id FROM scan_results p JOIN scan_runs r ON r.id = p.run_id WHERE p.address = h.address AND p.protocol = '' AND p.port = 0 AND p.run_id < h.run_id AND r.status = 'done' AND r.profile = ? AND r.tcp_ports = ? AND r.udp_ports = ? ORDER BY p.run_id DESC LIMIT 1) AS prev FROM scan_results h WHERE h.run_id = ? AND h.protocol = '' AND h.port = 0`, args: []any{"common", "", "", 7}},
	// Alert deliveries.
	{name: "pending alert deliveries (jobs at start)", sql: `SELECT id FROM alert_deliveries WHERE status = ? ORDER BY id`, args: []any{"pending"}},
	{name: "unfinished scan runs (jobs at start)", sql: `SELECT id FROM scan_runs WHERE status IN ? ORDER BY id`, args: []any{[]string{"queued", "running"}}},
	{name: "hosts a run has results for", sql: `SELECT address FROM scan_results WHERE run_id = ? AND protocol = '' AND port = 0`, args: []any{7}},
	{name: "runs of a slot", sql: `SELECT count(*) FROM scan_runs WHERE kind = ? AND zone = ? AND queued_at >= ?`, args: []any{"daily", "zone-3", now}},
	{name: "alert deliveries by status", sql: `SELECT * FROM alert_deliveries WHERE status = ? ORDER BY id DESC LIMIT 50`, args: []any{"failed"}},
}

// largeTables grow with use; reading one whole is what the indexes prevent.
var largeTables = []string{"requests", "rules", "reviews", "comments", "audit_events", "drift_items", "assets", "scan_runs",
	"recertifications", "alert_deliveries", "sessions", "api_tokens", "users", "scan_results"}

// TestHotQueriesUseIndexes seeds 100,000 requests (a rule and a review
// each) and 1,000,000 audit events, and checks that the planner answers
// every hot query from an index.
func TestHotQueriesUseIndexes(t *testing.T) {
	used := map[string]map[string]bool{"sqlite": {}, "postgres": {}}
	t.Cleanup(func() {
		steps, err := os.ReadFile("migrations/sqlite/00002_hot_query_indexes.sql")
		if err != nil {
			t.Fatal(err)
		}
		up, _, _ := strings.Cut(string(steps), "-- +goose Down")
		for _, line := range strings.Split(up, "\n") {
			if name, ok := strings.CutPrefix(line, "CREATE INDEX "); ok {
				name = strings.Fields(name)[0]
				if !used["sqlite"][name] && !used["postgres"][name] {
					t.Logf("index %s serves none of the hot queries", name)
				}
			}
		}
	})
	t.Run("sqlite", func(t *testing.T) {
		db := open(t, filepath.Join(t.TempDir(), "plan.db"))
		seed(t, db, false)
		for _, q := range hotQueries {
			var rows []struct {
				ID, Parent, Notused int
				Detail              string
			}
			if err := db.Raw("EXPLAIN QUERY PLAN "+q.on("sqlite"), q.args...).Scan(&rows).Error; err != nil {
				t.Errorf("%s: %v", q.name, err)
				continue
			}
			var plan []string
			read := map[string]bool{}
			for _, r := range rows {
				plan = append(plan, r.Detail)
				if _, after, ok := strings.Cut(r.Detail, " INDEX "); ok {
					read[strings.Fields(after)[0]] = true
				}
			}
			maps.Copy(used["sqlite"], read)
			if bad := sqliteFullScans(plan, q.stopsAtLimit); len(bad) > 0 {
				t.Errorf("%s reads a large table whole: %v\n%s\nplan: %s", q.name, bad, q.sql, strings.Join(plan, " | "))
			}
			if q.index != "" && !read[q.index] {
				t.Errorf("%s does not read the index %s\n%s\nplan: %s", q.name, q.index, q.sql, strings.Join(plan, " | "))
			}
		}
	})
	t.Run("postgres", func(t *testing.T) {
		db := modelstest.Postgres(t)
		seed(t, db, true)
		for _, q := range hotQueries {
			var out string
			if err := db.Raw("EXPLAIN (FORMAT JSON) "+q.on("postgres"), q.args...).Row().Scan(&out); err != nil {
				t.Errorf("%s: %v", q.name, err)
				continue
			}
			var plan []struct{ Plan pgPlan }
			if err := json.Unmarshal([]byte(out), &plan); err != nil {
				t.Fatal(err)
			}
			read := map[string]bool{}
			plan[0].Plan.indexes(read)
			maps.Copy(used["postgres"], read)
			if q.index != "" && !read[q.index] {
				t.Errorf("%s does not read the index %s\n%s\nplan: %s", q.name, q.index, q.sql, plan[0].Plan)
			}
			if bad := plan[0].Plan.seqScans(); len(bad) > 0 {
				t.Errorf("%s reads a large table whole: Seq Scan on %v\n%s\nplan: %s", q.name, bad, q.sql, plan[0].Plan)
			}
		}
	})
}

// sqliteFullScans lists the large tables a plan reads whole: "SCAN t" or
// "SCAN t USING INDEX i" (every row, in index order); a covering index scan
// reads only the index and is accepted.
func sqliteFullScans(plan []string, stopsAtLimit bool) []string {
	var bad []string
	for _, step := range plan {
		f := strings.Fields(step)
		if len(f) < 2 || f[0] != "SCAN" || !slices.Contains(largeTables, f[1]) {
			continue
		}
		if strings.Contains(step, "COVERING INDEX") || stopsAtLimit {
			continue
		}
		bad = append(bad, step)
	}
	return bad
}

type pgPlan struct {
	NodeType     string   `json:"Node Type"`
	RelationName string   `json:"Relation Name"`
	IndexName    string   `json:"Index Name"`
	Plans        []pgPlan `json:"Plans"`
}

func (p pgPlan) String() string {
	s := p.NodeType
	if p.RelationName != "" || p.IndexName != "" {
		s += "(" + strings.TrimSpace(p.RelationName+" "+p.IndexName) + ")"
	}
	if len(p.Plans) > 0 {
		var kids []string
		for _, c := range p.Plans {
			kids = append(kids, c.String())
		}
		s += " > [" + strings.Join(kids, ", ") + "]"
	}
	return s
}

func (p pgPlan) indexes(into map[string]bool) {
	if p.IndexName != "" {
		into[p.IndexName] = true
	}
	for _, c := range p.Plans {
		c.indexes(into)
	}
}

func (p pgPlan) seqScans() []string {
	var bad []string
	if p.NodeType == "Seq Scan" && slices.Contains(largeTables, p.RelationName) {
		bad = append(bad, p.RelationName)
	}
	for _, c := range p.Plans {
		bad = append(bad, c.seqScans()...)
	}
	return bad
}

// seed fills the tables in bulk with SQL alone: a recursive CTE counts on
// SQLite, generate_series on PostgreSQL.
func seed(t *testing.T, db *gorm.DB, postgres bool) {
	t.Helper()
	start := time.Now()
	// nums(n) yields 1..count.
	nums := func(count int) string {
		if postgres {
			return fmt.Sprintf("generate_series(1, %d) AS nums(i)", count)
		}
		return fmt.Sprintf("(WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %d) SELECT i FROM c) AS nums", count)
	}
	// ts is a time the given number of minutes after the start of 2025.
	ts := func(minutes string) string {
		if postgres {
			return fmt.Sprintf("(TIMESTAMPTZ '2025-01-01 00:00:00+00' + (%s) * INTERVAL '1 minute')", minutes)
		}
		return fmt.Sprintf("strftime('%%Y-%%m-%%d %%H:%%M:%%S+00:00', '2025-01-01', '+' || (%s) || ' minutes')", minutes)
	}
	boolean := func(expr string) string {
		if postgres {
			return "(" + expr + ")"
		}
		return "CASE WHEN " + expr + " THEN 1 ELSE 0 END"
	}
	// The requests' states, most of them closed or in force, as in a
	// database that has lived for a while.
	state := `CASE i % 100 WHEN 0 THEN 'submitted' WHEN 1 THEN 'in_review' WHEN 2 THEN 'changes_requested' WHEN 3 THEN 'approved'
		WHEN 4 THEN 'implemented' WHEN 5 THEN 'verification_failed' WHEN 6 THEN 'draft' WHEN 7 THEN 'verified'
		ELSE CASE i % 7 WHEN 0 THEN 'rejected' WHEN 1 THEN 'cancelled' WHEN 2 THEN 'expired' WHEN 3 THEN 'revoked' ELSE 'active' END END`
	stmts := []string{
		`INSERT INTO users (issuer, subject, email, name, team, roles, created_at)
			SELECT 'https://idp.test', 'user-' || i, 'user-' || i || '@example.test', 'User ' || i, 'team-' || (i % 50), 'requester', ` + ts("i") + ` FROM ` + nums(10000),
		`INSERT INTO zones (name, classification, cidrs, created_at, updated_at)
			SELECT 'zone-' || i, 'high', '10.' || i || '.0.0/16', ` + ts("i") + `, ` + ts("i") + ` FROM ` + nums(20),
		`INSERT INTO assets (address, hostname, zone_id, created_at, updated_at)
			SELECT '10.' || (i % 20 + 1) || '.' || (i / 250 % 250) || '.' || (i % 250), 'host-' || i, i % 20 + 1, ` + ts("i") + `, ` + ts("i") + ` FROM ` + nums(20000),
		`INSERT INTO requests (title, justification, state, requester_id, team, expires_at, needs_second_approval, submitted_at, approved_at, created_at, updated_at)
			SELECT 'Request ' || i, 'because', ` + state + `, i % 10000 + 1, 'team-' || (i % 10000 + 1) % 50, ` + ts("750000 + i * 2") + `, ` + boolean("i % 3 = 0") + `, ` + ts("i * 5") + `, ` + ts("i * 5 + 60") + `, ` + ts("i * 5") + `, ` + ts("i * 5") + ` FROM ` + nums(100000),
		`INSERT INTO rules (request_id, position, source, destination, protocol, ports, direction)
			SELECT i, 1, 'transit', '10.' || (i % 20 + 1) || '.' || (i / 250 % 250) || '.' || (i % 250), 'tcp', '443', 'inbound' FROM ` + nums(100000),
		`INSERT INTO reviews (request_id, reviewer_id, kind, decision, created_at)
			SELECT i, (i + 1) % 10000 + 1, 'review', CASE WHEN i % 7 = 0 THEN 'reject' ELSE 'approve' END, ` + ts("i * 5 + 30") + ` FROM ` + nums(100000),
		`INSERT INTO comments (request_id, author_id, body, created_at) SELECT i * 2, i % 10000 + 1, 'a comment', ` + ts("i * 10") + ` FROM ` + nums(50000),
		`INSERT INTO audit_events (seq, at, actor, action, object_type, object_id, prev_hash, hash)
			SELECT i, ` + ts("i / 2") + `, 'user@example.test', CASE i % 4 WHEN 0 THEN 'create' WHEN 1 THEN 'submit' WHEN 2 THEN 'approve' ELSE 'verify' END,
			CASE WHEN i % 10 = 0 THEN 'drift' ELSE 'request' END, i % 100000 + 1, 'p', 'h' FROM ` + nums(1000000),
		`INSERT INTO drift_items (key, kind, severity, address, protocol, port, zone, state, first_seen, last_seen, resolved_at)
			SELECT 'k' || i, CASE i % 5 WHEN 0 THEN 'open_unapproved' WHEN 1 THEN 'approved_closed' WHEN 2 THEN 'service_mismatch' WHEN 3 THEN 'expired_open' ELSE 'weak_config' END,
			CASE i % 4 WHEN 0 THEN 'critical' WHEN 1 THEN 'high' WHEN 2 THEN 'medium' ELSE 'low' END,
			'10.' || (i % 20 + 1) || '.' || (i / 250 % 250) || '.' || (i % 250), 'tcp', i % 65535 + 1, 'zone-' || (i % 20 + 1),
			CASE WHEN i % 100 < 90 THEN 'resolved' WHEN i % 100 < 95 THEN 'open' WHEN i % 100 < 98 THEN 'acknowledged' ELSE 'suppressed' END,
			` + ts("i * 5") + `, ` + ts("i * 5 + 100") + `, CASE WHEN i % 100 < 90 THEN ` + ts("i * 5 + 200") + ` END FROM ` + nums(100000),
		`INSERT INTO scan_runs (kind, profile, targets, zone, request_id, status, requested_by, queued_at, started_at)
			SELECT CASE i % 4 WHEN 0 THEN 'daily' WHEN 1 THEN 'weekly' WHEN 2 THEN 'verification' ELSE 'on_demand' END, 'common', '10.1.0.0/24',
			'zone-' || (i % 20 + 1), CASE WHEN i % 4 = 2 THEN i * 5 END, CASE WHEN i > 19990 THEN 'queued' ELSE 'done' END, 'system', ` + ts("i * 30") + `, ` + ts("i * 30 + 1") + ` FROM ` + nums(20000),
		`INSERT INTO scan_results (run_id, address, protocol, port, state)
			SELECT (i - 1) / 10 + 1, '10.1.' || (i / 10 % 250) || '.' || (i % 10 / 5), CASE WHEN i % 5 = 0 THEN '' ELSE 'tcp' END, i % 5 * 100,
			CASE WHEN i % 5 = 0 THEN 'up' ELSE 'open' END FROM ` + nums(200000),
		`INSERT INTO recert_campaigns (name, due_by, created_by, created_at) SELECT 'campaign ' || i, ` + ts("i * 40000") + `, 'admin', ` + ts("i * 40000") + ` FROM ` + nums(10),
		`INSERT INTO recertifications (campaign_id, request_id, team, status)
			SELECT i % 10 + 1, i * 2, 'team-' || (i % 50), CASE WHEN i % 10 = 9 THEN 'pending' WHEN i % 10 = 8 THEN 'lapsed' ELSE 'recertified' END FROM ` + nums(50000),
		`INSERT INTO sessions (token, data, expiry) SELECT 'tok-' || i, ` + map[bool]string{true: "'\\x00'::bytea", false: "x'00'"}[postgres] + `, ` + ts("742000 + i") + ` FROM ` + nums(20000),
		`INSERT INTO api_tokens (user_id, name, prefix, hash, created_at) SELECT i % 10000 + 1, 'token', 'pc_', 'hash-' || i, ` + ts("i") + ` FROM ` + nums(5000),
		`INSERT INTO alert_deliveries (drift_item_id, channel, status, attempts, next_attempt, created_at)
			SELECT i, 'webhook', CASE WHEN i % 100 = 0 THEN 'pending' WHEN i % 100 = 1 THEN 'failed' ELSE 'delivered' END, 1, ` + ts("i * 5") + `, ` + ts("i * 5") + ` FROM ` + nums(50000),
	}
	if postgres {
		// Not written to the WAL: the seeding's main cost, and no concern of the planner.
		for _, table := range []string{"audit_events", "drift_items", "alert_deliveries", "sessions"} {
			if err := db.Exec("ALTER TABLE " + table + " SET UNLOGGED").Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	var took []string
	err := db.Transaction(func(tx *gorm.DB) error {
		if postgres {
			// The rows are consistent by construction: skip the per-row foreign
			// key checks where the role may (a superuser; otherwise they run).
			tx.Exec("SAVEPOINT fk")
			if tx.Exec("SET LOCAL session_replication_role = replica").Error != nil {
				tx.Exec("ROLLBACK TO SAVEPOINT fk")
			}
		}
		for _, s := range stmts {
			began := time.Now()
			if err := tx.Exec(s).Error; err != nil {
				return fmt.Errorf("%w\n%s", err, s)
			}
			table := strings.Fields(s)[2]
			took = append(took, fmt.Sprintf("%s %v", table, time.Since(began).Round(time.Millisecond)))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	// On PostgreSQL, VACUUM too: it marks the pages whose rows every
	// transaction sees, as autovacuum has long done on a database in use,
	// and the planner prices a read from an index alone by their share.
	analyse := "ANALYZE"
	if postgres {
		analyse = "VACUUM ANALYZE"
	}
	if err := db.Exec(analyse).Error; err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded in %v (%s)", time.Since(start).Round(time.Millisecond), strings.Join(took, ", "))
}
