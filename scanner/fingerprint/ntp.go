package fingerprint

import (
	"encoding/binary"
	"errors"
	"regexp"
)

// NTP (RFC 5905) client request, mode 6 control (RFC 9327) and the mode 7 monlist
// request of the reference implementation, whose answer is the classic amplifier.

func ntpClientRequest() []byte {
	b := make([]byte, 48)
	b[0] = 0x23 // leap 0, version 4, mode 3 (client)
	return b
}

func ntpReadVarRequest() []byte {
	return []byte{0x16, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0} // version 2, mode 6, READVAR
}

func ntpMonlistRequest() []byte {
	b := make([]byte, 48)
	b[0] = 0x17 // version 2, mode 7
	b[2] = 0x03 // implementation XNTPD
	b[3] = 0x2a // MON_GETLIST_1
	return b
}

var errNotNTP = errors.New("not an NTP answer")

// ntpServerReply checks that b is a mode 4 (server) answer and returns its stratum.
func parseNTPServerReply(b []byte) (stratum int, err error) {
	if len(b) < 48 {
		return 0, errNotNTP
	}
	version, mode := b[0]>>3&7, b[0]&7
	if mode != 4 || version < 1 || version > 4 {
		return 0, errNotNTP
	}
	return int(b[1]), nil
}

// parseNTPControlReply checks that b is a mode 6 READVAR response and returns its text.
func parseNTPControlReply(b []byte) (string, error) {
	if len(b) < 12 || b[0]&7 != 6 || b[1]&0x80 == 0 || b[1]&0x1f != 2 || b[1]&0x40 != 0 {
		return "", errNotNTP
	}
	count := int(binary.BigEndian.Uint16(b[10:]))
	if 12+count > len(b) {
		count = len(b) - 12
	}
	return string(b[12 : 12+count]), nil
}

// parseNTPMonlistReply checks that b is a successful mode 7 monlist response and
// returns the number of items it carries.
func parseNTPMonlistReply(b []byte) (int, error) {
	if len(b) < 8 || b[0]&7 != 7 || b[0]&0x80 == 0 || b[3] != 0x2a {
		return 0, errNotNTP
	}
	if errCode := b[4] >> 4; errCode != 0 {
		return 0, errNotNTP
	}
	return int(binary.BigEndian.Uint16(b[4:]) & 0x0fff), nil
}

var ntpVersionVar = regexp.MustCompile(`version="(ntpd|ntpsec)[ -]([0-9][^ "@]*)`)

// ntpProduct reads the daemon and its version from a READVAR answer.
func ntpProduct(vars string) (product, version string) {
	m := ntpVersionVar.FindStringSubmatch(vars)
	if m == nil {
		return "", ""
	}
	return m[1], m[2]
}
