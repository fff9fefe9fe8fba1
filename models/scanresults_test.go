package models_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
)

// A database at step 2 with finished runs whose reports are stored gets
// their per-host and per-port rows from step 3.
func TestScanResultsConvertedFromReports(t *testing.T) {
	cases := gooseDatabases()
	report := `{"schema":"portcullis.scan/v1","hosts":[` +
		`{"address":"10.0.0.1","state":"up","tarpit":false,"ports":[` +
		`{"port":22,"protocol":"tcp","state":"open","service":"ssh","product":"OpenSSH","version":"9.2","tls":false,"banner":"SSH-2.0","findings":null},` +
		`{"port":6379,"protocol":"tcp","state":"open","service":"redis","tls":true,"findings":[{"id":"redis-no-auth","severity":"critical","detail":"x"}]}]},` +
		`{"address":"10.0.0.2","state":"down","tarpit":false,"ports":null}]}`
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			driverDSN, openDSN := tc.dsn(t)
			sqlDB := tc.upTo(t, driverDSN, 2)
			ins := `INSERT INTO scan_runs (kind, profile, targets, status, requested_by, report) VALUES ('on_demand', 'common', '10.0.0.1,10.0.0.2', $1, 'x', $2)`
			for _, run := range [][2]string{{"done", report}, {"failed", ""}, {"done", ""}} {
				if _, err := sqlDB.Exec(ins, run[0], run[1]); err != nil {
					t.Fatal(err)
				}
			}
			db := open(t, openDSN)
			var rows []models.ScanResult
			if err := db.Order("address, protocol, port").Find(&rows).Error; err != nil {
				t.Fatal(err)
			}
			if len(rows) != 4 {
				t.Fatalf("%d rows, want 4 (two hosts, two ports): %+v", len(rows), rows)
			}
			host, ssh, redis, down := rows[0], rows[1], rows[2], rows[3]
			if host.Protocol != "" || host.State != "up" || ssh.Service != "ssh" || ssh.Product != "OpenSSH" || ssh.Findings != "[]" ||
				!redis.TLS || redis.Port != 6379 || redis.Findings == "[]" || down.Address != "10.0.0.2" || down.State != "down" {
				t.Fatalf("rows %+v", rows)
			}
		})
	}
}

// gooseDatabase is an empty database of each kind, to be brought to an old
// schema step with goose before a migration under test runs.
type gooseDatabase struct {
	name, driver string
	dialect      goose.Dialect
	dir          string
	dsn          func(t *testing.T) (driverDSN, openDSN string)
}

func gooseDatabases() []gooseDatabase {
	return []gooseDatabase{
		{"sqlite", "sqlite3", goose.DialectSQLite3, "migrations/sqlite", func(t *testing.T) (string, string) {
			p := filepath.Join(t.TempDir(), "old.db")
			return "file:" + p, p
		}},
		{"postgres", "pgx", goose.DialectPostgres, "migrations/postgres", func(t *testing.T) (string, string) {
			u := modelstest.PostgresSchema(t)
			return u, u
		}},
	}
}

// upTo opens db's raw connection and migrates it to step version.
func (g gooseDatabase) upTo(t *testing.T, driverDSN string, version int64) *sql.DB {
	t.Helper()
	sqlDB, err := sql.Open(g.driver, driverDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlDB.Close() })
	p, err := goose.NewProvider(g.dialect, sqlDB, os.DirFS(g.dir), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
	return sqlDB
}
