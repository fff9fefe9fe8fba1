package credcheck

import (
	"fmt"
	"net/textproto"
	"strings"
)

// ftpProbe logs in with USER and PASS (RFC 959).
type ftpProbe struct{}

func (ftpProbe) try(a *attempt) (outcome, string, error) {
	c, err := a.conn()
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	tp := textproto.NewConn(c)
	code, msg, err := tp.ReadResponse(0)
	if err != nil && code == 0 {
		return 0, "", fmt.Errorf("no FTP greeting: %w", err)
	}
	switch {
	case code == 421:
		return throttled, fmt.Sprintf("%d %s", code, reply(msg)), nil
	case code != 220:
		return 0, "", fmt.Errorf("FTP greeting %d %s", code, reply(msg))
	}
	if err := tp.PrintfLine("USER %s", a.entry.User); err != nil {
		return 0, "", err
	}
	code, msg, err = tp.ReadResponse(0)
	if code == 0 {
		return 0, "", fmt.Errorf("no answer to USER: %w", err)
	}
	switch {
	case code == 230:
		// In without a password: the user's password is empty.
		tp.PrintfLine("QUIT")
		return accepted, fmt.Sprintf("%d %s", code, reply(msg)), nil
	case code == 421:
		return throttled, fmt.Sprintf("%d %s", code, reply(msg)), nil
	case code != 331 && code != 332:
		return rejected, fmt.Sprintf("%d %s", code, reply(msg)), nil
	}
	if err := tp.PrintfLine("PASS %s", a.entry.Password); err != nil {
		return 0, "", err
	}
	code, msg, err = tp.ReadResponse(0)
	if code == 0 {
		return 0, "", fmt.Errorf("no answer to PASS: %w", err)
	}
	why := fmt.Sprintf("%d %s", code, reply(msg))
	switch {
	case code == 230 || code == 202:
		tp.PrintfLine("QUIT")
		return accepted, why, nil
	case code == 421 || strings.Contains(strings.ToLower(msg), "too many"):
		return throttled, why, nil
	case code/100 == 5 || code/100 == 4:
		return rejected, why, nil
	}
	return 0, "", fmt.Errorf("unexpected answer to PASS: %s", why)
}
