package credcheck

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/ssh"
)

// sshProbe tries a password login with golang.org/x/crypto/ssh: one password
// authentication per attempt (keyboard-interactive only when the server offers no
// password method), so that each attempt is one failure in the server's count.
type sshProbe struct{}

func (sshProbe) try(a *attempt) (outcome, string, error) {
	c, err := a.conn()
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	password := a.entry.Password
	usedPassword := false
	cfg := &ssh.ClientConfig{
		User: a.entry.User,
		Auth: []ssh.AuthMethod{
			ssh.PasswordCallback(func() (string, error) {
				usedPassword = true
				return password, nil
			}),
			ssh.KeyboardInteractive(func(name, instruction string, questions []string, echos []bool) ([]string, error) {
				if usedPassword {
					return nil, errors.New("one authentication per attempt")
				}
				if len(questions) != 1 || echos[0] {
					return nil, errors.New("not a single password prompt")
				}
				return []string{password}, nil
			}),
		},
		// Whose key it is does not matter: nothing is sent but the login.
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         a.timeout,
	}
	conn, chans, reqs, err := ssh.NewClientConn(c, a.addr, cfg)
	if err == nil {
		ssh.NewClient(conn, chans, reqs).Close()
		return accepted, "authenticated", nil
	}
	msg := err.Error()
	lower := strings.ToLower(msg)
	switch {
	case strings.Contains(lower, "unable to authenticate"):
		return rejected, "authentication failed", nil
	case strings.Contains(lower, "too many"), strings.Contains(lower, "maxstartups"), strings.Contains(lower, "penalty"):
		return throttled, reply(msg), nil
	case errors.Is(err, io.EOF), strings.Contains(lower, "connection reset"):
		// sshd closes at once when it throttles new connections (MaxStartups,
		// PerSourcePenalties): the banner never comes.
		return throttled, "connection closed before authentication", nil
	}
	return 0, "", fmt.Errorf("ssh: %s", reply(msg))
}
