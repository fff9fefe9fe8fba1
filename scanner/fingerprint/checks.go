package fingerprint

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Weak-configuration checks: each confirms on the wire what the finding says, with
// the least intrusive exchange that proves it, and reads nothing beyond that.

// Finding ids of the report contract.
const (
	FindingRedisNoAuth         = "redis-no-auth"
	FindingMemcachedNoAuth     = "memcached-no-auth"
	FindingMongoNoAuth         = "mongodb-no-auth"
	FindingSNMPDefault         = "snmp-default-community"
	FindingNTPMode6            = "ntp-mode6-readvar"
	FindingNTPMonlist          = "ntp-monlist"
	FindingFTPAnonymous        = "ftp-anonymous"
	FindingTelnet              = "telnet-cleartext"
	FindingRsyncModules        = "rsync-module-list"
	FindingMQTTAnonymous       = "mqtt-anonymous"
	FindingVNCNoAuth           = "vnc-no-auth"
	FindingLDAPAnonymous       = "ldap-anonymous-bind"
	FindingElasticsearchNoAuth = "elasticsearch-no-auth"
)

// session is one port under check.
type session struct {
	ctx    context.Context
	dial   dialFunc
	target netip.AddrPort
	cfg    Config
	result *Result
}

func (s *session) find(id, severity, format string, a ...any) {
	s.result.Findings = append(s.result.Findings, Finding{ID: id, Severity: severity, Detail: fmt.Sprintf(format, a...)})
}

// conversation is an open connection of a check.
type conversation struct {
	s    *session
	conn net.Conn
}

func (s *session) open() (*conversation, error) {
	c, err := s.dial(s.ctx)
	if err != nil {
		return nil, err
	}
	return &conversation{s: s, conn: c}, nil
}

func (c *conversation) close() { closeNow(c.conn) }

// read waits for an answer that done accepts (or any answer when done is nil).
func (c *conversation) read(done func([]byte) bool) []byte {
	b, _ := readAnswer(c.s.ctx, c.conn, c.s.cfg.ReadTimeout, done)
	return b
}

func (c *conversation) send(b []byte, done func([]byte) bool) []byte {
	c.conn.SetWriteDeadline(time.Now().Add(c.s.cfg.ReadTimeout))
	if _, err := c.conn.Write(b); err != nil {
		return nil
	}
	return c.read(done)
}

// ask sends one message on a new connection and returns the answer.
func (s *session) ask(b []byte, done func([]byte) bool) []byte {
	c, err := s.open()
	if err != nil {
		return nil
	}
	defer c.close()
	return c.send(b, done)
}

// lineComplete accepts an answer that ends with a newline.
func lineComplete(b []byte) bool { return bytes.HasSuffix(b, []byte("\n")) }

var tcpChecks = map[string]func(*session){
	"redis":         checkRedis,
	"memcached":     checkMemcached,
	"mongodb":       checkMongoDB,
	"elasticsearch": checkElasticsearch,
	"ftp":           checkFTP,
	"telnet":        checkTelnet,
	"rsync":         checkRsync,
	"mqtt":          checkMQTT,
	"vnc":           checkVNC,
	"ldap":          checkLDAP,
}

var udpChecks = map[string]func(*session){
	"snmp": checkSNMP,
	"ntp":  checkNTP,
}

var redisVersion = regexp.MustCompile(`(?m)^redis_version:([\w.-]+)`)

func checkRedis(s *session) {
	info := s.ask([]byte("*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n"), func(b []byte) bool {
		return bytes.HasPrefix(b, []byte("-")) && lineComplete(b) || bytes.Contains(b, []byte("\r\n\r\n")) || redisBulkComplete(b)
	})
	if m := redisVersion.FindSubmatch(info); m != nil {
		s.result.Product, s.result.Version = "Redis", string(m[1])
		s.find(FindingRedisNoAuth, "critical", "INFO answered without AUTH (redis_version %s)", m[1])
		return
	}
	if bytes.HasPrefix(info, []byte("-")) {
		return // -NOAUTH or -DENIED: authentication or protected mode in force
	}
	pong := s.ask([]byte("*1\r\n$4\r\nPING\r\n"), lineComplete)
	if bytes.HasPrefix(pong, []byte("+PONG")) {
		s.find(FindingRedisNoAuth, "critical", "PING answered without AUTH")
	}
}

// redisBulkComplete reports whether b holds a whole RESP bulk string.
func redisBulkComplete(b []byte) bool {
	if len(b) == 0 || b[0] != '$' {
		return false
	}
	line, rest, ok := bytes.Cut(b, []byte("\r\n"))
	if !ok {
		return false
	}
	var n int
	if _, err := fmt.Sscanf(string(line[1:]), "%d", &n); err != nil {
		return true
	}
	return len(rest) >= n+2
}

var memcachedVersion = regexp.MustCompile(`^VERSION (\S+)\r\n`)

func checkMemcached(s *session) {
	answer := s.ask([]byte("version\r\n"), lineComplete)
	if m := memcachedVersion.FindSubmatch(answer); m != nil {
		s.result.Product, s.result.Version = "memcached", string(m[1])
		s.find(FindingMemcachedNoAuth, "high", "version answered without authentication (memcached %s)", m[1])
	}
}

func checkMongoDB(s *session) {
	complete := mongoMessageComplete
	if doc, err := parseMongoReply(s.ask(mongoCommand(2, bsonField{"buildInfo", int32(1)}, bsonField{"$db", "admin"}), complete)); err == nil {
		if v, ok := doc["version"].(string); ok {
			s.result.Product, s.result.Version = "MongoDB", printable(v, 64)
		}
	}
	doc, err := parseMongoReply(s.ask(mongoCommand(3, bsonField{"listDatabases", int32(1)}, bsonField{"nameOnly", true}, bsonField{"$db", "admin"}), complete))
	if err != nil || !bsonOK(doc) {
		return
	}
	n := 0
	if dbs, ok := doc["databases"].(map[string]any); ok {
		n = len(dbs)
	}
	s.find(FindingMongoNoAuth, "critical", "listDatabases answered without authentication (%d databases)", n)
}

func checkElasticsearch(s *session) {
	answer := s.ask(expandPayload([]byte("GET / HTTP/1.0\r\nHost: {host}\r\nUser-Agent: portcullis-scanner\r\nAccept: application/json\r\n\r\n"), s.target), nil)
	if !bytes.HasPrefix(answer, []byte("HTTP/1.")) || len(answer) < 12 || string(answer[9:12]) != "200" {
		return
	}
	if bytes.Contains(answer, []byte(`"cluster_name"`)) {
		s.find(FindingElasticsearchNoAuth, "critical", "GET / returned the cluster information without credentials")
	}
}

// ftpReply reads one (possibly multi-line) FTP reply and returns its code.
func ftpReplyComplete(b []byte) bool {
	lines := strings.Split(strings.TrimRight(string(b), "\r\n"), "\n")
	if !lineComplete(b) || len(lines) == 0 {
		return false
	}
	last := strings.TrimRight(lines[len(lines)-1], "\r")
	return len(last) >= 4 && last[3] == ' ' && strings.HasPrefix(lines[0], last[:3])
}

func ftpCode(b []byte) string {
	lines := strings.Split(strings.TrimRight(string(b), "\r\n"), "\n")
	last := lines[len(lines)-1]
	if len(last) < 3 {
		return ""
	}
	return last[:3]
}

func checkFTP(s *session) {
	c, err := s.open()
	if err != nil {
		return
	}
	defer c.close()
	if ftpCode(c.read(ftpReplyComplete)) != "220" {
		return
	}
	switch ftpCode(c.send([]byte("USER anonymous\r\n"), ftpReplyComplete)) {
	case "230":
		s.find(FindingFTPAnonymous, "medium", "USER anonymous logged in without a password")
	case "331":
		if ftpCode(c.send([]byte("PASS portcullis@scanner.invalid\r\n"), ftpReplyComplete)) == "230" {
			s.find(FindingFTPAnonymous, "medium", "USER anonymous accepted with any password")
		}
	}
	c.conn.Write([]byte("QUIT\r\n"))
}

func checkTelnet(s *session) {
	s.find(FindingTelnet, "high", "Telnet service: credentials and sessions travel in clear text")
}

func checkRsync(s *session) {
	c, err := s.open()
	if err != nil {
		return
	}
	defer c.close()
	greeting := c.read(lineComplete)
	if !strings.HasPrefix(string(greeting), "@RSYNCD: ") {
		return
	}
	// Protocol 30 is the newest a client may claim without listing its digests
	// (31 and later require them); every daemon since rsync 3.0 accepts it, and an
	// empty module name asks for the module list.
	c.conn.Write([]byte("@RSYNCD: 30.0\n"))
	listing := c.send([]byte("\n"), func(b []byte) bool {
		return bytes.Contains(b, []byte("@RSYNCD: EXIT")) || bytes.Contains(b, []byte("@ERROR"))
	})
	modules := parseRsyncModules(listing)
	if len(modules) > 0 {
		s.find(FindingRsyncModules, "medium", "modules listed without authentication: %s", printable(strings.Join(modules, ", "), 120))
	}
}

// parseRsyncModules reads the module names of a listing, up to @RSYNCD: EXIT.
func parseRsyncModules(b []byte) []string {
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.HasPrefix(line, "@RSYNCD:") || strings.HasPrefix(line, "@ERROR") {
			if strings.HasPrefix(line, "@RSYNCD: EXIT") || strings.HasPrefix(line, "@ERROR") {
				break
			}
			continue
		}
		name, _, _ := strings.Cut(line, "\t")
		if name = strings.TrimSpace(name); name != "" {
			out = append(out, name)
		}
	}
	return out
}

func checkMQTT(s *session) {
	c, err := s.open()
	if err != nil {
		return
	}
	defer c.close()
	answer := c.send(mqttConnect("portcullis-scan"), func(b []byte) bool { return len(b) >= 4 })
	if rc, err := parseMQTTConnack(answer); err == nil && rc == 0 {
		c.conn.Write([]byte{0xe0, 0x00}) // DISCONNECT
		s.find(FindingMQTTAnonymous, "high", "CONNECT without credentials accepted (CONNACK 0)")
	}
}

func checkVNC(s *session) {
	c, err := s.open()
	if err != nil {
		return
	}
	defer c.close()
	greeting := c.read(func(b []byte) bool { return len(b) >= 12 })
	major, minor, err := parseRFBVersion(greeting)
	if err != nil || major != 3 {
		return
	}
	switch {
	case minor >= 8:
		minor = 8
	case minor == 7:
	default:
		minor = 3
	}
	answer := c.send(fmt.Appendf(nil, "RFB 003.%03d\n", minor), func(b []byte) bool {
		if minor == 3 {
			return len(b) >= 4
		}
		return len(b) >= 1 && len(b) >= 1+int(b[0])
	})
	types, err := parseRFBSecurityTypes(answer, minor)
	if err != nil {
		return
	}
	if bytes.IndexByte(types, 1) >= 0 {
		s.find(FindingVNCNoAuth, "critical", "security type None offered (RFB 3.%d)", minor)
	}
}

func checkLDAP(s *session) {
	c, err := s.open()
	if err != nil {
		return
	}
	defer c.close()
	bind, _, err := parseLDAPMessage(c.send(ldapAnonymousBind(1), ldapComplete))
	if err != nil || bind.OpTag != 0x61 || bind.ResultCode != 0 {
		return
	}
	answer := c.send(ldapRootDSESearch(2), func(b []byte) bool { return bytes.Contains(b, []byte{0x02, 0x01, 0x02, 0x65}) })
	for len(answer) > 0 {
		m, rest, err := parseLDAPMessage(answer)
		if err != nil {
			return
		}
		answer = rest
		if m.OpTag != 0x64 {
			continue
		}
		if v := m.Attributes["vendorName"]; v != "" {
			s.result.Product = printable(v, 64)
			s.result.Version = printable(m.Attributes["vendorVersion"], 64)
		}
		detail := "anonymous bind accepted; root DSE readable"
		if nc := m.Attributes["namingContexts"]; nc != "" {
			detail += " (namingContexts " + printable(nc, 80) + ")"
		}
		s.find(FindingLDAPAnonymous, "medium", "%s", detail)
		return
	}
}

// ldapComplete accepts a buffer that starts with one whole BER element.
func ldapComplete(b []byte) bool {
	_, _, err := readTLV(b)
	return err == nil
}

func checkSNMP(s *session) {
	communities := []string{"public", "private"}
	// Both asked at once: an agent that knows neither costs one wait, not two.
	answers := udpAskEach(s, snmpGetRequest(communities[0], 0x2448), snmpGetRequest(communities[1], 0x2449))
	for i, community := range communities {
		a, err := parseSNMP(answers[i])
		if err != nil || a.PDUTag != 0xa2 || a.Community != community {
			continue
		}
		if a.SysDescr != "" && s.result.Product == "" {
			s.result.Banner = printable(a.SysDescr, bannerLimit)
		}
		s.find(FindingSNMPDefault, "high", "GET sysDescr.0 answered with community %q", community)
		return
	}
}

func checkNTP(s *session) {
	// Both asked at once: a server of today answers READVAR and ignores
	// monlist, and waiting for one after the other doubled the check.
	answers := udpAskEach(s, ntpReadVarRequest(), ntpMonlistRequest())
	if answer := answers[0]; len(answer) > 0 {
		if vars, err := parseNTPControlReply(answer); err == nil {
			if p, v := ntpProduct(vars); p != "" {
				s.result.Product, s.result.Version = p, v
			}
			s.find(FindingNTPMode6, "medium", "mode 6 READVAR answered (%d bytes for a 12-byte query)", len(answer))
		}
	}
	if answer := answers[1]; len(answer) > 0 {
		if _, err := parseNTPMonlistReply(answer); err == nil {
			s.find(FindingNTPMonlist, "high", "mode 7 monlist answered (%d bytes for a 48-byte query)", len(answer))
		}
	}
}

// udpAskEach asks each payload on its own socket, all at once, and returns
// the answers in the payloads' order (nil where none came).
func udpAskEach(s *session, payloads ...[]byte) [][]byte {
	answers := make([][]byte, len(payloads))
	var wg sync.WaitGroup
	for i, p := range payloads {
		wg.Go(func() { answers[i], _ = udpAsk(s, p) })
	}
	wg.Wait()
	return answers
}

// udpAsk sends one datagram (twice if unanswered) and returns the answer.
func udpAsk(s *session, payload []byte) ([]byte, bool) {
	e := &Engine{cfg: s.cfg}
	return e.askUDP(s.ctx, s.target, payload)
}
