package scanner

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// answer builds the reply a TCP stack would send to a SYN segment.
func answer(syn []byte, flags uint8, ackDelta uint32) []byte {
	b := make([]byte, 20)
	copy(b[0:2], syn[2:4])
	copy(b[2:4], syn[0:2])
	binary.BigEndian.PutUint32(b[4:], 12345)
	binary.BigEndian.PutUint32(b[8:], binary.BigEndian.Uint32(syn[4:])+ackDelta)
	b[12] = 5 << 4
	b[13] = flags
	return b
}

func ipv4(src, dst netip.Addr, seg []byte) []byte {
	p := make([]byte, 20, 20+len(seg))
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:], uint16(20+len(seg)))
	p[8], p[9] = 64, 6
	copy(p[12:], src.AsSlice())
	copy(p[16:], dst.AsSlice())
	return append(p, seg...)
}

func TestSYNChecksumVerifies(t *testing.T) {
	t.Parallel()
	for _, pair := range [][2]string{{"192.0.2.1", "198.51.100.7"}, {"2001:db8::1", "2001:db8::2"}} {
		src, dst := netip.MustParseAddr(pair[0]), netip.MustParseAddr(pair[1])
		seg := buildSYN(make([]byte, 64), src, dst, 61234, 443, 0xdeadbeef)
		// A segment with its checksum in place sums to zero.
		if c := tcpChecksum(seg, src, dst); c != 0 && c != 0xffff {
			t.Errorf("%v: checksum does not verify: %#x", pair, c)
		}
		r, err := parseTCP(seg, src, dst)
		if err != nil || r.sport != 61234 || r.dport != 443 || r.seq != 0xdeadbeef || r.flags != tcpSYN {
			t.Errorf("%v: parsed %+v %v", pair, r, err)
		}
	}
}

func TestClassifyReplies(t *testing.T) {
	t.Parallel()
	jar := newCookieJar()
	local, remote := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.9")
	const lport = 61500
	sport, seq := jar.probe(local, remote, lport, 22, 1)
	if sport != lport+1 {
		t.Fatalf("attempt 1 sent from port %d, want %d", sport, lport+1)
	}
	syn := buildSYN(make([]byte, 64), local, remote, sport, 22, seq)
	// The same cookie arriving on another attempt's port does not answer a probe.
	moved := buildSYN(make([]byte, 64), local, remote, lport+2, 22, seq)
	beyond := buildSYN(make([]byte, 64), local, remote, lport+maxTries, 22, seq)
	cases := []struct {
		name  string
		seg   []byte
		kind  replyKind
		try   int
		srcIs netip.Addr
	}{
		{"syn-ack", answer(syn, tcpSYN|tcpACK, 1), replyOpen, 1, remote},
		{"rst-ack", answer(syn, tcpRST|tcpACK, 1), replyClosed, 1, remote},
		{"wrong ack", answer(syn, tcpSYN|tcpACK, 100), replyNone, 0, remote},
		{"no ack flag", answer(syn, tcpSYN, 1), replyNone, 0, remote},
		{"our own syn looped back", syn, replyNone, 0, local},
		{"to another attempt's port", answer(moved, tcpSYN|tcpACK, 1), replyNone, 0, remote},
		{"to a port beyond the scan's", answer(beyond, tcpSYN|tcpACK, 1), replyNone, 0, remote},
		{"from another host", answer(syn, tcpSYN|tcpACK, 1), replyNone, 0, netip.MustParseAddr("192.0.2.10")},
	}
	for _, c := range cases {
		dst := local
		if c.srcIs == local {
			dst = remote
		}
		r, err := parseIPv4TCP(ipv4(c.srcIs, dst, c.seg))
		if err != nil {
			t.Fatal(c.name, err)
		}
		kind, try := jar.classify(r, lport)
		if kind != c.kind || try != c.try {
			t.Errorf("%s: kind %d try %d, want %d %d", c.name, kind, try, c.kind, c.try)
		}
	}
}

func FuzzParseReply(f *testing.F) {
	local, remote := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.9")
	syn := buildSYN(make([]byte, 64), local, remote, 61500, 22, 7)
	f.Add(ipv4(remote, local, answer(syn, tcpSYN|tcpACK, 1)))
	f.Add(ipv4(remote, local, answer(syn, tcpRST|tcpACK, 1)))
	f.Add([]byte{0x4f, 0, 0, 0})
	f.Add([]byte{})
	jar := newCookieJar()
	f.Fuzz(func(t *testing.T, pkt []byte) {
		r, err := parseIPv4TCP(pkt)
		if err != nil {
			return
		}
		if r.src.BitLen() != 32 || r.dst.BitLen() != 32 {
			t.Fatalf("addresses %v %v", r.src, r.dst)
		}
		if kind, try := jar.classify(r, 61500); kind != replyNone && (try < 0 || try >= maxTries) {
			t.Fatalf("try %d", try)
		}
	})
}

func FuzzParseTCP(f *testing.F) {
	a, b := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	f.Add(buildSYN(make([]byte, 64), a, b, 1, 2, 3))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, seg []byte) {
		r, err := parseTCP(seg, a, b)
		if err != nil {
			return
		}
		if len(seg) < 20 || r.sport != binary.BigEndian.Uint16(seg) {
			t.Fatalf("accepted %x as %+v", seg, r)
		}
	})
}

func FuzzBuildSYN(f *testing.F) {
	f.Add([]byte{192, 0, 2, 1}, []byte{192, 0, 2, 2}, uint16(1), uint16(2), uint32(3))
	f.Add(make([]byte, 16), make([]byte, 16), uint16(65535), uint16(80), uint32(0xffffffff))
	f.Fuzz(func(t *testing.T, s, d []byte, sport, dport uint16, seq uint32) {
		src, ok1 := netip.AddrFromSlice(s)
		dst, ok2 := netip.AddrFromSlice(d)
		if !ok1 || !ok2 || src.BitLen() != dst.BitLen() {
			return
		}
		seg := buildSYN(make([]byte, 64), src, dst, sport, dport, seq)
		if c := tcpChecksum(seg, src, dst); c != 0 && c != 0xffff {
			t.Fatalf("checksum %#x", c)
		}
		r, err := parseTCP(seg, src, dst)
		if err != nil || r.sport != sport || r.dport != dport || r.seq != seq {
			t.Fatalf("round trip %+v %v", r, err)
		}
	})
}

// Building a probe allocates nothing: a scan builds millions.
func TestBuildSYNAllocatesNothing(t *testing.T) {
	buf := make([]byte, 64)
	for _, pair := range [][2]netip.Addr{
		{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.7")},
		{netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")},
	} {
		if n := testing.AllocsPerRun(100, func() { buildSYN(buf, pair[0], pair[1], 61000, 443, 12345) }); n != 0 {
			t.Errorf("%v: %.0f allocations per probe", pair, n)
		}
	}
}
