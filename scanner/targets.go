package scanner

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"strings"
)

// DefaultMaxTargets is the number of addresses a scan accepts unless the caller
// raises the limit (the CLI's --yes-i-mean-it).
const DefaultMaxTargets = 4096

// absoluteMaxTargets bounds even an unlimited scan: expanding more addresses than
// this would exhaust memory before a packet is sent.
const absoluteMaxTargets = 1 << 24

// TooManyTargetsError is returned when the targets expand past the limit.
type TooManyTargetsError struct {
	Count *big.Int // the number of addresses the specification covers (at least)
	Limit int
}

func (e *TooManyTargetsError) Error() string {
	return fmt.Sprintf("%s target addresses exceed the limit of %d", e.Count, e.Limit)
}

// targetSpec is one parsed target: a prefix, an address range, or a host name.
type targetSpec struct {
	first, last netip.Addr // inclusive range (a single address, a CIDR, a dash range)
	host        string     // a name to resolve
}

// parseTargetSpec reads "192.0.2.1", "2001:db8::1", "192.0.2.0/24",
// "192.0.2.10-20", "192.0.2.10-192.0.2.30" or a host name.
func parseTargetSpec(spec string) (targetSpec, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return targetSpec{}, errors.New("empty target")
	}
	if a, err := netip.ParseAddr(spec); err == nil {
		a = a.Unmap()
		return targetSpec{first: a, last: a}, nil
	}
	if strings.Contains(spec, "/") {
		p, err := netip.ParsePrefix(spec)
		if err != nil {
			return targetSpec{}, fmt.Errorf("target %q: %v", spec, err)
		}
		p = p.Masked()
		return targetSpec{first: p.Addr(), last: lastOfPrefix(p)}, nil
	}
	if lo, hi, ok := strings.Cut(spec, "-"); ok {
		if first, err := netip.ParseAddr(lo); err == nil {
			last, err := netip.ParseAddr(hi)
			if err != nil && first.Is4() {
				// short form: 192.0.2.10-20 ends on the same /24
				var n int
				if _, scanErr := fmt.Sscanf(hi, "%d", &n); scanErr == nil && fmt.Sprint(n) == hi && n <= 255 {
					b := first.As4()
					b[3] = byte(n)
					last, err = netip.AddrFrom4(b), nil
				}
			}
			if err != nil {
				return targetSpec{}, fmt.Errorf("target range %q: bad end", spec)
			}
			first, last = first.Unmap(), last.Unmap()
			if first.BitLen() != last.BitLen() || last.Less(first) {
				return targetSpec{}, fmt.Errorf("target range %q: end before start or mixed families", spec)
			}
			return targetSpec{first: first, last: last}, nil
		}
	}
	if !validHostname(spec) {
		return targetSpec{}, fmt.Errorf("target %q: not an address, network, range or host name", spec)
	}
	return targetSpec{host: spec}, nil
}

func lastOfPrefix(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func validHostname(s string) bool {
	if len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// size is the number of addresses of a range.
func (t targetSpec) size() *big.Int {
	if t.host != "" {
		return big.NewInt(1)
	}
	n := new(big.Int).Sub(new(big.Int).SetBytes(t.last.AsSlice()), new(big.Int).SetBytes(t.first.AsSlice()))
	return n.Add(n, big.NewInt(1))
}

// ParseTargets expands target specifications (addresses, CIDR networks, dash ranges,
// host names) into addresses, without duplicates, in the order given. Host names are
// resolved with the system resolver; every address a name resolves to is scanned.
// limit is the most addresses accepted: 0 means DefaultMaxTargets, a negative value
// means no limit but the memory bound of 16,777,216 addresses.
func ParseTargets(ctx context.Context, specs []string, limit int) ([]netip.Addr, error) {
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
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	add := func(a netip.Addr) {
		a = a.Unmap().WithZone(a.Zone())
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	for _, t := range parsed {
		if t.host != "" {
			addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", t.host)
			if err != nil {
				return nil, fmt.Errorf("resolving %s: %w", t.host, err)
			}
			for _, a := range addrs {
				add(a)
			}
			continue
		}
		for a := t.first; ; a = a.Next() {
			add(a)
			if a == t.last {
				break
			}
		}
	}
	if len(out) > limit {
		return nil, &TooManyTargetsError{Count: big.NewInt(int64(len(out))), Limit: limit}
	}
	return out, nil
}

func bigInt(n int) *big.Int { return big.NewInt(int64(n)) }
