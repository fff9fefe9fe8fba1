package channels

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// syslogReceiver collects messages sent to a listener on 127.0.0.1:0.
type syslogReceiver struct {
	addr     string
	messages chan string
	errs     chan error
}

func (r *syslogReceiver) next(t *testing.T) string {
	t.Helper()
	select {
	case m := <-r.messages:
		return m
	case err := <-r.errs:
		t.Fatalf("receiver: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("receiver got nothing")
	}
	return ""
}

func startUDPReceiver(t *testing.T) *syslogReceiver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &syslogReceiver{addr: pc.LocalAddr().String(), messages: make(chan string, 10), errs: make(chan error, 10)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 70000)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			r.messages <- string(buf[:n])
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return r
}

// startStreamReceiver accepts TCP (or, with config, TLS) connections and
// reads octet-counted frames until each connection ends.
func startStreamReceiver(t *testing.T, config *tls.Config) *syslogReceiver {
	t.Helper()
	var ln net.Listener
	var err error
	if config != nil {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", config)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	r := &syslogReceiver{addr: ln.Addr().String(), messages: make(chan string, 10), errs: make(chan error, 10)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			if err := readFrames(conn, r.messages); err != nil {
				r.errs <- err
			}
			conn.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return r
}

// readFrames reads "LEN SP MSG" frames (RFC 6587 3.4.1) until a clean end
// of stream between frames.
func readFrames(conn net.Conn, out chan<- string) error {
	br := bufio.NewReader(conn)
	for {
		length, err := br.ReadString(' ')
		if err == io.EOF && length == "" {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading frame length: %w", err)
		}
		n, err := strconv.Atoi(strings.TrimSuffix(length, " "))
		if err != nil || n <= 0 || strings.HasPrefix(length, "0") {
			return fmt.Errorf("bad frame length %q", length)
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(br, msg); err != nil {
			return fmt.Errorf("reading %d-byte frame: %w", n, err)
		}
		out <- string(msg)
	}
}

// selfSignedTLS returns a server config with a fresh certificate for
// 127.0.0.1 and a client config that trusts only it.
func selfSignedTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "syslog test receiver"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	client = &tls.Config{RootCAs: roots}
	return server, client
}

// awkwardAlert has every delimiter the formats must escape in its fields.
func awkwardAlert() Alert {
	a := testAlert()
	a.Asset = `web"01\]`
	a.Zone = "dmz|east=1"
	a.Title = `Port | open \ on "web01"`
	a.Detail = "first line\nsecond=line\\"
	a.Service = "caf\u00e9"
	return a
}

func TestSyslogDelivery(t *testing.T) {
	serverTLS, clientTLS := selfSignedTLS(t)
	tests := []struct {
		name    string
		network string
		start   func(t *testing.T) *syslogReceiver
		tls     *tls.Config
	}{
		{"udp", NetworkUDP, startUDPReceiver, nil},
		{"tcp", NetworkTCP, func(t *testing.T) *syslogReceiver { return startStreamReceiver(t, nil) }, nil},
		{"tls", NetworkTLS, func(t *testing.T) *syslogReceiver { return startStreamReceiver(t, serverTLS) }, clientTLS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			receiver := tt.start(t)
			ch := &Syslog{Network: tt.network, Address: receiver.addr, TLSConfig: tt.tls, Hostname: "portcullis-1"}
			a := awkwardAlert()
			before := time.Now().Add(-time.Second)
			if err := ch.Deliver(context.Background(), a); err != nil {
				t.Fatalf("Deliver: %v", err)
			}
			m, err := parseRFC5424(receiver.next(t))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if m.Timestamp.Before(before) || m.Timestamp.After(time.Now().Add(time.Second)) {
				t.Errorf("timestamp %v is not now", m.Timestamp)
			}
			if want := 10*8 + 3; m.Priority != want { // authpriv, error
				t.Errorf("PRI = %d, want %d", m.Priority, want)
			}
			got := []string{m.Hostname, m.AppName, m.ProcID, m.MsgID}
			want := []string{"portcullis-1", "portcullis", strconv.Itoa(os.Getpid()), "drift.new_port"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("header fields (-want +got):\n%s", diff)
			}
			wantSD := []sdElement{{ID: "portcullis@32473", Params: [][2]string{
				{"id", "drift-42"}, {"kind", "drift.new_port"}, {"severity", "high"},
				{"asset", `web"01\]`}, {"zone", "dmz|east=1"}, {"classification", "dmz"},
				{"protocol", "tcp"}, {"port", "8443"}, {"service", "café"}, {"requestId", "17"},
				{"firstSeen", "2026-11-25T09:30:00Z"}, {"link", "https://portcullis.example.com/drift/42"},
			}}}
			if diff := cmp.Diff(wantSD, m.SD, cmp.AllowUnexported(sdElement{})); diff != "" {
				t.Errorf("structured data (-want +got):\n%s", diff)
			}
			// The detail's line break is flattened; the text is ASCII so no BOM.
			if want := `Port | open \ on "web01": first line second=line\`; m.Msg != want {
				t.Errorf("MSG = %q, want %q", m.Msg, want)
			}
		})
	}
}

func TestSyslogMessageExact(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
	a := testAlert()
	a.Severity = SeverityCritical
	a.Title = "Neuer Port auf wéb01"
	a.Detail = ""
	ch := &Syslog{Network: NetworkUDP, Address: "unused", Hostname: "host with space", AppName: "pc", Facility: 4, EnterpriseNumber: 99999}
	got, err := ch.Message(a, now)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`<34>1 2026-11-25T09:00:00.123456Z host_with_space pc %d drift.new_port `+
		`[portcullis@99999 id="drift-42" kind="drift.new_port" severity="critical" asset="web01" zone="dmz-east" `+
		`classification="dmz" protocol="tcp" port="8443" service="https-alt" requestId="17" firstSeen="2026-11-25T09:30:00Z" `+
		`link="https://portcullis.example.com/drift/42"] `+"\uFEFF"+`Neuer Port auf wéb01`, os.Getpid())
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
}

func TestSyslogSeverityMapping(t *testing.T) {
	tests := []struct {
		severity string
		syslog   int
		cef      int
	}{
		{SeverityInfo, 6, 1},
		{SeverityLow, 5, 3},
		{SeverityMedium, 4, 5},
		{SeverityHigh, 3, 8},
		{SeverityCritical, 2, 10},
		{"HIGH", 3, 8},
		{"bogus", 2, 10}, // unknown severities are treated as critical
	}
	for _, tt := range tests {
		if got := syslogSeverity(tt.severity); got != tt.syslog {
			t.Errorf("syslogSeverity(%q) = %d, want %d", tt.severity, got, tt.syslog)
		}
		if got := cefSeverity(tt.severity); got != tt.cef {
			t.Errorf("cefSeverity(%q) = %d, want %d", tt.severity, got, tt.cef)
		}
	}
}

func TestSyslogCEF(t *testing.T) {
	receiver := startStreamReceiver(t, nil)
	ch := &Syslog{Network: NetworkTCP, Address: receiver.addr, Format: FormatCEF, ProductVersion: "1.4|beta"}
	a := awkwardAlert()
	a.Asset = "10.1.2.3"
	a.Link = "https://portcullis.example.com/drift/42?tab=scan"
	if err := ch.Deliver(context.Background(), a); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	m, err := parseRFC5424(receiver.next(t))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if m.SD != nil {
		t.Errorf("CEF messages carry no structured data, got %v", m.SD)
	}
	if !strings.HasPrefix(m.Msg, "CEF:0|") {
		t.Fatalf("MSG %q does not start with CEF:0|", m.Msg)
	}
	if strings.ContainsAny(m.Msg, "\r\n") {
		t.Errorf("CEF event %q has a raw line break", m.Msg)
	}
	ev, err := parseCEF(m.Msg)
	if err != nil {
		t.Fatalf("parseCEF: %v", err)
	}
	wantHeader := []string{"0", "Portcullis", "Portcullis", "1.4|beta", "drift.new_port", `Port | open \ on "web01"`, "8"}
	if diff := cmp.Diff(wantHeader, ev.Header); diff != "" {
		t.Errorf("CEF header (-want +got):\n%s", diff)
	}
	rt := ev.Extension["rt"]
	if _, err := strconv.ParseInt(rt, 10, 64); err != nil {
		t.Errorf("rt = %q, want milliseconds", rt)
	}
	delete(ev.Extension, "rt")
	wantExt := map[string]string{
		"externalId": "drift-42",
		"start":      strconv.FormatInt(a.FirstSeen.UnixMilli(), 10),
		"dst":        "10.1.2.3",
		"dpt":        "8443",
		"proto":      "TCP",
		"app":        "café",
		"request":    "https://portcullis.example.com/drift/42?tab=scan",
		"msg":        "first line\nsecond=line\\",
		"cs1Label":   "zone",
		"cs1":        "dmz|east=1",
		"cs2Label":   "classification",
		"cs2":        "dmz",
		"cn1Label":   "requestId",
		"cn1":        "17",
	}
	if diff := cmp.Diff(wantExt, ev.Extension); diff != "" {
		t.Errorf("CEF extension (-want +got):\n%s", diff)
	}
	for _, escaped := range []string{`1.4\|beta`, `Port \| open \\ on`, `msg=first line\nsecond\=line\\`, `tab\=scan`} {
		if !strings.Contains(m.Msg, escaped) {
			t.Errorf("CEF event %q lacks %q", m.Msg, escaped)
		}
	}
}

func TestSyslogRefusesBadConfiguration(t *testing.T) {
	tests := []struct {
		name string
		ch   Syslog
	}{
		{"network", Syslog{Network: "http", Address: "127.0.0.1:1"}},
		{"address", Syslog{Network: NetworkUDP}},
		{"format", Syslog{Network: NetworkUDP, Address: "127.0.0.1:1", Format: "json"}},
		{"facility", Syslog{Network: NetworkUDP, Address: "127.0.0.1:1", Facility: 24}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.ch.Deliver(context.Background(), testAlert())
			if err == nil || !IsPermanent(err) {
				t.Errorf("Deliver = %v, want a permanent error", err)
			}
		})
	}
}

func TestSyslogDefaultPort(t *testing.T) {
	tests := []struct {
		network, address, want string
	}{
		{NetworkUDP, "collector", "collector:514"},
		{NetworkTCP, "collector:1514", "collector:1514"},
		{NetworkTLS, "collector", "collector:6514"},
		{NetworkTLS, "::1", "[::1]:6514"},
		{NetworkTLS, "[::1]", "[::1]:6514"},
	}
	for _, tt := range tests {
		got, err := (&Syslog{Network: tt.network, Address: tt.address}).address()
		if err != nil || got != tt.want {
			t.Errorf("address(%s %s) = %q, %v; want %q", tt.network, tt.address, got, err, tt.want)
		}
	}
}

func TestSyslogConnectionRefusedIsRetryable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	err = (&Syslog{Network: NetworkTCP, Address: addr}).Deliver(context.Background(), testAlert())
	if err == nil || IsPermanent(err) {
		t.Errorf("Deliver to a closed port = %v, want a retryable error", err)
	}
}

func TestSyslogTLSRefusesUntrustedServer(t *testing.T) {
	serverTLS, _ := selfSignedTLS(t)
	receiver := startStreamReceiver(t, serverTLS)
	err := (&Syslog{Network: NetworkTLS, Address: receiver.addr}).Deliver(context.Background(), testAlert())
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("Deliver to an untrusted server = %v, want an unknown authority error", err)
	}
	// The receiver sees the failed handshake; drain it.
	select {
	case <-receiver.errs:
	case <-time.After(5 * time.Second):
	}
}

func TestSyslogCancelled(t *testing.T) {
	// A plain TCP listener that never answers: the TLS handshake blocks
	// until the context ends.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if conn, err := ln.Accept(); err == nil {
			accepted <- conn
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err = (&Syslog{Network: NetworkTLS, Address: ln.Addr().String()}).Deliver(ctx, testAlert())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Deliver = %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Deliver took %v after cancellation", elapsed)
	}
	select {
	case conn := <-accepted:
		conn.Close()
	case <-time.After(5 * time.Second):
	}
}

func TestCEFDestinationKey(t *testing.T) {
	for asset, key := range map[string]string{"10.0.0.1": "dst", "web01": "dhost", "2001:db8::1": "dhost"} {
		a := testAlert()
		a.Asset = asset
		var b strings.Builder
		writeCEF(&b, a, "1", time.Now())
		ev, err := parseCEF(b.String())
		if err != nil {
			t.Fatal(err)
		}
		if ev.Extension[key] != asset {
			t.Errorf("asset %s: extension %v lacks %s=%s", asset, ev.Extension, key, asset)
		}
	}
}
