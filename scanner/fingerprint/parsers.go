package fingerprint

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// answerParsers check the structure of an answer that a pattern matched and read
// product and version from binary fields. ok false rejects the match.
var answerParsers = map[string]func([]byte) (product, version string, ok bool){
	"mysql": func(b []byte) (string, string, bool) {
		h, err := parseMySQLHandshake(b)
		if err != nil {
			return "", "", false
		}
		if h.Protocol != 10 {
			if strings.Contains(h.Error, "MariaDB") {
				return "MariaDB", "", true
			}
			return "MySQL", "", true
		}
		p, v := mysqlProduct(h.Version)
		return p, v, true
	},
	"nats": func(b []byte) (string, string, bool) {
		line, _, _ := strings.Cut(string(b), "\n")
		var info struct {
			ServerID string `json:"server_id"`
			Version  string `json:"version"`
		}
		if json.Unmarshal([]byte(strings.TrimSpace(strings.TrimPrefix(line, "INFO "))), &info) != nil || info.ServerID == "" {
			return "", "", false
		}
		return "NATS Server", info.Version, true
	},
	"rdp": func(b []byte) (string, string, bool) {
		_, err := parseRDPConfirm(b)
		return "", "", err == nil
	},
	"smb": func(b []byte) (string, string, bool) {
		_, err := parseSMBNegotiate(b)
		return "", "", err == nil
	},
	"mongodb": func(b []byte) (string, string, bool) {
		_, err := parseMongoReply(b)
		return "", "", err == nil
	},
	"mssql": func(b []byte) (string, string, bool) {
		v, err := parseMSSQLPrelogin(b)
		return "", v, err == nil
	},
	"mqtt": func(b []byte) (string, string, bool) {
		_, err := parseMQTTConnack(b)
		return "", "", err == nil
	},
	"amqp": func(b []byte) (string, string, bool) {
		p, v, err := parseAMQPStart(b)
		return p, v, err == nil
	},
	"ldap": func(b []byte) (string, string, bool) {
		m, _, err := parseLDAPMessage(b)
		return "", "", err == nil && m.OpTag == 0x61 && m.MessageID == 1
	},
	"kerberos": func(b []byte) (string, string, bool) {
		_, err := parseKerberosReply(b)
		return "", "", err == nil
	},
	"kerberos-tcp": func(b []byte) (string, string, bool) {
		if len(b) < 4 {
			return "", "", false
		}
		_, err := parseKerberosReply(b[4:])
		return "", "", err == nil
	},
	"dns": func(b []byte) (string, string, bool) {
		a, err := parseDNSResponse(b)
		if err != nil {
			return "", "", false
		}
		p, v := dnsProduct(a.Version)
		return p, v, true
	},
	"dns-tcp": func(b []byte) (string, string, bool) {
		if len(b) < 2 {
			return "", "", false
		}
		a, err := parseDNSResponse(b[2:])
		if err != nil {
			return "", "", false
		}
		p, v := dnsProduct(a.Version)
		return p, v, true
	},
	"sip": func(b []byte) (string, string, bool) {
		r, err := parseSIPResponse(b)
		if err != nil {
			return "", "", false
		}
		p, v := sipProduct(r)
		return p, v, true
	},
	"ntp": func(b []byte) (string, string, bool) {
		_, err := parseNTPServerReply(b)
		return "", "", err == nil
	},
	"snmp": func(b []byte) (string, string, bool) {
		a, err := parseSNMP(b)
		if err != nil || (a.PDUTag != 0xa2 && a.PDUTag != 0xa8) {
			return "", "", false
		}
		return "", "", true
	},
}

// payloadBuilders make the payloads that are built in code.
var payloadBuilders = map[string]func(target netip.AddrPort) []byte{
	"postgresql-startup": func(netip.AddrPort) []byte { return postgresStartup() },
	"rdp-x224":           func(netip.AddrPort) []byte { return rdpConnectionRequest() },
	"smb2-negotiate":     func(netip.AddrPort) []byte { return smb2Negotiate() },
	"mongodb-hello": func(netip.AddrPort) []byte {
		return mongoCommand(1, bsonField{"hello", int32(1)}, bsonField{"$db", "admin"})
	},
	"mssql-prelogin":    func(netip.AddrPort) []byte { return mssqlPrelogin() },
	"mqtt-connect":      func(netip.AddrPort) []byte { return mqttConnect("portcullis-scan") },
	"ldap-bind":         func(netip.AddrPort) []byte { return ldapAnonymousBind(1) },
	"kerberos-tcp":      func(netip.AddrPort) []byte { return kerberosTCP(kerberosASRequest(time.Now())) },
	"kerberos-udp":      func(netip.AddrPort) []byte { return kerberosASRequest(time.Now()) },
	"dns-tcp":           func(netip.AddrPort) []byte { return dnsTCP(dnsVersionQuery()) },
	"dns-udp":           func(netip.AddrPort) []byte { return dnsVersionQuery() },
	"ntp-client":        func(netip.AddrPort) []byte { return ntpClientRequest() },
	"snmp-public":       func(netip.AddrPort) []byte { return snmpGetRequest("public", 0x1337) },
	"snmp-v3-discovery": func(netip.AddrPort) []byte { return snmpV3Discovery(0x1337) },
	"sip-options-tcp": func(t netip.AddrPort) []byte {
		return sipOptions("TCP", t.Addr().String(), t.Port())
	},
	"sip-options-udp": func(t netip.AddrPort) []byte {
		return sipOptions("UDP", t.Addr().String(), t.Port())
	},
}

// postgresStartup is a protocol 3.0 StartupMessage. The server answers with an
// authentication request or a FATAL error, both unmistakable.
func postgresStartup() []byte {
	body := []byte{0, 3, 0, 0}
	for _, kv := range []string{"user", "portcullis", "database", "portcullis", "application_name", "portcullis-scanner"} {
		body = append(append(body, kv...), 0)
	}
	body = append(body, 0)
	n := len(body) + 4
	return append([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}

// expandPayload replaces {host} and {port} in a fixed payload.
func expandPayload(p []byte, target netip.AddrPort) []byte {
	s := string(p)
	if !strings.Contains(s, "{") {
		return p
	}
	host := target.Addr().String()
	if target.Addr().Is6() {
		host = "[" + host + "]"
	}
	s = strings.ReplaceAll(s, "{host}", host)
	s = strings.ReplaceAll(s, "{port}", strconv.Itoa(int(target.Port())))
	return []byte(s)
}

// printable renders bytes off the wire for a report: valid UTF-8 text is kept,
// control characters and invalid bytes become \xNN (\r and \n as such), at most
// limit characters.
func printable(s string, limit int) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(s) && n < limit; {
		r, size := utf8.DecodeRuneInString(s[i:])
		var piece string
		switch {
		case r == '\r':
			piece = `\r`
		case r == '\n':
			piece = `\n`
		case r == utf8.RuneError && size <= 1, r < 0x20, r == 0x7f:
			piece = `\x` + strconv.FormatUint(uint64(s[i])|0x100, 16)[1:]
		default:
			piece = string(r)
		}
		pieceLen := utf8.RuneCountInString(piece)
		if n+pieceLen > limit {
			break
		}
		b.WriteString(piece)
		n += pieceLen
		i += size
	}
	return b.String()
}
