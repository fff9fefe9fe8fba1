package fingerprint

import "errors"

// LDAP (RFC 4511) messages: an anonymous simple bind and a root DSE search.

func ldapAnonymousBind(messageID int64) []byte {
	return berEncode(berTagSequence,
		berInteger(berTagInteger, messageID),
		berEncode(0x60, // BindRequest
			berInteger(berTagInteger, 3),
			berEncode(berTagOctetString),
			berEncode(0x80))) // simple authentication, empty password
}

func ldapRootDSESearch(messageID int64) []byte {
	attrs := berEncode(berTagSequence,
		berEncode(berTagOctetString, []byte("namingContexts")),
		berEncode(berTagOctetString, []byte("vendorName")),
		berEncode(berTagOctetString, []byte("vendorVersion")),
		berEncode(berTagOctetString, []byte("supportedLDAPVersion")))
	return berEncode(berTagSequence,
		berInteger(berTagInteger, messageID),
		berEncode(0x63, // SearchRequest
			berEncode(berTagOctetString),           // base: root DSE
			berInteger(berTagEnumerated, 0),        // scope base
			berInteger(berTagEnumerated, 0),        // never dereference
			berInteger(berTagInteger, 0),           // no size limit
			berInteger(berTagInteger, 0),           // no time limit
			berEncode(0x01, []byte{0}),             // typesOnly false
			berEncode(0x87, []byte("objectClass")), // present filter
			attrs))
}

// ldapMessage is one decoded LDAP message.
type ldapMessage struct {
	MessageID  int64
	OpTag      byte
	ResultCode int64             // for responses carrying an LDAPResult
	Attributes map[string]string // first value of each attribute of a SearchResultEntry
}

var errNotLDAP = errors.New("not an LDAP message")

// parseLDAPMessage decodes the first LDAP message in b and returns the rest.
func parseLDAPMessage(b []byte) (ldapMessage, []byte, error) {
	msg, rest, err := readTLV(b)
	if err != nil || msg.Tag != berTagSequence {
		return ldapMessage{}, nil, errNotLDAP
	}
	parts, err := readChildren(msg.Content)
	if err != nil || len(parts) < 2 || parts[0].Tag != berTagInteger {
		return ldapMessage{}, nil, errNotLDAP
	}
	var m ldapMessage
	if m.MessageID, err = berInt(parts[0].Content); err != nil {
		return ldapMessage{}, nil, errNotLDAP
	}
	op := parts[1]
	m.OpTag = op.Tag
	fields, err := readChildren(op.Content)
	if err != nil {
		return ldapMessage{}, nil, errNotLDAP
	}
	switch op.Tag {
	case 0x61, 0x65, 0x78: // BindResponse, SearchResultDone, ExtendedResponse
		if len(fields) < 1 || fields[0].Tag != berTagEnumerated {
			return ldapMessage{}, nil, errNotLDAP
		}
		if m.ResultCode, err = berInt(fields[0].Content); err != nil {
			return ldapMessage{}, nil, errNotLDAP
		}
	case 0x64: // SearchResultEntry
		m.Attributes = map[string]string{}
		if len(fields) == 2 {
			attrs, _ := readChildren(fields[1].Content)
			for _, a := range attrs {
				kv, err := readChildren(a.Content)
				if err != nil || len(kv) < 2 {
					continue
				}
				values, _ := readChildren(kv[1].Content)
				if len(values) > 0 {
					m.Attributes[string(kv[0].Content)] = string(values[0].Content)
				}
			}
		}
	default:
		return ldapMessage{}, nil, errNotLDAP
	}
	return m, rest, nil
}
