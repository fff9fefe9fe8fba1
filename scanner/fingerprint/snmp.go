package fingerprint

import "errors"

// SNMP (RFC 3416 PDUs in RFC 1901 v2c and RFC 3412 v3 messages).

var oidSysDescr = []uint32{1, 3, 6, 1, 2, 1, 1, 1, 0}

// snmpGetRequest builds a v2c GetRequest for sysDescr.0 with the given community.
func snmpGetRequest(community string, requestID int64) []byte {
	varbind := berEncode(berTagSequence, berOID(oidSysDescr...), berEncode(berTagNull))
	pdu := berEncode(0xa0,
		berInteger(berTagInteger, requestID),
		berInteger(berTagInteger, 0),
		berInteger(berTagInteger, 0),
		berEncode(berTagSequence, varbind))
	return berEncode(berTagSequence,
		berInteger(berTagInteger, 1), // version-2c
		berEncode(berTagOctetString, []byte(community)),
		pdu)
}

// snmpV3Discovery builds the unauthenticated v3 request an agent answers with a
// Report PDU carrying its engine ID, whatever its communities or users are.
func snmpV3Discovery(messageID int64) []byte {
	header := berEncode(berTagSequence,
		berInteger(berTagInteger, messageID),
		berInteger(berTagInteger, 65507),
		berEncode(berTagOctetString, []byte{0x04}), // reportable, no auth, no priv
		berInteger(berTagInteger, 3))               // USM
	usm := berEncode(berTagSequence,
		berEncode(berTagOctetString),
		berInteger(berTagInteger, 0),
		berInteger(berTagInteger, 0),
		berEncode(berTagOctetString),
		berEncode(berTagOctetString),
		berEncode(berTagOctetString))
	scoped := berEncode(berTagSequence,
		berEncode(berTagOctetString),
		berEncode(berTagOctetString),
		berEncode(0xa0,
			berInteger(berTagInteger, messageID),
			berInteger(berTagInteger, 0),
			berInteger(berTagInteger, 0),
			berEncode(berTagSequence)))
	return berEncode(berTagSequence,
		berInteger(berTagInteger, 3),
		header,
		berEncode(berTagOctetString, usm),
		scoped)
}

// snmpAnswer is what an SNMP response says.
type snmpAnswer struct {
	Version   int64
	Community string
	PDUTag    byte
	SysDescr  string // first OCTET STRING value of a v1/v2c response, if any
}

var errNotSNMP = errors.New("not an SNMP message")

// parseSNMP decodes an SNMP message of any version far enough to identify it.
func parseSNMP(b []byte) (snmpAnswer, error) {
	msg, _, err := readTLV(b)
	if err != nil || msg.Tag != berTagSequence {
		return snmpAnswer{}, errNotSNMP
	}
	parts, err := readChildren(msg.Content)
	if err != nil || len(parts) < 3 || parts[0].Tag != berTagInteger {
		return snmpAnswer{}, errNotSNMP
	}
	version, err := berInt(parts[0].Content)
	if err != nil {
		return snmpAnswer{}, errNotSNMP
	}
	var a snmpAnswer
	a.Version = version
	switch version {
	case 0, 1:
		if parts[1].Tag != berTagOctetString || parts[2].Tag&0xe0 != 0xa0 {
			return snmpAnswer{}, errNotSNMP
		}
		a.Community = string(parts[1].Content)
		a.PDUTag = parts[2].Tag
		fields, err := readChildren(parts[2].Content)
		if err != nil || len(fields) < 4 {
			return snmpAnswer{}, errNotSNMP
		}
		binds, err := readChildren(fields[3].Content)
		if err == nil && len(binds) > 0 {
			vb, err := readChildren(binds[0].Content)
			if err == nil && len(vb) == 2 && vb[1].Tag == berTagOctetString {
				a.SysDescr = string(vb[1].Content)
			}
		}
		return a, nil
	case 3:
		if len(parts) < 4 || parts[1].Tag != berTagSequence {
			return snmpAnswer{}, errNotSNMP
		}
		// The scoped PDU is a SEQUENCE when not encrypted; its third element is the PDU.
		if parts[3].Tag == berTagSequence {
			scoped, err := readChildren(parts[3].Content)
			if err == nil && len(scoped) >= 3 {
				a.PDUTag = scoped[2].Tag
			}
		}
		return a, nil
	}
	return snmpAnswer{}, errNotSNMP
}
