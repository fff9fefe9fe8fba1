package fingerprint

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/textproto"
	"strconv"
	"strings"
	"unicode"
)

// SIP (RFC 3261): an OPTIONS request, which every user agent and proxy must answer.
//
// Over UDP a server sends its response to the address and port in the top Via
// header, not to where the request came from, unless the Via asks for the source
// port with an empty "rport" parameter (RFC 3581). The probe is sent from an
// ephemeral port on a connected socket, so without rport a real proxy (Kamailio,
// Asterisk) answers to port 5060 of the scanner and the probe hears nothing. The
// sent-by host is a name that resolves nowhere: the server then records the
// source address in "received" and answers there.
//
// Branch, tag and Call-ID are fresh for every request: a user agent with a
// transaction layer (baresip, phones) treats a repeated branch as a retransmission
// and resends its earlier response to the earlier source port, which is gone.

const sipSentBy = "portcullis.invalid"

func sipOptions(transport, host string, port uint16) []byte {
	hostport := host + ":" + strconv.Itoa(int(port))
	if strings.Contains(host, ":") {
		hostport = "[" + host + "]:" + strconv.Itoa(int(port))
	}
	id := sipToken()
	var b strings.Builder
	b.WriteString("OPTIONS sip:" + hostport + " SIP/2.0\r\n")
	b.WriteString("Via: SIP/2.0/" + transport + " " + sipSentBy + ";rport;branch=z9hG4bK-" + id + "\r\n")
	b.WriteString("Max-Forwards: 70\r\n")
	b.WriteString("From: <sip:portcullis@" + sipSentBy + ">;tag=" + id[:8] + "\r\n")
	b.WriteString("To: <sip:" + hostport + ">\r\n")
	b.WriteString("Call-ID: " + id + "@" + sipSentBy + "\r\n")
	b.WriteString("CSeq: 1 OPTIONS\r\n")
	b.WriteString("Contact: <sip:portcullis@" + sipSentBy + ">\r\n")
	b.WriteString("Accept: application/sdp\r\n")
	b.WriteString("User-Agent: portcullis-scanner\r\n")
	b.WriteString("Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// sipToken is 16 random hexadecimal digits.
func sipToken() string {
	var r [8]byte
	rand.Read(r[:])
	return hex.EncodeToString(r[:])
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

// sipProduct reads the product and version from a response's Server header (a
// proxy or registrar) or User-Agent header (a user agent). Implementations write
// it in several shapes:
//
//	kamailio (5.6.3 (x86_64/linux))
//	baresip v1.0.0 (x86_64/linux)
//	Asterisk PBX 20.5.0
//	FreeSWITCH-mod_sofia/1.10.9-release~64bit
//	Linphone/5.2.0 (belle-sip/5.2.0)
func sipProduct(r sipResponse) (product, version string) {
	agent := r.Header.Get("Server")
	if agent == "" {
		agent = r.Header.Get("User-Agent")
	}
	fields := strings.Fields(agent)
	if len(fields) == 0 {
		return "", ""
	}
	product, version, _ = strings.Cut(fields[0], "/")
	if version != "" {
		return product, version
	}
	// The version is the first later word that starts with a digit, once
	// brackets and a leading "v" are taken off; words before it name the product.
	for _, w := range fields[1:] {
		w = strings.Trim(w, "()[];,")
		w = strings.TrimPrefix(strings.TrimPrefix(w, "v"), "V")
		if w != "" && unicode.IsDigit(rune(w[0])) {
			return product, w
		}
	}
	return product, ""
}
