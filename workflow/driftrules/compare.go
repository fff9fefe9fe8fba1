package driftrules

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis/portcullis/workflow/policy"
)

// Compare judges what scans saw against the rules and returns the drift,
// most severe first, then by address, protocol, port and kind. At most one
// item has a given Key. catalog may be nil for the catalog shipped with
// Portcullis; now decides which approvals have lapsed.
//
// For each open port (UDP "open|filtered" is not open) the rules whose
// destination contains the address and whose ports contain the port are
// found, in force or lapsed (see the Rule… states):
//   - none at all: open-unapproved;
//   - only lapsed ones: expired-open, citing a revoked rule before an
//     expired one, then the most specific destination, then the latest
//     request;
//   - in force, but each names a service other than the one that answers:
//     service-mismatch, citing the most specific, earliest rule;
//   - in force, with weak findings on the port: weak-config (also alongside
//     a service mismatch, since the port is still an approved one).
//
// Weak findings on a port no rule in force approves do not make a
// weak-config item of their own: they are evidence on the open-unapproved or
// expired-open item and raise its severity to at least theirs, because the
// remedy is to close the port.
//
// For each rule in force on a single address (zone-wide rules never), each
// of its port ranges that the host's Scanned scope covers entirely and where
// nothing was open makes an approved-closed item: one item for a whole range
// (a PortSet merges adjacent ports, so "8080,8081" is the range 8080-8081),
// since a range is approved as a pool and is stale only when all of it is.
// A host marked Down is not judged at all.
//
// A tarpit host makes one tarpit item. Its TCP ports where no application
// was identified (service unknown) are not judged, neither as open nor as
// closed: the device in front answers there whatever listens behind. TCP
// ports where an application was identified are judged as on any host. UDP
// is judged as on any host, since the tarpit is a TCP handshake trick.
//
// Compare is pure and deterministic: the result does not depend on the
// order of obs or rules.
func Compare(obs []Observation, rules []Rule, catalog *policy.Catalog, now time.Time) []Item {
	x := newRuleIndex(rules, now)
	j := &judge{index: x, catalog: newCatalogView(catalog)}
	for i := range obs {
		j.host(&obs[i])
	}
	return finish(j.items)
}

// judge holds what one comparison builds up.
type judge struct {
	index   *ruleIndex
	catalog *catalogView
	items   []Item
	matched []int32 // scratch for rule lookups
}

// hostFacts is an observation cleaned once.
type hostFacts struct {
	obs   *Observation
	addr  netip.Addr
	text  string // the address as items show it
	where string // ` in zone "x" (dmz)`, or "" when nothing is known
	tcp   policy.PortSet
	udp   policy.PortSet
}

func (j *judge) host(o *Observation) {
	addr, ok := normalAddr(o.Address)
	if !ok || o.Down {
		return
	}
	h := hostFacts{obs: o, addr: addr, text: addr.String(), where: zoneText(o.Zone, o.Classification),
		tcp: cleanPorts(o.Scanned.TCP), udp: cleanPorts(o.Scanned.UDP)}
	if o.Tarpit {
		j.tarpit(&h)
	}
	for k := range o.Ports {
		p := &o.Ports[k]
		proto, ok := normalProtocol(p.Protocol)
		if !ok || p.Port == 0 || normalState(p.State) != PortOpen {
			continue
		}
		service := normalService(p.Service)
		if o.Tarpit && proto == policy.TCP && service == ServiceUnknown {
			continue
		}
		j.openPort(&h, p, proto, service)
	}
	j.closedPorts(&h)
}

// openPort judges one open port.
func (j *judge) openPort(h *hostFacts, p *ObservedPort, proto policy.Protocol, service string) {
	x := j.index
	j.matched = x.match(j.matched[:0], proto, h.addr, p.Port)
	firstInForce, approving, lapsedRule := int32(-1), int32(-1), int32(-1)
	requiresAuth := false
	for _, r := range j.matched {
		rule := &x.rules[r]
		switch x.standing[r] {
		case inForce:
			if firstInForce < 0 {
				firstInForce = r
			}
			if approving < 0 && j.catalog.matches(strings.ToLower(strings.TrimSpace(rule.Service)), service, p.TLS) {
				approving = r
			}
			requiresAuth = requiresAuth || rule.RequiresAuth
		case lapsed:
			if lapsedRule < 0 || x.citeLapsedBefore(r, lapsedRule) {
				lapsedRule = r
			}
		}
	}
	seen := j.catalog.observed(proto, p.Port, service)
	base := Item{
		Address:        h.addr,
		Protocol:       proto,
		Port:           p.Port,
		LastPort:       p.Port,
		Service:        service,
		Zone:           h.obs.Zone,
		Classification: h.obs.Classification,
		Evidence:       evidenceOf(p),
	}
	exposure := zoneWeight(h.obs.Classification) + riskWeight(seen.risk)
	worst := worstFinding(p.Weak)
	// Built only for ports that make an item: most open ports are approved.
	where := func() string { return portText(proto, p.Port, p.Port) + " on " + h.text + h.where }

	switch {
	case firstInForce >= 0:
		if approving < 0 {
			rule := &x.rules[firstInForce]
			it := base
			it.Kind = KindServiceMismatch
			it.Severity = maxSeverity(scoreSeverity(exposure), worst)
			cite(&it, rule)
			it.Detail = fmt.Sprintf("%s is approved for %s by %s, but %s answers%s. Move %s off this port, or file a request to approve it here.",
				where(), rule.Service, rule.Name(), seenText(service, p), productText(p), service)
			j.items = append(j.items, it)
		}
		if len(p.Weak) > 0 {
			r := approving
			if r < 0 {
				r = firstInForce
			}
			rule := &x.rules[r]
			it := base
			it.Kind = KindWeakConfig
			it.Severity = worst
			if facesOutside(h.obs.Classification) {
				it.Severity = severityOfRank(it.Severity.Rank() + 1)
			}
			noAuth := slices.ContainsFunc(p.Weak, func(f WeakFinding) bool { return authFinding(f.ID) })
			condition := ""
			switch {
			case noAuth && requiresAuth:
				// A condition of the approval is broken, not only good practice.
				it.Severity = severityOfRank(it.Severity.Rank() + 1)
				condition = " The approval required authentication: this breaks its condition."
				it.Facts.Auth = "required"
			case noAuth && seen.authCapable:
				condition = " " + service + " can authenticate, and the policy wants it on."
				it.Facts.Auth = "capable"
			}
			it.Facts.Weak = slices.Clone(p.Weak)
			cite(&it, rule)
			it.Detail = fmt.Sprintf("%s, approved by %s, has a weak configuration: %s.%s Fix the configuration; the opening itself stays approved.",
				where(), rule.Name(), findingsText(p.Weak), condition)
			j.items = append(j.items, it)
		}
	case lapsedRule >= 0:
		rule := &x.rules[lapsedRule]
		it := base
		it.Kind = KindExpiredOpen
		score := exposure
		how := "was revoked"
		it.Facts.Revoked = true
		if !isRevoked(rule) {
			// It was reviewed and approved once: a notch below an opening
			// nobody ever looked at.
			score--
			how = "expired"
			it.Facts.Revoked = false
			if !rule.Expires.IsZero() {
				it.Facts.Expired = rule.Expires.UTC().Format(time.DateOnly)
				how += " on " + it.Facts.Expired
			}
		}
		it.Facts.Weak = slices.Clone(p.Weak)
		it.Severity = maxSeverity(scoreSeverity(score), worst)
		cite(&it, rule)
		it.Detail = fmt.Sprintf("%s is still open%s although %s, which approved it, %s. Close the port, or file a request to approve it again.%s",
			where(), seenClause(service, p), rule.Name(), how, weakClause(p.Weak))
		j.items = append(j.items, it)
	default:
		it := base
		it.Kind = KindOpenUnapproved
		it.Severity = maxSeverity(scoreSeverity(exposure), worst)
		it.Facts.Weak = slices.Clone(p.Weak)
		it.Detail = fmt.Sprintf("%s is open%s and no rule approves it. Close the port, or file a request to approve it.%s",
			where(), seenClause(service, p), weakClause(p.Weak))
		j.items = append(j.items, it)
	}
}

// citeLapsedBefore says whether lapsed rule a is the better one to cite
// than b: revoked before expired (someone withdrew it on purpose), then the
// more specific destination, then the later rule.
func (x *ruleIndex) citeLapsedBefore(a, b int32) bool {
	ra, rb := isRevoked(&x.rules[a]), isRevoked(&x.rules[b])
	if ra != rb {
		return ra
	}
	if da, db := x.dests[a].Bits(), x.dests[b].Bits(); da != db {
		return da > db
	}
	return a > b
}

// closedPorts finds the stale asset rules of a host.
func (j *judge) closedPorts(h *hostFacts) {
	x := j.index
	for _, r := range x.assets[h.addr] {
		rule := &x.rules[r]
		proto, _ := normalProtocol(rule.Protocol)
		if proto == policy.TCP && h.obs.Tarpit {
			continue
		}
		scope := h.tcp
		if proto == policy.UDP {
			scope = h.udp
		}
		for _, pr := range x.ports[r] {
			if !covers(scope, pr) {
				continue
			}
			state, open := stateIn(h.obs, proto, pr)
			if open {
				continue
			}
			// Name what the rule approved; when it names nothing, the
			// catalog's service for the port, for the message and the risk.
			service, info := "", j.catalog.onPort(proto, pr.First)
			if rule.Service != "" {
				named := j.catalog.named(normalService(rule.Service))
				service = named.name
				if named.known {
					info = named
				}
			} else if info.known {
				service = info.name
			}
			sev := SeverityInfo
			if facesOutside(h.obs.Classification) || info.risk == policy.RiskHigh {
				// An opening nothing uses is a hole someone can start a
				// service behind without review.
				sev = SeverityLow
			}
			it := Item{
				Kind:            KindApprovedClosed,
				Severity:        sev,
				Address:         h.addr,
				Protocol:        proto,
				Port:            pr.First,
				LastPort:        pr.Last,
				Service:         service,
				ApprovedService: rule.Service,
				Zone:            h.obs.Zone,
				Classification:  h.obs.Classification,
				Evidence:        Evidence{State: state},
			}
			cite(&it, rule)
			it.Detail = fmt.Sprintf("%s approves %s on %s%s, but the scan found %s. If nothing is meant to listen there any more, revoke the rule; otherwise check the service and the firewall.",
				rule.Name(), portText(proto, pr.First, pr.Last), h.text, h.where, closedText(state, pr))
			j.items = append(j.items, it)
		}
	}
}

// covers reports whether the clean set scope holds every port of r.
func covers(scope policy.PortSet, r policy.PortRange) bool {
	k, _ := slices.BinarySearchFunc(scope, r.First, func(s policy.PortRange, port uint16) int {
		return cmp.Compare(s.Last, port)
	})
	return k < len(scope) && scope[k].First <= r.First && scope[k].Last >= r.Last
}

// stateIn reports what the observation says of a port range: whether any
// port of it may be open (open, or UDP's open|filtered), and otherwise the
// state listed for a single port ("" when the scanner listed nothing, which
// it does for ports that are not open).
func stateIn(o *Observation, proto policy.Protocol, pr policy.PortRange) (string, bool) {
	state := ""
	for k := range o.Ports {
		p := &o.Ports[k]
		if p.Port < pr.First || p.Port > pr.Last {
			continue
		}
		if q, ok := normalProtocol(p.Protocol); !ok || q != proto {
			continue
		}
		switch s := normalState(p.State); s {
		case PortOpen, PortOpenFiltered:
			return s, true
		case PortClosed, PortFiltered:
			if pr.First == pr.Last {
				state = s
			}
		}
	}
	return state, false
}

func (j *judge) tarpit(h *hostFacts) {
	sev := SeverityLow
	if facesOutside(h.obs.Classification) {
		sev = SeverityMedium
	}
	j.items = append(j.items, Item{
		Kind:           KindTarpit,
		Severity:       sev,
		Address:        h.addr,
		Zone:           h.obs.Zone,
		Classification: h.obs.Classification,
		Detail: fmt.Sprintf("%s%s completes the TCP handshake on ports where nothing listens (a tarpit, or a firewall in front of it). Only its ports where an application answered were judged; find out which device answers and whether the host's real openings match its rules.",
			h.text, h.where),
	})
}

func cite(it *Item, rule *Rule) {
	it.RuleID, it.RequestID = rule.ID, rule.RequestID
	it.ApprovedService = rule.Service
}

func evidenceOf(p *ObservedPort) Evidence {
	e := Evidence{State: PortOpen, Banner: p.Banner, Product: p.Product, Version: p.Version, TLS: p.TLS}
	for _, f := range p.Weak {
		e.Findings = append(e.Findings, f.ID)
	}
	slices.Sort(e.Findings)
	e.Findings = slices.Compact(e.Findings)
	return e
}

func normalState(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func normalService(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return ServiceUnknown
	}
	return s
}

// Message pieces.

func zoneText(zone string, c policy.Classification) string {
	switch {
	case zone != "" && c != "":
		return fmt.Sprintf(" in zone %q (%s)", zone, c)
	case zone != "":
		return fmt.Sprintf(" in zone %q", zone)
	case c != "":
		return fmt.Sprintf(" (%s)", c)
	}
	return ""
}

func portText(p policy.Protocol, first, last uint16) string {
	if first == last {
		return string(p) + "/" + strconv.Itoa(int(first))
	}
	return string(p) + "/" + strconv.Itoa(int(first)) + "-" + strconv.Itoa(int(last))
}

func seenText(service string, p *ObservedPort) string {
	if p.TLS {
		return service + " over TLS"
	}
	return service
}

func productText(p *ObservedPort) string {
	s := strings.TrimSpace(p.Product + " " + p.Version)
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// seenClause says what answers, or that nothing identified itself.
func seenClause(service string, p *ObservedPort) string {
	if service == ServiceUnknown {
		if p.Banner == "" {
			return " (nothing identified it; the banner was empty)"
		}
		return " (the service was not identified)"
	}
	return ": " + seenText(service, p) + " answers" + productText(p) + ","
}

func weakClause(weak []WeakFinding) string {
	if len(weak) == 0 {
		return ""
	}
	return " It also has a weak configuration: " + findingsText(weak) + "."
}

func findingsText(weak []WeakFinding) string {
	parts := make([]string, 0, len(weak))
	for _, f := range weak {
		s := f.ID
		if d := strings.TrimSpace(f.Detail); d != "" {
			s += " (" + d + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func closedText(state string, pr policy.PortRange) string {
	switch {
	case pr.First != pr.Last:
		return "none of these ports open"
	case state == PortFiltered:
		return "it filtered (a firewall drops it)"
	case state == PortClosed:
		return "it closed"
	}
	return "it not open"
}

// Keys.

// keyOf builds an item's Key.
func keyOf(it *Item) string {
	if it.Kind == KindTarpit {
		return string(it.Kind) + "|" + it.Address.String()
	}
	key := string(it.Kind) + "|" + it.Address.String() + "|" + string(it.Protocol) + "|" + portRangeText(it.Port, it.LastPort)
	if it.Kind == KindApprovedClosed && it.RequestID != 0 {
		// A stale rule is its request's: two requests approving the same
		// port are two items, each resolved by its own revocation, and one
		// still waiting for implementation does not hide the other.
		key += "|request-" + strconv.FormatInt(it.RequestID, 10)
	}
	return key
}

func portRangeText(first, last uint16) string {
	if first == last {
		return strconv.Itoa(int(first))
	}
	return strconv.Itoa(int(first)) + "-" + strconv.Itoa(int(last))
}

// finish gives every item its key, keeps one item per key and sorts them.
// When two items share a key (two observations of one address that
// disagree), the one first in itemOrder, which compares every field, stays,
// so the survivor does not depend on input order.
func finish(items []Item) []Item {
	first := make(map[string]int, len(items))
	out := items[:0]
	for i := range items {
		it := items[i]
		it.Key = keyOf(&it)
		if k, dup := first[it.Key]; dup {
			if itemOrder(it, out[k]) < 0 {
				out[k] = it
			}
			continue
		}
		first[it.Key] = len(out)
		out = append(out, it)
	}
	clear(items[len(out):])
	// Keys are unique now, and a key is kind, address, protocol and ports, so
	// this short order is total. Sorting small records and gathering once
	// moves far less memory than sorting the items themselves.
	order := make([]sortRecord, len(out))
	for i := range out {
		it := &out[i]
		order[i] = sortRecord{severity: int8(it.Severity.Rank()), kind: int8(kindRank(it.Kind)), proto: int8(protoRank(it.Protocol)),
			port: it.Port, lastPort: it.LastPort, addr: it.Address, index: int32(i)}
	}
	slices.SortFunc(order, func(a, b sortRecord) int {
		return cmp.Or(
			cmp.Compare(b.severity, a.severity),
			a.addr.Compare(b.addr),
			cmp.Compare(a.proto, b.proto),
			cmp.Compare(a.port, b.port),
			cmp.Compare(a.lastPort, b.lastPort),
			cmp.Compare(a.kind, b.kind),
		)
	})
	sorted := make([]Item, len(out))
	for i, r := range order {
		sorted[i] = out[r.index]
	}
	return sorted
}

type sortRecord struct {
	severity, kind, proto int8
	port, lastPort        uint16
	index                 int32
	addr                  netip.Addr
}

// protoRank puts host-wide items (no protocol) before TCP before UDP.
func protoRank(p policy.Protocol) int {
	switch p {
	case "":
		return 0
	case policy.TCP:
		return 1
	case policy.UDP:
		return 2
	}
	return 3
}

// itemOrder is the full order of items: most severe first, then by place,
// then by every other field.
func itemOrder(a, b Item) int {
	return cmp.Or(
		cmp.Compare(b.Severity.Rank(), a.Severity.Rank()),
		a.Address.Compare(b.Address),
		cmp.Compare(protoRank(a.Protocol), protoRank(b.Protocol)),
		cmp.Compare(a.Port, b.Port),
		cmp.Compare(a.LastPort, b.LastPort),
		cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)),
		cmp.Compare(a.RequestID, b.RequestID),
		cmp.Compare(a.RuleID, b.RuleID),
		cmp.Compare(a.Service, b.Service),
		cmp.Compare(a.ApprovedService, b.ApprovedService),
		cmp.Compare(a.Zone, b.Zone),
		cmp.Compare(a.Classification, b.Classification),
		cmp.Compare(a.Detail, b.Detail),
		compareEvidence(a.Evidence, b.Evidence),
	)
}

func compareEvidence(a, b Evidence) int {
	return cmp.Or(
		cmp.Compare(a.State, b.State),
		cmp.Compare(a.Banner, b.Banner),
		cmp.Compare(a.Product, b.Product),
		cmp.Compare(a.Version, b.Version),
		cmp.Compare(b2i(a.TLS), b2i(b.TLS)),
		slices.Compare(a.Findings, b.Findings),
	)
}

func kindRank(k Kind) int {
	switch k {
	case KindOpenUnapproved:
		return 0
	case KindApprovedClosed:
		return 1
	case KindServiceMismatch:
		return 2
	case KindExpiredOpen:
		return 3
	case KindWeakConfig:
		return 4
	case KindTarpit:
		return 5
	case KindExposedExternally:
		return 6
	}
	return 7
}
