package channels

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime/quotedprintable"
	"net"
	"strings"
	"time"
)

// SendText sends a plain-text notice (a re-certification reminder, say)
// through the same SMTP server, to recipients of its own. id makes the
// Message-ID, so a retried notice is recognisably the same message.
func (e *Email) SendText(ctx context.Context, to []string, subject, body, id string) error {
	host, _, err := net.SplitHostPort(e.Addr)
	if err != nil {
		return Permanent(fmt.Errorf("email: address %q: %w", e.Addr, err))
	}
	other := *e
	other.To = to
	from, rcpts, err := other.addresses()
	if err != nil {
		return Permanent(err)
	}
	if e.Username != "" && !e.StartTLS && !isLocalhost(host) {
		return Permanent(errors.New("email: refusing to send the SMTP password without StartTLS"))
	}
	var b bytes.Buffer
	header := func(name, value string) { writeFolded(&b, name, value) }
	header("From", from.String())
	names := make([]string, len(rcpts))
	for i, r := range rcpts {
		names[i] = r.String()
	}
	header("To", strings.Join(names, ", "))
	header("Subject", encodeHeaderText(oneLine(subject)))
	header("Date", time.Now().Format(time.RFC1123Z))
	header("Message-ID", messageID(id, from.Address))
	header("Auto-Submitted", "auto-generated")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(body))
	qp.Close()

	return e.transmit(ctx, host, from, rcpts, b.Bytes())
}
