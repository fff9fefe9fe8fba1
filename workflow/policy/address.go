package policy

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// AssetAddressRules say which addresses may be inventory assets. Some
// addresses are never a host one can scan or open a port to: the
// unspecified address, broadcast, multicast, link-local (which includes
// the cloud metadata service, 169.254.169.254); accepting them would point
// the scanner at the wrong thing. An admin can allow such ranges
// explicitly; loopback is allowed only where the server says so (the demo,
// tests).
type AssetAddressRules struct {
	AllowLoopback bool
	Allowed       []netip.Prefix // admin-set: special ranges that are nonetheless allowed
}

// metadataAddresses are the cloud instance metadata services.
var metadataAddresses = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack
	netip.MustParseAddr("fd00:ec2::254"),   // AWS over IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
}

// translatedV4 are the IPv6 prefixes whose last 32 bits name an IPv4
// address that a packet to them reaches: NAT64 (RFC 6052, RFC 8215) and the
// deprecated IPv4-compatible form. 64:ff9b::a9fe:a9fe is the metadata
// service on a network with NAT64.
var translatedV4 = []netip.Prefix{
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("::/96"),
}

// CheckAssetAddress says why addr cannot be an asset, or "" when it can.
func (r AssetAddressRules) CheckAssetAddress(addr netip.Addr) string {
	addr = addr.Unmap()
	if addr.Is6() && !addr.IsUnspecified() && !addr.IsLoopback() {
		for _, p := range translatedV4 {
			if p.Contains(addr) {
				b := addr.As16()
				v4 := netip.AddrFrom4([4]byte(b[12:]))
				if why := r.CheckAssetAddress(v4); why != "" {
					return fmt.Sprintf("%s reaches %s: %s", addr, v4, why)
				}
			}
		}
	}
	for _, p := range r.Allowed {
		if p.Contains(addr) {
			return ""
		}
	}
	for _, m := range metadataAddresses {
		if addr == m {
			return fmt.Sprintf("%s is a cloud metadata service, not a host of the inventory", addr)
		}
	}
	switch {
	case addr.IsUnspecified():
		return fmt.Sprintf("%s is the unspecified address (any host), not a host", addr)
	case addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return fmt.Sprintf("%s is the broadcast address, not a host", addr)
	case addr.Is4() && addr.As4()[0] == 0:
		return fmt.Sprintf("%s is in 0.0.0.0/8, \"this network\": no host is reached there", addr)
	case addr.Is4() && addr.As4()[0] >= 240:
		return fmt.Sprintf("%s is in 240.0.0.0/4, reserved: no host is reached there", addr)
	case addr.IsMulticast():
		return fmt.Sprintf("%s is a multicast address, not a host", addr)
	case addr.IsLinkLocalUnicast():
		return fmt.Sprintf("%s is link-local: it names no host beyond one network segment", addr)
	case addr.IsLoopback() && !r.AllowLoopback:
		return fmt.Sprintf("%s is a loopback address: it is this server itself", addr)
	}
	return ""
}

// CheckHostname says why a host name is not one, or "" when it is (or is
// empty): letters, digits, '-', '_', '.' and ':' (an IPv6 address as a name), at most 253 characters; no
// spaces, line breaks, markup or other punctuation.
func CheckHostname(h string) string {
	if len(h) > 253 {
		return "a host name has at most 253 characters"
	}
	for _, c := range h {
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) && !strings.ContainsRune("-_.:", c) {
			return fmt.Sprintf("%q is not a host name: it may hold only letters, digits, '-', '_', '.' and ':'", h)
		}
	}
	return ""
}

// ParsePrefixList reads a comma-separated list of CIDRs or addresses.
func ParsePrefixList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%q is not a CIDR or an address", part)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// CheckText says why a text cannot be stored (PostgreSQL refuses NUL
// bytes and invalid UTF-8), or "" when it can.
func CheckText(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8 text"
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "contains a NUL character"
	}
	return ""
}
