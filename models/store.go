package models

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Open connects to the database named by dsn: a postgres:// URL, or
// otherwise a SQLite file path (or file: URL), and brings its schema up to date.
func Open(ctx context.Context, dsn string, log *slog.Logger) (*gorm.DB, error) {
	cfg := &gorm.Config{
		Logger:         logger.Discard,
		NowFunc:        func() time.Time { return time.Now().UTC() },
		TranslateError: true,
	}
	var dialector gorm.Dialector
	if IsPostgres(dsn) {
		dialector = postgres.Open(dsn)
	} else {
		dialector = sqlite.Open(sqliteDSN(dsn))
	}
	db, err := gorm.Open(dialector, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if !IsPostgres(dsn) {
		// One writer at a time is all SQLite does; a small pool keeps readers concurrent.
		sqlDB.SetMaxOpenConns(8)
	}
	if err := Migrate(ctx, db.WithContext(ctx), log); err != nil {
		return nil, err
	}
	return db, nil
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// sqliteDSN adds the pragmas that make SQLite dependable under concurrency:
// WAL, a busy timeout, foreign keys, and immediate transactions, without which
// concurrent read-then-write transactions fail with "database is locked".
func sqliteDSN(dsn string) string {
	path, query, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	values, _ := url.ParseQuery(query)
	for k, v := range map[string]string{
		"_journal_mode": "WAL",
		"_busy_timeout": "10000",
		"_foreign_keys": "on",
		"_synchronous":  "NORMAL",
		"_txlock":       "immediate",
	} {
		if values.Get(k) == "" {
			values.Set(k, v)
		}
	}
	return "file:" + path + "?" + values.Encode()
}

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// NotFound turns gorm's record-not-found into ErrNotFound.
func NotFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}
