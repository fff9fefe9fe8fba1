package channels

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// SendText sends a plain-text notice (a re-certification reminder, say)
// through the same SMTP server, to recipients of its own. id makes the
// Message-ID, so a retried notice is recognisably the same message.
func (e *Email) SendText(ctx context.Context, to []string, subject, body, id string) error {
	host, from, rcpts, b, err := e.noticeHeaders(to, subject, id)
	if err != nil {
		return err
	}
	writeFolded(b, "Content-Type", "text/plain; charset=utf-8")
	writeFolded(b, "Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(b)
	qp.Write([]byte(body))
	qp.Close()
	return e.transmit(ctx, host, from, rcpts, b.Bytes())
}

// Mail is a message of its own (a periodic report): a plain-text body, an
// HTML body showing the same, and attachments.
type Mail struct {
	Subject     string
	Text, HTML  string
	Attachments []Attachment
	// ID makes the Message-ID: a retried message is recognisably the same.
	ID string
}

// Attachment is a file sent with a Mail.
type Attachment struct {
	Name, ContentType string
	Data              []byte
}

// SendMail sends m to its own recipients as multipart/mixed: first a
// multipart/alternative of the text and the HTML, then each attachment in
// base64.
func (e *Email) SendMail(ctx context.Context, to []string, m Mail) error {
	host, from, rcpts, b, err := e.noticeHeaders(to, m.Subject, m.ID)
	if err != nil {
		return err
	}
	mixed := multipart.NewWriter(b)
	writeFolded(b, "Content-Type", `multipart/mixed; boundary="`+mixed.Boundary()+`"`)
	b.WriteString("\r\n")

	var alt bytes.Buffer
	altW := multipart.NewWriter(&alt)
	for _, part := range []struct{ contentType, body string }{{"text/plain; charset=utf-8", m.Text}, {"text/html; charset=utf-8", m.HTML}} {
		w, err := altW.CreatePart(textproto.MIMEHeader{"Content-Type": {part.contentType}, "Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return Permanent(err)
		}
		qp := quotedprintable.NewWriter(w)
		qp.Write([]byte(part.body))
		qp.Close()
	}
	altW.Close()
	w, err := mixed.CreatePart(textproto.MIMEHeader{"Content-Type": {`multipart/alternative; boundary="` + altW.Boundary() + `"`}})
	if err != nil {
		return Permanent(err)
	}
	w.Write(alt.Bytes())
	for _, a := range m.Attachments {
		name := mime.QEncoding.Encode("utf-8", oneLine(a.Name))
		w, err := mixed.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {a.ContentType},
			"Content-Transfer-Encoding": {"base64"},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": name})},
		})
		if err != nil {
			return Permanent(err)
		}
		enc := base64.StdEncoding.EncodeToString(a.Data)
		for len(enc) > 76 {
			w.Write([]byte(enc[:76] + "\r\n"))
			enc = enc[76:]
		}
		w.Write([]byte(enc + "\r\n"))
	}
	mixed.Close()
	return e.transmit(ctx, host, from, rcpts, b.Bytes())
}

// noticeHeaders checks the recipients and the sender and writes the headers
// every notice shares; the caller adds the content headers and the body.
func (e *Email) noticeHeaders(to []string, subject, id string) (host string, from *mail.Address, rcpts []*mail.Address, b *bytes.Buffer, err error) {
	host, _, err = net.SplitHostPort(e.Addr)
	if err != nil {
		return "", nil, nil, nil, Permanent(fmt.Errorf("email: address %q: %w", e.Addr, err))
	}
	other := *e
	other.To = to
	from, rcpts, err = other.addresses()
	if err != nil {
		return "", nil, nil, nil, Permanent(err)
	}
	if e.Username != "" && !e.StartTLS && !isLocalhost(host) {
		return "", nil, nil, nil, Permanent(errors.New("email: refusing to send the SMTP password without StartTLS"))
	}
	b = &bytes.Buffer{}
	header := func(name, value string) { writeFolded(b, name, value) }
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
	return host, from, rcpts, b, nil
}
