package driftrules

import (
	"net/netip"
	"sync"

	"github.com/portcullis/portcullis/workflow/policy"
)

// Prefill is what a new port-opening request made from a drift item starts
// with. The requester still chooses the source (a whitelist, a zone) and the
// expiry, and replaces the justification hint with the business reason: the
// policy engine judges the request like any other.
type Prefill struct {
	Title       string
	Destination netip.Prefix // the host, as a /32 or /128
	Zone        string
	Protocol    policy.Protocol
	Ports       policy.PortSet
	// Service is what answers on the port, in the catalog's words (http with
	// TLS is "https"); empty when the scanner could not identify it.
	Service string
	// Justification is a hint of what the request must explain, not a
	// justification: it is meant to be replaced.
	Justification string
	// DriftKey links the request back to the item, so that the server can
	// note the request on it.
	DriftKey string
	// RuleID and RequestID name the rule the item cited (a lapsed approval,
	// or the approval of another service), for reference; zero otherwise.
	RuleID, RequestID int64
}

// RequestFrom builds the prefill for a drift item that is an opening someone
// may want approved: open-unapproved, service-mismatch and expired-open
// (Kind.Requestable). Other kinds are not openings (a stale rule, a weak
// configuration, a tarpit) and give the zero Prefill; the server offers the
// action only where Requestable says so.
func RequestFrom(item Item) Prefill {
	if !item.Kind.Requestable() || !item.Address.IsValid() || item.Port == 0 {
		return Prefill{}
	}
	addr := item.Address.WithZone("").Unmap()
	service := ""
	if s := normalService(item.Service); s != ServiceUnknown {
		service = s
		if item.Evidence.TLS {
			if v, ok := tlsVariants()[s]; ok {
				service = v
			}
		}
	}
	ports := portText(item.Protocol, item.Port, max(item.Port, item.LastPort))
	what := ports
	if service != "" {
		what = ports + " (" + service + ")"
	}
	p := Prefill{
		Destination: netip.PrefixFrom(addr, addr.BitLen()),
		Zone:        item.Zone,
		Protocol:    item.Protocol,
		Ports:       policy.PortSet{{First: item.Port, Last: max(item.Port, item.LastPort)}},
		Service:     service,
		DriftKey:    item.Key,
		RuleID:      item.RuleID,
		RequestID:   item.RequestID,
	}
	const ask = " Say what business need keeps it open, which sources must reach it and until when; if there is none, close the port instead of filing this request."
	switch item.Kind {
	case KindOpenUnapproved:
		p.Title = "Approve " + what + " on " + addr.String()
		p.Justification = "The scanner found " + ports + " open on " + addr.String() + " without an approval." + ask
	case KindExpiredOpen:
		p.Title = "Re-approve " + what + " on " + addr.String()
		p.Justification = "The approval of " + ports + " on " + addr.String() + lapsedFrom(item) + " has lapsed, but the port is still open." + ask
	case KindServiceMismatch:
		p.Title = "Approve " + what + " on " + addr.String()
		p.Justification = ports + " on " + addr.String() + " is approved for " + item.ApprovedService + lapsedFrom(item) +
			", but " + service + " answers there." + ask
	}
	return p
}

// lapsedFrom names the request an item cites: " (request #40)".
func lapsedFrom(item Item) string {
	if item.RequestID == 0 {
		return ""
	}
	return " (request #" + itoa(item.RequestID) + ")"
}

// tlsVariants maps a cleartext service of the shipped catalog to its TLS
// variant (http → https), the first in catalog order when there are several.
var tlsVariants = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	for _, s := range policy.DefaultCatalog().Services() {
		if _, done := out[s.TLSOf]; s.TLSOf != "" && !done {
			out[s.TLSOf] = s.Name
		}
	}
	return out
})
