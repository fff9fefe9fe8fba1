package driftrules

import (
	"fmt"
	"net/netip"
	"time"
)

// External is what the internet vantage saw on one asset's public (NAT)
// address: Observation.Address is the public address, Asset the asset's
// own address, which the rules name.
type External struct {
	Observation
	Asset netip.Addr
}

// CompareExternal finds the ports that answer from the internet while the
// rules in force that reach them allow internal sources only, or none
// opens them at all: exposed-externally, keyed by the public address so
// that scans from inside never resolve it. Severity: high when an approval
// for internal sources exists (the NAT or firewall opens more than was
// approved), critical when nothing approves the port.
func CompareExternal(obs []External, rules []Rule, now time.Time) []Item {
	var items []Item
	for _, o := range obs {
		if o.Down {
			continue
		}
		for i := range o.Ports {
			p := &o.Ports[i]
			proto, ok := normalProtocol(p.Protocol)
			if !ok || normalState(p.State) != PortOpen {
				continue
			}
			internal, internet := false, false
			for j := range rules {
				r := &rules[j]
				if ruleStanding(r, now) != inForce || r.Protocol != proto || !r.Destination.Contains(o.Asset) || !r.Ports.Contains(p.Port) {
					continue
				}
				if r.FromInternet {
					internet = true
				} else {
					internal = true
				}
			}
			if internet {
				continue
			}
			it := Item{Kind: KindExposedExternally, Address: o.Address, Protocol: proto, Port: p.Port, LastPort: p.Port,
				Service: normalService(p.Service), Zone: o.Zone, Classification: o.Classification, Evidence: evidenceOf(p),
				Facts: DetailFacts{PublicOf: o.Asset.String()}}
			if internal {
				it.Severity = SeverityHigh
				it.Detail = fmt.Sprintf("%s answers from the internet on %s (public address of %s), but its approvals allow internal sources only: close it at the NAT or firewall, or request an opening from the internet",
					portText(proto, p.Port, p.Port), o.Address, o.Asset)
			} else {
				it.Severity = SeverityCritical
				it.Detail = fmt.Sprintf("%s answers from the internet on %s (public address of %s) and no approval opens it: close it at the NAT or firewall now",
					portText(proto, p.Port, p.Port), o.Address, o.Asset)
			}
			it.Key = keyOf(&it)
			items = append(items, it)
		}
	}
	return finish(items)
}
