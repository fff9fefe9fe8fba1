package credcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/scanner"
)

const testSpacing = 150 * time.Millisecond

// protocolFakes starts each protocol's fake and names the port it listens on.
var protocolFakes = []struct {
	service string
	start   func(t *testing.T, f *fake) scanner.Port
}{
	{"ssh", func(t *testing.T, f *fake) scanner.Port { return tcpPort(serveTCP(t, f.sshServer(t)), "ssh") }},
	{"ftp", func(t *testing.T, f *fake) scanner.Port { return tcpPort(serveTCP(t, f.ftp), "ftp") }},
	{"telnet", func(t *testing.T, f *fake) scanner.Port { return tcpPort(serveTCP(t, f.telnet), "telnet") }},
	{"mysql", func(t *testing.T, f *fake) scanner.Port { return tcpPort(serveTCP(t, f.mysql), "mysql") }},
	{"postgresql", func(t *testing.T, f *fake) scanner.Port { return tcpPort(serveTCP(t, f.postgres), "postgresql") }},
	{"redis", func(t *testing.T, f *fake) scanner.Port { return tcpPort(serveTCP(t, f.redis), "redis") }},
	{"mongodb", func(t *testing.T, f *fake) scanner.Port { return tcpPort(serveTCP(t, f.mongo), "mongodb") }},
	{"mqtt", func(t *testing.T, f *fake) scanner.Port { return tcpPort(serveTCP(t, f.mqtt), "mqtt") }},
	{"vnc", func(t *testing.T, f *fake) scanner.Port { return tcpPort(serveTCP(t, f.vnc), "vnc") }},
	{"snmp", func(t *testing.T, f *fake) scanner.Port {
		return scanner.Port{Port: f.snmp(t), Protocol: "udp", State: scanner.StateOpenFiltered, Service: "snmp"}
	}},
}

func tcpPort(port uint16, service string) scanner.Port {
	return scanner.Port{Port: port, Protocol: "tcp", State: scanner.StateOpen, Service: service}
}

// checkOne runs a checker over one host with one port and returns the port as
// checked, with everything the checker logged.
func checkOne(t *testing.T, p scanner.Port, opts Options) (scanner.Port, string) {
	t.Helper()
	var logs bytes.Buffer
	opts.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	if opts.Spacing == 0 {
		opts.Spacing = testSpacing
	}
	opts.Timeout = 3 * time.Second
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	// The SNMP check listens for silence: keep it short here.
	h := scanner.Host{Address: "127.0.0.1", State: scanner.HostUp, Ports: []scanner.Port{p}}
	c.CheckHost(context.Background(), &h)
	return h.Ports[0], logs.String()
}

// secretsAbsent fails the test if a password appears in the report or the log.
func secretsAbsent(t *testing.T, p scanner.Port, logs string, secrets ...string) {
	t.Helper()
	js, _ := json.Marshal(p)
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(string(js), s) {
			t.Errorf("password %q appears in the report: %s", s, js)
		}
		if strings.Contains(logs, s) {
			t.Errorf("password %q appears in the log:\n%s", s, logs)
		}
	}
}

func TestProtocolsFindTheDefaultGently(t *testing.T) {
	for _, pf := range protocolFakes {
		t.Run(pf.service, func(t *testing.T) {
			t.Parallel()
			weak := Builtin(pf.service)[1] // the second built-in entry logs in
			f := &fake{user: weak.User, password: weak.Password}
			p, logs := checkOne(t, pf.start(t, f), Options{})
			if got := f.count(); got != 2 {
				t.Errorf("the daemon saw %d attempts, want 2 (stop at the first success)", got)
			}
			for _, g := range f.gaps() {
				if g < testSpacing {
					t.Errorf("attempts %v apart, want at least %v", g, testSpacing)
				}
			}
			wantID, wantSev := FindingDefaultCredentials, "critical"
			if pf.service == "snmp" {
				wantID, wantSev = FindingSNMPCommunity, "high"
			}
			if len(p.Findings) != 1 || p.Findings[0].ID != wantID || p.Findings[0].Severity != wantSev {
				t.Fatalf("findings %+v, want one %s (%s)", p.Findings, wantID, wantSev)
			}
			if d := p.Findings[0].Detail; !strings.Contains(d, "builtin:"+pf.service+"#2") || (weak.User != "" && !strings.Contains(d, `"`+weak.User+`"`)) {
				t.Errorf("detail %q does not name the user and the entry builtin:%s#2", d, pf.service)
			}
			if strings.Count(logs, `"msg":"credential attempt"`) != 2 {
				t.Errorf("want 2 attempts logged, got:\n%s", logs)
			}
		})
	}
}

// The admin's passwords, tried first, never show in the report or the log,
// whether they fail or succeed.
func TestProtocolsNeverShowThePassword(t *testing.T) {
	for _, pf := range protocolFakes {
		t.Run(pf.service, func(t *testing.T) {
			t.Parallel()
			user := "opsadmin"
			if !takesUser(pf.service) {
				user = "-"
			}
			wrong, right := "Wq8#zt1a", "Zk9!qv2b" // VNC keeps 8 characters
			list, err := ParseList(strings.NewReader(pf.service + " " + user + " " + wrong + "\n" + pf.service + " " + user + " " + right + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			f := &fake{user: strings.TrimPrefix(user, "-"), password: right}
			p, logs := checkOne(t, pf.start(t, f), Options{List: list})
			if f.count() != 2 || len(p.Findings) != 1 || !strings.Contains(p.Findings[0].Detail, "admin-list#2") {
				t.Fatalf("attempts %d, findings %+v; want admin-list#2 to log in at the second attempt", f.count(), p.Findings)
			}
			secretsAbsent(t, p, logs, wrong, right)
		})
	}
}

func TestProtocolsStrongPasswordHoldsWithinTheLimit(t *testing.T) {
	for _, pf := range protocolFakes {
		t.Run(pf.service, func(t *testing.T) {
			t.Parallel()
			f := &fake{user: "root", password: "Xq7-strong-" + pf.service}
			p, logs := checkOne(t, pf.start(t, f), Options{Attempts: 4})
			if got := f.count(); got != 4 {
				t.Errorf("the daemon saw %d attempts, want exactly the limit 4", got)
			}
			if len(p.Findings) != 0 {
				t.Errorf("findings %+v on a strong password", p.Findings)
			}
			if strings.Count(logs, `"outcome":"rejected"`) != 4 {
				t.Errorf("want 4 rejections logged:\n%s", logs)
			}
		})
	}
}

func TestProtocolsStopAtLockout(t *testing.T) {
	for _, pf := range protocolFakes {
		if pf.service == "snmp" {
			continue // SNMP has no lockout signal: a wrong community is only silence
		}
		t.Run(pf.service, func(t *testing.T) {
			t.Parallel()
			// The valid entry comes third: the lockout at the second must stop
			// the checks before they ever reach it.
			weak := Builtin(pf.service)[2]
			f := &fake{user: weak.User, password: weak.Password, throttleFrom: 2}
			p, logs := checkOne(t, pf.start(t, f), Options{Attempts: 5})
			if got := f.count(); got != 2 {
				t.Errorf("the daemon saw %d attempts, want 2 (none after the lockout)", got)
			}
			if len(p.Findings) != 0 {
				t.Errorf("findings %+v after a lockout", p.Findings)
			}
			if !strings.Contains(logs, "stopping its credential checks") {
				t.Errorf("the lockout is not logged:\n%s", logs)
			}
		})
	}
}

// An SSH server that only offers keyboard-interactive gets one password answer
// per attempt, never a second method in the same connection.
func TestSSHKeyboardInteractiveOnePromptPerAttempt(t *testing.T) {
	weak := Builtin("ssh")[2]
	f := &fake{user: weak.User, password: weak.Password}
	p, _ := checkOne(t, tcpPort(serveTCP(t, f.sshServerWith(t, true)), "ssh"), Options{})
	if len(p.Findings) != 1 || !strings.Contains(p.Findings[0].Detail, "builtin:ssh#3") {
		t.Fatalf("findings %+v, want builtin:ssh#3", p.Findings)
	}
	if f.count() != 3 || f.kbdAnswers != 3 {
		t.Errorf("%d connections, %d password answers; want 3 and 3", f.count(), f.kbdAnswers)
	}
}

// A Telnet host that echoes the password does not get it into the log.
func TestEchoedPasswordIsScrubbed(t *testing.T) {
	list, _ := ParseList(strings.NewReader("telnet ops Echo-Me-9931\n"))
	f := &fake{user: "ops", password: "something else", echo: true}
	p, logs := checkOne(t, tcpPort(serveTCP(t, f.telnet), "telnet"), Options{List: list, Attempts: 1})
	secretsAbsent(t, p, logs, "Echo-Me-9931")
	if f.count() != 1 {
		t.Errorf("%d attempts, want 1", f.count())
	}
}

// A MongoDB that does not speak SCRAM-SHA-256 proves nothing: one attempt, then stop.
func TestMongoWithoutSCRAM256StopsAtOnce(t *testing.T) {
	f := &fake{user: "admin", password: "admin", noSCRAM256: true}
	p, logs := checkOne(t, tcpPort(serveTCP(t, f.mongo), "mongodb"), Options{})
	if f.count() != 1 || len(p.Findings) != 0 || !strings.Contains(logs, "inconclusive") {
		t.Errorf("%d attempts, findings %+v, logs:\n%s; want one inconclusive attempt", f.count(), p.Findings, logs)
	}
}

func TestAdminListComesFirstAndIsNamed(t *testing.T) {
	list, err := ParseList(strings.NewReader("# ours\nredis - \"s3cret corp\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fake{password: "s3cret corp"}
	p, logs := checkOne(t, tcpPort(serveTCP(t, f.redis), "redis"), Options{List: list})
	if f.count() != 1 || len(p.Findings) != 1 || !strings.Contains(p.Findings[0].Detail, "admin-list#2") {
		t.Fatalf("attempts %d, findings %+v; want the admin entry on line 2 first", f.count(), p.Findings)
	}
	secretsAbsent(t, p, logs, "s3cret corp")
}

func TestSkipsWhatNeedsNoPasswordOrIsClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan bool, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- true
			c.Close()
		}
	}()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	c, _ := New(Options{Spacing: testSpacing})
	h := scanner.Host{Address: "127.0.0.1", State: scanner.HostUp, Ports: []scanner.Port{
		{Port: port, Protocol: "tcp", State: scanner.StateOpen, Service: "redis", Findings: []scanner.Finding{{ID: "redis-no-auth"}}},
		{Port: port, Protocol: "tcp", State: scanner.StateOpen, Service: "http"},
		{Port: port, Protocol: "tcp", State: scanner.StateClosed, Service: "ssh"},
		{Port: port, Protocol: "tcp", State: scanner.StateOpen, Service: "mysql", TLS: true},
		{Port: 161, Protocol: "udp", State: scanner.StateOpen, Service: "snmp", Findings: []scanner.Finding{{ID: FindingSNMPCommunity}}},
	}}
	c.CheckHost(context.Background(), &h)
	select {
	case <-accepted:
		t.Error("a port needing no check was connected to")
	case <-time.After(200 * time.Millisecond):
	}
}

func TestOptionsBounds(t *testing.T) {
	for _, o := range []Options{{Attempts: 6}, {Attempts: -1}, {Spacing: -time.Second}, {List: []Entry{{Service: "http"}}}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}
