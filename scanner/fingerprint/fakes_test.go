package fingerprint

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"io"
	"math"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// Small fake servers that speak just enough of each protocol for the scanner to
// recognise it. Every one listens on an ephemeral loopback port, so no port number
// hints at the service: identification works from the answers alone.

func startTCP(t testing.TB, handle func(net.Conn)) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				handle(c)
			})
		}
	})
	return netip.MustParseAddrPort(ln.Addr().String())
}

func startUDP(t *testing.T, handle func(req []byte) []byte) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { pc.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if answer := handle(append([]byte(nil), buf[:n]...)); answer != nil {
				pc.WriteTo(answer, from)
			}
		}
	}()
	return netip.MustParseAddrPort(pc.LocalAddr().String())
}

// readSome reads what arrives within a short time.
func readSome(c net.Conn) []byte {
	buf := make([]byte, 8192)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _ := c.Read(buf)
	return buf[:n]
}

func readLine(r *bufio.Reader) string {
	s, _ := r.ReadString('\n')
	return s
}

var (
	certOnce sync.Once
	testCert tls.Certificate
)

func selfSigned(t testing.TB) tls.Certificate {
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fake.test"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"fake.test"}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		testCert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	})
	return testCert
}

// withTLS wraps a handler in a TLS server.
func withTLS(t testing.TB, handle func(net.Conn)) func(net.Conn) {
	cfg := &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}
	return func(c net.Conn) {
		tc := tls.Server(c, cfg)
		if tc.Handshake() != nil {
			return
		}
		handle(tc)
	}
}

func greet(banner string) func(net.Conn) {
	return func(c net.Conn) {
		c.Write([]byte(banner))
		io.Copy(io.Discard, c)
	}
}

func silent(c net.Conn) { io.Copy(io.Discard, c) }

func closeAtOnce(c net.Conn) {}

// httpServer answers one request; anything that is not HTTP gets a 400, as nginx does.
func httpServer(status, headers, body string) func(net.Conn) {
	return func(c net.Conn) {
		req := readUntil(c, "\r\n\r\n")
		if !strings.HasPrefix(req, "GET ") {
			c.Write([]byte("HTTP/1.1 400 Bad Request\r\nServer: nginx/1.22.1\r\nConnection: close\r\n\r\n"))
			return
		}
		c.Write([]byte("HTTP/1.1 " + status + "\r\n" + headers + "Content-Length: " + itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body))
	}
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// readUntil reads until the marker arrives, a pause, or 8 KiB.
func readUntil(c net.Conn, marker string) string {
	var buf []byte
	chunk := make([]byte, 4096)
	for len(buf) < 8192 && !bytes.Contains(buf, []byte(marker)) {
		c.SetReadDeadline(time.Now().Add(time.Second))
		n, err := c.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if err != nil {
			break
		}
	}
	return string(buf)
}

func redisServer(password bool) func(net.Conn) {
	return func(c net.Conn) {
		for {
			req := readSome(c)
			if len(req) == 0 {
				return
			}
			switch {
			case password:
				c.Write([]byte("-NOAUTH Authentication required.\r\n"))
			case bytes.Contains(req, []byte("PING")):
				c.Write([]byte("+PONG\r\n"))
			case bytes.Contains(req, []byte("INFO")):
				info := "# Server\r\nredis_version:7.2.4\r\nredis_mode:standalone\r\n"
				c.Write([]byte("$" + itoa(len(info)) + "\r\n" + info + "\r\n"))
			default:
				c.Write([]byte("-ERR unknown command\r\n"))
			}
		}
	}
}

func memcachedServer(sasl bool) func(net.Conn) {
	return func(c net.Conn) {
		r := bufio.NewReader(c)
		for {
			line := readLine(r)
			if line == "" {
				return
			}
			switch {
			case sasl:
				c.Write([]byte("CLIENT_ERROR unauthenticated\r\n"))
			case strings.HasPrefix(line, "version"):
				c.Write([]byte("VERSION 1.6.21\r\n"))
			default:
				c.Write([]byte("ERROR\r\n"))
			}
		}
	}
}

// bsonReply encodes a reply document from raw elements.
func bsonElem(typ byte, key string, value []byte) []byte {
	return append(append(append([]byte{typ}, key...), 0), value...)
}

func bsonRaw(elems ...[]byte) []byte {
	body := bytes.Join(elems, nil)
	doc := binary.LittleEndian.AppendUint32(nil, uint32(len(body)+5))
	return append(append(doc, body...), 0)
}

func bsonDouble(v float64) []byte {
	return binary.LittleEndian.AppendUint64(nil, math.Float64bits(v))
}

func bsonString(s string) []byte {
	return append(append(binary.LittleEndian.AppendUint32(nil, uint32(len(s)+1)), s...), 0)
}

func mongoServer(auth bool) func(net.Conn) {
	return func(c net.Conn) {
		for {
			head := make([]byte, 16)
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := io.ReadFull(c, head); err != nil {
				return
			}
			n := int(binary.LittleEndian.Uint32(head))
			if n < 21 || n > 1<<20 || binary.LittleEndian.Uint32(head[12:]) != opMsg {
				return
			}
			rest := make([]byte, n-16)
			if _, err := io.ReadFull(c, rest); err != nil {
				return
			}
			cmd, _, err := parseBSON(rest[5:], 0)
			if err != nil {
				return
			}
			var reply []byte
			switch {
			case cmd["hello"] != nil:
				reply = bsonRaw(bsonElem(0x08, "isWritablePrimary", []byte{1}), bsonElem(0x10, "maxWireVersion", []byte{21, 0, 0, 0}), bsonElem(0x01, "ok", bsonDouble(1)))
			case cmd["buildInfo"] != nil:
				reply = bsonRaw(bsonElem(0x02, "version", bsonString("7.0.5")), bsonElem(0x01, "ok", bsonDouble(1)))
			case cmd["listDatabases"] != nil && !auth:
				dbs := bsonRaw(bsonElem(0x03, "0", bsonRaw(bsonElem(0x02, "name", bsonString("admin")))))
				reply = bsonRaw(bsonElem(0x04, "databases", dbs), bsonElem(0x01, "ok", bsonDouble(1)))
			default:
				reply = bsonRaw(bsonElem(0x01, "ok", bsonDouble(0)), bsonElem(0x02, "errmsg", bsonString("command requires authentication")), bsonElem(0x10, "code", []byte{13, 0, 0, 0}))
			}
			msg := make([]byte, 16, 64)
			binary.LittleEndian.PutUint32(msg[8:], binary.LittleEndian.Uint32(head[4:]))
			binary.LittleEndian.PutUint32(msg[12:], opMsg)
			msg = append(binary.LittleEndian.AppendUint32(msg, 0), 0)
			msg = append(msg, reply...)
			binary.LittleEndian.PutUint32(msg, uint32(len(msg)))
			c.Write(msg)
		}
	}
}

func ftpServer(banner string, anonymous bool) func(net.Conn) {
	return func(c net.Conn) {
		c.Write([]byte(banner))
		r := bufio.NewReader(c)
		for {
			line := readLine(r)
			switch {
			case line == "":
				return
			case strings.HasPrefix(line, "USER anonymous"):
				c.Write([]byte("331 Please specify the password.\r\n"))
			case strings.HasPrefix(line, "PASS"):
				if anonymous {
					c.Write([]byte("230-Welcome\r\n230 Login successful.\r\n"))
				} else {
					c.Write([]byte("530 Login incorrect.\r\n"))
				}
			case strings.HasPrefix(line, "QUIT"):
				c.Write([]byte("221 Goodbye.\r\n"))
				return
			default:
				c.Write([]byte("500 Unknown command.\r\n"))
			}
		}
	}
}

func smtpServer(banner string) func(net.Conn) {
	return func(c net.Conn) {
		c.Write([]byte(banner))
		r := bufio.NewReader(c)
		for {
			line := readLine(r)
			switch {
			case line == "":
				return
			case strings.HasPrefix(line, "EHLO"):
				c.Write([]byte("250-mail.fake.test Hello\r\n250-SIZE 52428800\r\n250 HELP\r\n"))
			default:
				c.Write([]byte("500 unrecognized command\r\n"))
			}
		}
	}
}

func rsyncServer(modules string) func(net.Conn) {
	return func(c net.Conn) {
		c.Write([]byte("@RSYNCD: 31.0 sha512 sha256 sha1 md5 md4\n"))
		r := bufio.NewReader(c)
		greeting := readLine(r)
		if !strings.HasPrefix(greeting, "@RSYNCD:") {
			return
		}
		// As rsync 3.2 does: protocol 31 and later must list their digests.
		if f := strings.Fields(greeting); len(f) == 2 && f[1] >= "31" {
			c.Write([]byte("@ERROR: your client omitted the digest name list: " + greeting))
			return
		}
		if module := readLine(r); module == "\n" || module == "#list\n" {
			c.Write([]byte(modules + "@RSYNCD: EXIT\n"))
		}
	}
}

func mqttServer(returnCode byte) func(net.Conn) {
	return func(c net.Conn) {
		req := readSome(c)
		if len(req) < 12 || req[0] != 0x10 || !bytes.Contains(req, []byte("MQTT")) {
			return
		}
		c.Write([]byte{0x20, 0x02, 0x00, returnCode})
		readSome(c)
	}
}

func vncServer(types ...byte) func(net.Conn) {
	return func(c net.Conn) {
		c.Write([]byte("RFB 003.008\n"))
		if v := readSome(c); !bytes.HasPrefix(v, []byte("RFB 003.00")) {
			return
		}
		c.Write(append([]byte{byte(len(types))}, types...))
		readSome(c)
	}
}

func ldapServer(anonymous bool) func(net.Conn) {
	result := func(tag byte, id, code int64) []byte {
		return berEncode(berTagSequence, berInteger(berTagInteger, id),
			berEncode(tag, berInteger(berTagEnumerated, code), berEncode(berTagOctetString), berEncode(berTagOctetString)))
	}
	return func(c net.Conn) {
		for {
			req := readSome(c)
			m, _, err := readTLV(req)
			if err != nil || m.Tag != berTagSequence {
				return
			}
			parts, err := readChildren(m.Content)
			if err != nil || len(parts) < 2 {
				return
			}
			id, _ := berInt(parts[0].Content)
			switch parts[1].Tag {
			case 0x60:
				if anonymous {
					c.Write(result(0x61, id, 0))
				} else {
					c.Write(result(0x61, id, 48)) // inappropriateAuthentication
				}
			case 0x63:
				attr := func(name, value string) []byte {
					return berEncode(berTagSequence, berEncode(berTagOctetString, []byte(name)),
						berEncode(0x31, berEncode(berTagOctetString, []byte(value))))
				}
				entry := berEncode(berTagSequence, berInteger(berTagInteger, id),
					berEncode(0x64, berEncode(berTagOctetString),
						berEncode(berTagSequence, attr("namingContexts", "dc=fake,dc=test"), attr("supportedLDAPVersion", "3"))))
				c.Write(append(entry, result(0x65, id, 0)...))
			default:
				return
			}
		}
	}
}

func rdpServer(c net.Conn) {
	req := readSome(c)
	if len(req) < 11 || req[0] != 3 || req[5] != 0xe0 {
		return
	}
	c.Write([]byte{0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00,
		0x02, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00})
	readSome(c)
}

func smbServer(c net.Conn) {
	req := readSome(c)
	if len(req) < 68 || string(req[4:8]) != "\xfeSMB" {
		return
	}
	hdr := make([]byte, 64)
	copy(hdr, "\xfeSMB")
	hdr[4] = 64
	hdr[12] = 0
	hdr[16] = 1
	resp := make([]byte, 65)
	resp[0] = 65
	resp[2] = 1
	binary.LittleEndian.PutUint16(resp[4:], 0x0302)
	msg := append(hdr, resp...)
	c.Write(append([]byte{0, 0, byte(len(msg) >> 8), byte(len(msg))}, msg...))
	readSome(c)
}

func mysqlServer(c net.Conn) {
	body := append([]byte{10}, "5.5.5-10.11.6-MariaDB-0+deb12u1\x00"...)
	body = append(body, 1, 0, 0, 0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 0, 0xff, 0xf7, 8, 2, 0)
	c.Write(append([]byte{byte(len(body)), byte(len(body) >> 8), 0, 0}, body...))
	readSome(c)
}

func postgresServer(c net.Conn) {
	errMsg := func() []byte {
		fields := "SFATAL\x00VFATAL\x00C28000\x00Mno pg_hba.conf entry for host\x00\x00"
		n := len(fields) + 4
		return append([]byte{'E', byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, fields...)
	}
	for {
		head := make([]byte, 8)
		if _, err := io.ReadFull(c, head); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(head))
		code := binary.BigEndian.Uint32(head[4:])
		switch {
		case n == 8 && code == 80877103: // SSLRequest: no TLS here
			c.Write([]byte("N"))
		case code == 196608 && n > 8 && n < 10000: // StartupMessage 3.0
			io.ReadFull(c, make([]byte, n-8))
			c.Write(errMsg())
			return
		default:
			return
		}
	}
}

func mssqlServer(c net.Conn) {
	req := readSome(c)
	if len(req) < 8 || req[0] != 0x12 {
		return
	}
	payload := []byte{0x00, 0x00, 0x0b, 0x00, 0x06, 0x01, 0x00, 0x11, 0x00, 0x01, 0xff,
		0x0f, 0x00, 0x10, 0x7f, 0x00, 0x00, 0x02}
	n := len(payload) + 8
	c.Write(append([]byte{0x04, 0x01, byte(n >> 8), byte(n), 0, 0, 1, 0}, payload...))
	readSome(c)
}

func amqpServer(c net.Conn) {
	if h := readSome(c); !bytes.HasPrefix(h, []byte("AMQP")) {
		return
	}
	table := []byte{}
	for _, kv := range [][2]string{{"product", "RabbitMQ"}, {"version", "3.12.1"}} {
		table = append(table, byte(len(kv[0])))
		table = append(table, kv[0]...)
		table = append(table, 'S')
		table = binary.BigEndian.AppendUint32(table, uint32(len(kv[1])))
		table = append(table, kv[1]...)
	}
	table = append(table, 4, 'f', 'l', 'a', 'g', 't', 1)
	method := []byte{0, 10, 0, 10, 0, 9}
	method = binary.BigEndian.AppendUint32(method, uint32(len(table)))
	method = append(method, table...)
	method = append(binary.BigEndian.AppendUint32(method, 5), "PLAIN"...)
	method = append(binary.BigEndian.AppendUint32(method, 5), "en_US"...)
	frame := append([]byte{1, 0, 0}, binary.BigEndian.AppendUint32(nil, uint32(len(method)))...)
	frame = append(append(frame, method...), 0xce)
	c.Write(frame)
	readSome(c)
}

func kerberosServer(c net.Conn) {
	req := readSome(c)
	if len(req) < 6 || req[4] != 0x6a {
		return
	}
	krbErr := berEncode(0x7e, berEncode(berTagSequence,
		berEncode(0xa0, berInteger(berTagInteger, 5)),
		berEncode(0xa1, berInteger(berTagInteger, 30)),
		berEncode(0xa4, berEncode(0x18, []byte("20261125120000Z"))),
		berEncode(0xa5, berInteger(berTagInteger, 0)),
		berEncode(0xa6, berInteger(berTagInteger, 68)), // WRONG_REALM
		berEncode(0xa9, berEncode(0x1b, []byte("FAKE.TEST")))))
	c.Write(kerberosTCP(krbErr))
}

func fakeDNSAnswer(req []byte, version string) []byte {
	if len(req) < 12 {
		return nil
	}
	resp := append([]byte(nil), req...)
	resp[2] |= 0x84 // QR, AA
	resp[3] = 0x80  // RA
	resp[7] = 1     // one answer
	txt := append([]byte{byte(len(version))}, version...)
	resp = append(resp, 0xc0, 0x0c, 0, 16, 0, 3, 0, 0, 0, 0, 0, byte(len(txt)))
	return append(resp, txt...)
}

func dnsTCPServer(c net.Conn) {
	req := readSome(c)
	if len(req) < 14 {
		return
	}
	c.Write(dnsTCP(fakeDNSAnswer(req[2:], "dnsmasq-2.89")))
	readSome(c)
}

func sipAnswer(req []byte) []byte {
	if !bytes.HasPrefix(req, []byte("OPTIONS sip:")) {
		return nil
	}
	via := ""
	for _, l := range strings.Split(string(req), "\r\n") {
		if strings.HasPrefix(l, "Via:") {
			via = l
		}
	}
	return []byte("SIP/2.0 200 OK\r\n" + via + "\r\nServer: Asterisk PBX 20.5.0\r\nAllow: INVITE, ACK, CANCEL, OPTIONS, BYE\r\nContent-Length: 0\r\n\r\n")
}

func ntpAnswer(mode6, monlist bool) func([]byte) []byte {
	return func(req []byte) []byte {
		if len(req) == 0 {
			return nil
		}
		switch req[0] & 7 {
		case 3:
			if len(req) < 48 {
				return nil
			}
			resp := make([]byte, 48)
			resp[0], resp[1] = 0x24, 2 // version 4, mode 4, stratum 2
			return resp
		case 6:
			if !mode6 || len(req) < 12 {
				return nil
			}
			vars := `version="ntpd 4.2.8p15@1.3728-o Wed Sep 23 11:46:38 UTC 2020 (1)", processor="x86_64", system="Linux/6.1.0"`
			resp := []byte{0x16, 0x82, req[2], req[3], 0, 0, 0, 0, 0, 0, byte(len(vars) >> 8), byte(len(vars))}
			return append(resp, vars...)
		case 7:
			if !monlist || len(req) < 8 {
				return nil
			}
			resp := []byte{0x97, 0x00, 0x03, 0x2a, 0x00, 0x01, 0x00, 0x48}
			return append(resp, make([]byte, 72)...)
		}
		return nil
	}
}

func fakeSNMPAnswer(community string) func([]byte) []byte {
	return func(req []byte) []byte {
		a, err := parseSNMP(req)
		if err != nil {
			return nil
		}
		if a.Version == 3 {
			// Report with usmStatsUnknownEngineIDs, as an agent does for discovery
			return berEncode(berTagSequence, berInteger(berTagInteger, 3),
				berEncode(berTagSequence, berInteger(berTagInteger, 0x1337), berInteger(berTagInteger, 65507),
					berEncode(berTagOctetString, []byte{0}), berInteger(berTagInteger, 3)),
				berEncode(berTagOctetString, berEncode(berTagSequence, berEncode(berTagOctetString, []byte("\x80\x00\x1f\x88\x01")),
					berInteger(berTagInteger, 1), berInteger(berTagInteger, 100), berEncode(berTagOctetString),
					berEncode(berTagOctetString), berEncode(berTagOctetString))),
				berEncode(berTagSequence, berEncode(berTagOctetString), berEncode(berTagOctetString),
					berEncode(0xa8, berInteger(berTagInteger, 0x1337), berInteger(berTagInteger, 0), berInteger(berTagInteger, 0),
						berEncode(berTagSequence, berEncode(berTagSequence, berOID(1, 3, 6, 1, 6, 3, 15, 1, 1, 4, 0), berEncode(0x41, []byte{1}))))))
		}
		if a.Community != community {
			return nil // a wrong community gets silence
		}
		descr := berEncode(berTagSequence, berEncode(berTagSequence, berOID(oidSysDescr...),
			berEncode(berTagOctetString, []byte("Linux fake 6.1.0-18-amd64 #1 SMP x86_64"))))
		return berEncode(berTagSequence, berInteger(berTagInteger, 1), berEncode(berTagOctetString, []byte(community)),
			berEncode(0xa2, berInteger(berTagInteger, 0x1337), berInteger(berTagInteger, 0), berInteger(berTagInteger, 0), descr))
	}
}
