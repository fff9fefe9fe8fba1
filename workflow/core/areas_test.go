package core_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/core"
)

// A summary counted from some areas is counted again after a commit that
// wrote one of their tables (by gorm's create, update or delete, or by raw
// SQL, whose table is not told), not after one that wrote only elsewhere or
// was rolled back; a summary that names no area, after every commit.
func TestSummaryEndsOnlyWithWritesToItsAreas(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		st := core.NewStore(db, modelstest.Logger())
		ctx := context.Background()
		var requestsKept, everything core.Summary[int]
		requestsKept.SetAreas(core.AreaRequests, core.AreaPeople)
		var keyed core.Summaries[string, int]
		keyed.SetAreas(core.AreaRequests)
		counts := map[string]int{}
		get := func(name string) int {
			t.Helper()
			build := func() (int, error) { counts[name]++; return counts[name], nil }
			var v int
			var err error
			switch name {
			case "requests":
				v, err = requestsKept.Get(st, build)
			case "keyed":
				v, err = keyed.Get(st, "k", build)
			default:
				v, err = everything.Get(st, build)
			}
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		want := func(step string, requests, keyedCount, all int) {
			t.Helper()
			if got := [3]int{get("requests"), get("keyed"), get("everything")}; got != [3]int{requests, keyedCount, all} {
				t.Errorf("%s: counted (requests, keyed, everything) %v times, want %v", step, got, [3]int{requests, keyedCount, all})
			}
		}
		write := func(fn func(tx *gorm.DB) error) {
			t.Helper()
			if err := st.InTx(ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		want("first", 1, 1, 1)

		run := models.ScanRun{Kind: "on_demand", Profile: "common", Targets: "10.0.0.1", Status: "queued", RequestedBy: "x", Progress: "{}", QueuedAt: time.Now().UTC()}
		write(func(tx *gorm.DB) error { return tx.Create(&run).Error })
		write(func(tx *gorm.DB) error { return tx.Model(&run).Update("status", "done").Error })
		want("after the scanner's writes", 1, 1, 2)

		u := models.User{Issuer: "https://idp.test", Subject: "s", Email: "s@example.test", Name: "S"}
		write(func(tx *gorm.DB) error { return tx.Create(&u).Error })
		want("after a new user", 2, 1, 3)

		req := models.Request{Title: "t", Justification: "j", State: "draft", RequesterID: u.ID, ExpiresAt: time.Now().UTC()}
		write(func(tx *gorm.DB) error { return tx.Create(&req).Error })
		want("after a new request", 3, 2, 4)

		write(func(tx *gorm.DB) error { return tx.Exec("UPDATE scan_runs SET summary = 'raw'").Error })
		want("after raw SQL (its table untold)", 4, 3, 5)

		write(func(tx *gorm.DB) error { return tx.Where("id = ?", req.ID).Delete(&models.Request{}).Error })
		want("after a deleted request", 5, 4, 6)

		// Reads in a transaction write nothing; a write that returns rows does.
		write(func(tx *gorm.DB) error {
			var n int64
			if err := tx.Model(&models.Request{}).Count(&n).Error; err != nil {
				return err
			}
			var ids []uint
			return tx.Raw("SELECT id FROM requests").Scan(&ids).Error
		})
		want("after reads", 5, 4, 7)
		// An audited step of the scanner: the audit log's lock and event
		// (on PostgreSQL a SELECT run through Exec) are no request's.
		write(func(tx *gorm.DB) error {
			if err := tx.Model(&run).Update("summary", "audited").Error; err != nil {
				return err
			}
			return st.Audit(tx, core.SystemActor, "scan.finish", "scan", run.ID, "running", "done", nil, "")
		})
		want("after an audited scanner step", 5, 4, 8)
		write(func(tx *gorm.DB) error {
			var titles []string
			return tx.Raw("UPDATE requests SET title = title RETURNING title").Scan(&titles).Error
		})
		want("after an update returning rows", 6, 5, 9)

		if err := st.InTx(ctx, func(tx *gorm.DB) error {
			if err := tx.Create(&models.Request{Title: "t2", Justification: "j", State: "draft", RequesterID: u.ID, ExpiresAt: time.Now().UTC()}).Error; err != nil {
				return err
			}
			return errors.New("changed my mind")
		}); err == nil {
			t.Fatal("the rolled-back transaction succeeded")
		}
		want("after a rollback", 6, 5, 9)
	})
}
