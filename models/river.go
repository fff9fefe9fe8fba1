package models

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"gorm.io/gorm"
)

// RiverDriver is the River driver over the database's own pool, so that a
// job inserted inside one of the application's transactions commits or rolls
// back with it. On SQLite that pool is the single writer connection: River
// and the application queue for it in Go instead of meeting as two writers
// at the file lock, and jobs are worked through it too. On PostgreSQL it is
// database/sql over pgx (River's database/sql driver), for inserts and
// reads; jobs are worked by riverpgxv5 on a pgx pool (workflow/jobs).
func RiverDriver(db *gorm.DB) (riverdriver.Driver[*sql.Tx], error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	if db.Dialector.Name() == "postgres" {
		return riverdatabasesql.New(sqlDB), nil
	}
	return riversqlite.New(sqlDB), nil
}

// migrateRiver creates or updates River's own tables (river_job, river_queue,
// river_leader, …) beside ours, with River's own migrations. On PostgreSQL
// it holds the same session lock as our migrations, so instances starting
// together run them once.
func migrateRiver(ctx context.Context, db *gorm.DB, locker lock.SessionLocker, log *slog.Logger) error {
	driver, err := RiverDriver(db)
	if err != nil {
		return err
	}
	if locker != nil {
		sqlDB, err := db.DB()
		if err != nil {
			return err
		}
		conn, err := sqlDB.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		if err := locker.SessionLock(ctx, conn); err != nil {
			return err
		}
		defer locker.SessionUnlock(context.WithoutCancel(ctx), conn)
	}
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: log})
	if err != nil {
		return fmt.Errorf("job tables: %w", err)
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("job tables: %w", err)
	}
	for _, v := range res.Versions {
		log.Info("job tables migrated", "river_version", v.Version, "name", v.Name)
	}
	return nil
}
