// Package policy holds the vocabulary of a proposed firewall rule (ports,
// sources, destinations) and the engine that judges rules against the field
// practice encoded in the zone matrix and the port catalog. It knows nothing
// of HTTP or of the database.
package policy

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Protocol is the transport a rule opens.
type Protocol string

const (
	TCP Protocol = "tcp"
	UDP Protocol = "udp"
)

// ParseProtocol accepts "tcp" or "udp", in any case.
func ParseProtocol(s string) (Protocol, error) {
	switch p := Protocol(strings.ToLower(strings.TrimSpace(s))); p {
	case TCP, UDP:
		return p, nil
	case "":
		return "", fmt.Errorf("protocol is required (tcp or udp)")
	default:
		return "", fmt.Errorf("protocol %q is not tcp or udp", s)
	}
}

// Direction says which way the connection is opened, seen from the destination.
type Direction string

const (
	Ingress Direction = "ingress"
	Egress  Direction = "egress"
)

// ParseDirection accepts "ingress" or "egress"; empty means ingress, the common case.
func ParseDirection(s string) (Direction, error) {
	switch d := Direction(strings.ToLower(strings.TrimSpace(s))); d {
	case "":
		return Ingress, nil
	case Ingress, Egress:
		return d, nil
	default:
		return "", fmt.Errorf("direction %q is not ingress or egress", s)
	}
}

// PortRange is an inclusive range of ports; a single port has First == Last.
type PortRange struct {
	First, Last uint16
}

func (r PortRange) String() string {
	if r.First == r.Last {
		return strconv.Itoa(int(r.First))
	}
	return fmt.Sprintf("%d-%d", r.First, r.Last)
}

// PortSet is a sorted list of disjoint, non-adjacent port ranges.
type PortSet []PortRange

// ParsePorts reads "443", "8000-8100" or "80,443,8000-8100" (spaces allowed).
// Ports run from 1 to 65535; a range must not be given backwards.
func ParsePorts(s string) (PortSet, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("ports are required, e.g. 443, 8000-8100 or 80,443")
	}
	var set PortSet
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("port list %q has an empty entry", s)
		}
		first, last, isRange := strings.Cut(part, "-")
		lo, err := parsePort(first)
		if err != nil {
			return nil, err
		}
		hi := lo
		if isRange {
			if hi, err = parsePort(last); err != nil {
				return nil, err
			}
			if hi < lo {
				return nil, fmt.Errorf("port range %q is backwards: write %d-%d", part, hi, lo)
			}
		}
		set = append(set, PortRange{lo, hi})
	}
	return set.normalise(), nil
}

func parsePort(s string) (uint16, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("port %q is not a number", s)
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %d is out of range: ports run from 1 to 65535", n)
	}
	return uint16(n), nil
}

// normalise sorts the ranges and merges those that overlap or touch.
func (p PortSet) normalise() PortSet {
	slices.SortFunc(p, func(a, b PortRange) int { return int(a.First) - int(b.First) })
	out := p[:0]
	for _, r := range p {
		if n := len(out); n > 0 && int(r.First) <= int(out[n-1].Last)+1 {
			out[n-1].Last = max(out[n-1].Last, r.Last)
			continue
		}
		out = append(out, r)
	}
	return out
}

func (p PortSet) String() string {
	parts := make([]string, len(p))
	for i, r := range p {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// Count is the number of ports in the set.
func (p PortSet) Count() int {
	n := 0
	for _, r := range p {
		n += int(r.Last) - int(r.First) + 1
	}
	return n
}

// Contains reports whether port is in the set.
func (p PortSet) Contains(port uint16) bool {
	_, found := slices.BinarySearchFunc(p, port, func(r PortRange, port uint16) int {
		switch {
		case r.Last < port:
			return -1
		case r.First > port:
			return 1
		}
		return 0
	})
	return found
}

// Covers reports whether every port of q is in p.
func (p PortSet) Covers(q PortSet) bool {
	for _, r := range q {
		i, _ := slices.BinarySearchFunc(p, r.First, func(pr PortRange, port uint16) int {
			if pr.Last < port {
				return -1
			}
			if pr.First > port {
				return 1
			}
			return 0
		})
		if i >= len(p) || p[i].First > r.First || p[i].Last < r.Last {
			return false
		}
	}
	return true
}

// Overlaps reports whether p and q share at least one port.
func (p PortSet) Overlaps(q PortSet) bool {
	i, j := 0, 0
	for i < len(p) && j < len(q) {
		if p[i].Last < q[j].First {
			i++
		} else if q[j].Last < p[i].First {
			j++
		} else {
			return true
		}
	}
	return false
}

// ParseCIDRs reads a list of prefixes separated by commas, spaces or new
// lines. A bare address is taken as a single host (/32 or /128). Prefixes
// with host bits set ("10.0.0.1/24") are refused rather than silently
// widened, because the requester most likely meant something else.
func ParseCIDRs(s string) ([]netip.Prefix, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == ';' })
	if len(fields) == 0 {
		return nil, fmt.Errorf("at least one CIDR is required, e.g. 203.0.113.0/28")
	}
	out := make([]netip.Prefix, 0, len(fields))
	for _, f := range fields {
		p, err := ParseCIDR(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ParseCIDR reads one prefix or bare address.
func ParseCIDR(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a valid CIDR (like 10.0.0.0/24 or 2001:db8::/48)", s)
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("%q mixes IPv4 and IPv6: write the IPv4 prefix", s)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%q has host bits set: did you mean %s?", s, p.Masked())
	}
	return p, nil
}

// SourceKind says what a rule's source names.
type SourceKind string

const (
	SourceInternet SourceKind = "internet"
	SourceZone     SourceKind = "zone"
	SourceCIDRs    SourceKind = "cidrs"
)

// Source is where connections come from: the internet, a named zone, or a
// whitelist of prefixes.
type Source struct {
	Kind  SourceKind
	Zone  string
	CIDRs []netip.Prefix
}

// ParseSource reads "internet" (or "any"), a list of CIDRs, or otherwise a
// zone name. Whether the zone exists is for the caller to check.
func ParseSource(s string) (Source, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "":
		return Source{}, fmt.Errorf("source is required: internet, a zone name, or CIDRs")
	case "internet", "any":
		return Source{Kind: SourceInternet}, nil
	}
	if strings.ContainsAny(t, "/:") || startsWithDigit(t) {
		cidrs, err := ParseCIDRs(t)
		if err != nil {
			return Source{}, err
		}
		return Source{Kind: SourceCIDRs, CIDRs: cidrs}, nil
	}
	if !validZoneName(t) {
		return Source{}, fmt.Errorf("source %q is neither internet, a zone name nor a CIDR list", s)
	}
	return Source{Kind: SourceZone, Zone: t}, nil
}

func (s Source) String() string {
	switch s.Kind {
	case SourceInternet:
		return "internet"
	case SourceZone:
		return s.Zone
	}
	parts := make([]string, len(s.CIDRs))
	for i, p := range s.CIDRs {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// validZoneName accepts letters, digits, '-', '_' and '.', not starting with a digit.
func validZoneName(s string) bool {
	if s == "" || len(s) > 64 || startsWithDigit(s) {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// ValidZoneName reports whether s can name a zone.
func ValidZoneName(s string) bool { return validZoneName(s) }
