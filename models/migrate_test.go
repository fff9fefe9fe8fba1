package models_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"
	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
)

// A database created by the ordered migrations of earlier releases, one per
// kind: its path (SQLite) or URL (PostgreSQL), loaded from testdata.
func legacySQLite(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "legacy.db")
	loadDump(t, "sqlite3", "file:"+path, "testdata/legacy_sqlite.sql")
	return path
}

func legacyPostgres(t *testing.T) string {
	t.Helper()
	url := modelstest.PostgresSchema(t)
	loadDump(t, "pgx", url, "testdata/legacy_postgres.sql")
	return url
}

func loadDump(t *testing.T, driver, dsn, file string) {
	t.Helper()
	dump, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(string(dump)); err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
}

func open(t *testing.T, dsn string) *gorm.DB {
	t.Helper()
	db, err := models.Open(context.Background(), dsn, modelstest.Logger())
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { closeDB(db) })
	return db
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
}

// schemaOf describes tables, their columns and their indexes, leaving out
// the two migration-tracking tables.
func schemaOf(t *testing.T, db *gorm.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	add := func(q string) {
		var rows []struct{ T, C string }
		if err := db.Raw(q).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.T == "schema_migrations" || r.T == "goose_db_version" || strings.HasPrefix(r.T, "sqlite_") {
				continue
			}
			out[r.T] = append(out[r.T], r.C)
		}
	}
	if db.Dialector.Name() == "postgres" {
		add(`SELECT table_name AS t, column_name || ' ' || data_type || ' ' || is_nullable || ' ' || COALESCE(column_default, '') AS c
			FROM information_schema.columns WHERE table_schema = current_schema()`)
		add(`SELECT tablename AS t, replace(indexdef, current_schema() || '.', '') AS c FROM pg_indexes WHERE schemaname = current_schema()`)
		add(`SELECT event_object_table AS t, trigger_name || ' ' || event_manipulation AS c FROM information_schema.triggers WHERE trigger_schema = current_schema()`)
	} else {
		add(`SELECT m.name AS t, p.name || ' ' || p.type || ' ' || p."notnull" || ' ' || COALESCE(p.dflt_value, '') AS c
			FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'`)
		add(`SELECT tbl_name AS t, type || ' ' || name || ' ' || COALESCE(sql, '') AS c FROM sqlite_master WHERE type IN ('index', 'trigger')`)
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

func gooseVersion(t *testing.T, db *gorm.DB) int64 {
	t.Helper()
	var v int64
	if err := db.Raw("SELECT MAX(version_id) FROM goose_db_version WHERE is_applied").Scan(&v).Error; err != nil {
		t.Fatal(err)
	}
	return v
}

// TestLegacyDatabaseUpgrades opens a database of the earlier ordered
// migrations, with rows in it: the rows stay, the indexes for the hot
// queries appear, the audit log is still append-only, and its schema is then
// the same as that of a database created from scratch.
func TestLegacyDatabaseUpgrades(t *testing.T) {
	for _, kind := range []struct {
		name   string
		legacy func(*testing.T) string
		fresh  func(*testing.T) string
	}{
		{"sqlite", legacySQLite, func(t *testing.T) string { return filepath.Join(t.TempDir(), "fresh.db") }},
		{"postgres", legacyPostgres, func(t *testing.T) string { return modelstest.PostgresSchema(t) }},
	} {
		t.Run(kind.name, func(t *testing.T) {
			dsn := kind.legacy(t)
			db := open(t, dsn)
			var users []models.User
			if err := db.Order("id").Find(&users).Error; err != nil {
				t.Fatal(err)
			}
			if got := []string{users[0].Email, users[1].Email}; !slices.Equal(got, []string{"alice@example.test", "rita@example.test"}) {
				t.Errorf("users after upgrade = %v", got)
			}
			var req models.Request
			if err := db.Preload("Rules").Preload("Reviews").First(&req).Error; err != nil {
				t.Fatal(err)
			}
			if req.Title != "Payments API" || len(req.Rules) != 1 || req.Rules[0].Ports != "443" || len(req.Reviews) != 1 {
				t.Errorf("request after upgrade = %+v", req)
			}
			var events []models.AuditEvent
			if err := db.Order("seq").Find(&events).Error; err != nil {
				t.Fatal(err)
			}
			prev := models.GenesisHash
			for _, e := range events {
				c := e.Chained()
				if c.PrevHash != prev || c.ComputeHash() != c.Hash {
					t.Errorf("audit event %d no longer verifies after the upgrade", e.Seq)
				}
				prev = c.Hash
			}
			if len(events) != 3 {
				t.Errorf("%d audit events after upgrade, want 3", len(events))
			}
			if err := db.Exec("UPDATE audit_events SET actor = 'mallory'").Error; err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("updating the audit log after the upgrade: %v, want the append-only refusal", err)
			}
			// New rows get fresh ids after the copied ones.
			u := models.User{Issuer: "https://idp.test", Subject: "carol", Email: "carol@example.test", Name: "Carol"}
			if err := db.Create(&u).Error; err != nil || u.ID != 3 {
				t.Errorf("new user after upgrade: id %d, %v; want id 3", u.ID, err)
			}
			if v := gooseVersion(t, db); v < 2 {
				t.Errorf("goose version after upgrade = %d, want every step", v)
			}

			upgraded := schemaOf(t, db)
			for _, name := range []string{"idx_requests_state_id", "idx_requests_team_id_requester", "idx_audit_events_object", "idx_drift_items_state_severity_id"} {
				if !slices.ContainsFunc(slices.Concat(upgraded["requests"], upgraded["audit_events"], upgraded["drift_items"]), func(c string) bool { return strings.Contains(c, name+" ") }) {
					t.Errorf("index %s missing after the upgrade", name)
				}
			}
			fresh := schemaOf(t, open(t, kind.fresh(t)))
			if diff := cmp.Diff(fresh, upgraded); diff != "" {
				t.Errorf("upgraded schema differs from a fresh one (-fresh +upgraded):\n%s", diff)
			}

			// A second start has nothing left to do.
			version := gooseVersion(t, db)
			closeDB(db)
			if again := gooseVersion(t, open(t, dsn)); again != version {
				t.Errorf("version after a second start = %d, want %d", again, version)
			}
		})
	}
}

// TestUnfinishedLegacyDatabaseRefused: a database whose earlier migrations
// stopped part-way cannot take step 1; it is refused with what is missing.
func TestUnfinishedLegacyDatabaseRefused(t *testing.T) {
	for _, kind := range []struct {
		name   string
		legacy func(*testing.T) string
		driver string
	}{
		{"sqlite", legacySQLite, "sqlite3"},
		{"postgres", legacyPostgres, "pgx"},
	} {
		t.Run(kind.name, func(t *testing.T) {
			dsn := kind.legacy(t)
			raw, err := sql.Open(kind.driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := raw.Exec("DELETE FROM schema_migrations WHERE id IN (4, 5)"); err != nil {
				t.Fatal(err)
			}
			raw.Close()
			db, err := models.Open(context.Background(), dsn, modelstest.Logger())
			if err == nil {
				closeDB(db)
				t.Fatal("opened a database whose earlier migrations did not finish")
			}
			if !strings.Contains(err.Error(), "steps [4 5] of 1-5 never ran") {
				t.Errorf("error = %v, want it to name the missing steps", err)
			}
		})
	}
}

// TestInstancesMigrateAtOnce: several instances starting together on one
// PostgreSQL schema, empty or of an earlier release, all start; each step is
// recorded once.
func TestInstancesMigrateAtOnce(t *testing.T) {
	for _, kind := range []struct {
		name string
		url  func(*testing.T) string
	}{
		{"empty", func(t *testing.T) string { return modelstest.PostgresSchema(t) }},
		{"earlier release", legacyPostgres},
	} {
		t.Run(kind.name, func(t *testing.T) {
			url := kind.url(t)
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Go(func() {
					db, err := models.Open(context.Background(), url, modelstest.Logger())
					if err == nil {
						closeDB(db)
					}
					errs[i] = err
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("instance %d: %v", i, err)
				}
			}
			db := open(t, url)
			var rows []struct{ V, N int64 }
			if err := db.Raw("SELECT version_id AS v, COUNT(*) AS n FROM goose_db_version GROUP BY version_id ORDER BY version_id").Scan(&rows).Error; err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if r.N != 1 {
					t.Errorf("step %d recorded %d times, want once", r.V, r.N)
				}
			}
			if len(rows) < 3 {
				t.Errorf("steps recorded: %v, want 0, 1, 2…", rows)
			}
		})
	}
}

// TestReopenIsNoop: a second start on a migrated SQLite file runs nothing
// and keeps the data.
func TestReopenIsNoop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	db := open(t, path)
	if err := db.Create(&models.Setting{Key: "k", Value: "v"}).Error; err != nil {
		t.Fatal(err)
	}
	closeDB(db)
	db = open(t, path)
	var s models.Setting
	if err := db.First(&s, "key = ?", "k").Error; err != nil || s.Value != "v" {
		t.Errorf("setting after reopening: %+v, %v", s, err)
	}
}
