package models

import (
	"context"
	"database/sql"
	"fmt"

	"gorm.io/gorm"
)

// WarmPostgres opens up to n of a PostgreSQL pool's connections before the
// server takes requests (SQLite's are opened on demand at no cost). Left
// to the first burst of page views, every view of the burst waited while
// up to the pool's size of backends were started at once: the first
// call after a start had a p99 of 268–415 ms where its p50 was 23 ms.
// database/sql keeps no minimum of idle connections, so they are opened
// here and handed back to the pool, which keeps them (its idle limit is
// its size).
func WarmPostgres(ctx context.Context, db *gorm.DB, n int) error {
	if db.Dialector.Name() != "postgres" || n <= 0 {
		return nil
	}
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	if limit := sqlDB.Stats().MaxOpenConnections; limit > 0 {
		n = min(n, limit)
	}
	conns := make([]*sql.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// Each connection is held until all are open: a connection given back
	// would be handed out again instead of a new one being opened.
	for range n {
		c, err := sqlDB.Conn(ctx)
		if err == nil {
			err = c.PingContext(ctx)
		}
		if err != nil {
			if c != nil {
				c.Close()
			}
			return fmt.Errorf("open the database's connections: %w", err)
		}
		conns = append(conns, c)
	}
	return nil
}
