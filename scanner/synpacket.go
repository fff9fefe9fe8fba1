package scanner

import (
	"encoding/binary"
	"errors"
	"hash/maphash"
	"net/netip"
)

// TCP flags.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10
)

const synSegmentLen = 24 // 20-byte header + MSS option

// buildSYN writes a TCP SYN segment (header and MSS option, no IP header) into b,
// with the checksum over the pseudo-header of src and dst. It allocates nothing:
// at hundreds of thousands of probes a second the sender's cost is the system
// calls, not the building.
func buildSYN(b []byte, src, dst netip.Addr, sport, dport uint16, seq uint32) []byte {
	b = b[:synSegmentLen]
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint32(b[4:], seq)
	binary.BigEndian.PutUint32(b[8:], 0)
	b[12] = (synSegmentLen / 4) << 4
	b[13] = tcpSYN
	binary.BigEndian.PutUint16(b[14:], 1024) // window
	binary.BigEndian.PutUint16(b[16:], 0)    // checksum, below
	binary.BigEndian.PutUint16(b[18:], 0)    // urgent pointer
	b[20], b[21] = 2, 4                      // MSS option
	binary.BigEndian.PutUint16(b[22:], 1460)
	binary.BigEndian.PutUint16(b[16:], foldChecksum(addrSum(src)+addrSum(dst)+6+synSegmentLen+wordSum(b)))
	return b
}

// tcpChecksum is the Internet checksum of a TCP segment with its pseudo-header.
func tcpChecksum(seg []byte, src, dst netip.Addr) uint16 {
	return foldChecksum(addrSum(src) + addrSum(dst) + 6 + uint32(len(seg)) + wordSum(seg))
}

// addrSum is the ones'-complement sum of an address's 16-bit words, unfolded.
func addrSum(a netip.Addr) uint32 {
	if a.Is4() {
		b := a.As4()
		return (uint32(b[0])<<8 | uint32(b[1])) + (uint32(b[2])<<8 | uint32(b[3]))
	}
	b := a.As16()
	return wordSum(b[:])
}

// wordSum adds b as big-endian 16-bit words (an odd last byte padded with zero).
func wordSum(b []byte) uint32 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	return sum
}

func foldChecksum(sum uint32) uint16 {
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// tcpReply is what matters of a TCP segment received during a SYN scan.
type tcpReply struct {
	src, dst     netip.Addr
	sport, dport uint16
	seq, ack     uint32
	flags        uint8
}

var errNotTCP = errors.New("not a TCP segment")

// parseIPv4TCP reads an IPv4 packet carrying TCP, as an IPv4 raw socket delivers it.
func parseIPv4TCP(pkt []byte) (tcpReply, error) {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return tcpReply{}, errors.New("not an IPv4 packet")
	}
	ihl := int(pkt[0]&0x0f) * 4
	if ihl < 20 || len(pkt) < ihl {
		return tcpReply{}, errors.New("bad IPv4 header length")
	}
	if pkt[9] != 6 {
		return tcpReply{}, errNotTCP
	}
	if binary.BigEndian.Uint16(pkt[6:])&0x1fff != 0 {
		return tcpReply{}, errors.New("IPv4 fragment")
	}
	src := netip.AddrFrom4([4]byte(pkt[12:16]))
	dst := netip.AddrFrom4([4]byte(pkt[16:20]))
	return parseTCP(pkt[ihl:], src, dst)
}

// parseTCP reads a TCP header; an IPv6 raw socket delivers the segment alone, the
// addresses come from the socket.
func parseTCP(seg []byte, src, dst netip.Addr) (tcpReply, error) {
	if len(seg) < 20 {
		return tcpReply{}, errors.New("short TCP header")
	}
	if off := int(seg[12]>>4) * 4; off < 20 || off > len(seg) {
		return tcpReply{}, errors.New("bad TCP data offset")
	}
	return tcpReply{
		src: src, dst: dst,
		sport: binary.BigEndian.Uint16(seg[0:]),
		dport: binary.BigEndian.Uint16(seg[2:]),
		seq:   binary.BigEndian.Uint32(seg[4:]),
		ack:   binary.BigEndian.Uint32(seg[8:]),
		flags: seg[13],
	}, nil
}

// cookieJar derives each probe's initial sequence number from a secret of the scan
// and the 4-tuple, so a reply proves it answers our probe (its ack is our seq+1)
// without a table of what was sent: stray and spoofed packets fail the check.
//
// Each attempt at a port is sent from a source port of its own, the scan's base
// port plus the attempt number, so that a reply tells which attempt it answers
// and every attempt is a connection of its own at the target. A retransmission
// on the same 4-tuple would meet the half-open connection of the first attempt
// whenever that attempt's SYN-ACK was lost: with another sequence number it falls
// in the connection's window and the target resets it (RFC 793), which reads as
// a closed port; with the same one, the answer could not be told from a late
// answer to the first.
type cookieJar struct{ seed maphash.Seed }

func newCookieJar() cookieJar { return cookieJar{seed: maphash.MakeSeed()} }

// maxTries bounds the attempts per port, and so the source ports a scan uses.
const maxTries = 8

func (c cookieJar) cookie(local, remote netip.Addr, lport, rport uint16) uint32 {
	var b [36]byte
	l, r := local.As16(), remote.As16()
	copy(b[0:], l[:])
	copy(b[16:], r[:])
	binary.BigEndian.PutUint16(b[32:], lport)
	binary.BigEndian.PutUint16(b[34:], rport)
	return uint32(maphash.Bytes(c.seed, b[:]))
}

// probe is the source port and sequence number of attempt try (0-based) to a
// port, for a scan whose base source port is lport.
func (c cookieJar) probe(local, remote netip.Addr, lport, rport uint16, try int) (sport uint16, seq uint32) {
	sport = lport + uint16(try)
	return sport, c.cookie(local, remote, sport, rport)
}

// replyKind classifies a reply to one of our probes.
type replyKind uint8

const (
	replyNone   replyKind = iota // not an answer to our probe
	replyOpen                    // SYN-ACK
	replyClosed                  // RST
)

// classify checks that r answers a probe of a scan whose base source port is
// lport and returns what it says and which attempt it answers.
func (c cookieJar) classify(r tcpReply, lport uint16) (replyKind, int) {
	// Our own SYNs come back on loopback: they are from our ports, not to them.
	try := int(r.dport) - int(lport)
	if try < 0 || try >= maxTries || r.flags&tcpACK == 0 || r.ack-1 != c.cookie(r.dst, r.src, r.dport, r.sport) {
		return replyNone, 0
	}
	switch {
	case r.flags&tcpRST != 0:
		return replyClosed, try
	case r.flags&(tcpSYN|tcpFIN) == tcpSYN:
		return replyOpen, try
	}
	return replyNone, 0
}
