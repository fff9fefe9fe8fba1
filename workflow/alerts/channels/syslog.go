package channels

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// The message formats a Syslog channel can send.
const (
	FormatRFC5424 = "rfc5424" // human text in MSG, the fields in structured data
	FormatCEF     = "cef"     // MSG is an ArcSight Common Event Format event
)

// The syslog transports.
const (
	NetworkUDP = "udp" // RFC 5426: one datagram per message
	NetworkTCP = "tcp" // RFC 6587 with octet-counting framing
	NetworkTLS = "tls" // RFC 5425: TLS, octet-counting framing
)

const (
	// DefaultFacility is authpriv (10), one of RFC 5424's two
	// "security/authorization" facilities. Common syslog daemon
	// configurations write it only to files readers need privileges for,
	// which suits alerts that name internal hosts and open ports.
	DefaultFacility = 10

	// DefaultEnterpriseNumber is 32473, the IANA private enterprise number
	// reserved for documentation (RFC 5612). Structured data is identified
	// as "portcullis@<number>"; an organisation with its own number should
	// set Syslog.EnterpriseNumber.
	DefaultEnterpriseNumber = 32473
)

// Lengths above which the title and detail are cut, with an ellipsis, so a
// message fits comfortably in a UDP datagram and in the receivers' buffers.
// The full text is in Portcullis behind the alert's Link.
const (
	syslogTitleMax  = 256
	syslogDetailMax = 2048
	udpPayloadMax   = 65000
)

// Syslog sends each alert as one RFC 5424 message to a syslog receiver or a
// SIEM collector.
//
// Every delivery opens its own connection and closes it afterwards: alerts
// are rare, and a fresh connection never fails because a receiver silently
// dropped an idle one. Syslog has no acknowledgement: over TCP and TLS a
// delivery counts as done once the message is written and the connection
// closed cleanly, over UDP once the datagram is sent. A receiver that
// discards the message, or over UDP is not there at all, goes unnoticed;
// prefer TLS.
type Syslog struct {
	Network string // "udp", "tcp" or "tls"
	// Address is host:port; without a port, 514 (udp, tcp) or 6514 (tls).
	Address string
	// TLSConfig is used for "tls"; nil means the system roots, with the
	// server name taken from Address.
	TLSConfig *tls.Config
	Format    string // "rfc5424" (the default when empty) or "cef"

	Hostname string // HOSTNAME field; empty means this machine's host name
	AppName  string // APP-NAME field; empty means "portcullis"
	// Facility is the syslog facility, 1 to 23; 0 means DefaultFacility.
	// (Facility 0 is the kernel's, never an application's.)
	Facility int
	// EnterpriseNumber identifies the structured data; 0 means
	// DefaultEnterpriseNumber.
	EnterpriseNumber int
	// ProductVersion is the Device Version of CEF events; empty means
	// "unknown".
	ProductVersion string
	// Label names the channel in delivery results; empty means
	// "syslog <network>://<address>".
	Label string
}

// Name identifies the channel in delivery results.
func (s *Syslog) Name() string {
	if s.Label != "" {
		return s.Label
	}
	return "syslog " + s.Network + "://" + s.Address
}

// Deliver sends a as one message over a new connection.
func (s *Syslog) Deliver(ctx context.Context, a Alert) error {
	address, err := s.address()
	if err != nil {
		return Permanent(err)
	}
	msg, err := s.Message(a, time.Now())
	if err != nil {
		return Permanent(err)
	}
	payload := msg
	if s.Network == NetworkUDP {
		if len(msg) > udpPayloadMax {
			return Permanent(fmt.Errorf("syslog: message of %d bytes is too large for UDP", len(msg)))
		}
	} else {
		// Octet counting (RFC 6587 3.4.1, RFC 5425 4.3): "LEN SP MSG".
		payload = append([]byte(strconv.Itoa(len(msg))+" "), msg...)
	}

	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	conn, err := s.dial(ctx, address)
	if err != nil {
		return ctxErr(ctx, fmt.Errorf("syslog: %w", err))
	}
	stop := bindConn(ctx, conn)
	defer stop()
	if _, err := conn.Write(payload); err != nil {
		conn.Close()
		return ctxErr(ctx, fmt.Errorf("syslog: %w", err))
	}
	// Closing a TLS connection sends close_notify; its failure means the
	// message may not have left.
	if err := conn.Close(); err != nil {
		return ctxErr(ctx, fmt.Errorf("syslog: %w", err))
	}
	return nil
}

// address validates the transport and returns Address with its default
// port filled in.
func (s *Syslog) address() (string, error) {
	port := "514"
	switch s.Network {
	case NetworkUDP, NetworkTCP:
	case NetworkTLS:
		port = "6514"
	default:
		return "", fmt.Errorf("syslog: network %q is not udp, tcp or tls", s.Network)
	}
	if s.Address == "" {
		return "", errors.New("syslog: no address configured")
	}
	if _, _, err := net.SplitHostPort(s.Address); err == nil {
		return s.Address, nil
	}
	return net.JoinHostPort(strings.Trim(s.Address, "[]"), port), nil
}

func (s *Syslog) dial(ctx context.Context, address string) (net.Conn, error) {
	if s.Network == NetworkTLS {
		config := s.TLSConfig
		if config == nil {
			config = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		// The dialer takes the server name from address when config has none.
		d := &tls.Dialer{Config: config}
		return d.DialContext(ctx, "tcp", address)
	}
	var d net.Dialer
	return d.DialContext(ctx, s.Network, address)
}

// Message renders a as the RFC 5424 message Deliver would send at now,
// without transport framing:
//
//	<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG
//
// PRI combines the facility with a syslog severity mapped from the alert's
// (critical 2, high 3, medium 4, low 5, info 6); MSGID is the alert's kind.
// In the rfc5424 format the alert's fields are structured data
// [portcullis@32473 id="…" kind="…" …] and MSG is the title and detail,
// preceded by a byte order mark when not plain ASCII, as RFC 5424 asks. In
// the cef format the structured data is "-" and MSG is a CEF event with no
// byte order mark, since CEF parsers expect "CEF:" first.
func (s *Syslog) Message(a Alert, now time.Time) ([]byte, error) {
	facility := s.Facility
	if facility == 0 {
		facility = DefaultFacility
	}
	if facility < 1 || facility > 23 {
		return nil, fmt.Errorf("syslog: facility %d is not between 1 and 23", s.Facility)
	}
	enterprise := s.EnterpriseNumber
	if enterprise == 0 {
		enterprise = DefaultEnterpriseNumber
	}
	if enterprise < 0 {
		return nil, fmt.Errorf("syslog: enterprise number %d is negative", enterprise)
	}
	hostname := s.Hostname
	if hostname == "" {
		hostname, _ = os.Hostname()
	}
	appName := s.AppName
	if appName == "" {
		appName = "portcullis"
	}
	a.Title = truncate(a.Title, syslogTitleMax)
	a.Detail = truncate(a.Detail, syslogDetailMax)

	var b strings.Builder
	fmt.Fprintf(&b, "<%d>1 %s %s %s %d %s ",
		facility*8+syslogSeverity(a.Severity),
		now.UTC().Format("2006-01-02T15:04:05.000000Z07:00"),
		headerField(hostname, 255),
		headerField(appName, 48),
		os.Getpid(),
		headerField(a.Kind, 32))

	switch s.Format {
	case FormatRFC5424, "":
		writeStructuredData(&b, a, enterprise)
		b.WriteByte(' ')
		text := oneLine(a.Title)
		if a.Detail != "" {
			text += ": " + oneLine(a.Detail)
		}
		if !isASCII(text) {
			b.WriteString("\uFEFF")
		}
		b.WriteString(text)
	case FormatCEF:
		b.WriteString("- ")
		version := s.ProductVersion
		if version == "" {
			version = "unknown"
		}
		writeCEF(&b, a, version, now)
	default:
		return nil, fmt.Errorf("syslog: format %q is not rfc5424 or cef", s.Format)
	}
	return []byte(b.String()), nil
}

// syslogSeverity maps an alert severity to the RFC 5424 severity code.
func syslogSeverity(severity string) int {
	// info, low, medium, high, critical
	return [...]int{6, 5, 4, 3, 2}[severityRank(severity)]
}

// cefSeverity maps an alert severity to CEF's 0 to 10 scale, whose bands are
// low 0-3, medium 4-6, high 7-8 and very high 9-10.
func cefSeverity(severity string) int {
	return [...]int{1, 3, 5, 8, 10}[severityRank(severity)]
}

// headerField makes s a valid RFC 5424 header field: printable US-ASCII
// without spaces, at most max characters, "-" (the nil value) when empty.
func headerField(s string, max int) string {
	out := []byte(s)
	for i, c := range out {
		if c < 33 || c > 126 {
			out[i] = '_'
		}
	}
	if len(out) > max {
		out = out[:max]
	}
	if len(out) == 0 {
		return "-"
	}
	return string(out)
}

func writeStructuredData(b *strings.Builder, a Alert, enterprise int) {
	fmt.Fprintf(b, "[portcullis@%d", enterprise)
	param := func(name, value string) {
		if value == "" {
			return
		}
		b.WriteString(" " + name + `="` + EscapeSDValue(value) + `"`)
	}
	param("id", a.ID)
	param("kind", a.Kind)
	param("severity", normalSeverity(a.Severity))
	param("asset", a.Asset)
	param("zone", a.Zone)
	param("classification", a.Classification)
	param("protocol", a.Protocol)
	if a.Port != 0 {
		param("port", strconv.Itoa(a.Port))
	}
	param("service", a.Service)
	if a.RequestID != 0 {
		param("requestId", strconv.FormatInt(a.RequestID, 10))
	}
	if !a.FirstSeen.IsZero() {
		param("firstSeen", a.FirstSeen.UTC().Format(time.RFC3339))
	}
	param("link", a.Link)
	b.WriteByte(']')
}

var sdValueEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`)

// EscapeSDValue escapes s for an RFC 5424 structured-data parameter value:
// a backslash before each '"', '\' and ']'. Control characters become
// spaces and invalid UTF-8 becomes U+FFFD first, because many collectors
// split on line breaks whatever the framing.
func EscapeSDValue(s string) string {
	return sdValueEscaper.Replace(oneLine(s))
}

var cefHeaderEscaper = strings.NewReplacer(`\`, `\\`, `|`, `\|`)

// EscapeCEFHeader escapes s for a field of the CEF header (the part before
// the extension): a backslash before each '|' and '\'. Line breaks are not
// allowed there, so control characters become spaces.
func EscapeCEFHeader(s string) string {
	return cefHeaderEscaper.Replace(oneLine(s))
}

var cefExtensionEscaper = strings.NewReplacer(`\`, `\\`, `=`, `\=`, "\r", `\r`, "\n", `\n`)

// EscapeCEFExtension escapes s for a CEF extension value: a backslash before
// each '=' and '\', and line breaks written as \n and \r. Other control
// characters become spaces, invalid UTF-8 U+FFFD.
func EscapeCEFExtension(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if isControl(r) && r != '\r' && r != '\n' {
			return ' '
		}
		return r
	}, s)
	return cefExtensionEscaper.Replace(s)
}

// writeCEF writes a as a CEF:0 event. Extension keys are from the CEF key
// dictionary; zone, classification and the request number, which it has no
// keys for, go in labelled custom fields.
func writeCEF(b *strings.Builder, a Alert, version string, now time.Time) {
	fmt.Fprintf(b, "CEF:0|Portcullis|Portcullis|%s|%s|%s|%d|",
		EscapeCEFHeader(version), EscapeCEFHeader(a.Kind), EscapeCEFHeader(a.Title), cefSeverity(a.Severity))
	first := true
	ext := func(key, value string) {
		if value == "" {
			return
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		b.WriteString(key + "=" + EscapeCEFExtension(value))
	}
	ext("externalId", a.ID)
	ext("rt", strconv.FormatInt(now.UnixMilli(), 10))
	if !a.FirstSeen.IsZero() {
		ext("start", strconv.FormatInt(a.FirstSeen.UnixMilli(), 10))
	}
	if addr, err := netip.ParseAddr(a.Asset); err == nil && addr.Is4() {
		ext("dst", a.Asset)
	} else {
		ext("dhost", a.Asset)
	}
	if a.Port != 0 {
		ext("dpt", strconv.Itoa(a.Port))
	}
	ext("proto", strings.ToUpper(a.Protocol))
	ext("app", a.Service)
	ext("request", a.Link)
	ext("msg", a.Detail)
	if a.Zone != "" {
		ext("cs1Label", "zone")
		ext("cs1", a.Zone)
	}
	if a.Classification != "" {
		ext("cs2Label", "classification")
		ext("cs2", a.Classification)
	}
	if a.RequestID != 0 {
		ext("cn1Label", "requestId")
		ext("cn1", strconv.FormatInt(a.RequestID, 10))
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
