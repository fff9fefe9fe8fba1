package credcheck

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"regexp"
)

// telnetProbe answers the login and password prompts. Telnet has no protocol-level
// answer to a login: the outcome is read from what the host prints next.
type telnetProbe struct{}

var (
	telnetLoginPrompt = regexp.MustCompile(`(?i)(login|user ?name|user)\s*:\s*$`)
	telnetPassPrompt  = regexp.MustCompile(`(?i)pass(word|code)?\s*:\s*$`)
	telnetFailed      = regexp.MustCompile(`(?i)(incorrect|fail|invalid|denied|bad password|wrong|login\s*:\s*$|user ?name\s*:\s*$)`)
	telnetLocked      = regexp.MustCompile(`(?i)(too many|locked|try again later|maximum)`)
	telnetShell       = regexp.MustCompile(`(?i)(last login|welcome|[$#>%]\s*$)`)
)

func (telnetProbe) try(a *attempt) (outcome, string, error) {
	c, err := a.conn()
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	t := &telnetSession{conn: c}
	text, err := t.readUntil(telnetLoginPrompt, telnetLocked)
	if err != nil {
		return 0, "", fmt.Errorf("no login prompt: %w", err)
	}
	if telnetLocked.Match(text) {
		return throttled, reply(lastLine(text)), nil
	}
	if _, err := c.Write([]byte(a.entry.User + "\r\n")); err != nil {
		return 0, "", err
	}
	text, err = t.readUntil(telnetPassPrompt, telnetShell)
	if err != nil {
		return 0, "", fmt.Errorf("no password prompt: %w", err)
	}
	if !telnetPassPrompt.Match(text) {
		// A shell without a password: the entry's password is not even needed.
		if a.entry.Password == "" {
			return accepted, reply(lastLine(text)), nil
		}
		return rejected, "no password prompt", nil
	}
	if _, err := c.Write([]byte(a.entry.Password + "\r\n")); err != nil {
		return 0, "", err
	}
	// The password is not echoed; everything after it is the host's verdict.
	text, err = t.readUntil(telnetFailed, telnetLocked, telnetShell)
	switch {
	case err != nil:
		return 0, "", fmt.Errorf("no answer after the password: %w", err)
	case telnetLocked.Match(text):
		return throttled, reply(lastLine(text)), nil
	case telnetFailed.Match(text):
		return rejected, reply(lastLine(text)), nil
	}
	return accepted, reply(lastLine(text)), nil
}

// telnetSession reads a Telnet stream, refusing every option the server offers
// (the NVT default is enough for a login) and keeping the text.
type telnetSession struct {
	conn    net.Conn
	pending []byte
}

const (
	iac  = 255
	dont = 254
	do   = 253
	wont = 252
	will = 251
	sb   = 250
	se   = 240
)

// readUntil reads until the text read so far matches one of the patterns.
func (t *telnetSession) readUntil(patterns ...*regexp.Regexp) ([]byte, error) {
	var text []byte
	buf := make([]byte, 1024)
	for len(text) < 16<<10 {
		n, err := t.conn.Read(buf)
		text = append(text, t.filter(buf[:n])...)
		trimmed := bytes.TrimRight(text, "\x00")
		for _, p := range patterns {
			if p.Match(trimmed) {
				return trimmed, nil
			}
		}
		if err != nil {
			return text, err
		}
	}
	return text, errors.New("too much text without a prompt")
}

// filter strips Telnet commands from data, answering each option negotiation.
func (t *telnetSession) filter(data []byte) []byte {
	data = append(t.pending, data...)
	t.pending = nil
	var text, answer []byte
	for i := 0; i < len(data); i++ {
		if data[i] != iac {
			text = append(text, data[i])
			continue
		}
		if i+1 >= len(data) {
			t.pending = data[i:]
			break
		}
		switch cmd := data[i+1]; cmd {
		case iac:
			text = append(text, iac)
			i++
		case do, dont, will, wont:
			if i+2 >= len(data) {
				t.pending = data[i:]
				return text
			}
			opt := data[i+2]
			switch cmd {
			case do:
				answer = append(answer, iac, wont, opt)
			case will:
				answer = append(answer, iac, dont, opt)
			}
			i += 2
		case sb:
			end := bytes.Index(data[i:], []byte{iac, se})
			if end < 0 {
				t.pending = data[i:]
				return text
			}
			i += end + 1
		default:
			i++
		}
	}
	if len(answer) > 0 {
		t.conn.Write(answer)
	}
	return text
}

func lastLine(b []byte) string {
	b = bytes.TrimRight(b, "\r\n ")
	if i := bytes.LastIndexAny(b, "\r\n"); i >= 0 {
		b = b[i+1:]
	}
	return string(b)
}
