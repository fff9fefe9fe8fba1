package credcheck

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// postgresProbe logs in with pgx's connection layer: TLS when the server offers
// it, else in clear, and never both with credentials (pgx's own fallback would
// make two logins of one attempt).
type postgresProbe struct{}

func (postgresProbe) try(a *attempt) (outcome, string, error) {
	out, why, err := postgresLogin(a, "require")
	if err != nil && strings.Contains(err.Error(), "server refused TLS") {
		// Refusing TLS happens before any credential is sent.
		out, why, err = postgresLogin(a, "disable")
	}
	return out, why, err
}

func postgresLogin(a *attempt, sslmode string) (outcome, string, error) {
	cfg, err := pgconn.ParseConfig("sslmode=" + sslmode + " dbname=postgres connect_timeout=0")
	if err != nil {
		return 0, "", err
	}
	host, port, err := splitHostPort(a.addr)
	if err != nil {
		return 0, "", err
	}
	cfg.Host, cfg.Port = host, port
	cfg.User, cfg.Password = a.entry.User, a.entry.Password
	cfg.Fallbacks = nil
	cfg.ConnectTimeout = a.timeout
	cfg.RuntimeParams = map[string]string{"application_name": "portcullis-credcheck"}
	conn, err := pgconn.ConnectConfig(a.ctx, cfg)
	if err == nil {
		conn.Close(a.ctx)
		return accepted, "authenticated", nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		why := "SQLSTATE " + pe.Code
		switch pe.Code {
		case "28P01", "28000", "3D000":
			return rejected, why, nil
		case "53300", "53400", "57P03": // too many connections, limit exceeded, cannot connect now
			return throttled, why, nil
		}
		return 0, "", fmt.Errorf("postgresql %s", why)
	}
	return 0, "", fmt.Errorf("postgresql: %s", reply(err.Error()))
}
