package credcheck

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// fake is the daemon side of an in-process protocol fake: it counts every
// attempt, knows one valid login, and starts throttling from a given attempt.
type fake struct {
	user, password string
	throttleFrom   int // 1-based attempt that sees the lockout signal; 0: never

	mu         sync.Mutex
	attempts   []time.Time
	users      []string
	kbdAnswers int  // keyboard-interactive answers (SSH)
	echo       bool // Telnet: echo the password back, as a careless host does
	noSCRAM256 bool // MongoDB: refuse SCRAM-SHA-256 as an old server does
}

// begin records an attempt and says whether it meets the lockout.
func (f *fake) begin(user string) (throttle bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts = append(f.attempts, time.Now())
	f.users = append(f.users, user)
	return f.throttleFrom > 0 && len(f.attempts) >= f.throttleFrom
}

func (f *fake) ok(user, password string) bool { return user == f.user && password == f.password }

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.attempts)
}

func (f *fake) gaps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Duration
	for i := 1; i < len(f.attempts); i++ {
		out = append(out, f.attempts[i].Sub(f.attempts[i-1]))
	}
	return out
}

// serveTCP runs handle for every connection to a loopback listener.
func serveTCP(t *testing.T, handle func(c net.Conn)) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				handle(c)
			}()
		}
	}()
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

// --- Redis: RESP AUTH ---

func (f *fake) redis(c net.Conn) {
	r := bufio.NewReader(c)
	args, err := readRESP(r)
	if err != nil || len(args) < 2 || !strings.EqualFold(args[0], "AUTH") {
		return
	}
	user, pw := "default", args[1]
	if len(args) == 3 {
		user, pw = args[1], args[2]
	}
	switch {
	case f.begin(user):
		io.WriteString(c, "-ERR max number of clients reached\r\n")
	case f.ok(user, pw) || (user == "default" && f.user == "" && pw == f.password):
		io.WriteString(c, "+OK\r\n")
		readRESP(r) // QUIT
	default:
		io.WriteString(c, "-WRONGPASS invalid username-password pair or user is disabled.\r\n")
	}
}

func readRESP(r *bufio.Reader) ([]string, error) {
	var n int
	if _, err := fmt.Fscanf(r, "*%d\r\n", &n); err != nil {
		return nil, err
	}
	var out []string
	for range n {
		var l int
		if _, err := fmt.Fscanf(r, "$%d\r\n", &l); err != nil {
			return nil, err
		}
		b := make([]byte, l+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		out = append(out, string(b[:l]))
	}
	return out, nil
}

// --- FTP ---

func (f *fake) ftp(c net.Conn) {
	r := bufio.NewReader(c)
	line := func() string { s, _ := r.ReadString('\n'); return strings.TrimRight(s, "\r\n") }
	io.WriteString(c, "220-fake FTP\r\n220 ready\r\n")
	user := strings.TrimPrefix(line(), "USER ")
	if f.begin(user) {
		io.WriteString(c, "421 Too many login failures, closing\r\n")
		return
	}
	io.WriteString(c, "331 Please specify the password.\r\n")
	pw := strings.TrimPrefix(line(), "PASS ")
	if f.ok(user, pw) {
		io.WriteString(c, "230 Login successful.\r\n")
		line()
		return
	}
	io.WriteString(c, "530 Login incorrect.\r\n")
}

// --- Telnet ---

func (f *fake) telnet(c net.Conn) {
	r := bufio.NewReader(c)
	// Ask for the terminal type and echo, as telnetd does, before the prompt.
	c.Write([]byte{iac, do, 24, iac, will, 1, iac, will, 3})
	line := func() string {
		var b []byte
		for {
			x, err := r.ReadByte()
			if err != nil {
				return string(b)
			}
			if x == iac {
				r.ReadByte()
				r.ReadByte()
				continue
			}
			if x == '\n' {
				return strings.TrimRight(string(b), "\r")
			}
			b = append(b, x)
		}
	}
	io.WriteString(c, "\r\nDebian GNU/Linux 12\r\nfake login: ")
	user := line()
	throttle := f.begin(user)
	io.WriteString(c, "Password: ")
	pw := line()
	if f.echo {
		io.WriteString(c, pw)
	}
	switch {
	case throttle:
		io.WriteString(c, "\r\nMaximum number of tries exceeded (3)\r\n")
	case f.ok(user, pw):
		io.WriteString(c, "\r\nLast login: Mon Nov 30 12:00:00 on pts/0\r\n"+user+"@fake:~$ ")
		time.Sleep(100 * time.Millisecond)
	default:
		time.Sleep(50 * time.Millisecond)
		io.WriteString(c, "\r\nLogin incorrect\r\nfake login: ")
	}
}

// --- MQTT ---

func (f *fake) mqtt(c net.Conn) {
	r := bufio.NewReader(c)
	if b, _ := r.ReadByte(); b != 0x10 {
		return
	}
	n, mul := 0, 1
	for {
		d, err := r.ReadByte()
		if err != nil {
			return
		}
		n += int(d&0x7f) * mul
		mul *= 128
		if d&0x80 == 0 {
			break
		}
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return
	}
	str := func(b []byte) (string, []byte) {
		l := int(binary.BigEndian.Uint16(b))
		return string(b[2 : 2+l]), b[2+l:]
	}
	_, rest := str(body) // "MQTT"
	flags := rest[1]
	rest = rest[4:]
	_, rest = str(rest) // client id
	var user, pw string
	if flags&0x80 != 0 {
		user, rest = str(rest)
	}
	if flags&0x40 != 0 {
		pw, _ = str(rest)
	}
	switch {
	case f.begin(user):
		c.Write([]byte{0x20, 2, 0, 3})
	case f.ok(user, pw):
		c.Write([]byte{0x20, 2, 0, 0})
		r.ReadByte()
	default:
		c.Write([]byte{0x20, 2, 0, 4})
	}
}

// --- VNC (RFB 3.8, VNC authentication) ---

func (f *fake) vnc(c net.Conn) {
	io.WriteString(c, "RFB 003.008\n")
	var ver [12]byte
	if _, err := io.ReadFull(c, ver[:]); err != nil {
		return
	}
	if f.begin("") {
		reason := "Too many authentication failures"
		b := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(reason)))
		c.Write(append(b, reason...))
		return
	}
	c.Write([]byte{1, 2})
	var choice [1]byte
	io.ReadFull(c, choice[:])
	challenge := make([]byte, 16)
	rand.Read(challenge)
	c.Write(challenge)
	resp := make([]byte, 16)
	if _, err := io.ReadFull(c, resp); err != nil {
		return
	}
	want, _ := vncResponse(f.password, challenge)
	if bytes.Equal(resp, want) {
		c.Write([]byte{0, 0, 0, 0})
		return
	}
	reason := "Authentication failed"
	b := binary.BigEndian.AppendUint32([]byte{0, 0, 0, 1}, uint32(len(reason)))
	c.Write(append(b, reason...))
}

// --- SSH, with golang.org/x/crypto/ssh's server side ---

func (f *fake) sshServer(t *testing.T) func(c net.Conn) { return f.sshServerWith(t, false) }

// sshServerWith plays sshd; kbdOnly offers keyboard-interactive (PAM's password
// prompt) and no password method, and counts every answer it gets.
func (f *fake) sshServerWith(t *testing.T, kbdOnly bool) func(c net.Conn) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return func(c net.Conn) {
		cfg := &ssh.ServerConfig{
			PasswordCallback: func(md ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
				if f.ok(md.User(), string(pw)) {
					return nil, nil
				}
				return nil, errors.New("denied")
			},
		}
		if kbdOnly {
			cfg.PasswordCallback = nil
			cfg.KeyboardInteractiveCallback = func(md ssh.ConnMetadata, challenge ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
				answers, err := challenge("", "", []string{"Password: "}, []bool{false})
				f.mu.Lock()
				f.kbdAnswers++
				f.mu.Unlock()
				if err == nil && len(answers) == 1 && f.ok(md.User(), answers[0]) {
					return nil, nil
				}
				return nil, errors.New("denied")
			}
		}
		cfg.AddHostKey(signer)
		if f.begin("") {
			// sshd refusing a source that failed too often (PerSourcePenalties):
			// the connection closes before the banner.
			return
		}
		conn, chans, reqs, err := ssh.NewServerConn(c, cfg)
		if err != nil {
			return
		}
		go ssh.DiscardRequests(reqs)
		go func() {
			for ch := range chans {
				ch.Reject(ssh.Prohibited, "no sessions")
			}
		}()
		conn.Wait()
	}
}

// --- MySQL: protocol 10 handshake with mysql_native_password ---

func mysqlPacket(seq byte, payload []byte) []byte {
	h := []byte{byte(len(payload)), byte(len(payload) >> 8), byte(len(payload) >> 16), seq}
	return append(h, payload...)
}

func mysqlErr(seq byte, code uint16, state, msg string) []byte {
	p := binary.LittleEndian.AppendUint16([]byte{0xff}, code)
	p = append(p, '#')
	p = append(p, state...)
	return mysqlPacket(seq, append(p, msg...))
}

func (f *fake) mysql(c net.Conn) {
	scramble := make([]byte, 20)
	for i := range scramble {
		scramble[i] = byte('A' + i) // printable, no NUL, like a server's
	}
	var p []byte
	p = append(p, 10)
	p = append(p, "10.11.6-MariaDB-fake"...)
	p = append(p, 0)
	p = binary.LittleEndian.AppendUint32(p, 7) // connection id
	p = append(p, scramble[:8]...)
	p = append(p, 0)
	const caps = 0x00000200 | 0x00008000 | 0x00080000 | 0x00000001 | 0x00000008 // protocol 41, secure conn, plugin auth, long password, connect with db
	p = binary.LittleEndian.AppendUint16(p, uint16(caps&0xffff))
	p = append(p, 33)                          // charset
	p = binary.LittleEndian.AppendUint16(p, 2) // status
	p = binary.LittleEndian.AppendUint16(p, uint16(caps>>16))
	p = append(p, 21)
	p = append(p, make([]byte, 10)...)
	p = append(p, scramble[8:]...)
	p = append(p, 0)
	p = append(p, "mysql_native_password"...)
	p = append(p, 0)
	c.Write(mysqlPacket(0, p))
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return
	}
	body := make([]byte, int(hdr[0])|int(hdr[1])<<8|int(hdr[2])<<16)
	if _, err := io.ReadFull(c, body); err != nil {
		return
	}
	rest := body[32:]
	user, rest, _ := bytes.Cut(rest, []byte{0})
	authLen := int(rest[0])
	auth := rest[1 : 1+authLen]
	if f.begin(string(user)) {
		c.Write(mysqlErr(hdr[3]+1, 1129, "HY000", "Host '127.0.0.1' is blocked because of many connection errors"))
		return
	}
	if string(user) == f.user && bytes.Equal(auth, nativeScramble(f.password, scramble)) {
		c.Write(mysqlPacket(hdr[3]+1, []byte{0, 0, 0, 2, 0, 0, 0}))
		io.ReadFull(c, hdr[:]) // the driver's COM_QUIT
		return
	}
	c.Write(mysqlErr(hdr[3]+1, 1045, "28000", "Access denied for user"))
}

// nativeScramble is mysql_native_password's answer: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))).
func nativeScramble(password string, scramble []byte) []byte {
	if password == "" {
		return []byte{}
	}
	h1 := sha1.Sum([]byte(password))
	h2 := sha1.Sum(h1[:])
	h3 := sha1.Sum(append(append([]byte{}, scramble...), h2[:]...))
	for i := range h3 {
		h3[i] ^= h1[i]
	}
	return h3[:]
}

// --- PostgreSQL: cleartext password authentication ---

func (f *fake) postgres(c net.Conn) {
	r := bufio.NewReader(c)
	readMsg := func(typed bool) (byte, []byte, error) {
		var t byte
		if typed {
			var err error
			if t, err = r.ReadByte(); err != nil {
				return 0, nil, err
			}
		}
		var l [4]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return 0, nil, err
		}
		b := make([]byte, binary.BigEndian.Uint32(l[:])-4)
		_, err := io.ReadFull(r, b)
		return t, b, err
	}
	msg := func(t byte, b []byte) []byte {
		return append(binary.BigEndian.AppendUint32([]byte{t}, uint32(len(b)+4)), b...)
	}
	pgErr := func(code, text string) []byte {
		b := append([]byte("SFATAL\x00C"+code+"\x00M"), text...)
		return msg('E', append(b, 0, 0))
	}
	_, startup, err := readMsg(false)
	if err != nil {
		return
	}
	if binary.BigEndian.Uint32(startup) == 80877103 { // SSLRequest
		c.Write([]byte{'N'})
		if _, startup, err = readMsg(false); err != nil {
			return
		}
	}
	params := map[string]string{}
	kv := bytes.Split(startup[4:], []byte{0})
	for i := 0; i+1 < len(kv); i += 2 {
		params[string(kv[i])] = string(kv[i+1])
	}
	user := params["user"]
	if f.begin(user) {
		c.Write(pgErr("53300", "sorry, too many clients already"))
		return
	}
	c.Write(msg('R', []byte{0, 0, 0, 3})) // cleartext password
	_, pw, err := readMsg(true)
	if err != nil {
		return
	}
	if !f.ok(user, string(bytes.TrimRight(pw, "\x00"))) {
		c.Write(pgErr("28P01", "password authentication failed for user"))
		return
	}
	c.Write(msg('R', []byte{0, 0, 0, 0}))
	c.Write(msg('K', []byte{0, 0, 0, 1, 0, 0, 0, 2}))
	c.Write(msg('Z', []byte{'I'}))
	readMsg(true) // Terminate
}

// --- MongoDB: SCRAM-SHA-256 over OP_MSG ---

func (f *fake) mongo(c net.Conn) {
	salt := []byte("0123456789abcdef")
	const iter = 4096
	var bare, serverFirst, nonce string
	throttle := false
	for {
		var hdr [16]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		body := make([]byte, binary.LittleEndian.Uint32(hdr[:])-16)
		if _, err := io.ReadFull(c, body); err != nil {
			return
		}
		cmd, err := bsonDecode(body[5:])
		if err != nil {
			return
		}
		var replyDoc bsonDoc
		payload, _ := cmd["payload"].([]byte)
		switch {
		case cmd["saslStart"] != nil:
			bare = strings.TrimPrefix(string(payload), "n,,")
			user := strings.TrimPrefix(strings.Split(bare, ",")[0], "n=")
			throttle = f.begin(user)
			cnonce := strings.TrimPrefix(strings.Split(bare, ",")[1], "r=")
			nonce = cnonce + "srvnonce"
			serverFirst = fmt.Sprintf("r=%s,s=%s,i=%d", nonce, base64.StdEncoding.EncodeToString(salt), iter)
			replyDoc = bsonDoc{{"conversationId", int32(1)}, {"done", false}, {"payload", []byte(serverFirst)}, {"ok", int32(1)}}
			if f.noSCRAM256 {
				replyDoc = bsonDoc{{"ok", int32(0)}, {"errmsg", "Received authentication for mechanism SCRAM-SHA-256 which is not enabled"}, {"code", int32(334)}}
			}
			if throttle {
				replyDoc = bsonDoc{{"ok", int32(0)}, {"errmsg", "too many authentication attempts"}, {"code", int32(1)}}
			}
		case cmd["saslContinue"] != nil:
			final := string(payload)
			withoutProof, proof64, _ := strings.Cut(final, ",p=")
			auth := bare + "," + serverFirst + "," + withoutProof
			user := strings.TrimPrefix(strings.Split(bare, ",")[0], "n=")
			salted, _ := pbkdf2.Key(sha256.New, f.password, salt, iter, 32)
			mac := func(k []byte, s string) []byte { h := hmac.New(sha256.New, k); h.Write([]byte(s)); return h.Sum(nil) }
			clientKey := mac(salted, "Client Key")
			stored := sha256.Sum256(clientKey)
			want := mac(stored[:], auth)
			for i := range want {
				want[i] ^= clientKey[i]
			}
			proof, _ := base64.StdEncoding.DecodeString(proof64)
			if user == f.user && hmac.Equal(proof, want) {
				sig := mac(mac(salted, "Server Key"), auth)
				replyDoc = bsonDoc{{"conversationId", int32(1)}, {"done", true}, {"payload", []byte("v=" + base64.StdEncoding.EncodeToString(sig))}, {"ok", int32(1)}}
			} else {
				replyDoc = bsonDoc{{"ok", int32(0)}, {"errmsg", "Authentication failed."}, {"code", int32(18)}, {"codeName", "AuthenticationFailed"}}
			}
		default:
			return
		}
		doc := replyDoc.encode()
		out := make([]byte, 16, 21+len(doc))
		binary.LittleEndian.PutUint32(out[12:], mongoOpMsg)
		out = append(binary.LittleEndian.AppendUint32(out, 0), 0)
		out = append(out, doc...)
		binary.LittleEndian.PutUint32(out, uint32(len(out)))
		c.Write(out)
	}
}

// --- SNMP: an agent that answers only its community ---

func (f *fake) snmp(t *testing.T) uint16 {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, msg, _, ok := berRead(buf[:n])
			if !ok {
				continue
			}
			_, _, msg, _ = berRead(msg) // version
			_, community, msg, _ := berRead(msg)
			f.begin("")
			if string(community) != f.password {
				continue // agents drop a wrong community in silence
			}
			_, pdu, _, _ := berRead(msg)
			_, idb, _, _ := berRead(pdu)
			resp := append(berTLV(0x02, idb), berInt(0)...)
			resp = append(resp, berInt(0)...)
			resp = append(resp, berTLV(0x30, nil)...)
			m := append(berInt(1), berTLV(0x04, community)...)
			m = append(m, berTLV(0xa2, resp)...)
			pc.WriteTo(berTLV(0x30, m), from)
		}
	}()
	return uint16(pc.LocalAddr().(*net.UDPAddr).Port)
}
