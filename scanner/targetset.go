package scanner

import (
	"context"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"sort"
)

// TargetSet is a set of addresses kept as ranges: a /16 costs a few words, not
// 65,536 addresses. Addresses are numbered 0..Len()-1 in ascending order (IPv4
// first), without duplicates.
type TargetSet struct {
	ranges []addrRange
	starts []uint64 // index of each range's first address
	total  uint64
}

type addrRange struct {
	first netip.Addr
	n     uint64 // addresses in the range, at least 1
}

// NewTargetSet makes a set of the given addresses.
func NewTargetSet(addrs []netip.Addr) *TargetSet {
	rs := make([]addrRange, 0, len(addrs))
	for _, a := range addrs {
		rs = append(rs, addrRange{first: a.Unmap(), n: 1})
	}
	return newTargetSet(rs)
}

func newTargetSet(rs []addrRange) *TargetSet {
	slices.SortFunc(rs, func(a, b addrRange) int { return a.first.Compare(b.first) })
	var merged []addrRange
	for _, r := range rs {
		if len(merged) > 0 {
			last := &merged[len(merged)-1]
			lastEnd, _ := addOffset(last.first, last.n-1)
			rEnd, _ := addOffset(r.first, r.n-1)
			sameFamily := last.first.BitLen() == r.first.BitLen() && last.first.Zone() == r.first.Zone()
			if sameFamily && (r.first.Compare(lastEnd) <= 0 || r.first.Prev() == lastEnd) {
				if rEnd.Compare(lastEnd) > 0 {
					last.n += distance(lastEnd, rEnd)
				}
				continue
			}
		}
		merged = append(merged, r)
	}
	s := &TargetSet{ranges: merged}
	for _, r := range merged {
		s.starts = append(s.starts, s.total)
		s.total += r.n
	}
	return s
}

// Len is the number of addresses.
func (s *TargetSet) Len() uint64 {
	if s == nil {
		return 0
	}
	return s.total
}

// At returns the i-th address, i < Len().
func (s *TargetSet) At(i uint64) netip.Addr {
	k := sort.Search(len(s.starts), func(k int) bool { return s.starts[k] > i }) - 1
	a, _ := addOffset(s.ranges[k].first, i-s.starts[k])
	return a
}

// All returns every address; for small sets and tests.
func (s *TargetSet) All() []netip.Addr {
	out := make([]netip.Addr, 0, s.Len())
	for i := range s.Len() {
		out = append(out, s.At(i))
	}
	return out
}

// addOffset returns a+off, false when it leaves the address family.
func addOffset(a netip.Addr, off uint64) (netip.Addr, bool) {
	if a.Is4() {
		v := uint64(be32(a.As4())) + off
		if v > 0xffffffff {
			return netip.Addr{}, false
		}
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
	}
	b := a.As16()
	hi, lo := be64(b[:8]), be64(b[8:])
	nlo := lo + off
	if nlo < lo {
		hi++
		if hi == 0 {
			return netip.Addr{}, false
		}
	}
	var out [16]byte
	put64(out[:8], hi)
	put64(out[8:], nlo)
	return netip.AddrFrom16(out).WithZone(a.Zone()), true
}

// distance is b-a for a <= b of the same family, saturating at 2^64-1.
func distance(a, b netip.Addr) uint64 {
	x := new(big.Int).SetBytes(a.AsSlice())
	y := new(big.Int).SetBytes(b.AsSlice())
	d := y.Sub(y, x)
	if !d.IsUint64() {
		return ^uint64(0)
	}
	return d.Uint64()
}

func be32(b [4]byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func be64(b []byte) uint64 {
	var v uint64
	for _, c := range b[:8] {
		v = v<<8 | uint64(c)
	}
	return v
}

func put64(b []byte, v uint64) {
	for i := 7; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
}

// ParseTargetSet reads target specifications like ParseTargets but keeps networks
// and ranges as ranges: nothing is expanded, so a /16 (or a /8 with a negative
// limit) costs no memory. Host names are resolved; duplicates are merged.
func ParseTargetSet(ctx context.Context, specs []string, limit int) (*TargetSet, error) {
	if limit == 0 {
		limit = DefaultMaxTargets
	}
	if limit < 0 || limit > absoluteMaxTargets {
		limit = absoluteMaxTargets
	}
	var parsed []targetSpec
	total := new(big.Int)
	for _, s := range specs {
		t, err := parseTargetSpec(s)
		if err != nil {
			return nil, err
		}
		parsed = append(parsed, t)
		total.Add(total, t.size())
	}
	if total.Cmp(big.NewInt(int64(limit))) > 0 {
		return nil, &TooManyTargetsError{Count: total, Limit: limit}
	}
	var rs []addrRange
	for _, t := range parsed {
		if t.host != "" {
			addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", t.host)
			if err != nil {
				return nil, &resolveError{host: t.host, err: err}
			}
			for _, a := range addrs {
				rs = append(rs, addrRange{first: a.Unmap().WithZone(a.Zone()), n: 1})
			}
			continue
		}
		rs = append(rs, addrRange{first: t.first, n: t.size().Uint64()})
	}
	return newTargetSet(rs), nil
}

type resolveError struct {
	host string
	err  error
}

func (e *resolveError) Error() string { return "resolving " + e.host + ": " + e.err.Error() }
func (e *resolveError) Unwrap() error { return e.err }
