package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/stdlib"
)

// openPostgresPool opens the pool of PostgreSQL connections behind gorm.
//
// A client that hangs up while its page is read cancels the page's context.
// By default pgx then closes the connection under the query, and a new
// PostgreSQL backend has to be started and its statements prepared again:
// seen as a stall of a few hundred milliseconds whenever many clients leave
// at once. Here a query still running cancelRequestDelay after its context
// ended is cancelled by PostgreSQL's own cancel request, and the connection
// is kept; it is closed only if the server has not answered connDeadline later.
//
// And a connection that pgx did close is not kept by database/sql unless the
// connection says so when it is given back (driver.Validator): without that,
// under load it is handed straight to a caller already waiting, who fails
// with "driver: bad connection".
func openPostgresPool(dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, CancelRequestDelay: cancelRequestDelay, DeadlineDelay: connDeadline}
	}
	return sql.OpenDB(validatingConnector{stdlib.GetConnector(*cfg)}), nil
}

const (
	// cancelRequestDelay lets a page's short query finish rather than send a
	// cancel request (a connection of its own) for it.
	cancelRequestDelay = 200 * time.Millisecond
	// connDeadline bounds how long a cancelled query may hold its connection.
	connDeadline = 5 * time.Second
)

type validatingConnector struct{ driver.Connector }

func (c validatingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := conn.(*stdlib.Conn)
	if !ok {
		return conn, nil
	}
	return validatingConn{pc}, nil
}

// validatingConn is pgx's connection, every optional interface and method of
// it kept by embedding (under an alias, so that its Conn method is not hidden
// by the field's name), plus driver.Validator.
type validatingConn struct{ *pgxStdConn }

type pgxStdConn = stdlib.Conn

func (c validatingConn) IsValid() bool { return !c.Conn().IsClosed() }

var _ driver.Validator = validatingConn{}
