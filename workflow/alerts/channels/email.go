package channels

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"
)

// Email sends each alert as a plain-text message through an SMTP server.
//
// All recipients must be accepted or none is sent to: a partial delivery
// that is then retried would reach some recipients twice. The server's
// 5xx replies are permanent failures, 4xx and network errors retried.
type Email struct {
	Addr string   // host:port of the SMTP server
	From string   // RFC 5322 address, e.g. "Portcullis <portcullis@example.com>"
	To   []string // RFC 5322 addresses

	// Username and Password, when set, authenticate with AUTH PLAIN, which
	// is only attempted over TLS (StartTLS) or to localhost so the password
	// never crosses the network in clear.
	Username string
	Password string

	// StartTLS upgrades the connection with STARTTLS and fails if the server
	// does not offer it, rather than fall back to clear text.
	StartTLS bool
	// TLSConfig is used for STARTTLS; nil means the system roots. Without a
	// ServerName, the host of Addr is used.
	TLSConfig *tls.Config

	// LocalName is the name given in EHLO; empty means this machine's host
	// name.
	LocalName string
	// Label names the channel in delivery results; empty means
	// "email <addr>".
	Label string
}

// Name identifies the channel in delivery results.
func (e *Email) Name() string {
	if e.Label != "" {
		return e.Label
	}
	return "email " + e.Addr
}

// Deliver sends a in one SMTP session.
func (e *Email) Deliver(ctx context.Context, a Alert) error {
	host, _, err := net.SplitHostPort(e.Addr)
	if err != nil {
		return Permanent(fmt.Errorf("email: address %q: %w", e.Addr, err))
	}
	from, to, err := e.addresses()
	if err != nil {
		return Permanent(err)
	}
	if e.Username != "" && !e.StartTLS && !isLocalhost(host) {
		return Permanent(errors.New("email: refusing to send the SMTP password without StartTLS"))
	}
	msg, err := e.Message(a, time.Now())
	if err != nil {
		return Permanent(err)
	}
	return e.transmit(ctx, host, from, to, msg)
}

// transmit sends a prepared message in one SMTP session.
func (e *Email) transmit(ctx context.Context, host string, from *mail.Address, to []*mail.Address, msg []byte) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.Addr)
	if err != nil {
		return ctxErr(ctx, fmt.Errorf("email: %w", err))
	}
	defer conn.Close()
	stop := bindConn(ctx, conn)
	defer stop()

	if err := e.send(conn, host, from, to, msg); err != nil {
		return ctxErr(ctx, classifySMTP(err))
	}
	return nil
}

func (e *Email) send(conn net.Conn, host string, from *mail.Address, to []*mail.Address, msg []byte) error {
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello(e.localName()); err != nil {
		return err
	}
	if e.StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return Permanent(errors.New("email: server does not offer STARTTLS"))
		}
		config := &tls.Config{MinVersion: tls.VersionTLS12}
		if e.TLSConfig != nil {
			config = e.TLSConfig.Clone()
		}
		if config.ServerName == "" {
			config.ServerName = host
		}
		if err := c.StartTLS(config); err != nil {
			return err
		}
	}
	if e.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return Permanent(errors.New("email: server does not offer AUTH"))
		}
		if err := c.Auth(smtp.PlainAuth("", e.Username, e.Password, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt.Address); err != nil {
			return fmt.Errorf("recipient %s: %w", rcpt.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	// Close reads the server's verdict on the message.
	if err := w.Close(); err != nil {
		return err
	}
	// The message is accepted; a failing QUIT changes nothing.
	c.Quit()
	return nil
}

// classifySMTP marks 5xx replies permanent; 4xx replies and network errors
// stay retryable.
func classifySMTP(err error) error {
	if IsPermanent(err) {
		return err
	}
	err = fmt.Errorf("email: %w", err)
	var reply *textproto.Error
	if errors.As(err, &reply) && reply.Code >= 500 {
		return Permanent(err)
	}
	return err
}

func (e *Email) addresses() (*mail.Address, []*mail.Address, error) {
	from, err := mail.ParseAddress(e.From)
	if err != nil {
		return nil, nil, fmt.Errorf("email: From %q: %w", e.From, err)
	}
	if len(e.To) == 0 {
		return nil, nil, errors.New("email: no recipients")
	}
	var to []*mail.Address
	for _, s := range e.To {
		addr, err := mail.ParseAddress(s)
		if err != nil {
			return nil, nil, fmt.Errorf("email: To %q: %w", s, err)
		}
		to = append(to, addr)
	}
	return from, to, nil
}

func (e *Email) localName() string {
	name := e.LocalName
	if name == "" {
		name, _ = os.Hostname()
	}
	name = strings.Map(func(r rune) rune {
		if r <= ' ' || r >= 0x7f {
			return -1
		}
		return r
	}, name)
	if name == "" {
		return "localhost"
	}
	return name
}

// isLocalhost matches net/smtp's own test for where AUTH PLAIN may go
// without TLS.
func isLocalhost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// Message renders the RFC 5322 message Deliver would send for a at now:
// CRLF line endings, non-ASCII header text in RFC 2047 Q encoding, and a
// text/plain body in 7bit or, when it is not plain short-lined ASCII,
// quoted-printable. Every alert field is flattened to one line before it
// goes into a header, so no value can add a header of its own.
//
// The Message-ID is derived from the alert ID, so that a retry after a lost
// reply shows up in mail clients as the same message.
func (e *Email) Message(a Alert, now time.Time) ([]byte, error) {
	from, to, err := e.addresses()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	header := func(name, value string) { writeFolded(&b, name, value) }

	header("From", from.String())
	recipients := make([]string, len(to))
	for i, addr := range to {
		recipients[i] = addr.String()
	}
	header("To", strings.Join(recipients, ", "))
	header("Subject", encodeHeaderText(emailSubject(a)))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", messageID(a.ID, from.Address))
	header("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies
	header("X-Portcullis-Alert-ID", encodeHeaderText(truncate(oneLine(a.ID), 200)))
	header("X-Portcullis-Severity", normalSeverity(a.Severity))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")

	body := emailBody(a)
	if isASCII(body) && maxLineLength(body) <= 998 {
		header("Content-Transfer-Encoding", "7bit")
		b.WriteString("\r\n")
		b.WriteString(strings.ReplaceAll(body, "\n", "\r\n"))
	} else {
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		qp := quotedprintable.NewWriter(&b) // writes line breaks as CRLF
		qp.Write([]byte(body))
		qp.Close()
	}
	return b.Bytes(), nil
}

// emailSubject is "[Portcullis] <severity> <kind>: <asset>:<port>", on one
// line and short enough for any mail client.
func emailSubject(a Alert) string {
	target := a.Asset
	if a.Port != 0 {
		target += ":" + strconv.Itoa(a.Port)
	}
	// The kind stays its code: mail filters sort on it.
	sev := strings.ToLower(severityWord(a))
	s := a.text("[Portcullis] "+sev+" "+a.Kind+": "+target, "alert_message.email_subject", "Severity", sev, "Kind", a.Kind, "Target", target)
	return truncate(strings.TrimSpace(oneLine(s)), 200)
}

// emailBody is the text of the message with LF line endings; the caller
// encodes it.
func emailBody(a Alert) string {
	var b strings.Builder
	b.WriteString(oneLine(a.Title) + "\n\n")
	field := func(label, value string) {
		if value != "" {
			label += ":"
			b.WriteString(label + strings.Repeat(" ", max(0, 16-columns(label))) + oneLine(value) + "\n")
		}
	}
	field(a.text("Severity", "alert_message.label_severity"), strings.ToLower(severityWord(a)))
	field(a.text("Kind", "alert_message.label_kind"), a.Kind)
	field(a.text("Asset", "alert_message.label_asset"), a.Asset)
	field(a.text("Zone", "alert_message.label_zone"), a.Zone)
	field(a.text("Classification", "alert_message.label_classification"), a.Classification)
	if a.Port != 0 {
		field(a.text("Port", "alert_message.label_port"), strings.TrimSuffix(strconv.Itoa(a.Port)+"/"+a.Protocol, "/"))
	} else {
		field(a.text("Protocol", "alert_message.label_protocol"), a.Protocol)
	}
	field(a.text("Service", "alert_message.label_service"), a.Service)
	if a.RequestID != 0 {
		field(a.text("Request", "alert_message.label_request"), "#"+strconv.FormatInt(a.RequestID, 10))
	}
	if !a.FirstSeen.IsZero() {
		field(a.text("First seen", "alert_message.label_first_seen"), a.FirstSeen.UTC().Format(time.RFC3339))
	}
	field(a.text("Link", "alert_message.label_link"), a.Link)
	if a.Detail != "" {
		b.WriteString("\n" + textBlock(a.Detail) + "\n")
	}
	id := oneLine(a.ID)
	b.WriteString("\n-- \n" + a.text("Portcullis sends one alert per drift item. Alert ID: "+id, "alert_message.email_footer", "ID", id) + "\n")
	return b.String()
}

// columns is how wide s shows in a monospaced font: a CJK or full-width
// character takes two columns, so that labels in Chinese line up too.
func columns(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x1100 && (r <= 0x115f || (r >= 0x2e80 && r <= 0xa4cf) || (r >= 0xac00 && r <= 0xd7a3) || (r >= 0xf900 && r <= 0xfaff) || (r >= 0xfe30 && r <= 0xfe4f) || (r >= 0xff00 && r <= 0xff60) || (r >= 0xffe0 && r <= 0xffe6)) {
			n++
		}
	}
	return n
}

// textBlock keeps the lines of s, with LF endings, and replaces other
// control characters but tab with spaces and invalid UTF-8 with U+FFFD.
func textBlock(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\n', r == '\t':
			return r
		case isControl(r):
			return ' '
		}
		return r
	}, s)
}

// encodeHeaderText Q-encodes s if it is not plain ASCII.
func encodeHeaderText(s string) string {
	return mime.QEncoding.Encode("utf-8", s)
}

// messageID is a Message-ID that is the same for every delivery of one
// alert, in the domain of the sender.
func messageID(alertID, from string) string {
	sum := sha256.Sum256([]byte(alertID))
	domain := "portcullis.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok && isDotAtom(d) {
		domain = d
	}
	return "<alert." + hex.EncodeToString(sum[:16]) + "@" + domain + ">"
}

// isDotAtom accepts the domain names usable on the right of a Message-ID.
func isDotAtom(s string) bool {
	if s == "" || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// writeFolded writes "name: value" CRLF, folding at spaces so lines stay
// within 78 characters where the value allows. The value must already be a
// single line.
func writeFolded(b *bytes.Buffer, name, value string) {
	const limit = 78
	line := len(name) + 1
	b.WriteString(name + ":")
	for _, word := range strings.Split(value, " ") {
		// Never fold before an empty word: a folded line of only white
		// space is not allowed.
		if word != "" && line+1+len(word) > limit && line > len(name)+1 {
			b.WriteString("\r\n")
			line = 0
		}
		b.WriteString(" " + word)
		line += 1 + len(word)
	}
	b.WriteString("\r\n")
}

func maxLineLength(s string) int {
	longest := 0
	for line := range strings.SplitSeq(s, "\n") {
		longest = max(longest, len(line))
	}
	return longest
}
