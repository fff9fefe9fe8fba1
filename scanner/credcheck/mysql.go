package credcheck

import (
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"
)

// mysqlProbe logs in with the MySQL driver, one connection per attempt (a
// connector used directly: database/sql would retry a failed connection).
type mysqlProbe struct{}

// MySQL and MariaDB errors that mean "stop": too many connections (1040), host
// blocked after connection errors (1129), user over its connection limits (1203,
// 1226), account locked after failed logins (MySQL 3955, MariaDB 4150) or by an
// admin (MariaDB 4151).
var mysqlThrottle = map[uint16]bool{1040: true, 1129: true, 1203: true, 1226: true, 3955: true, 4150: true, 4151: true}

func (mysqlProbe) try(a *attempt) (outcome, string, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = a.entry.User, a.entry.Password
	cfg.Net, cfg.Addr = "tcp", a.addr
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = a.timeout, a.timeout, a.timeout
	cfg.TLSConfig = "preferred"
	cfg.AllowNativePasswords = true
	cfg.AllowCleartextPasswords = false
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return 0, "", err
	}
	conn, err := connector.Connect(a.ctx)
	if err == nil {
		conn.Close()
		return accepted, "authenticated", nil
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		why := fmt.Sprintf("error %d", me.Number)
		switch {
		case mysqlThrottle[me.Number]:
			return throttled, why, nil
		case me.Number == 1045 || me.Number == 1044 || me.Number == 1698:
			return rejected, why, nil
		}
		return 0, "", fmt.Errorf("mysql %s", why)
	}
	return 0, "", fmt.Errorf("mysql: %s", reply(err.Error()))
}
