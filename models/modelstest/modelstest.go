// Package modelstest opens real databases for tests: a SQLite file in the
// test's temporary directory, or a fresh schema in the PostgreSQL server
// named by PORTCULLIS_TEST_POSTGRES (default the local test database).
package modelstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/portcullis/portcullis/models"
)

// Logger discards everything, keeping test output readable.
func Logger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// SQLite opens a migrated database in a fresh file.
func SQLite(t testing.TB) *gorm.DB {
	t.Helper()
	db, err := models.Open(context.Background(), filepath.Join(t.TempDir(), "portcullis.db"), Logger())
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	return db
}

// PostgresURL is the server the Postgres tests use.
func PostgresURL() string {
	if u := os.Getenv("PORTCULLIS_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// Postgres opens a migrated database in a schema of its own, dropped at the
// end of the test. It skips the test when no server answers, except on CI,
// where a missing server is a failure.
func Postgres(t testing.TB) *gorm.DB {
	t.Helper()
	db, err := models.Open(context.Background(), PostgresSchema(t), Logger())
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	return db
}

// PostgresSchema creates an empty schema, dropped at the end of the test,
// and returns the URL of the test server with that schema as its search
// path. It skips the test when no server answers, except on CI.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	schema := "t_" + randomName()
	createOnTestServer(t, "CREATE SCHEMA "+schema, "DROP SCHEMA "+schema+" CASCADE")
	sep := "?"
	if strings.Contains(PostgresURL(), "?") {
		sep = "&"
	}
	return PostgresURL() + sep + "search_path=" + schema
}

func randomName() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// createOnTestServer runs create on the test server now and drop at the
// end of the test; it skips the test when no server answers, except on CI.
func createOnTestServer(t testing.TB, create, drop string) {
	t.Helper()
	requirePostgres(t)
	admin, err := gorm.Open(postgres.Open(PostgresURL()), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("connect postgres: %v", err)
	}
	if err := admin.Exec(create).Error; err != nil {
		t.Fatalf("%s: %v", create, err)
	}
	t.Cleanup(func() {
		admin.Exec(drop)
		if sqlDB, err := admin.DB(); err == nil {
			sqlDB.Close()
		}
	})
}

// requirePostgres skips the test when no server answers, except on CI,
// where a missing server is a failure.
func requirePostgres(t testing.TB) {
	t.Helper()
	// Generous: this only tells whether PostgreSQL is there, and on a loaded
	// CI machine (where a miss fails) a server that is there can be slow.
	conn, err := net.DialTimeout("tcp", "127.0.0.1:5432", 10*time.Second)
	if err != nil && os.Getenv("PORTCULLIS_TEST_POSTGRES") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is not reachable on 127.0.0.1:5432 and CI=true: %v", err)
		}
		t.Skipf("PostgreSQL is not reachable on 127.0.0.1:5432 (%v): skipping the Postgres variant", err)
	}
	if conn != nil {
		conn.Close()
	}
}

// PostgresDatabase creates an empty database of its own on the test
// server, dropped at the end of the test, and returns its URL: for tests
// that run server processes, which take no search path. It skips the test
// when no server answers, except on CI.
func PostgresDatabase(t testing.TB) string {
	t.Helper()
	name := "portcullis_t_" + randomName()
	createOnTestServer(t, "CREATE DATABASE "+name, "DROP DATABASE "+name+" WITH (FORCE)")
	base, query, _ := strings.Cut(PostgresURL(), "?")
	base = base[:strings.LastIndex(base, "/")+1] + name
	if query != "" {
		return base + "?" + query
	}
	return base
}

// Each runs fn once per database kind: SQLite always, Postgres where reachable.
func Each(t *testing.T, fn func(t *testing.T, db *gorm.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}
