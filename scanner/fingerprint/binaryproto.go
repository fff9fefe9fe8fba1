package fingerprint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Builders and parsers for the binary handshakes of RDP, SMB2, MSSQL, MQTT, VNC,
// MySQL and AMQP.

// rdpConnectionRequest is an X.224 Connection Request (ITU-T X.224 in a TPKT, RFC 1006)
// carrying an RDP negotiation request for TLS and CredSSP ([MS-RDPBCGR] 2.2.1.1).
func rdpConnectionRequest() []byte {
	return []byte{
		0x03, 0x00, 0x00, 0x13, // TPKT version 3, length 19
		0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, // X.224 CR
		0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, // RDP_NEG_REQ: TLS | CredSSP
	}
}

// rdpConfirm is what an X.224 Connection Confirm says.
type rdpConfirm struct {
	NegotiationType  byte   // 2 response, 3 failure, 0 when absent (old RDP)
	SelectedProtocol uint32 // for a response
	FailureCode      uint32 // for a failure
}

var errNotRDP = errors.New("not an X.224 connection confirm")

func parseRDPConfirm(b []byte) (rdpConfirm, error) {
	if len(b) < 11 || b[0] != 3 || b[1] != 0 {
		return rdpConfirm{}, errNotRDP
	}
	length := int(binary.BigEndian.Uint16(b[2:]))
	li := int(b[4])
	if length < 11 || length > len(b) || b[5]&0xf0 != 0xd0 || li+5 > length {
		return rdpConfirm{}, errNotRDP
	}
	var c rdpConfirm
	if length >= 19 {
		neg := b[11:19]
		c.NegotiationType = neg[0]
		v := binary.LittleEndian.Uint32(neg[4:])
		switch neg[0] {
		case 2:
			c.SelectedProtocol = v
		case 3:
			c.FailureCode = v
		}
	}
	return c, nil
}

// smb2Negotiate is an SMB2 NEGOTIATE request ([MS-SMB2] 2.2.3) for dialects 2.0.2 to
// 3.0.2, in a NetBIOS session message. 3.1.1 is left out: it needs negotiate contexts.
func smb2Negotiate() []byte {
	hdr := make([]byte, 64)
	copy(hdr, "\xfeSMB")
	hdr[4] = 64 // structure size
	hdr[14] = 1 // credits requested
	dialects := []uint16{0x0202, 0x0210, 0x0300, 0x0302}
	req := make([]byte, 36)
	req[0] = 36
	binary.LittleEndian.PutUint16(req[2:], uint16(len(dialects)))
	req[4] = 1 // signing enabled
	copy(req[12:28], "portcullis-scan!")
	for _, d := range dialects {
		req = binary.LittleEndian.AppendUint16(req, d)
	}
	msg := append(hdr, req...)
	return append([]byte{0, 0, byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

var errNotSMB = errors.New("not an SMB negotiate response")

// parseSMBNegotiate returns the dialect an SMB server chose ("2.0.2" ... "3.1.1"), or
// "1" for a server that answered in SMB1.
func parseSMBNegotiate(b []byte) (string, error) {
	if len(b) < 8 || b[0] != 0 {
		return "", errNotSMB
	}
	b = b[4:]
	if len(b) >= 4 && string(b[:4]) == "\xffSMB" {
		return "1", nil
	}
	if len(b) < 64+8 || string(b[:4]) != "\xfeSMB" {
		return "", errNotSMB
	}
	if binary.LittleEndian.Uint16(b[12:]) != 0 { // command must be NEGOTIATE
		return "", errNotSMB
	}
	d := binary.LittleEndian.Uint16(b[64+4:])
	switch d {
	case 0x0202:
		return "2.0.2", nil
	case 0x0210:
		return "2.1", nil
	case 0x0300:
		return "3.0", nil
	case 0x0302:
		return "3.0.2", nil
	case 0x0311:
		return "3.1.1", nil
	case 0x02ff:
		return "2.???", nil
	}
	return "", errNotSMB
}

// mssqlPrelogin is a TDS PRELOGIN message ([MS-TDS] 2.2.6.5).
func mssqlPrelogin() []byte {
	type option struct {
		token byte
		data  []byte
	}
	opts := []option{
		{0x00, []byte{0, 0, 0, 0, 0, 0}}, // VERSION
		{0x01, []byte{0x02}},             // ENCRYPTION: not supported
		{0x02, []byte{0}},                // INSTOPT: default instance
		{0x03, []byte{0, 0, 0, 0}},       // THREADID
		{0x04, []byte{0}},                // MARS off
	}
	table := []byte{}
	data := []byte{}
	offset := len(opts)*5 + 1
	for _, o := range opts {
		table = append(table, o.token, byte((offset+len(data))>>8), byte(offset+len(data)), 0, byte(len(o.data)))
		data = append(data, o.data...)
	}
	payload := append(append(table, 0xff), data...)
	n := len(payload) + 8
	return append([]byte{0x12, 0x01, byte(n >> 8), byte(n), 0, 0, 0, 0}, payload...)
}

var errNotTDS = errors.New("not a TDS PRELOGIN response")

// parseMSSQLPrelogin returns the server version from a PRELOGIN response.
func parseMSSQLPrelogin(b []byte) (string, error) {
	if len(b) < 8+6 || b[0] != 0x04 {
		return "", errNotTDS
	}
	n := int(binary.BigEndian.Uint16(b[2:]))
	if n < 14 || n > len(b) {
		return "", errNotTDS
	}
	payload := b[8:n]
	for i := 0; i+5 <= len(payload) && payload[i] != 0xff; i += 5 {
		token := payload[i]
		off := int(binary.BigEndian.Uint16(payload[i+1:]))
		l := int(binary.BigEndian.Uint16(payload[i+3:]))
		if token != 0 {
			continue
		}
		if l < 6 || off+6 > len(payload) {
			return "", errNotTDS
		}
		v := payload[off:]
		return fmt.Sprintf("%d.%d.%d", v[0], v[1], binary.BigEndian.Uint16(v[2:])), nil
	}
	return "", errNotTDS
}

// mqttConnect is an MQTT 3.1.1 CONNECT without credentials.
func mqttConnect(clientID string) []byte {
	vh := []byte{0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 30}
	payload := append([]byte{byte(len(clientID) >> 8), byte(len(clientID))}, clientID...)
	rest := append(vh, payload...)
	return append([]byte{0x10, byte(len(rest))}, rest...)
}

var errNotMQTT = errors.New("not an MQTT CONNACK")

// parseMQTTConnack returns the return code of a CONNACK (0 means accepted).
func parseMQTTConnack(b []byte) (byte, error) {
	if len(b) < 4 || b[0] != 0x20 || b[1] < 2 || b[2] > 1 {
		return 0, errNotMQTT
	}
	return b[3], nil
}

var errNotVNC = errors.New("not an RFB exchange")

// parseRFBVersion returns major and minor from "RFB 003.008\n".
func parseRFBVersion(b []byte) (int, int, error) {
	if len(b) < 12 || string(b[:4]) != "RFB " || b[7] != '.' || b[11] != '\n' {
		return 0, 0, errNotVNC
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	major, ok1 := num(b[4:7])
	minor, ok2 := num(b[8:11])
	if !ok1 || !ok2 {
		return 0, 0, errNotVNC
	}
	return major, minor, nil
}

// parseRFBSecurityTypes reads the server's security types after the version exchange:
// a count and a list for 3.7 and later, a single 32-bit type for 3.3.
func parseRFBSecurityTypes(b []byte, minor int) ([]byte, error) {
	if minor < 7 {
		if len(b) < 4 {
			return nil, errNotVNC
		}
		t := binary.BigEndian.Uint32(b)
		if t > 255 {
			return nil, errNotVNC
		}
		return []byte{byte(t)}, nil
	}
	if len(b) < 1 || int(b[0])+1 > len(b) {
		return nil, errNotVNC
	}
	return b[1 : 1+int(b[0])], nil
}

// mysqlHandshake is what the first packet of a MySQL or MariaDB server says.
type mysqlHandshake struct {
	Protocol byte
	Version  string
	Error    string // for an error packet (host not allowed, too many connections)
}

var errNotMySQL = errors.New("not a MySQL handshake")

func parseMySQLHandshake(b []byte) (mysqlHandshake, error) {
	if len(b) < 5 {
		return mysqlHandshake{}, errNotMySQL
	}
	n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	if n < 1 || b[3] != 0 {
		return mysqlHandshake{}, errNotMySQL
	}
	body := b[4:]
	if len(body) > n {
		body = body[:n]
	}
	switch body[0] {
	case 10:
		end := 1
		for end < len(body) && body[end] != 0 {
			end++
		}
		if end == len(body) || end == 1 {
			return mysqlHandshake{}, errNotMySQL
		}
		return mysqlHandshake{Protocol: 10, Version: string(body[1:end])}, nil
	case 0xff:
		if len(body) < 3 {
			return mysqlHandshake{}, errNotMySQL
		}
		msg := body[3:]
		if len(msg) > 0 && msg[0] == '#' && len(msg) >= 6 {
			msg = msg[6:]
		}
		return mysqlHandshake{Protocol: 0xff, Error: string(msg)}, nil
	}
	return mysqlHandshake{}, errNotMySQL
}

// mysqlProduct splits a server version string into product and version.
func mysqlProduct(v string) (string, string) {
	v = strings.TrimPrefix(v, "5.5.5-") // MariaDB's replication-compatibility prefix
	if i := strings.Index(v, "-MariaDB"); i >= 0 {
		return "MariaDB", v[:i]
	}
	if i := strings.IndexByte(v, '-'); i >= 0 {
		v = v[:i]
	}
	return "MySQL", v
}

// amqpServerProperties reads the product and version from an AMQP 0-9-1
// Connection.Start frame.
func parseAMQPStart(b []byte) (product, version string, err error) {
	bad := errors.New("not an AMQP Connection.Start")
	if len(b) < 7+4+2 || b[0] != 1 {
		return "", "", bad
	}
	size := int(binary.BigEndian.Uint32(b[3:]))
	body := b[7:]
	if size < 4+2+4 || size > len(body) {
		return "", "", bad
	}
	body = body[:size]
	if binary.BigEndian.Uint16(body) != 10 || binary.BigEndian.Uint16(body[2:]) != 10 {
		return "", "", bad
	}
	tlen := int(binary.BigEndian.Uint32(body[6:]))
	table := body[10:]
	if tlen > len(table) {
		return "", "", bad
	}
	table = table[:tlen]
	for len(table) > 0 {
		kl := int(table[0])
		if 1+kl+1 > len(table) {
			return product, version, nil
		}
		key := string(table[1 : 1+kl])
		typ := table[1+kl]
		table = table[2+kl:]
		var n int
		switch typ {
		case 'S', 'F', 'A', 'x':
			if len(table) < 4 {
				return product, version, nil
			}
			n = 4 + int(binary.BigEndian.Uint32(table))
			if typ == 'S' && n <= len(table) && n >= 4 {
				switch key {
				case "product":
					product = string(table[4:n])
				case "version":
					version = string(table[4:n])
				}
			}
		case 't', 'b', 'B':
			n = 1
		case 's', 'u':
			n = 2
		case 'I', 'i', 'f':
			n = 4
		case 'l', 'L', 'd', 'T':
			n = 8
		case 'D':
			n = 5
		case 'V':
			n = 0
		default:
			return product, version, nil
		}
		if n < 0 || n > len(table) {
			return product, version, nil
		}
		table = table[n:]
	}
	return product, version, nil
}
