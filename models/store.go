package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"
	"gorm.io/plugin/dbresolver"
)

// Open connects to the database named by dsn: a postgres:// URL, or
// otherwise a SQLite file path (or file: URL), and brings its schema up to date.
//
// On SQLite it opens two pools behind the one *gorm.DB: a single writer
// connection, which takes every write and every transaction, and read-only
// connections, which take plain reads outside transactions. In WAL mode a
// reader never waits for the writer, so pages do not queue behind writes.
// Closing the writer (db.DB().Close()) closes the readers too.
func Open(ctx context.Context, dsn string, log *slog.Logger) (*gorm.DB, error) {
	cfg := &gorm.Config{
		Logger:         logger.Discard,
		NowFunc:        func() time.Time { return time.Now().UTC() },
		TranslateError: true,
	}
	open := openSQLite
	if IsPostgres(dsn) {
		open = openPostgres
	}
	db, err := open(ctx, dsn, cfg, log)
	if err != nil {
		return nil, err
	}
	if err := parseSchemas(db); err != nil {
		if sqlDB, dbErr := db.DB(); dbErr == nil {
			sqlDB.Close()
		}
		return nil, err
	}
	return db, nil
}

// parseSchemas reads every model's schema once, before anything runs
// concurrently: gorm fills in a model's relations the first time it meets
// it, and two goroutines meeting related models for the first time at once
// race on the same maps (seen as a data race between background jobs at
// start-up).
func parseSchemas(db *gorm.DB) error {
	for _, m := range []any{
		&User{}, &APIToken{}, &Session{}, &Zone{}, &CredentialList{}, &Asset{}, &Application{}, &AssessmentQuestionnaire{},
		&Request{}, &Rule{}, &Review{}, &Comment{}, &AuditEvent{}, &AuditCheckpoint{}, &Setting{}, &PolicyDocument{},
		&RecertCampaign{}, &Recertification{}, &ScanRun{}, &ScanSchedule{}, &DriftItem{}, &AlertDelivery{}, &ScanResult{},
		&Agent{}, &AgentNonce{}, &AgentServerKey{}, &ScanChunk{}, &ScanChunkHost{}, &ScanChunkUpload{},
		&PeriodicReport{}, &ReportSubscription{}, &ReportDelivery{},
	} {
		if err := (&gorm.Statement{DB: db}).Parse(m); err != nil {
			return fmt.Errorf("model %T: %w", m, err)
		}
	}
	return nil
}

func openPostgres(ctx context.Context, dsn string, cfg *gorm.Config, log *slog.Logger) (*gorm.DB, error) {
	sqlDB, err := openPostgresPool(dsn)
	if err != nil {
		return nil, err
	}
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), cfg)
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	db.ClauseBuilders["LIMIT"] = literalLimit
	// Sized to the machine: enough connections to keep every core busy while
	// others wait on the network or on locks (at four per core, 32 clients
	// queued in the pool: half the throughput on the seeded requests list),
	// all kept between bursts (closing the ones past a smaller idle limit
	// meant new backends, and statements prepared again, at every burst),
	// recycled so that a failover or a pgbouncer restart is picked up.
	sqlDB.SetMaxOpenConns(postgresConnections())
	sqlDB.SetMaxIdleConns(postgresConnections())
	sqlDB.SetConnMaxLifetime(30 * time.Minute)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := Migrate(ctx, db.WithContext(ctx), log); err != nil {
		sqlDB.Close()
		return nil, err
	}
	return db, nil
}

func postgresConnections() int { return 8 * runtime.GOMAXPROCS(0) }

// sqliteReaders is the size of SQLite's pool of read-only connections:
// reads there are CPU in this process, not waits on a server.
func sqliteReaders() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// DefaultViews is how many page views a server runs at once by default:
// two per core, as many as SQLite's readers. A view is mostly CPU, its own
// and, on a PostgreSQL beside it, its backend's; with the database on the
// same machine more at once only made each wait longer for a core (seeded
// PostgreSQL, 32 clients: p99 up to 194 ms with no limit, 229 ms at 8 at
// once, 131 ms at 4, at the same throughput).
func DefaultViews() int { return sqliteReaders() }

func openSQLite(ctx context.Context, dsn string, cfg *gorm.Config, log *slog.Logger) (*gorm.DB, error) {
	path, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	if path == "" || strings.HasPrefix(path, ":memory:") {
		// Each connection would see its own empty database.
		return nil, fmt.Errorf("open database: SQLite needs a file, not %q", dsn)
	}
	if p, err := url.PathUnescape(path); err == nil && strings.HasPrefix(dsn, "file:") {
		path = p
	}
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	readers := sql.OpenDB(sqliteConnector{dsn: sqliteReaderDSN(dsn)})
	readers.SetMaxOpenConns(sqliteReaders())
	readers.SetMaxIdleConns(sqliteReaders())
	// One writer: SQLite lets one transaction write at a time anyway; with one
	// connection writers queue in Go instead of spinning on the busy timeout.
	connector := &writerConnector{dsn: sqliteDSN(dsn), readers: readers}
	writer := sql.OpenDB(connector)
	connector.writer = writer
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxIdleTime(0)
	writer.SetConnMaxLifetime(0)
	// The writer connects first: it puts the file in WAL mode, which the
	// read-only connections cannot do.
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	db, err := gorm.Open(sqlite.New(sqlite.Config{Conn: writer}), cfg)
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := db.Use(dbresolver.Register(dbresolver.Config{
		Replicas: []gorm.Dialector{sqlite.New(sqlite.Config{Conn: readers})},
	})); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := Migrate(ctx, db.WithContext(ctx), log); err != nil {
		writer.Close()
		return nil, err
	}
	// Planner statistics for tables that have none or have grown: bounded
	// work, as SQLite recommends when a long-lived connection opens.
	if err := db.WithContext(ctx).Exec("PRAGMA analysis_limit=1000; PRAGMA optimize=0x10002").Error; err != nil {
		writer.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	return db, nil
}

// createPrivate creates the database file readable by its owner only, unless
// it exists; SQLite gives its -wal and -shm files the same permissions.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// writerConnector opens the writer's connections; closing the writer's pool
// closes the readers' pool with it, so callers close one *sql.DB as before.
type writerConnector struct {
	dsn     string
	readers *sql.DB
	writer  *sql.DB
}

func (c *writerConnector) Connect(context.Context) (driver.Conn, error) {
	return c.Driver().Open(c.dsn)
}

func (c *writerConnector) Driver() driver.Driver { return sqliteDriver() }

// sqliteConnector opens the read-only connections.
type sqliteConnector struct{ dsn string }

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) {
	return c.Driver().Open(c.dsn)
}

func (c sqliteConnector) Driver() driver.Driver { return sqliteDriver() }

// sqliteDriver opens connections whose temporary tables and indexes (an
// ORDER BY the index cannot give, a UNION, a GROUP BY) live in memory, not
// in a temporary file created and removed for each such query.
func sqliteDriver() *sqlite3.SQLiteDriver {
	return &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec("PRAGMA temp_store = MEMORY", nil)
		return err
	}}
}

// Close runs after the writer's connections have closed. Read-only
// connections cannot checkpoint the write-ahead log, so the last one to close
// would leave it behind: once the readers are closed, one brief writer
// connection opens and closes, and as the last connection it folds the log
// into the database file and removes it.
//
// database/sql closes only idle connections at Close: one still held (a
// transaction whose context ended is rolled back, and its connection given
// back, by database/sql's own goroutine, after its caller has returned) closes
// when it is given back. The fold waits for those, a bounded time, so that
// when Close returns the database file is whole on its own.
func (c *writerConnector) Close() error {
	if err := c.readers.Close(); err != nil {
		return err
	}
	for deadline := time.Now().Add(closeWait); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if c.readers.Stats().OpenConnections == 0 && (c.writer == nil || c.writer.Stats().OpenConnections == 0) {
			break
		}
	}
	conn, err := c.Connect(context.Background())
	if err != nil {
		return err
	}
	return conn.Close()
}

// closeWait bounds how long closing the database waits for connections still
// held by work that is ending.
const closeWait = 5 * time.Second

// literalLimit writes a LIMIT and OFFSET as numbers in the statement rather
// than as parameters. PostgreSQL plans a prepared statement once (a generic
// plan) only when that plan costs no more than the plans it made knowing
// the parameters; not knowing the LIMIT, it costs a generic plan as if a
// tenth of the rows were read, so every list statement was planned again
// on every execution. They are integers of the code's own, never text.
func literalLimit(c clause.Clause, b clause.Builder) {
	l, ok := c.Expression.(clause.Limit)
	if !ok {
		c.Build(b)
		return
	}
	wrote := false
	if l.Limit != nil && *l.Limit >= 0 {
		b.WriteString("LIMIT " + strconv.Itoa(*l.Limit))
		wrote = true
	}
	if l.Offset > 0 {
		if wrote {
			b.WriteByte(' ')
		}
		b.WriteString("OFFSET " + strconv.Itoa(l.Offset))
	}
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// sqliteDSN adds the pragmas that make SQLite dependable under concurrency:
// WAL, a busy timeout, foreign keys, and immediate transactions, without which
// concurrent read-then-write transactions fail with "database is locked".
// Each connection keeps its last 64 prepared statements (the driver's own
// cache): parsing a page's half-dozen statements again on every view was a
// fifth to a third of a list page's CPU.
func sqliteDSN(dsn string) string {
	return withParams(dsn, map[string]string{
		"_journal_mode":    "WAL",
		"_busy_timeout":    "10000",
		"_foreign_keys":    "on",
		"_synchronous":     "NORMAL",
		"_txlock":          "immediate",
		"_stmt_cache_size": "64",
	}, nil)
}

// sqliteReaderDSN opens read-only connections: a write sent to them by
// mistake fails instead of competing with the writer.
func sqliteReaderDSN(dsn string) string {
	return withParams(dsn, map[string]string{
		"_busy_timeout":    "10000",
		"_stmt_cache_size": "64",
	}, map[string]string{
		"mode":          "ro",
		"_txlock":       "deferred",
		"_journal_mode": "", // the writer sets it; a read-only connection cannot
	})
}

// withParams adds defaults (kept when dsn sets them) and forced values to
// the query of a SQLite file: URL; a forced empty value removes the key.
func withParams(dsn string, defaults, forced map[string]string) string {
	path, query, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	values, _ := url.ParseQuery(query)
	for k, v := range forced {
		if v == "" {
			values.Del(k)
		}
	}
	for k, v := range defaults {
		if values.Get(k) == "" {
			values.Set(k, v)
		}
	}
	for k, v := range forced {
		if v != "" {
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
