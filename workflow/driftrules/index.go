package driftrules

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis/portcullis/workflow/policy"
)

// standing is whether a rule's approval holds.
type standing uint8

const (
	ignored standing = iota // never approved anything (draft, rejected, malformed)
	inForce
	lapsed // expired or revoked, or past its expiry date
)

// ruleIndex finds, for an open port of an address, the rules whose
// destination contains the address and whose ports contain the port.
//
// Asset rules (a single address) sit in a map keyed by protocol and address.
// Zone rules sit in a map keyed by protocol and masked prefix; a lookup tries
// each prefix length present (a handful: the zones' sizes), so it costs a few
// map probes whatever the number of rules. Within one destination the port
// ranges are sorted by first port with a running maximum of last ports, so a
// lookup walks back from the port only while an earlier range can reach it.
type ruleIndex struct {
	rules    []Rule     // sorted by ruleOrder; item ids refer to this order
	standing []standing // per rule
	ports    []policy.PortSet
	dests    []netip.Prefix // per rule, normalised
	hosts    map[hostKey]int32
	zones    map[zoneKey]int32
	lengths  [2][2][]int // [udp][v6]: zone prefix lengths present, longest first
	buckets  []portBucket
	// assets lists, per address, the in-force single-address rules, for the
	// approved-but-closed check.
	assets map[netip.Addr][]int32
}

type hostKey struct {
	udp  bool
	addr netip.Addr
}

type zoneKey struct {
	udp    bool
	prefix netip.Prefix
}

type portBucket struct {
	entries []portEntry // sorted by first port, then rule
	maxLast []uint16    // maxLast[k] is the largest last port of entries[:k+1]
}

type portEntry struct {
	first, last uint16
	rule        int32
}

// newRuleIndex files the rules. Rules that cannot be judged (no valid
// destination, protocol or ports, or a state that never approved anything)
// are left out.
func newRuleIndex(rules []Rule, now time.Time) *ruleIndex {
	own := slices.Clone(rules)
	// A total order, so that which rule an item cites never depends on the
	// order the caller listed them in.
	slices.SortFunc(own, ruleOrder)
	x := &ruleIndex{
		rules:    own,
		standing: make([]standing, len(own)),
		ports:    make([]policy.PortSet, len(own)),
		dests:    make([]netip.Prefix, len(own)),
		hosts:    make(map[hostKey]int32, len(own)),
		zones:    map[zoneKey]int32{},
		assets:   map[netip.Addr][]int32{},
	}
	for i := range own {
		r := &own[i]
		st := ruleStanding(r, now)
		dest, ok := normalPrefix(r.Destination)
		proto, protoOK := normalProtocol(r.Protocol)
		ports := cleanPorts(r.Ports)
		if st == ignored || !ok || !protoOK || len(ports) == 0 {
			continue
		}
		x.standing[i], x.ports[i], x.dests[i] = st, ports, dest
		udp := proto == policy.UDP
		var b int32
		if dest.IsSingleIP() {
			key := hostKey{udp, dest.Addr()}
			var found bool
			if b, found = x.hosts[key]; !found {
				b = x.newBucket()
				x.hosts[key] = b
			}
			if st == inForce {
				x.assets[dest.Addr()] = append(x.assets[dest.Addr()], int32(i))
			}
		} else {
			key := zoneKey{udp, dest}
			var found bool
			if b, found = x.zones[key]; !found {
				b = x.newBucket()
				x.zones[key] = b
				v6 := b2i(dest.Addr().Is6())
				if !slices.Contains(x.lengths[b2i(udp)][v6], dest.Bits()) {
					x.lengths[b2i(udp)][v6] = append(x.lengths[b2i(udp)][v6], dest.Bits())
				}
			}
		}
		for _, pr := range ports {
			x.buckets[b].entries = append(x.buckets[b].entries, portEntry{pr.First, pr.Last, int32(i)})
		}
	}
	for i := range x.buckets {
		bucket := &x.buckets[i]
		slices.SortFunc(bucket.entries, func(a, b portEntry) int {
			return cmp.Or(cmp.Compare(a.first, b.first), cmp.Compare(a.rule, b.rule))
		})
		bucket.maxLast = make([]uint16, len(bucket.entries))
		var top uint16
		for k, e := range bucket.entries {
			top = max(top, e.last)
			bucket.maxLast[k] = top
		}
	}
	for u := range x.lengths {
		for v := range x.lengths[u] {
			slices.SortFunc(x.lengths[u][v], func(a, b int) int { return cmp.Compare(b, a) })
		}
	}
	return x
}

func (x *ruleIndex) newBucket() int32 {
	x.buckets = append(x.buckets, portBucket{})
	return int32(len(x.buckets) - 1)
}

// match appends to dst the rules (by index) that open port on addr, most
// specific destination first, then in rule order.
func (x *ruleIndex) match(dst []int32, proto policy.Protocol, addr netip.Addr, port uint16) []int32 {
	udp := proto == policy.UDP
	if b, ok := x.hosts[hostKey{udp, addr}]; ok {
		dst = x.buckets[b].query(dst, port)
	}
	for _, bits := range x.lengths[b2i(udp)][b2i(addr.Is6())] {
		p, err := addr.Prefix(bits)
		if err != nil {
			continue
		}
		if b, ok := x.zones[zoneKey{udp, p}]; ok {
			dst = x.buckets[b].query(dst, port)
		}
	}
	return dst
}

// query appends the rules of entries whose range contains port, in rule
// order.
func (b *portBucket) query(dst []int32, port uint16) []int32 {
	// Entries from end on start beyond port; walk back from there while an
	// earlier entry can still reach it.
	end, _ := slices.BinarySearchFunc(b.entries, port, func(e portEntry, port uint16) int {
		if e.first <= port {
			return -1
		}
		return 1
	})
	start := len(dst)
	for k := end - 1; k >= 0 && b.maxLast[k] >= port; k-- {
		if b.entries[k].last >= port {
			dst = append(dst, b.entries[k].rule)
		}
	}
	slices.Sort(dst[start:])
	return dst
}

// ruleStanding says whether r's approval holds at now.
func ruleStanding(r *Rule, now time.Time) standing {
	switch strings.ToLower(strings.TrimSpace(r.State)) {
	case RuleActive, RuleApproved, RuleImplemented, RuleVerified, RuleVerificationFailed:
		if !r.Expires.IsZero() && !now.Before(r.Expires) {
			return lapsed
		}
		return inForce
	case RuleExpired, RuleRevoked:
		return lapsed
	}
	return ignored
}

func isRevoked(r *Rule) bool {
	return strings.EqualFold(strings.TrimSpace(r.State), RuleRevoked)
}

// ruleOrder sorts rules by request, then rule, then every other field, so
// that the order is total.
func ruleOrder(a, b Rule) int {
	return cmp.Or(
		cmp.Compare(a.RequestID, b.RequestID),
		cmp.Compare(a.ID, b.ID),
		a.Destination.Addr().Compare(b.Destination.Addr()),
		cmp.Compare(a.Destination.Bits(), b.Destination.Bits()),
		cmp.Compare(a.Protocol, b.Protocol),
		comparePorts(a.Ports, b.Ports),
		cmp.Compare(a.Service, b.Service),
		cmp.Compare(a.State, b.State),
		cmp.Compare(b2i(a.RequiresAuth), b2i(b.RequiresAuth)),
		a.Expires.Compare(b.Expires),
		cmp.Compare(a.Label, b.Label),
	)
}

func comparePorts(a, b policy.PortSet) int {
	return slices.CompareFunc(a, b, func(x, y policy.PortRange) int {
		return cmp.Or(cmp.Compare(x.First, y.First), cmp.Compare(x.Last, y.Last))
	})
}

// normalPrefix masks p and turns an IPv4-mapped IPv6 prefix into the IPv4
// prefix it stands for, so that rules and scanned addresses meet in one form.
func normalPrefix(p netip.Prefix) (netip.Prefix, bool) {
	if !p.IsValid() {
		return netip.Prefix{}, false
	}
	a := p.Addr().WithZone("")
	bits := p.Bits()
	if a.Is4In6() {
		if bits < 96 {
			return netip.Prefix{}, false
		}
		a, bits = a.Unmap(), bits-96
	}
	q, err := a.Prefix(bits)
	return q, err == nil
}

// normalAddr drops an IPv6 zone and unmaps IPv4-mapped addresses.
func normalAddr(a netip.Addr) (netip.Addr, bool) {
	if !a.IsValid() {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}

func normalProtocol(p policy.Protocol) (policy.Protocol, bool) {
	switch q := policy.Protocol(strings.ToLower(strings.TrimSpace(string(p)))); q {
	case policy.TCP, policy.UDP:
		return q, true
	}
	return "", false
}

// cleanPorts returns p sorted and merged, without ranges that are not ranges
// of real ports (port 0, backwards). Callers' sets may not have come from
// policy.ParsePorts.
func cleanPorts(p policy.PortSet) policy.PortSet {
	if isClean(p) {
		return p
	}
	out := make(policy.PortSet, 0, len(p))
	for _, r := range p {
		if r.First == 0 {
			r.First = 1
		}
		if r.Last == 0 || r.First > r.Last {
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b policy.PortRange) int { return cmp.Compare(a.First, b.First) })
	merged := out[:0]
	for _, r := range out {
		if n := len(merged); n > 0 && int(r.First) <= int(merged[n-1].Last)+1 {
			merged[n-1].Last = max(merged[n-1].Last, r.Last)
			continue
		}
		merged = append(merged, r)
	}
	return merged
}

// isClean reports whether p is already sorted, merged and valid, the common
// case, so that cleanPorts need not copy it.
func isClean(p policy.PortSet) bool {
	for i, r := range p {
		if r.First == 0 || r.First > r.Last {
			return false
		}
		if i > 0 && int(r.First) <= int(p[i-1].Last)+1 {
			return false
		}
	}
	return true
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func quote(s string) string { return strconv.Quote(s) }
