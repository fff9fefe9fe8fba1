package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
)

// syntheticMarker is the settings row that marks a database as filled by
// `portcullis seed`: only such a database (or an empty one) is seeded, so a
// load test can never write into real data.
const syntheticMarker = "synthetic_seed"

// defaultDemoIssuer is the issuer `serve --demo` gives its identity provider
// at its default address; the demo users are registered under it so that
// they log in as the seeded people.
const defaultDemoIssuer = "http://127.0.0.1:8081"

// seedConfig is what `portcullis seed` is told.
type seedConfig struct {
	DB          string
	Requests    int
	AuditEvents int
	Assets      int
	DriftItems  int
	DemoIssuer  string
	RandomSeed  int64
}

func runSeed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg seedConfig
	fs := newFlagSet("seed", stderr)
	dbFlag(fs, &cfg.DB)
	fs.IntVar(&cfg.Requests, "requests", 1000, "requests to create, spread over every lifecycle state")
	fs.IntVar(&cfg.AuditEvents, "audit-events", 10000, "audit events in all: the requests' timelines plus logins, scans and drift")
	fs.IntVar(&cfg.Assets, "assets", 500, "assets, on loopback addresses inside 127.64.0.0/10")
	fs.IntVar(&cfg.DriftItems, "drift-items", 2000, "drift items of every kind, severity and state")
	fs.StringVar(&cfg.DemoIssuer, "demo-issuer", defaultDemoIssuer, "issuer the demo accounts are registered under: http:// and the --demo-idp-addr `serve --demo` will use")
	fs.Int64Var(&cfg.RandomSeed, "random-seed", 1, "seed of the pseudo-random choices; the same seed gives the same organisation")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: portcullis seed --db URL [--requests N] [--audit-events N] [--assets N] [--drift-items N]")
		fmt.Fprintln(stderr, "Fills an empty database (or one seed filled before, which is emptied first) with a synthetic organisation, including the demo accounts.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("seed takes no arguments, got %q", fs.Args())
	}
	for _, c := range []struct {
		name string
		n    int
	}{{"--requests", cfg.Requests}, {"--audit-events", cfg.AuditEvents}, {"--assets", cfg.Assets}, {"--drift-items", cfg.DriftItems}} {
		if c.n < 0 {
			return usagef("%s %d is negative", c.name, c.n)
		}
	}
	if cfg.Assets == 0 && (cfg.Requests > 0 || cfg.DriftItems > 0) {
		return usagef("--assets 0: requests and drift items need assets to point at")
	}
	if cfg.Assets > maxSeedAssets {
		return usagef("--assets %d is more than the %d addresses the synthetic zones hold", cfg.Assets, maxSeedAssets)
	}
	if !strings.HasPrefix(cfg.DemoIssuer, "http://") {
		return usagef("--demo-issuer %q is not an http:// URL", cfg.DemoIssuer)
	}
	plan := planOrganisation(cfg)
	if need := plan.timelineEvents(); cfg.AuditEvents < need {
		return usagef("--audit-events %d is too few: the timelines of %d requests take %d events", cfg.AuditEvents, cfg.Requests, need)
	}

	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := models.Open(ctx, cfg.DB, log)
	if err != nil {
		return err
	}
	synthetic, err := checkSeedable(ctx, db)
	if err != nil {
		closeGorm(db)
		return err
	}
	if synthetic {
		// Emptied by dropping the tables: the audit log refuses deletes, and a
		// synthetic database has nothing worth keeping.
		err := dropAllTables(ctx, db)
		closeGorm(db)
		if err != nil {
			return fmt.Errorf("empty the synthetic database: %w", err)
		}
		if db, err = models.Open(ctx, cfg.DB, log); err != nil {
			return err
		}
	}
	defer closeGorm(db)
	start := time.Now()
	stats, err := plan.write(ctx, db)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	// Planner statistics and, on PostgreSQL, the visibility map, as a database
	// that grew over years has them: a bulk load leaves neither until
	// autovacuum comes round, and without the map no count is answered from
	// an index alone.
	maintain := "ANALYZE"
	if db.Dialector.Name() == "postgres" {
		maintain = "VACUUM (ANALYZE)"
	}
	if err := db.WithContext(ctx).Exec(maintain).Error; err != nil {
		return fmt.Errorf("seed: analyze: %w", err)
	}
	fmt.Fprintf(stdout, "seeded in %s: %d users, %d zones, %d assets, %d requests (%d rules, %d reviews, %d comments), %d audit events, %d scan runs, %d drift items, %d re-certification items\n",
		time.Since(start).Round(time.Millisecond), stats.Users, stats.Zones, stats.Assets, stats.Requests, stats.Rules, stats.Reviews, stats.Comments,
		stats.AuditEvents, stats.ScanRuns, stats.DriftItems, stats.Recerts)
	return nil
}

func closeGorm(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
}

// checkSeedable tells whether the database is marked synthetic, and refuses
// (exit 2) one that holds anything without the mark.
func checkSeedable(ctx context.Context, db *gorm.DB) (synthetic bool, err error) {
	db = db.WithContext(ctx)
	var n int64
	if err := db.Model(&models.Setting{}).Where(map[string]any{"key": syntheticMarker}).Count(&n).Error; err != nil {
		return false, err
	}
	if n > 0 {
		return true, nil
	}
	var held []string
	for _, t := range []struct {
		name  string
		model any
	}{
		{"users", &models.User{}}, {"zones", &models.Zone{}}, {"assets", &models.Asset{}}, {"requests", &models.Request{}},
		{"audit events", &models.AuditEvent{}}, {"scan runs", &models.ScanRun{}}, {"drift items", &models.DriftItem{}},
		{"settings", &models.Setting{}}, {"policy documents", &models.PolicyDocument{}},
	} {
		var c int64
		if err := db.Model(t.model).Count(&c).Error; err != nil {
			return false, err
		}
		if c > 0 {
			held = append(held, fmt.Sprintf("%d %s", c, t.name))
		}
	}
	if len(held) > 0 {
		return false, usagef("the database holds data that seed did not make (%s): seed fills only an empty database or one it seeded before", strings.Join(held, ", "))
	}
	return false, nil
}

// dropAllTables removes every table of a synthetic database, so that the
// migrations rebuild an empty schema.
func dropAllTables(ctx context.Context, db *gorm.DB) error {
	db = db.WithContext(ctx)
	if db.Dialector.Name() == "postgres" {
		var tables []string
		if err := db.Raw("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").Scan(&tables).Error; err != nil {
			return err
		}
		for _, t := range tables {
			if err := db.Exec(`DROP TABLE IF EXISTS "` + strings.ReplaceAll(t, `"`, `""`) + `" CASCADE`).Error; err != nil {
				return err
			}
		}
		// The schema's functions (the audit log's append-only trigger) go too,
		// or the first migration cannot create them again.
		var funcs []string
		if err := db.Raw("SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema()").Scan(&funcs).Error; err != nil {
			return err
		}
		for _, f := range funcs {
			if err := db.Exec("DROP FUNCTION IF EXISTS " + f + " CASCADE").Error; err != nil {
				return err
			}
		}
		// And the job engine's enum types (river_job_state), which its
		// migrations create with its tables.
		var types []string
		if err := db.Raw("SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = current_schema() AND t.typtype = 'e'").Scan(&types).Error; err != nil {
			return err
		}
		for _, ty := range types {
			if err := db.Exec(`DROP TYPE IF EXISTS "` + strings.ReplaceAll(ty, `"`, `""`) + `" CASCADE`).Error; err != nil {
				return err
			}
		}
		return nil
	}
	// The store writes through exactly one connection, so the foreign-key
	// pragma below holds for every DROP that follows it.
	if err := db.Exec("PRAGMA foreign_keys = OFF").Error; err != nil {
		return err
	}
	defer db.Exec("PRAGMA foreign_keys = ON")
	var tables []string
	if err := db.Raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").Scan(&tables).Error; err != nil {
		return err
	}
	for _, t := range tables {
		if err := db.Exec(`DROP TABLE IF EXISTS "` + strings.ReplaceAll(t, `"`, `""`) + `"`).Error; err != nil {
			return err
		}
	}
	return nil
}
