package models_test

import (
	"context"
	"testing"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
)

// TestWarmPostgresOpensConnectionsBeforeTheFirstView opens a pool's
// connections ahead of use, and the pool keeps them idle for the first
// burst of views; on SQLite it opens nothing.
func TestWarmPostgresOpensConnectionsBeforeTheFirstView(t *testing.T) {
	ctx := context.Background()
	t.Run("postgres", func(t *testing.T) {
		db := modelstest.Postgres(t)
		sqlDB, err := db.DB()
		if err != nil {
			t.Fatal(err)
		}
		before := sqlDB.Stats().OpenConnections
		want := before + 3
		if err := models.WarmPostgres(ctx, db, want); err != nil {
			t.Fatal(err)
		}
		st := sqlDB.Stats()
		if st.OpenConnections != want || st.Idle != want {
			t.Errorf("after warming %d: %d open, %d idle; want all %d open and idle", want, st.OpenConnections, st.Idle, want)
		}
		// More than the pool holds: it opens the pool's size, no more.
		if err := models.WarmPostgres(ctx, db, 10_000); err != nil {
			t.Fatal(err)
		}
		if st := sqlDB.Stats(); st.OpenConnections != st.MaxOpenConnections {
			t.Errorf("warming past the pool's size: %d open, want its %d", st.OpenConnections, st.MaxOpenConnections)
		}
	})
	t.Run("sqlite", func(t *testing.T) {
		db := modelstest.SQLite(t)
		sqlDB, err := db.DB()
		if err != nil {
			t.Fatal(err)
		}
		before := sqlDB.Stats().OpenConnections
		if err := models.WarmPostgres(ctx, db, 4); err != nil {
			t.Fatal(err)
		}
		if after := sqlDB.Stats().OpenConnections; after != before {
			t.Errorf("SQLite: %d connections open after warming, %d before", after, before)
		}
	})
}
