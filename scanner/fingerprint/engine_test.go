package fingerprint

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"
)

// fastConfig keeps tests quick on loopback.
var fastConfig = Config{DialTimeout: time.Second, BannerWait: 300 * time.Millisecond, ReadTimeout: time.Second}

func newTestEngine(t *testing.T) *Engine {
	t.Helper()
	e, err := New(nil, fastConfig)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func findingIDs(r Result) []string {
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.ID)
	}
	return ids
}

func TestIdentifyTCP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                  string
		server                func(t *testing.T) func(net.Conn)
		service, product, ver string
		tls                   bool
		findings              []string
		emptyBanner           bool
	}{
		{name: "ssh", server: fixed(greet("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")), service: "ssh", product: "OpenSSH", ver: "9.2p1"},
		{name: "ssh dropbear", server: fixed(greet("SSH-2.0-dropbear_2022.83\r\n")), service: "ssh", product: "Dropbear", ver: "2022.83"},
		{name: "http nginx", server: fixed(httpServer("200 OK", "Server: nginx/1.22.1\r\n", "hello")), service: "http", product: "nginx", ver: "1.22.1"},
		{name: "https", server: func(t *testing.T) func(net.Conn) {
			return withTLS(t, httpServer("200 OK", "Server: Apache/2.4.57 (Debian)\r\n", "hi"))
		}, service: "http", product: "Apache", ver: "2.4.57", tls: true},
		{name: "imaps", server: func(t *testing.T) func(net.Conn) {
			return withTLS(t, greet("* OK [CAPABILITY IMAP4rev1 SASL-IR] Dovecot ready.\r\n"))
		}, service: "imap", product: "Dovecot", tls: true},
		{name: "redis open", server: fixed(redisServer(false)), service: "redis", product: "Redis", ver: "7.2.4", findings: []string{FindingRedisNoAuth}},
		{name: "redis with password", server: fixed(redisServer(true)), service: "redis", product: "Redis"},
		{name: "memcached open", server: fixed(memcachedServer(false)), service: "memcached", product: "memcached", ver: "1.6.21", findings: []string{FindingMemcachedNoAuth}},
		{name: "memcached sasl", server: fixed(memcachedServer(true)), service: "memcached", product: "memcached"},
		{name: "mongodb open", server: fixed(mongoServer(false)), service: "mongodb", product: "MongoDB", ver: "7.0.5", findings: []string{FindingMongoNoAuth}},
		{name: "mongodb auth", server: fixed(mongoServer(true)), service: "mongodb", product: "MongoDB", ver: "7.0.5"},
		{name: "elasticsearch open", server: fixed(httpServer("200 OK", "X-elastic-product: Elasticsearch\r\nContent-Type: application/json\r\n",
			`{"name":"n1","cluster_name":"lab","version":{"number":"8.11.3"},"tagline":"You Know, for Search"}`)),
			service: "elasticsearch", product: "Elasticsearch", ver: "8.11.3", findings: []string{FindingElasticsearchNoAuth}},
		{name: "elasticsearch secured", server: fixed(httpServer("401 Unauthorized", "WWW-Authenticate: Basic realm=\"security\"\r\nContent-Type: application/json\r\n",
			`{"error":{"type":"security_exception","reason":"missing authentication credentials"},"status":401}`)),
			service: "elasticsearch", product: "Elasticsearch"},
		{name: "ftp anonymous", server: fixed(ftpServer("220 (vsFTPd 3.0.3)\r\n", true)), service: "ftp", product: "vsftpd", ver: "3.0.3", findings: []string{FindingFTPAnonymous}},
		{name: "ftp no anonymous", server: fixed(ftpServer("220 (vsFTPd 3.0.3)\r\n", false)), service: "ftp", product: "vsftpd", ver: "3.0.3"},
		{name: "ftp bare greeting", server: fixed(ftpServer("220 Service ready\r\n", false)), service: "ftp"},
		{name: "smtp exim", server: fixed(smtpServer("220 mail.fake.test ESMTP Exim 4.96 Mon, 24 Nov 2026 18:00:00 +0000\r\n")), service: "smtp", product: "Exim", ver: "4.96"},
		{name: "smtp bare greeting", server: fixed(smtpServer("220 gateway ready\r\n")), service: "smtp"},
		{name: "pop3", server: fixed(greet("+OK Dovecot (Debian) ready.\r\n")), service: "pop3", product: "Dovecot"},
		{name: "imap", server: fixed(greet("* OK [CAPABILITY IMAP4rev1 LITERAL+] Cyrus IMAP 3.6.1 server ready\r\n")), service: "imap", product: "Cyrus IMAP", ver: "3.6.1"},
		{name: "telnet", server: fixed(greet("\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27")), service: "telnet", findings: []string{FindingTelnet}},
		{name: "rsync modules", server: fixed(rsyncServer("data\tpublic data\nbackup\t\n")), service: "rsync", product: "rsync", findings: []string{FindingRsyncModules}},
		{name: "rsync no modules", server: fixed(rsyncServer("")), service: "rsync", product: "rsync"},
		{name: "mqtt anonymous", server: fixed(mqttServer(0)), service: "mqtt", findings: []string{FindingMQTTAnonymous}},
		{name: "mqtt credentials", server: fixed(mqttServer(5)), service: "mqtt"},
		{name: "vnc none", server: fixed(vncServer(1)), service: "vnc", findings: []string{FindingVNCNoAuth}},
		{name: "vnc password", server: fixed(vncServer(2)), service: "vnc"},
		{name: "ldap anonymous", server: fixed(ldapServer(true)), service: "ldap", findings: []string{FindingLDAPAnonymous}},
		{name: "ldap refuses", server: fixed(ldapServer(false)), service: "ldap"},
		{name: "rdp", server: fixed(rdpServer), service: "rdp"},
		{name: "smb", server: fixed(smbServer), service: "smb"},
		{name: "mysql mariadb", server: fixed(mysqlServer), service: "mysql", product: "MariaDB", ver: "10.11.6"},
		{name: "postgresql", server: fixed(postgresServer), service: "postgresql", product: "PostgreSQL"},
		{name: "mssql", server: fixed(mssqlServer), service: "mssql", product: "Microsoft SQL Server", ver: "15.0.4223"},
		{name: "amqp", server: fixed(amqpServer), service: "amqp", product: "RabbitMQ", ver: "3.12.1"},
		{name: "nats", server: fixed(greet("INFO {\"server_id\":\"NDUMMY\",\"version\":\"2.10.7\",\"go\":\"go1.21.5\",\"max_payload\":1048576}\r\n")), service: "nats", product: "NATS Server", ver: "2.10.7"},
		{name: "kerberos", server: fixed(kerberosServer), service: "kerberos"},
		{name: "dns over tcp", server: fixed(dnsTCPServer), service: "dns", product: "dnsmasq", ver: "2.89"},
		{name: "sip over tcp", server: fixed(func(c net.Conn) {
			if a := sipAnswer(readSome(c)); a != nil {
				c.Write(a)
			}
		}), service: "sip", product: "Asterisk", ver: "20.5.0"},
		{name: "silent listener", server: fixed(silent), service: "unknown", emptyBanner: true},
		{name: "closes at once", server: fixed(closeAtOnce), service: "unknown", emptyBanner: true},
		{name: "unrecognised greeting", server: fixed(greet("hello stranger\r\n")), service: "unknown"},
	}
	// The exchanges mostly wait on the network: run them all at once (t.Parallel
	// would run only GOMAXPROCS of them at a time), then judge each case.
	e := newTestEngine(t)
	results := make([]Result, len(tests))
	var wg sync.WaitGroup
	for i, tc := range tests {
		target := startTCP(t, tc.server(t))
		wg.Go(func() { results[i] = e.IdentifyTCP(context.Background(), target) })
	}
	wg.Wait()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := results[i]
			if got.Service != tc.service || got.Product != tc.product || got.Version != tc.ver || got.TLS != tc.tls {
				t.Errorf("got service %q product %q version %q tls %v; want %q %q %q %v (banner %q)",
					got.Service, got.Product, got.Version, got.TLS, tc.service, tc.product, tc.ver, tc.tls, got.Banner)
			}
			if ids := findingIDs(got); !slices.Equal(ids, tc.findings) {
				t.Errorf("findings %v, want %v", ids, tc.findings)
			}
			if tc.emptyBanner && (got.Banner != "" || got.Answered) {
				t.Errorf("banner %q answered %v, want nothing", got.Banner, got.Answered)
			}
			if !tc.emptyBanner && got.Banner == "" && !got.TLS {
				t.Errorf("empty banner for a service that answered")
			}
		})
	}
}

func fixed(h func(net.Conn)) func(*testing.T) func(net.Conn) {
	return func(*testing.T) func(net.Conn) { return h }
}

func TestIdentifyUDP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		server           func([]byte) []byte
		state, service   string
		product, version string
		findings         []string
	}{
		{name: "dns", server: func(r []byte) []byte {
			if _, err := parseDNSResponse(append(append([]byte(nil), r[:2]...), append([]byte{0x80}, r[3:]...)...)); err != nil {
				return nil
			}
			return fakeDNSAnswer(r, "unbound 1.17.1")
		}, state: "open", service: "dns", product: "Unbound", version: "1.17.1"},
		{name: "ntp with mode 6 and monlist", server: ntpAnswer(true, true), state: "open", service: "ntp", product: "ntpd", version: "4.2.8p15",
			findings: []string{FindingNTPMode6, FindingNTPMonlist}},
		{name: "ntp restricted", server: ntpAnswer(false, false), state: "open", service: "ntp"},
		{name: "snmp public", server: fakeSNMPAnswer("public"), state: "open", service: "snmp", findings: []string{FindingSNMPDefault}},
		{name: "snmp private", server: fakeSNMPAnswer("private"), state: "open", service: "snmp", findings: []string{FindingSNMPDefault}},
		{name: "snmp other community", server: fakeSNMPAnswer("n0t-guessable"), state: "open", service: "snmp"},
		{name: "sip", server: sipAnswer, state: "open", service: "sip", product: "Asterisk", version: "20.5.0"},
		{name: "silent", server: func([]byte) []byte { return nil }, state: "open|filtered", service: "unknown"},
	}
	e := newTestEngine(t)
	results := make([]UDPResult, len(tests))
	var wg sync.WaitGroup
	for i, tc := range tests {
		target := startUDP(t, tc.server)
		wg.Go(func() { results[i] = e.IdentifyUDP(context.Background(), target) })
	}
	wg.Wait()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := results[i]
			if got.State != tc.state || got.Service != tc.service || got.Product != tc.product || got.Version != tc.version {
				t.Errorf("got %s %q %q %q, want %s %q %q %q (banner %q)", got.State, got.Service, got.Product, got.Version,
					tc.state, tc.service, tc.product, tc.version, got.Banner)
			}
			if ids := findingIDs(got.Result); !slices.Equal(ids, tc.findings) {
				t.Errorf("findings %v, want %v", ids, tc.findings)
			}
		})
	}
}

func TestIdentifyUDPClosed(t *testing.T) {
	t.Parallel()
	// Bind then release a port: nothing listens, the kernel answers ICMP port unreachable.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := netip.MustParseAddrPort(pc.LocalAddr().String())
	pc.Close()
	got := newTestEngine(t).IdentifyUDP(context.Background(), target)
	if got.State != "closed" {
		t.Errorf("state %q, want closed", got.State)
	}
}

// TestSilentPortIsBounded: with the production defaults, a port that never
// answers costs the greeting's connection and at most one per probe; each dial
// is given at most DialTimeout; every read waits under a deadline, at most
// BannerWait ahead on the greeting's connection and ReadTimeout on a probe's;
// and every connection is closed once the port is declared unknown. So its
// identification ends within those waits. Counted, not timed: the waits scale
// with the round trip measured when connecting, which a loaded machine inflates.
func TestSilentPortIsBounded(t *testing.T) {
	t.Parallel()
	var log waitLog
	e, err := New(nil, Config{Dial: log.dial}) // production defaults otherwise
	if err != nil {
		t.Fatal(err)
	}
	target := startTCP(t, silent)
	got := e.IdentifyTCP(context.Background(), target)
	if got.Service != "unknown" || got.Banner != "" || got.Answered {
		t.Errorf("got %+v", got)
	}
	probes := len(e.orderedProbes("tcp", target.Port(), false))
	log.mu.Lock()
	defer log.mu.Unlock()
	if n := len(log.conns); n == 0 || n > 1+probes {
		t.Errorf("%d connections, want the greeting's and at most one for each of the %d probes", n, probes)
	}
	for i, c := range log.conns {
		// The greeting's connection is dialled before any probe's.
		what, ceiling := "greeting", e.cfg.BannerWait
		if i > 0 {
			what, ceiling = "probe", e.cfg.ReadTimeout
		}
		if c.dialAhead < 0 || c.dialAhead > e.cfg.DialTimeout {
			t.Errorf("%s connection %d: dial given %v, want at most %v", what, i, c.dialAhead, e.cfg.DialTimeout)
		}
		for _, d := range c.deadlines {
			if d.cleared || d.ahead > ceiling {
				t.Errorf("%s connection %d: %s deadline %v ahead (cleared %v), want at most %v", what, i, d.kind, d.ahead, d.cleared, ceiling)
			}
		}
		if c.unboundedReads > 0 {
			t.Errorf("%s connection %d: %d reads with no deadline", what, i, c.unboundedReads)
		}
		if c.Conn != nil && !c.closed {
			t.Errorf("%s connection %d left open", what, i)
		}
	}
}

// waitLog records the connections an engine dials and, for each deadline
// set on them, how far ahead it was when set.
type waitLog struct {
	mu    sync.Mutex
	conns []*loggedConn
}

type loggedConn struct {
	net.Conn
	log       *waitLog
	dialAhead time.Duration // the dial context's deadline; -1: none
	deadlines []deadlineSet
	closed    bool

	readDeadline   time.Time // the one in force
	written        int
	tlsClient      bool // its first bytes were a TLS handshake record
	unboundedReads int
}

type deadlineSet struct {
	kind    string // read, write or both
	ahead   time.Duration
	cleared bool // the zero time: no deadline at all
}

func (l *waitLog) dial(ctx context.Context, network, address string) (net.Conn, error) {
	c := &loggedConn{log: l, dialAhead: -1}
	if d, ok := ctx.Deadline(); ok {
		c.dialAhead = time.Until(d)
	}
	l.mu.Lock()
	l.conns = append(l.conns, c)
	l.mu.Unlock()
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	c.Conn = conn
	l.mu.Unlock()
	return c, nil
}

func (c *loggedConn) note(kind string, t time.Time) {
	c.log.mu.Lock()
	defer c.log.mu.Unlock()
	c.deadlines = append(c.deadlines, deadlineSet{kind: kind, ahead: time.Until(t), cleared: t.IsZero()})
	if kind != "write" {
		c.readDeadline = t
	}
}

func (c *loggedConn) Write(b []byte) (int, error) {
	c.log.mu.Lock()
	if c.written == 0 && len(b) > 0 && b[0] == 0x16 {
		c.tlsClient = true
	}
	c.written += len(b)
	c.log.mu.Unlock()
	return c.Conn.Write(b)
}

// Read counts the reads made with no deadline in force, and ends them at once:
// on a silent port they would never end. The TLS probe's handshake is the
// exception: crypto/tls sets no deadline but closes the connection when the
// handshake's context (ReadTimeout) ends.
func (c *loggedConn) Read(b []byte) (int, error) {
	c.log.mu.Lock()
	unbounded := c.readDeadline.IsZero() && !c.tlsClient
	if unbounded {
		c.unboundedReads++
	}
	c.log.mu.Unlock()
	if unbounded {
		c.Conn.SetReadDeadline(time.Now())
	}
	return c.Conn.Read(b)
}

func (c *loggedConn) SetDeadline(t time.Time) error {
	c.note("both", t)
	return c.Conn.SetDeadline(t)
}

func (c *loggedConn) SetReadDeadline(t time.Time) error {
	c.note("read", t)
	return c.Conn.SetReadDeadline(t)
}

func (c *loggedConn) SetWriteDeadline(t time.Time) error {
	c.note("write", t)
	return c.Conn.SetWriteDeadline(t)
}

func (c *loggedConn) Close() error {
	c.log.mu.Lock()
	c.closed = true
	c.log.mu.Unlock()
	return c.Conn.Close()
}

func TestDefaultDatabase(t *testing.T) {
	db, err := DefaultDatabase()
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, s := range db.Signatures {
		covered[s.Service] = true
	}
	for _, s := range Services {
		if !covered[s] {
			t.Errorf("no signature names %s", s)
		}
	}
}

func TestParseDatabaseErrors(t *testing.T) {
	probes := "[probe p]\ntransport = tcp\npayload = x\n"
	bad := []struct{ name, probes, sigs string }{
		{"unknown probe", probes, "[signature]\nprobe = nope\nservice = ssh\npattern = x\n"},
		{"unknown service", probes, "[signature]\nprobe = p\nservice = gopher\npattern = x\n"},
		{"bad regexp", probes, "[signature]\nprobe = p\nservice = ssh\npattern = (\n"},
		{"no pattern", probes, "[signature]\nprobe = p\nservice = ssh\n"},
		{"unknown parser", probes, "[signature]\nprobe = p\nservice = ssh\npattern = x\nparser = nope\n"},
		{"bad transport", "[probe p]\ntransport = sctp\npayload = x\n", ""},
		{"bad escape", "[probe p]\ntransport = tcp\npayload = \\q\n", ""},
		{"no payload", "[probe p]\ntransport = tcp\n", ""},
		{"key outside section", "transport = tcp\n", ""},
	}
	for _, tc := range bad {
		if _, err := ParseDatabase(tc.probes, tc.sigs); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	db, err := ParseDatabase(probes+"ports = 1,5-6\n", "[signature]\nprobe = p\nservice = ssh\npattern = ^x(\\d)\nversion = v$1\n")
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := db.Match("p", []byte("x7")); !ok || m.Version != "v7" || m.Service != "ssh" {
		t.Errorf("match %+v %v", m, ok)
	}
}

func TestPrintable(t *testing.T) {
	cases := map[string]string{
		"SSH-2.0-x\r\n": `SSH-2.0-x\r\n`,
		"\xff\xfd\x18":  `\xff\xfd\x18`,
		"é ok":          "é ok",
		"a\x00b":        `a\x00b`,
	}
	for in, want := range cases {
		if got := printable(in, 256); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
	if got := printable(string(make([]byte, 1000)), 256); len([]rune(got)) > 256 {
		t.Errorf("not truncated: %d", len([]rune(got)))
	}
}

func TestAnswers(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	tests := []struct {
		name   string
		server func(net.Conn)
		want   bool
	}{
		{"greeting", greet("SSH-2.0-OpenSSH_9.2p1\r\n"), true},
		{"http", httpServer("200 OK", "", "x"), true},
		{"silent", silent, false},
		{"closes at once", closeAtOnce, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := e.Answers(context.Background(), startTCP(t, tc.server), 300*time.Millisecond); got != tc.want {
				t.Errorf("Answers = %v, want %v", got, tc.want)
			}
		})
	}
}
