package credcheck

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
)

// sshProbe tries a password login with golang.org/x/crypto/ssh: exactly one
// password authentication per attempt (keyboard-interactive with a single
// password prompt when the server offers no password method), so that each
// attempt is one failure in the server's count, whatever methods it offers.
type sshProbe struct{}

var (
	errSSHOneTry    = errors.New("one authentication per attempt")
	errSSHNoPasswd  = errors.New("the server offers no password authentication")
	errSSHNotPrompt = errors.New("not a single password prompt")
)

func (sshProbe) try(a *attempt) (outcome, string, error) {
	c, err := a.conn()
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	password := a.entry.Password
	cfg := &ssh.ClientConfig{
		User: a.entry.User,
		// Called after the "none" method: pick one method, and stop after it.
		AuthCallback: func(ctx *ssh.ClientAuthContext) (ssh.AuthMethod, error) {
			if slices.ContainsFunc(ctx.TriedMethods, func(m string) bool { return m != "none" }) {
				return nil, errSSHOneTry
			}
			switch {
			case slices.Contains(ctx.AllowedMethods, "password"):
				return ssh.Password(password), nil
			case slices.Contains(ctx.AllowedMethods, "keyboard-interactive"):
				return ssh.KeyboardInteractive(func(name, instruction string, questions []string, echos []bool) ([]string, error) {
					if len(questions) == 0 {
						return nil, nil // an informational round
					}
					if len(questions) != 1 || echos[0] {
						return nil, errSSHNotPrompt
					}
					return []string{password}, nil
				}), nil
			}
			return nil, errSSHNoPasswd
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
	case errors.Is(err, errSSHOneTry), strings.Contains(lower, "unable to authenticate"):
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
