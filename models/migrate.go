package models

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"slices"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/gorm"
)

// The schema is versioned SQL, one folder per dialect, run by goose. A
// released file is never edited: a change is a new file in both folders.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// legacySteps is how many steps the ordered gorm migrations of earlier
// releases had (table schema_migrations). Goose step 1 is the schema they
// left, so a database that ran all of them starts at goose step 2.
const legacySteps = 5

// Migrate brings the schema up to date: it runs, in order and each in its own
// transaction, the SQL steps the database has not run yet. On PostgreSQL a
// session advisory lock lets several instances start at once; one migrates,
// the others wait and then find nothing to do.
func Migrate(ctx context.Context, db *gorm.DB, log *slog.Logger) error {
	sqlDB, err := db.DB()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	postgres := db.Dialector.Name() == "postgres"
	dialect, dir := goose.DialectSQLite3, "migrations/sqlite"
	var locker lock.SessionLocker
	if postgres {
		dialect, dir = goose.DialectPostgres, "migrations/postgres"
		if locker, err = schemaLocker(ctx, sqlDB); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	fsys, err := fs.Sub(migrationFiles, dir)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := adoptLegacySchema(ctx, sqlDB, dialect, locker, log); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if locker != nil {
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	provider, err := goose.NewProvider(dialect, sqlDB, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range results {
		log.Info("database migrated", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return migrateRiver(ctx, db, locker, log)
}

// schemaLocker returns goose's session locker with a lock id of this
// database and schema: instances sharing a schema wait for each other,
// databases in other schemas of the same server (tests) do not.
func schemaLocker(ctx context.Context, sqlDB *sql.DB) (lock.SessionLocker, error) {
	var dbName, schema sql.NullString
	if err := sqlDB.QueryRowContext(ctx, "SELECT current_database(), current_schema()").Scan(&dbName, &schema); err != nil {
		return nil, err
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "portcullis migrations %s.%s", dbName.String, schema.String)
	// A one-second retry instead of goose's five: the wait is for another
	// instance's migrations, which take milliseconds once the schema exists.
	return lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64()>>1)), lock.WithLockTimeout(1, 600))
}

// adoptLegacySchema hands a database created by the ordered gorm migrations
// of earlier releases over to goose: when all of their steps ran, its schema
// is goose step 1, which is recorded as applied without running it. A
// database that stopped part-way is refused, since step 1 cannot run on top
// of it and its missing steps no longer exist.
func adoptLegacySchema(ctx context.Context, sqlDB *sql.DB, dialect goose.Dialect, locker lock.SessionLocker, log *slog.Logger) (err error) {
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if locker != nil {
		if err := locker.SessionLock(ctx, conn); err != nil {
			return err
		}
		defer func() {
			err = errors.Join(err, locker.SessionUnlock(context.WithoutCancel(ctx), conn))
		}()
	}
	store, err := database.NewStore(dialect, goose.DefaultTablename)
	if err != nil {
		return err
	}
	// Checked and recorded in one transaction: on SQLite it begins with the
	// write lock (_txlock=immediate), so two processes cannot both adopt.
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	postgres := dialect == goose.DialectPostgres
	if ok, err := tableExists(ctx, tx, postgres, goose.DefaultTablename); err != nil || ok {
		return err
	}
	if ok, err := tableExists(ctx, tx, postgres, "schema_migrations"); err != nil || !ok {
		return err
	}
	rows, err := tx.QueryContext(ctx, "SELECT id FROM schema_migrations")
	if err != nil {
		return err
	}
	var ran []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ran = append(ran, id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	var missing []int
	for id := 1; id <= legacySteps; id++ {
		if !slices.Contains(ran, id) {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("this database was created by an earlier release whose migrations did not finish (steps %v of 1-%d never ran): open it once with that release to complete them, then start this one", missing, legacySteps)
	}
	if err := store.CreateVersionTable(ctx, tx); err != nil {
		return err
	}
	for _, v := range []int64{0, 1} {
		if err := store.Insert(ctx, tx, database.InsertRequest{Version: v}); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	log.Info("database of an earlier release adopted: its schema is migration 1", "earlier_steps", legacySteps)
	return nil
}

func tableExists(ctx context.Context, tx *sql.Tx, postgres bool, name string) (bool, error) {
	q := "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if postgres {
		q = "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1"
	}
	var n int
	err := tx.QueryRowContext(ctx, q, name).Scan(&n)
	return n > 0, err
}
