package fingerprint

import (
	"bufio"
	"bytes"
	"errors"
	"net/textproto"
	"strconv"
	"strings"
)

// SIP (RFC 3261): an OPTIONS request, which every user agent and proxy must answer.

func sipOptions(transport, host string, port uint16) []byte {
	hostport := host + ":" + strconv.Itoa(int(port))
	if strings.Contains(host, ":") {
		hostport = "[" + host + "]:" + strconv.Itoa(int(port))
	}
	var b strings.Builder
	b.WriteString("OPTIONS sip:" + hostport + " SIP/2.0\r\n")
	b.WriteString("Via: SIP/2.0/" + transport + " " + hostport + ";branch=z9hG4bK-portcullis\r\n")
	b.WriteString("Max-Forwards: 70\r\n")
	b.WriteString("From: <sip:portcullis@" + hostport + ">;tag=portcullis\r\n")
	b.WriteString("To: <sip:" + hostport + ">\r\n")
	b.WriteString("Call-ID: portcullis-scan@" + hostport + "\r\n")
	b.WriteString("CSeq: 1 OPTIONS\r\n")
	b.WriteString("Contact: <sip:portcullis@" + hostport + ">\r\n")
	b.WriteString("Accept: application/sdp\r\n")
	b.WriteString("Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// sipResponse is the status line and the headers of a SIP answer.
type sipResponse struct {
	Status int
	Header textproto.MIMEHeader
}

var errNotSIP = errors.New("not a SIP response")

func parseSIPResponse(b []byte) (sipResponse, error) {
	if !bytes.HasPrefix(b, []byte("SIP/2.0 ")) {
		return sipResponse{}, errNotSIP
	}
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(b)))
	line, err := r.ReadLine()
	if err != nil {
		return sipResponse{}, errNotSIP
	}
	f := strings.Fields(line)
	if len(f) < 2 {
		return sipResponse{}, errNotSIP
	}
	status, err := strconv.Atoi(f[1])
	if err != nil || status < 100 || status > 699 {
		return sipResponse{}, errNotSIP
	}
	h, _ := r.ReadMIMEHeader() // a truncated header block still identifies SIP
	return sipResponse{Status: status, Header: h}, nil
}
