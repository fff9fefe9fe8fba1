package fingerprint

import "errors"

// A minimal BER (X.690) encoder and decoder, enough for SNMP, LDAP and Kerberos.
// encoding/asn1 is DER-only and rejects the indefinite or non-minimal lengths some
// agents send, so answers are read with this tolerant decoder instead.

var errBER = errors.New("malformed BER")

// berTLV is one decoded element: its identifier octet and its content.
type berTLV struct {
	Tag     byte
	Content []byte
}

// Constructed reports whether the element contains other elements.
func (t berTLV) Constructed() bool { return t.Tag&0x20 != 0 }

// readTLV decodes one element from the front of b and returns the rest.
// Multi-byte tag numbers are not used by the protocols read here and are refused.
func readTLV(b []byte) (berTLV, []byte, error) {
	if len(b) < 2 {
		return berTLV{}, nil, errBER
	}
	tag := b[0]
	if tag&0x1f == 0x1f {
		return berTLV{}, nil, errBER
	}
	n := int(b[1])
	b = b[2:]
	if n&0x80 != 0 {
		octets := n & 0x7f
		if octets == 0 || octets > 4 || len(b) < octets {
			return berTLV{}, nil, errBER
		}
		n = 0
		for _, c := range b[:octets] {
			n = n<<8 | int(c)
		}
		b = b[octets:]
		if n < 0 {
			return berTLV{}, nil, errBER
		}
	}
	if n > len(b) {
		return berTLV{}, nil, errBER
	}
	return berTLV{Tag: tag, Content: b[:n]}, b[n:], nil
}

// readChildren decodes all the elements inside a constructed element.
func readChildren(content []byte) ([]berTLV, error) {
	var out []berTLV
	for len(content) > 0 {
		t, rest, err := readTLV(content)
		if err != nil {
			return out, err
		}
		out = append(out, t)
		content = rest
		if len(out) > 4096 {
			return out, errBER
		}
	}
	return out, nil
}

// berInt decodes a two's-complement INTEGER or ENUMERATED of at most 8 octets.
func berInt(content []byte) (int64, error) {
	if len(content) == 0 || len(content) > 8 {
		return 0, errBER
	}
	v := int64(int8(content[0]))
	for _, c := range content[1:] {
		v = v<<8 | int64(c)
	}
	return v, nil
}

// berEncode builds one element from a tag and the concatenated content parts.
func berEncode(tag byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := []byte{tag}
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	default:
		out = append(out, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// berInteger encodes a non-negative INTEGER (or ENUMERATED with tag 0x0a) minimally.
func berInteger(tag byte, v int64) []byte {
	var b []byte
	for {
		b = append([]byte{byte(v)}, b...)
		v >>= 8
		if v == 0 && b[0]&0x80 == 0 {
			break
		}
		if v == -1 && b[0]&0x80 != 0 {
			break
		}
	}
	return berEncode(tag, b)
}

// berOID encodes an OBJECT IDENTIFIER given its arcs.
func berOID(arcs ...uint32) []byte {
	if len(arcs) < 2 {
		return berEncode(0x06)
	}
	body := []byte{byte(arcs[0]*40 + arcs[1])}
	for _, a := range arcs[2:] {
		var chunk []byte
		chunk = append(chunk, byte(a&0x7f))
		for a >>= 7; a > 0; a >>= 7 {
			chunk = append([]byte{byte(a&0x7f) | 0x80}, chunk...)
		}
		body = append(body, chunk...)
	}
	return berEncode(0x06, body)
}

const (
	berTagInteger     = 0x02
	berTagOctetString = 0x04
	berTagNull        = 0x05
	berTagEnumerated  = 0x0a
	berTagSequence    = 0x30
)
