package fingerprint

import (
	"errors"
	"time"
)

// Kerberos (RFC 4120): an AS-REQ for a principal that does not exist. Any KDC answers
// with a KRB-ERROR (or an AS-REP), which identifies it without credentials.

func kerberosASRequest(now time.Time) []byte {
	principal := func(nameType int64, names ...string) []byte {
		var strs [][]byte
		for _, n := range names {
			strs = append(strs, berEncode(0x1b, []byte(n)))
		}
		return berEncode(berTagSequence,
			berEncode(0xa0, berInteger(berTagInteger, nameType)),
			berEncode(0xa1, berEncode(berTagSequence, strs...)))
	}
	const realm = "PORTCULLIS.INVALID"
	till := now.UTC().Add(24 * time.Hour).Format("20060102150405Z")
	body := berEncode(berTagSequence,
		berEncode(0xa0, berEncode(0x03, []byte{0, 0x50, 0, 0, 0})), // forwardable, renewable
		berEncode(0xa1, principal(1, "portcullis")),
		berEncode(0xa2, berEncode(0x1b, []byte(realm))),
		berEncode(0xa3, principal(2, "krbtgt", realm)),
		berEncode(0xa5, berEncode(0x18, []byte(till))),
		berEncode(0xa7, berInteger(berTagInteger, 0x1337)),
		berEncode(0xa8, berEncode(berTagSequence,
			berInteger(berTagInteger, 18), berInteger(berTagInteger, 17), berInteger(berTagInteger, 23))))
	return berEncode(0x6a,
		berEncode(berTagSequence,
			berEncode(0xa1, berInteger(berTagInteger, 5)),
			berEncode(0xa2, berInteger(berTagInteger, 10)),
			berEncode(0xa4, body)))
}

// kerberosTCP frames a Kerberos message with the four-byte length used over TCP.
func kerberosTCP(msg []byte) []byte {
	n := len(msg)
	return append([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, msg...)
}

var errNotKerberos = errors.New("not a Kerberos reply")

// parseKerberosReply checks that b is a KRB-ERROR or AS-REP with pvno 5 and returns
// the error code (0 for an AS-REP).
func parseKerberosReply(b []byte) (int64, error) {
	msg, _, err := readTLV(b)
	if err != nil || (msg.Tag != 0x7e && msg.Tag != 0x6b) {
		return 0, errNotKerberos
	}
	seq, _, err := readTLV(msg.Content)
	if err != nil || seq.Tag != berTagSequence {
		return 0, errNotKerberos
	}
	fields, err := readChildren(seq.Content)
	if err != nil || len(fields) < 2 {
		return 0, errNotKerberos
	}
	pvno, _, err := readTLV(fields[0].Content)
	if err != nil || fields[0].Tag != 0xa0 {
		return 0, errNotKerberos
	}
	if v, err := berInt(pvno.Content); err != nil || v != 5 {
		return 0, errNotKerberos
	}
	if msg.Tag == 0x6b {
		return 0, nil
	}
	for _, f := range fields {
		if f.Tag == 0xa6 { // error-code
			inner, _, err := readTLV(f.Content)
			if err != nil {
				return 0, errNotKerberos
			}
			return berInt(inner.Content)
		}
	}
	return 0, errNotKerberos
}
