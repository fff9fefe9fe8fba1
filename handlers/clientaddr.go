package handlers

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/policy"
)

// ParseTrustedProxies reads a comma-separated list of addresses and CIDRs:
// the proxies whose X-Forwarded-For header is believed.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	return policy.ParsePrefixList(s)
}

func trusted(proxies []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddrOf is the address a request came from. X-Forwarded-For is
// believed only from a trusted proxy, and then read from the right: the
// first address that is not itself a trusted proxy is the client (what is
// to its left was written by the client and proves nothing).
func clientAddrOf(r *http.Request, proxies []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !trusted(proxies, peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled hop: trust nothing further left
		}
		client = a.Unmap()
		if !trusted(proxies, client) {
			break
		}
	}
	return client.String()
}

// withClientAddr replaces chi's RealIP (which believes any client's
// headers): it notes the client's address in the context, where the audit
// log and the rate limits find it.
func (s *Server) withClientAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := clientAddrOf(r, s.cfg.TrustedProxies)
		next.ServeHTTP(w, r.WithContext(core.WithClientAddr(r.Context(), addr)))
	})
}
