package credcheck

import (
	"bufio"
	"fmt"
	"strings"
)

// redisProbe sends AUTH in RESP: "AUTH password" for a requirepass, "AUTH user
// password" for an ACL user.
type redisProbe struct{}

func (redisProbe) try(a *attempt) (outcome, string, error) {
	c, err := a.conn()
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	args := []string{"AUTH", a.entry.Password}
	if a.entry.User != "" {
		args = []string{"AUTH", a.entry.User, a.entry.Password}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, s := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(s), s)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return 0, "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return 0, "", fmt.Errorf("no answer to AUTH: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	upper := strings.ToUpper(line)
	switch {
	case line == "+OK":
		c.Write([]byte("*1\r\n$4\r\nQUIT\r\n"))
		return accepted, "+OK", nil
	case strings.Contains(upper, "MAX NUMBER OF CLIENTS"), strings.Contains(upper, "LOADING"), strings.Contains(upper, "TOO MANY"):
		return throttled, reply(line), nil
	case strings.HasPrefix(upper, "-WRONGPASS"), strings.Contains(upper, "INVALID PASSWORD"), strings.Contains(upper, "INVALID USERNAME"):
		return rejected, reply(line), nil
	case strings.Contains(upper, "WITHOUT ANY PASSWORD CONFIGURED"):
		// No password at all: that is redis-no-auth, the scan's own check.
		return 0, "", fmt.Errorf("no password is configured (redis-no-auth)")
	}
	return 0, "", fmt.Errorf("unexpected answer to AUTH: %q", reply(line))
}

// reply shortens a server's answer for the log: it never echoes what we sent.
func reply(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > 80 {
		s = s[:80]
	}
	return strings.TrimSpace(s)
}
