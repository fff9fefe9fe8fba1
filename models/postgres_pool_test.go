package models_test

import (
	"context"
	"database/sql/driver"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/portcullis/portcullis/models/modelstest"
)

// TestPostgresPoolDropsClosedConnections gives back a connection that pgx
// has closed, as it does when a cancelled context interrupts a query (a
// client hanging up mid-page): the pool must drop it at once rather than keep
// it idle, where under load it is handed to the next caller, who fails with
// "driver: bad connection".
func TestPostgresPoolDropsClosedConnections(t *testing.T) {
	db := modelstest.Postgres(t)
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := sqlDB.Stats().OpenConnections
	if err := conn.Raw(func(dc any) error {
		pc, ok := dc.(interface{ Conn() *pgx.Conn })
		if !ok {
			t.Fatalf("driver connection is a %T", dc)
		}
		if v, ok := dc.(driver.Validator); !ok || !v.IsValid() {
			t.Errorf("an open connection does not report itself valid (validator: %v)", ok)
		}
		return pc.Conn().Close(ctx)
	}); err != nil {
		t.Fatal(err)
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	if after := sqlDB.Stats().OpenConnections; after != before-1 {
		t.Errorf("%d connections open after a closed one was given back, want %d", after, before-1)
	}
	var one int
	if err := sqlDB.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Errorf("the next query: %d, %v", one, err)
	}
}

// TestPostgresCancelledQueryKeepsItsConnection cancels the context of a
// query while PostgreSQL runs it, as a client hanging up does: the query
// ends, and the connection stays open for the next one, rather than being
// closed and a new backend started.
func TestPostgresCancelledQueryKeepsItsConnection(t *testing.T) {
	db := modelstest.Postgres(t)
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sqlDB.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var pid, pidAfter int
	if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	go func() {
		// Cancel once the server is sleeping in the query.
		for {
			var waiting bool
			if err := sqlDB.QueryRowContext(context.Background(), "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE 'SELECT pg_sleep%')", pid).Scan(&waiting); err != nil || waiting {
				cancel()
				return
			}
		}
	}()
	_, err = conn.ExecContext(ctx, "SELECT pg_sleep(30)")
	if err == nil {
		t.Fatal("a query whose context was cancelled succeeded")
	}
	if err := conn.QueryRowContext(context.Background(), "SELECT pg_backend_pid()").Scan(&pidAfter); err != nil {
		t.Fatalf("the connection after a cancelled query: %v", err)
	}
	if pidAfter != pid {
		t.Errorf("backend %d after the cancelled query, was %d", pidAfter, pid)
	}
}
