package channels

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// smtpServer is just enough of an SMTP server on 127.0.0.1:0 for the
// tests: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, QUIT.
type smtpServer struct {
	addr string
	// rcptReplies answers RCPT for the given addresses instead of 250.
	rcptReplies map[string]string
	noAuth      bool
	tlsConfig   *tls.Config // offers STARTTLS when set

	mu          sync.Mutex
	connections int
	messages    []smtpMessage
}

type smtpMessage struct {
	TLS  bool   // whether the message came after STARTTLS
	Auth string // the decoded AUTH PLAIN response, if any
	From string
	To   []string
	Data []byte
}

func startSMTPServer(t *testing.T, configure func(*smtpServer)) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{addr: ln.Addr().String()}
	if configure != nil {
		configure(s)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.connections++
			s.mu.Unlock()
			wg.Go(func() { s.serve(conn) })
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return s
}

func (s *smtpServer) serve(conn net.Conn) {
	defer func() { conn.Close() }() // conn changes after STARTTLS
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	reply := func(lines ...string) { io.WriteString(conn, strings.Join(lines, "\r\n")+"\r\n") }
	reply("220 test.local ESMTP")
	var msg smtpMessage
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			lines := []string{"250-test.local", "250-8BITMIME"}
			if s.tlsConfig != nil && !msg.TLS {
				lines = append(lines, "250-STARTTLS")
			}
			if !s.noAuth {
				lines = append(lines, "250-AUTH PLAIN")
			}
			lines[len(lines)-1] = strings.Replace(lines[len(lines)-1], "-", " ", 1)
			reply(lines...)
		case "STARTTLS":
			if s.tlsConfig == nil || msg.TLS {
				reply("502 not now")
				continue
			}
			reply("220 ready")
			tlsConn := tls.Server(conn, s.tlsConfig)
			if err := tlsConn.Handshake(); err != nil {
				return
			}
			conn, r = tlsConn, bufio.NewReader(tlsConn)
			msg = smtpMessage{TLS: true}
		case "AUTH":
			encoded := strings.TrimPrefix(arg, "PLAIN ")
			decoded, err := base64.StdEncoding.DecodeString(encoded)
			if err != nil {
				reply("501 bad base64")
				continue
			}
			msg.Auth = string(decoded)
			reply("235 2.7.0 accepted")
		case "MAIL":
			from, _, _ := strings.Cut(strings.TrimPrefix(arg, "FROM:<"), ">")
			msg.From = from
			reply("250 2.1.0 ok")
		case "RCPT":
			to, _, _ := strings.Cut(strings.TrimPrefix(arg, "TO:<"), ">")
			if answer, ok := s.rcptReplies[to]; ok {
				reply(answer)
				continue
			}
			msg.To = append(msg.To, to)
			reply("250 2.1.5 ok")
		case "DATA":
			reply("354 go ahead")
			var data bytes.Buffer
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, ".")) // undo dot-stuffing
			}
			msg.Data = data.Bytes()
			s.mu.Lock()
			s.messages = append(s.messages, msg)
			s.mu.Unlock()
			msg = smtpMessage{TLS: msg.TLS, Auth: msg.Auth}
			reply("250 2.0.0 queued")
		case "RSET":
			msg = smtpMessage{TLS: msg.TLS, Auth: msg.Auth}
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}

func (s *smtpServer) received() ([]smtpMessage, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMessage(nil), s.messages...), s.connections
}

func testEmail(addr string) *Email {
	return &Email{
		Addr:      addr,
		From:      "Portcullis <portcullis@example.com>",
		To:        []string{"soc@example.com", "Night Shift <oncall@example.com>"},
		LocalName: "portcullis.test",
	}
}

func decodeHeader(t *testing.T, v string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		t.Fatalf("decoding %q: %v", v, err)
	}
	return s
}

// checkCRLF fails if data has a line break that is not CRLF.
func checkCRLF(t *testing.T, data []byte) {
	t.Helper()
	for i, c := range data {
		if c == '\n' && (i == 0 || data[i-1] != '\r') {
			t.Fatalf("bare LF at byte %d", i)
		}
		if c == '\r' && (i+1 == len(data) || data[i+1] != '\n') {
			t.Fatalf("bare CR at byte %d", i)
		}
	}
}

func headerNames(h mail.Header) []string {
	var names []string
	for name := range h {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

var wantHeaderNames = []string{
	"Auto-Submitted", "Content-Transfer-Encoding", "Content-Type", "Date", "From", "Message-Id",
	"Mime-Version", "Subject", "To", "X-Portcullis-Alert-Id", "X-Portcullis-Severity",
}

func TestEmailDelivery(t *testing.T) {
	server := startSMTPServer(t, nil)
	ch := testEmail(server.addr)
	ch.Username, ch.Password = "portcullis", "pa55" // allowed in clear to localhost only
	a := testAlert()
	a.Detail = "line one\r.line starting with a dot\nline\x00three"
	if err := ch.Deliver(context.Background(), a); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	messages, _ := server.received()
	if len(messages) != 1 {
		t.Fatalf("server got %d messages, want 1", len(messages))
	}
	got := messages[0]
	if got.Auth != "\x00portcullis\x00pa55" {
		t.Errorf("AUTH PLAIN response %q", got.Auth)
	}
	if diff := cmp.Diff([]string{"soc@example.com", "oncall@example.com"}, got.To); diff != "" || got.From != "portcullis@example.com" {
		t.Errorf("envelope from %q, to (-want +got):\n%s", got.From, diff)
	}
	checkCRLF(t, got.Data)
	m, err := mail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	if diff := cmp.Diff(wantHeaderNames, headerNames(m.Header)); diff != "" {
		t.Errorf("header names (-want +got):\n%s", diff)
	}
	if got, want := m.Header.Get("Subject"), "[Portcullis] high drift.new_port: web01:8443"; got != want {
		t.Errorf("Subject = %q, want %q", got, want)
	}
	if date, err := m.Header.Date(); err != nil || time.Since(date) > time.Minute {
		t.Errorf("Date %q: %v", m.Header.Get("Date"), err)
	}
	if id := m.Header.Get("Message-Id"); !regexp.MustCompile(`^<alert\.[0-9a-f]{32}@example\.com>$`).MatchString(id) {
		t.Errorf("Message-ID = %q", id)
	}
	to, err := m.Header.AddressList("To")
	if err != nil || len(to) != 2 || to[1].Name != "Night Shift" {
		t.Errorf("To = %v, %v", to, err)
	}
	if m.Header.Get("Content-Transfer-Encoding") != "7bit" {
		t.Errorf("Content-Transfer-Encoding = %q, want 7bit", m.Header.Get("Content-Transfer-Encoding"))
	}
	body, _ := io.ReadAll(m.Body)
	for _, want := range []string{
		"New open port on web01\r\n",
		"Port:           8443/tcp\r\n",
		"Link:           https://portcullis.example.com/drift/42\r\n",
		"\r\nline one\r\n.line starting with a dot\r\nline three\r\n",
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

func TestEmailStartTLS(t *testing.T) {
	serverTLS, clientTLS := selfSignedTLS(t)
	server := startSMTPServer(t, func(s *smtpServer) { s.tlsConfig = serverTLS })
	ch := testEmail(server.addr)
	ch.StartTLS, ch.TLSConfig = true, clientTLS
	ch.Username, ch.Password = "portcullis", "pa55"
	if err := ch.Deliver(context.Background(), testAlert()); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	messages, _ := server.received()
	if len(messages) != 1 || !messages[0].TLS || messages[0].Auth != "\x00portcullis\x00pa55" {
		t.Fatalf("messages = %+v, want one, authenticated, over TLS", messages)
	}

	// Without the test root the server's certificate is refused and nothing
	// is sent.
	ch.TLSConfig = nil
	if err := ch.Deliver(context.Background(), testAlert()); err == nil {
		t.Error("Deliver trusted a self-signed certificate")
	}
	if messages, _ := server.received(); len(messages) != 1 {
		t.Errorf("server has %d messages, want still 1", len(messages))
	}
}

func TestEmailHeaderInjection(t *testing.T) {
	server := startSMTPServer(t, nil)
	a := testAlert()
	a.Asset = "web01\r\nBcc: victim@example.net"
	a.Kind = "drift\nX-Injected: yes"
	a.ID = "drift-42\r\nReply-To: attacker@example.net"
	a.Severity = "high\r\nCc: other@example.net"
	if err := testEmail(server.addr).Deliver(context.Background(), a); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	messages, _ := server.received()
	if len(messages) != 1 {
		t.Fatalf("server got %d messages, want 1", len(messages))
	}
	checkCRLF(t, messages[0].Data)
	m, err := mail.ReadMessage(bytes.NewReader(messages[0].Data))
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	if diff := cmp.Diff(wantHeaderNames, headerNames(m.Header)); diff != "" {
		t.Errorf("header names (-want +got):\n%s", diff)
	}
	// The unknown severity is shown as critical, the injected text stays in
	// the subject, on its line.
	want := "[Portcullis] critical drift X-Injected: yes: web01  Bcc: victim@example.net:8443"
	if got := decodeHeader(t, m.Header.Get("Subject")); got != want {
		t.Errorf("Subject = %q, want %q", got, want)
	}
}

func TestEmailNonASCII(t *testing.T) {
	a := testAlert()
	a.Asset = "wéb01-" + strings.Repeat("ä", 40)
	a.Detail = strings.Repeat("long line ", 120) // over 998 characters
	ch := testEmail("127.0.0.1:25")
	ch.From = "Pörtcullis <portcullis@example.com>"
	data, err := ch.Message(a, time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	checkCRLF(t, data)
	for i, line := range strings.Split(string(data), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line %d has %d characters", i, len(line))
		}
		if !isASCII(line) {
			t.Errorf("line %d is not ASCII: %q", i, line)
		}
	}
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := decodeHeader(t, m.Header.Get("Subject")), "[Portcullis] high drift.new_port: "+a.Asset+":8443"; got != want {
		t.Errorf("Subject = %q, want %q", got, want)
	}
	if from, err := m.Header.AddressList("From"); err != nil || from[0].Name != "Pörtcullis" {
		t.Errorf("From = %v, %v", from, err)
	}
	if cte := m.Header.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
		t.Fatalf("Content-Transfer-Encoding = %q", cte)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), "Asset:          "+a.Asset+"\r\n") || !strings.Contains(string(body), a.Detail) {
		t.Errorf("decoded body lacks the asset or the detail:\n%s", body)
	}
}

func TestEmailFailures(t *testing.T) {
	tests := []struct {
		name          string
		configure     func(*smtpServer)
		email         func(addr string) *Email
		wantPermanent bool
		wantDialled   bool
	}{
		{
			name:          "recipient rejected",
			configure:     func(s *smtpServer) { s.rcptReplies = map[string]string{"oncall@example.com": "550 5.1.1 no such user"} },
			email:         testEmail,
			wantPermanent: true,
			wantDialled:   true,
		},
		{
			name:        "recipient deferred",
			configure:   func(s *smtpServer) { s.rcptReplies = map[string]string{"soc@example.com": "451 4.3.0 try later"} },
			email:       testEmail,
			wantDialled: true,
		},
		{
			name: "StartTLS not offered",
			email: func(addr string) *Email {
				e := testEmail(addr)
				e.StartTLS = true
				return e
			},
			wantPermanent: true,
			wantDialled:   true,
		},
		{
			name:      "AUTH not offered",
			configure: func(s *smtpServer) { s.noAuth = true },
			email: func(addr string) *Email {
				e := testEmail(addr)
				e.Username, e.Password = "u", "p"
				return e
			},
			wantPermanent: true,
			wantDialled:   true,
		},
		{
			// The same server, named so that it does not look local: the
			// password must not be sent, so no connection is made.
			name: "password without TLS",
			email: func(addr string) *Email {
				_, port, _ := net.SplitHostPort(addr)
				e := testEmail(net.JoinHostPort("::ffff:127.0.0.1", port))
				e.Username, e.Password = "u", "p"
				return e
			},
			wantPermanent: true,
		},
		{
			name: "bad sender",
			email: func(addr string) *Email {
				e := testEmail(addr)
				e.From = "not an address"
				return e
			},
			wantPermanent: true,
		},
		{
			name: "no recipients",
			email: func(addr string) *Email {
				e := testEmail(addr)
				e.To = nil
				return e
			},
			wantPermanent: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server := startSMTPServer(t, tt.configure)
			err := tt.email(server.addr).Deliver(context.Background(), testAlert())
			if err == nil || IsPermanent(err) != tt.wantPermanent {
				t.Errorf("Deliver = %v (permanent %v), want permanent %v", err, IsPermanent(err), tt.wantPermanent)
			}
			messages, connections := server.received()
			if len(messages) != 0 {
				t.Errorf("server got %d messages, want none", len(messages))
			}
			if (connections > 0) != tt.wantDialled {
				t.Errorf("server saw %d connections, want dialled %v", connections, tt.wantDialled)
			}
		})
	}
}

func TestEmailCancelled(t *testing.T) {
	// A server that accepts and never greets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		conn, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, conn)
			conn.Close()
		}
	})
	defer wg.Wait()
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err = testEmail(ln.Addr().String()).Deliver(ctx, testAlert())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Deliver = %v, want context.Canceled", err)
	}
}

func TestWriteFolded(t *testing.T) {
	var b bytes.Buffer
	value := strings.TrimSpace(strings.Repeat("word ", 40))
	writeFolded(&b, "Subject", value)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\r\n"), "\r\n")
	if len(lines) < 3 {
		t.Fatalf("not folded: %q", b.String())
	}
	for _, line := range lines {
		if len(line) > 78 {
			t.Errorf("line of %d characters: %q", len(line), line)
		}
	}
	if unfolded := strings.ReplaceAll(b.String(), "\r\n ", " "); unfolded != fmt.Sprintf("Subject: %s\r\n", value) {
		t.Errorf("unfolds to %q", unfolded)
	}
}
