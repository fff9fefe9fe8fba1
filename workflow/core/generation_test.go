package core_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/core"
)

// TestDataGenerationCountsEveryWriter: the database itself counts writes
// to what request lists show, so SQL from outside this process (another
// instance, an operator) moves it as much as a step does, a rolled-back
// write does not, and writes elsewhere leave it alone.
func TestDataGenerationCountsEveryWriter(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		st := core.NewStore(db, nil)
		areas := []core.CountedArea{core.CountedRequests, core.CountedRecert, core.CountedInventory, core.CountedScans, core.CountedDrift, core.CountedAlerts, core.CountedReports, core.CountedAudit}
		gens := func() map[core.CountedArea]int64 {
			t.Helper()
			out := map[core.CountedArea]int64{}
			for _, area := range areas {
				g, err := st.DataGeneration(ctx, area)
				if err != nil {
					t.Fatal(err)
				}
				out[area] = g
			}
			return out
		}
		exec := func(sql string) {
			t.Helper()
			if err := db.Exec(sql).Error; err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
		}
		exec("INSERT INTO users (issuer, subject, email, name, team, roles) VALUES ('i', 's', 'a@example.test', 'A', 'web', 'requester')")
		exec("INSERT INTO requests (title, justification, state, requester_id, team, expires_at) SELECT 'T', 'J', 'draft', id, 'web', CURRENT_TIMESTAMP FROM users")
		req, rec, inv, scn, dft, alr, rpt, aud := core.CountedRequests, core.CountedRecert, core.CountedInventory, core.CountedScans, core.CountedDrift, core.CountedAlerts, core.CountedReports, core.CountedAudit
		steps := []struct {
			name    string
			write   func()
			changes []core.CountedArea
		}{
			{"a rule added", func() {
				exec("INSERT INTO rules (request_id, position, source, destination, protocol, ports, direction) SELECT id, 1, '10.0.0.0/8', '10.1.1.1', 'tcp', '443', 'ingress' FROM requests")
			}, []core.CountedArea{req}},
			{"a request's state", func() { exec("UPDATE requests SET state = 'submitted'") }, []core.CountedArea{req}},
			{"a review", func() {
				exec("INSERT INTO reviews (request_id, reviewer_id, kind, decision) SELECT r.id, u.id, 'security', 'approved' FROM requests r, users u")
			}, []core.CountedArea{req}},
			{"a requester renamed", func() { exec("UPDATE users SET name = 'B'") }, []core.CountedArea{req}},
			{"a rule removed", func() { exec("DELETE FROM rules") }, []core.CountedArea{req}},
			{"a zone added", func() {
				exec("INSERT INTO zones (name, classification) VALUES ('dmz', 'dmz')")
			}, []core.CountedArea{inv}},
			{"an asset added", func() {
				exec("INSERT INTO assets (address, zone_id) SELECT '127.64.0.1', id FROM zones")
			}, []core.CountedArea{inv}},
			{"a campaign and its item", func() {
				exec("INSERT INTO recert_campaigns (name, due_by, created_by) VALUES ('Q4', CURRENT_TIMESTAMP, 'lee')")
				exec("INSERT INTO recertifications (campaign_id, request_id, status) SELECT c.id, r.id, 'pending' FROM recert_campaigns c, requests r")
			}, []core.CountedArea{rec}},
			{"a scan run's progress", func() {
				exec("INSERT INTO scan_runs (kind, profile, targets, status, requested_by) VALUES ('zone', 'quick', '127.64.0.1', 'running', 'system')")
				exec("UPDATE scan_runs SET progress = '{\"done\":1}'")
			}, []core.CountedArea{scn}},
			{"a drift item found", func() {
				exec("INSERT INTO drift_items (key, kind, severity, address, state) VALUES ('k', 'unapproved_open', 'high', '127.64.0.1', 'open')")
			}, []core.CountedArea{dft}},
			{"a scan result and a schedule", func() {
				exec("INSERT INTO scan_results (run_id, address, protocol, port, state) SELECT id, '127.64.0.1', 'tcp', 22, 'open' FROM scan_runs")
				exec("INSERT INTO scan_schedules (zone_id) SELECT id FROM zones")
			}, []core.CountedArea{scn, inv}},
			{"an alert delivered", func() {
				exec("INSERT INTO alert_deliveries (drift_item_id, channel, status) SELECT id, 'mail', 'pending' FROM drift_items")
			}, []core.CountedArea{alr}},
			{"an update that matches nothing", func() { exec("UPDATE requests SET title = 'x' WHERE id < 0") }, nil},
			// The list of users shows when each person last logged in; none
			// shows when their access was last checked.
			{"a login", func() { exec("UPDATE users SET last_login_at = CURRENT_TIMESTAMP") }, []core.CountedArea{req}},
			{"an access check's stamp", func() { exec("UPDATE users SET access_checked_at = CURRENT_TIMESTAMP") }, nil},
			{"a report made", func() {
				exec("INSERT INTO periodic_reports (kind, zone, team, period, window_start, window_end, content) VALUES ('daily', 'dmz', '', '2026-12-01', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '{}')")
			}, []core.CountedArea{rpt}},
			{"a subscription", func() {
				exec("INSERT INTO report_subscriptions (user_id, zone, team, active) SELECT id, 'dmz', '', true FROM users")
			}, []core.CountedArea{rpt}},
			{"a questionnaire saved", func() {
				exec("INSERT INTO assessment_questionnaires (version, questions, created_by) VALUES (2, '[]', 'adam')")
			}, []core.CountedArea{inv}},
			{"a comment", func() {
				exec("INSERT INTO comments (request_id, author_id, body) SELECT r.id, u.id, 'C' FROM requests r, users u")
			}, []core.CountedArea{req}},
			// A request's page shows its timeline; the audit log every event.
			{"an audit event about a request", func() {
				exec("INSERT INTO audit_events (at, actor, action, object_type, object_id) VALUES (CURRENT_TIMESTAMP, 'x', 'x', 'request', 1)")
			}, []core.CountedArea{req, aud}},
			{"an audit event", func() {
				exec("INSERT INTO audit_events (at, actor, action, object_type, object_id) VALUES (CURRENT_TIMESTAMP, 'x', 'x', 'x', 1)")
			}, []core.CountedArea{aud}},
			{"a rolled-back edit", func() {
				err := st.InTx(ctx, func(tx *gorm.DB) error {
					if err := tx.Exec("UPDATE requests SET title = 'U'").Error; err != nil {
						return err
					}
					return errors.New("abandoned")
				})
				if err == nil {
					t.Fatal("the abandoned transaction committed")
				}
			}, nil},
		}
		// On PostgreSQL a transaction counts once per area, however many
		// rows and statements it wrote.
		if db.Dialector.Name() == "postgres" {
			before := gens()
			if err := st.InTx(ctx, func(tx *gorm.DB) error {
				for range 3 {
					if err := tx.Exec("INSERT INTO rules (request_id, position, source, destination, protocol, ports, direction) SELECT id, 2, '10.0.0.0/8', '10.1.1.2', 'udp', '53', 'ingress' FROM requests").Error; err != nil {
						return err
					}
				}
				return tx.Exec("UPDATE requests SET title = 'Three rules'").Error
			}); err != nil {
				t.Fatal(err)
			}
			if got := gens()[req] - before[req]; got != 1 {
				t.Errorf("a transaction of four writes to requests added %d to its generation, want 1", got)
			}
		}
		for _, s := range steps {
			before := gens()
			s.write()
			after := gens()
			for _, area := range areas {
				want := slices.Contains(s.changes, area)
				if changed := after[area] > before[area]; changed != want || after[area] < before[area] {
					t.Errorf("%s: %s generation %d → %d, want a change: %v", s.name, area, before[area], after[area], want)
				}
			}
			sum, err := st.DataGeneration(ctx, areas...)
			if err != nil || sum != after[req]+after[rec]+after[inv]+after[scn]+after[dft]+after[alr]+after[rpt]+after[aud] {
				t.Errorf("%s: the generation of all areas is %d (%v), want the sum of each", s.name, sum, err)
			}
		}
	})
}

// TestCountingWritesWaitsForNoStep: on PostgreSQL the count is taken at
// commit and waits for nothing a step holds. A scanner's transaction writes
// a drift item; meanwhile an audited step appends its event (taking the
// audit log's lock) and then writes the same item, so it waits for the
// scanner. The scanner's commit must not wait for the step in turn: both
// commit, and the drift area counts two.
func TestCountingWritesWaitsForNoStep(t *testing.T) {
	db := modelstest.Postgres(t)
	ctx := context.Background()
	st := core.NewStore(db, nil)
	if err := db.Exec("INSERT INTO drift_items (key, kind, severity, address, state) VALUES ('k', 'unapproved_open', 'high', '127.64.0.1', 'open')").Error; err != nil {
		t.Fatal(err)
	}
	before, err := st.DataGeneration(ctx, core.CountedDrift)
	if err != nil {
		t.Fatal(err)
	}
	scanner := db.Begin()
	if err := scanner.Exec("UPDATE drift_items SET last_port = 1").Error; err != nil {
		t.Fatal(err)
	}
	stepDone := make(chan error, 1)
	audited := make(chan struct{})
	go func() {
		stepDone <- st.InTx(ctx, func(tx *gorm.DB) error {
			if err := st.Audit(tx, core.SystemActor, "drift.acknowledge", "drift_item", 1, "", "", nil, ""); err != nil {
				return err
			}
			close(audited)
			return tx.Exec("UPDATE drift_items SET acknowledged_by = 'rita'").Error
		})
	}()
	<-audited
	// Let the step reach its wait for the scanner's row.
	time.Sleep(200 * time.Millisecond)
	if err := scanner.Commit().Error; err != nil {
		t.Fatalf("the scanner's commit: %v", err)
	}
	if err := <-stepDone; err != nil {
		t.Fatalf("the audited step: %v", err)
	}
	after, err := st.DataGeneration(ctx, core.CountedDrift)
	if err != nil {
		t.Fatal(err)
	}
	if after-before != 2 {
		t.Errorf("two commits writing drift added %d to its generation, want 2", after-before)
	}
}

// A summary kept by one instance is counted again once that instance reads a
// generation (DataGeneration) showing another writer changed its area: the
// next page it draws shows the change in its summaries as in its rows. A
// summary of another area, a generation of other areas, or one already seen,
// ends nothing.
func TestSummaryCountedAgainWhenAnotherWritersChangeIsSeen(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		this, other := core.NewStore(db, modelstest.Logger()), core.NewStore(db, modelstest.Logger())
		// People are counted under requests: the users a list shows.
		var people, inventory, everything core.Summary[int]
		people.SetAreas(core.AreaPeople)
		inventory.SetAreas(core.AreaInventory)
		summaries := []*core.Summary[int]{&people, &inventory, &everything}
		counted := make([]int, len(summaries))
		get := func() [3]int {
			t.Helper()
			var got [3]int
			for i, m := range summaries {
				v, err := m.Get(this, func() (int, error) { counted[i]++; return counted[i], nil })
				if err != nil {
					t.Fatal(err)
				}
				got[i] = v
			}
			return got
		}
		seen := func(areas ...core.CountedArea) {
			t.Helper()
			if _, err := this.DataGeneration(ctx, areas...); err != nil {
				t.Fatal(err)
			}
		}
		all := []core.CountedArea{core.CountedRequests, core.CountedRecert, core.CountedInventory, core.CountedScans, core.CountedDrift, core.CountedAlerts}
		seen(all...)
		want := func(step string, w [3]int) {
			t.Helper()
			if got := get(); got != w {
				t.Errorf("%s: (people, inventory, everything) counted %v times, want %v", step, got, w)
			}
		}
		want("first", [3]int{1, 1, 1})
		seen(all...)
		want("nothing written", [3]int{1, 1, 1})

		u := models.User{Issuer: "https://idp.test", Subject: "other", Email: "other@example.test", Name: "O"}
		if err := other.InTx(ctx, func(tx *gorm.DB) error { return tx.Create(&u).Error }); err != nil {
			t.Fatal(err)
		}
		want("another instance's write, not yet seen", [3]int{1, 1, 1})
		seen(core.CountedScans, core.CountedDrift)
		want("other areas' generations read", [3]int{1, 1, 1})
		seen(core.CountedRequests)
		want("the requests' generation read", [3]int{2, 1, 2})
		seen(core.CountedRequests)
		want("the same generation read again", [3]int{2, 1, 2})

		if err := db.Exec("INSERT INTO alert_deliveries (drift_item_id, channel, status, next_attempt, created_at) VALUES (1, 'c', 'failed', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)").Error; err != nil {
			t.Fatal(err)
		}
		seen(all...)
		want("an operator's alert delivery seen", [3]int{2, 1, 3})
	})
}
