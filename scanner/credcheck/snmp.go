package credcheck

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"time"
)

// snmpProbe sends an SNMPv2c GET of sysDescr.0 with the community; an agent
// silently drops a request with a community it does not know, so silence until
// the timeout is a rejection.
type snmpProbe struct{}

// snmpWait is how long an agent has to answer; its answer is immediate when the
// community is right.
const snmpWait = 2 * time.Second

func (snmpProbe) try(a *attempt) (outcome, string, error) {
	var d net.Dialer
	c, err := d.DialContext(a.ctx, "udp", a.addr)
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(min(a.timeout, snmpWait)))
	var idb [4]byte
	rand.Read(idb[:])
	id := int32(binary.BigEndian.Uint32(idb[:]) & 0x7fffffff)
	if _, err := c.Write(snmpGet(a.entry.Password, id)); err != nil {
		return 0, "", err
	}
	buf := make([]byte, 2048)
	for {
		n, err := c.Read(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return rejected, "no answer", nil
		}
		if err != nil {
			// ICMP port unreachable: nothing listens after all.
			return 0, "", err
		}
		if got, ok := snmpResponseID(buf[:n]); ok && got == id {
			return accepted, "GetResponse", nil
		}
	}
}

// berLen appends a BER definite length.
func berLen(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n < 0x100:
		return append(b, 0x81, byte(n))
	}
	return append(b, 0x82, byte(n>>8), byte(n))
}

func berTLV(tag byte, content []byte) []byte {
	return append(berLen([]byte{tag}, len(content)), content...)
}

func berInt(v int32) []byte {
	b := []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	// Minimal two's complement: drop leading bytes that only repeat the sign.
	for len(b) > 1 && ((b[0] == 0 && b[1]&0x80 == 0) || (b[0] == 0xff && b[1]&0x80 != 0)) {
		b = b[1:]
	}
	return berTLV(0x02, b)
}

// snmpGet builds GetRequest(sysDescr.0) in SNMPv2c.
func snmpGet(community string, id int32) []byte {
	sysDescr := []byte{0x2b, 6, 1, 2, 1, 1, 1, 0} // 1.3.6.1.2.1.1.1.0
	varbind := berTLV(0x30, append(berTLV(0x06, sysDescr), 0x05, 0x00))
	pdu := append(berInt(id), berInt(0)...)
	pdu = append(pdu, berInt(0)...)
	pdu = append(pdu, berTLV(0x30, varbind)...)
	msg := append(berInt(1), berTLV(0x04, []byte(community))...) // version 1 is v2c
	msg = append(msg, berTLV(0xa0, pdu)...)
	return berTLV(0x30, msg)
}

// berRead reads one TLV, returning its tag, content and the rest.
func berRead(b []byte) (tag byte, content, rest []byte, ok bool) {
	if len(b) < 2 {
		return 0, nil, nil, false
	}
	tag, l, i := b[0], int(b[1]), 2
	if l&0x80 != 0 {
		n := l & 0x7f
		if n == 0 || n > 2 || len(b) < 2+n {
			return 0, nil, nil, false
		}
		l = 0
		for _, x := range b[2 : 2+n] {
			l = l<<8 | int(x)
		}
		i += n
	}
	if len(b)-i < l {
		return 0, nil, nil, false
	}
	return tag, b[i : i+l], b[i+l:], true
}

// snmpResponseID returns the request id of a GetResponse.
func snmpResponseID(b []byte) (int32, bool) {
	tag, msg, _, ok := berRead(b)
	if !ok || tag != 0x30 {
		return 0, false
	}
	for range 2 { // version, community
		if _, _, msg, ok = berRead(msg); !ok {
			return 0, false
		}
	}
	tag, pdu, _, ok := berRead(msg)
	if !ok || tag != 0xa2 {
		return 0, false
	}
	tag, idb, _, ok := berRead(pdu)
	if !ok || tag != 0x02 || len(idb) == 0 || len(idb) > 4 {
		return 0, false
	}
	var id int32
	if idb[0]&0x80 != 0 {
		id = -1
	}
	for _, x := range idb {
		id = id<<8 | int32(x)
	}
	return id, true
}
