package fingerprint

import (
	"encoding/binary"
	"errors"
	"strings"
)

// DNS (RFC 1035): a CHAOS TXT query for version.bind. Any server answers it with a
// response carrying our ID, even when it refuses to disclose the version.

const dnsQueryID = 0x1337

func dnsVersionQuery() []byte {
	q := []byte{dnsQueryID >> 8, dnsQueryID & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, label := range []string{"version", "bind"} {
		q = append(q, byte(len(label)))
		q = append(q, label...)
	}
	return append(q, 0, 0, 16, 0, 3) // TXT, CH
}

// dnsTCP frames a DNS message with the two-byte length used over TCP.
func dnsTCP(msg []byte) []byte {
	return append([]byte{byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

// dnsAnswer is what a DNS response to our query says.
type dnsAnswer struct {
	RCode   int
	Version string // the first TXT string of the answer, when the server discloses it
}

var errNotDNS = errors.New("not a DNS response to our query")

// parseDNSResponse decodes a response to dnsVersionQuery.
func parseDNSResponse(b []byte) (dnsAnswer, error) {
	if len(b) < 12 || binary.BigEndian.Uint16(b) != dnsQueryID || b[2]&0x80 == 0 {
		return dnsAnswer{}, errNotDNS
	}
	a := dnsAnswer{RCode: int(b[3] & 0x0f)}
	qd, an := binary.BigEndian.Uint16(b[4:]), binary.BigEndian.Uint16(b[6:])
	off := 12
	for range qd {
		n, ok := skipDNSName(b, off)
		if !ok || n+4 > len(b) {
			return a, nil
		}
		off = n + 4
	}
	for range an {
		n, ok := skipDNSName(b, off)
		if !ok || n+10 > len(b) {
			return a, nil
		}
		typ := binary.BigEndian.Uint16(b[n:])
		rdlen := int(binary.BigEndian.Uint16(b[n+8:]))
		rdata := n + 10
		if rdata+rdlen > len(b) {
			return a, nil
		}
		if typ == 16 && rdlen > 0 {
			l := int(b[rdata])
			if 1+l <= rdlen {
				a.Version = string(b[rdata+1 : rdata+1+l])
				return a, nil
			}
		}
		off = rdata + rdlen
	}
	return a, nil
}

// skipDNSName returns the offset just past the (possibly compressed) name at off.
func skipDNSName(b []byte, off int) (int, bool) {
	for steps := 0; steps < 128; steps++ {
		if off >= len(b) {
			return 0, false
		}
		l := int(b[off])
		switch {
		case l == 0:
			return off + 1, true
		case l&0xc0 == 0xc0:
			if off+2 > len(b) {
				return 0, false
			}
			return off + 2, true
		case l&0xc0 != 0:
			return 0, false
		}
		off += 1 + l
	}
	return 0, false
}

// dnsProduct names the server software from a version.bind string.
func dnsProduct(version string) (product, ver string) {
	v := strings.TrimSpace(version)
	switch {
	case strings.HasPrefix(v, "dnsmasq-"):
		return "dnsmasq", strings.TrimPrefix(v, "dnsmasq-")
	case strings.HasPrefix(strings.ToLower(v), "unbound"):
		return "Unbound", strings.TrimSpace(v[len("unbound"):])
	case strings.HasPrefix(strings.ToLower(v), "powerdns"):
		f := strings.Fields(v)
		if len(f) >= 3 {
			return "PowerDNS", f[2]
		}
		return "PowerDNS", ""
	case strings.HasPrefix(v, "Knot DNS"):
		return "Knot DNS", strings.TrimSpace(strings.TrimPrefix(v, "Knot DNS"))
	case v != "" && v[0] >= '0' && v[0] <= '9':
		f := strings.Fields(v)
		return "BIND", f[0]
	}
	return "", ""
}
