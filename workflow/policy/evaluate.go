package policy

import (
	"fmt"
	"math/big"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/portcullis/portcullis/workflow/core"
)

// Policy is everything the engine judges against. Build it once per policy
// version; it is read-only during evaluation and safe for concurrent use.
type Policy struct {
	// Catalog is the port catalog; nil means DefaultCatalog().
	Catalog *Catalog
	Matrix  Matrix
	// Settings with zero fields take those of DefaultSettings.
	Settings Settings
	// Tiered are the assets of applications whose tier asks more of a
	// request (innovation); nil when there are none.
	Tiered []TieredAsset
}

// DefaultPolicy is the policy shipped with Portcullis.
func DefaultPolicy() Policy {
	return Policy{Catalog: DefaultCatalog(), Matrix: DefaultMatrix(), Settings: DefaultSettings()}
}

// Evaluate judges every proposed rule and returns the findings, sorted by
// rule index, most severe first. active holds the approved, active rules for
// the overlap checks; nil skips them. now is the moment expiries are
// measured from.
func (p Policy) Evaluate(rules []ProposedRule, active *ActiveIndex, now time.Time) []Finding {
	e := p.evaluator()
	var out []Finding
	for i := range rules {
		out = e.evaluateRule(out, i, &rules[i], active, now)
	}
	sortFindings(out)
	return out
}

// evaluator holds the policy with its defaults applied.
type evaluator struct {
	catalog  *Catalog
	matrix   Matrix
	settings Settings
	tiered   []TieredAsset
}

func (p Policy) evaluator() *evaluator {
	e := &evaluator{catalog: p.Catalog, matrix: p.Matrix, settings: p.Settings.withDefaults(), tiered: p.Tiered}
	if e.catalog == nil {
		e.catalog = DefaultCatalog()
	}
	return e
}

// facts is what the checks need to know about one rule, worked out once.
type facts struct {
	rule      *ProposedRule
	ports     PortSet
	direction Direction
	// initiators open the connections, responders accept them.
	initiators, responders []Classification
	sourceClasses          []Classification
	// anySource: the source (the peer, for egress) is any address.
	anySource bool
	// whitelisted: the source is a list of prefixes none broader than the
	// source-breadth limit.
	whitelisted bool
	// deviceList: the source lists named devices (small prefixes only).
	deviceList bool
	// declared is the expected service as judged (its TLS variant when the
	// ports say so), -1 when none or unknown.
	declared int
	// services are every catalog service the rule is judged as.
	services []int
}

func (f *facts) fromInternet() bool { return slices.Contains(f.initiators, Internet) }

func (e *evaluator) evaluateRule(out []Finding, i int, r *ProposedRule, active *ActiveIndex, now time.Time) []Finding {
	start := len(out)
	add := func(code string, sev Severity, blocking bool, controls []string, said core.Message, controlTexts ...map[string]string) {
		msg := english(said)
		for _, f := range out[start:] {
			if f.Code == code && f.Message == msg {
				return
			}
		}
		if controls == nil {
			controls = []string{}
		}
		out = append(out, Finding{Rule: i, Code: code, Severity: sev, Message: msg, Said: said, Blocking: blocking, RequiredControls: controls, ControlTexts: controlTexts})
	}
	f, problems := e.facts(r)
	if len(problems) > 0 {
		add(CodeInvalid, SeverityHigh, true, nil, core.M("finding_text.invalid_rule", "the rule cannot be judged: {{.Problems}}; correct the rule and evaluate it again", "Problems", semicolonSaid(problems)))
		return out
	}
	e.checkAnyAny(f, add)
	e.checkZones(f, add)
	e.checkInternetHighRisk(f, add)
	e.checkServices(f, add)
	e.checkEgress(f, add)
	e.checkSourceBreadth(f, add)
	e.checkExpiry(f, now, add)
	e.checkTier(f, now, add)
	if active != nil {
		active.checkOverlap(f, add)
	}
	return out
}

// controlTexts, when given, are each control's words in other languages
// (the catalog entry's own), in the order of controls.
type addFunc func(code string, sev Severity, blocking bool, controls []string, said core.Message, controlTexts ...map[string]string)

// facts validates the rule and works out its facts. Rules reach the engine
// from callers that may not have used the parsers, so nothing is assumed.
func (e *evaluator) facts(r *ProposedRule) (*facts, []core.Message) {
	f := &facts{rule: r, declared: -1}
	var problems []core.Message
	if r.Protocol != TCP && r.Protocol != UDP {
		problems = append(problems, core.M("finding_text.problem.protocol", "protocol {{.Protocol}} is not tcp or udp", "Protocol", quoted(string(r.Protocol))))
	}
	if ports, ok := r.Ports.clean(); ok {
		f.ports = ports
	} else {
		problems = append(problems, core.M("finding_text.problem.ports", "ports are missing or include port 0 or a backwards range"))
	}
	switch r.Direction {
	case "", Ingress:
		f.direction = Ingress
	case Egress:
		f.direction = Egress
	default:
		problems = append(problems, core.M("finding_text.problem.direction", "direction {{.Direction}} is not ingress or egress", "Direction", quoted(string(r.Direction))))
	}
	switch r.Source.Kind {
	case SourceInternet:
	case SourceZone:
		if len(r.SourceClassifications) == 0 {
			problems = append(problems, core.M("finding_text.problem.zone", "the classification of source zone {{.Zone}} was not resolved", "Zone", quoted(r.Source.Zone)))
		}
	case SourceCIDRs:
		if len(r.Source.CIDRs) == 0 {
			problems = append(problems, core.M("finding_text.problem.no_cidrs", "the source lists no CIDRs"))
		}
		for _, p := range r.Source.CIDRs {
			if !p.IsValid() {
				problems = append(problems, core.M("finding_text.problem.bad_cidr", "the source holds an invalid CIDR"))
				break
			}
		}
	default:
		problems = append(problems, core.M("finding_text.problem.kind", "source kind {{.Kind}} is not internet, zone or cidrs", "Kind", quoted(string(r.Source.Kind))))
	}
	for _, c := range r.SourceClassifications {
		if c.index() < 0 {
			problems = append(problems, core.M("finding_text.problem.class", "source classification {{.Class}} is unknown", "Class", quoted(string(c))))
			break
		}
	}
	if len(r.Destinations) == 0 {
		problems = append(problems, core.M("finding_text.problem.no_destination", "the rule has no destination"))
	}
	for _, d := range r.Destinations {
		if !d.Prefix.IsValid() {
			problems = append(problems, core.M("finding_text.problem.bad_destination", "a destination has no valid address"))
			break
		}
		if d.Classification.index() < 0 {
			problems = append(problems, core.M("finding_text.problem.destination_class", "destination {{.Destination}} has no known zone classification ({{.Class}})", "Destination", d.Prefix.String(), "Class", quoted(string(d.Classification))))
			break
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}

	f.sourceClasses = ordered(r.SourceClassifications)
	if len(f.sourceClasses) == 0 {
		f.sourceClasses = []Classification{Internet}
	}
	dests := make([]Classification, len(r.Destinations))
	for k, d := range r.Destinations {
		dests[k] = d.Classification
	}
	dests = ordered(dests)
	if f.direction == Ingress {
		f.initiators, f.responders = f.sourceClasses, dests
	} else {
		f.initiators, f.responders = dests, f.sourceClasses
	}

	s := e.settings
	switch r.Source.Kind {
	case SourceInternet:
		f.anySource = true
	case SourceCIDRs:
		f.whitelisted, f.deviceList = true, true
		for _, p := range r.Source.CIDRs {
			if p.Bits() == 0 {
				f.anySource = true
			}
			if p.Bits() < limitFor(p, s.MaxSourcePrefixV4, s.MaxSourcePrefixV6) {
				f.whitelisted = false
			}
			if p.Bits() < limitFor(p, s.DevicePrefixV4, s.DevicePrefixV6) {
				f.deviceList = false
			}
		}
	}
	e.resolveServices(f)
	return f, nil
}

// ordered returns the classifications in matrix order without repeats.
func ordered(cs []Classification) []Classification {
	var out []Classification
	for _, c := range classificationOrder {
		if slices.Contains(cs, c) {
			out = append(out, c)
		}
	}
	return out
}

func limitFor(p netip.Prefix, v4, v6 int) int {
	if p.Addr().Is4() {
		return v4
	}
	return v6
}

// resolveServices decides what the rule is judged as: the expected service,
// whatever the port (RDP on 33890 is RDP), and every service whose standard
// port the rule opens, because a requester's word does not change what a
// well-known port invites.
func (e *evaluator) resolveServices(f *facts) {
	c := e.catalog
	proto := f.rule.Protocol
	if name := strings.ToLower(strings.TrimSpace(f.rule.Service)); name != "" && name != "unknown" {
		f.declared = c.index(name)
	}
	if d := f.declared; d >= 0 {
		// The scanner names HTTPS "http" with tls set, so "http" on 443 is
		// https: prefer a TLS variant whose ports cover the rule.
		s := &c.services[d]
		if !(s.hasProtocol(proto) && s.Ports.Covers(f.ports)) {
			for _, v := range c.tlsVariants[d] {
				if vs := &c.services[v]; vs.hasProtocol(proto) && vs.Ports.Covers(f.ports) {
					f.declared = v
					break
				}
			}
		}
		f.services = append(f.services, f.declared)
	}
	f.services = append(f.services, c.onPorts(proto, f.ports)...)
	slices.Sort(f.services)
	f.services = slices.Compact(f.services)
}

// servicesWhere returns the judged services for which keep is true.
func (e *evaluator) servicesWhere(f *facts, keep func(*Service) bool) []*Service {
	var out []*Service
	for _, i := range f.services {
		if s := &e.catalog.services[i]; keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// peerField is the field that holds the far side of the rule as people
// write it: the source of an ingress rule, the destination of an egress
// rule (whose source is our assets).
func (f *facts) peerField() core.Message {
	if f.direction == Egress {
		return core.M("finding_text.field.destination", "destination")
	}
	return core.M("finding_text.field.source", "source")
}

// oursText lists our side of the rule: the destinations of an ingress rule,
// the source of an egress rule.
func (f *facts) oursText() core.Message {
	names := make([]string, 0, len(f.rule.Destinations))
	for _, d := range f.rule.Destinations {
		if d.Zone != "" && d.Prefix.Bits() != d.Prefix.Addr().BitLen() {
			if !slices.Contains(names, d.Zone) {
				names = append(names, d.Zone)
			}
			continue
		}
		names = append(names, d.Prefix.String())
	}
	return stringsSaid(names)
}

func (f *facts) sourceText() any {
	if f.rule.Source.Kind == SourceInternet {
		return core.M("finding_text.any_address", "any address (internet)")
	}
	return f.rule.Source.String()
}

func (e *evaluator) checkAnyAny(f *facts, add addFunc) {
	if !f.anySource || f.ports.Count() <= e.settings.BroadPortCount {
		return
	}
	add(CodeAnyAny, SeverityCritical, true, nil, core.M("finding_text.any_any",
		"{{.Field}} {{.Source}} with {{.Count}} {{.Protocol}} ports is a permit-any-any, which is never acceptable: name the {{.Field}} addresses and open only the ports the service needs",
		"Field", f.peerField(), "Source", f.sourceText(), "Count", f.ports.Count(), "Protocol", string(f.rule.Protocol)))
}

func (e *evaluator) publicPorts(p Protocol) PortSet {
	if p == UDP {
		return e.settings.PublicUDPPorts
	}
	return e.settings.PublicTCPPorts
}

// checkZones applies the matrix to every flow the rule opens.
func (e *evaluator) checkZones(f *facts, add addFunc) {
	proto := f.rule.Protocol
	for _, from := range f.initiators {
		for _, to := range f.responders {
			switch e.matrix.Access(from, to) {
			case AccessDeny:
				if from == Internet {
					add(CodeInternetInternal, SeverityHigh, true, nil, core.M("finding_text.internet_internal",
						"the zone matrix refuses connections from the internet into a {{.To}} zone: publish the service through the DMZ (a reverse proxy or load balancer) instead", "To", classSaid(to)))
					continue
				}
				advice := core.M("finding_text.zone_path_move", "ask for the destination to be moved to a zone the source may reach")
				if to == High {
					advice = core.M("finding_text.zone_path_transit", "route the flow through the transit zone, which checks traffic on entry")
				}
				add(CodeZonePath, SeverityHigh, true, nil, core.M("finding_text.zone_path",
					"the zone matrix refuses connections from a {{.From}} zone into a {{.To}} zone: {{.Advice}}", "From", classSaid(from), "To", classSaid(to), "Advice", advice))
			case AccessWhitelist:
				if f.whitelisted {
					continue
				}
				code, sev := CodeZonePath, SeverityMedium
				if from == Internet {
					code, sev = CodeInternetExposure, SeverityHigh
				}
				add(code, sev, true, nil, core.M("finding_text.zone_whitelist",
					"a {{.From}} zone may reach a {{.To}} zone only from listed addresses, and the {{.Field}} is {{.Source}}: list the hosts that need access (no broader than /{{.V4}} or /{{.V6}})",
					"From", classSaid(from), "To", classSaid(to), "Field", f.peerField(), "Source", f.sourceText(), "V4", e.settings.MaxSourcePrefixV4, "V6", e.settings.MaxSourcePrefixV6))
			case AccessWeb:
				if f.whitelisted {
					continue
				}
				public := e.publicPorts(proto)
				if public.Covers(f.ports) {
					continue
				}
				extra := f.ports.without(public)
				code, sev := CodeInternetExposure, SeverityHigh
				if from != Internet {
					code = CodeZonePath
				}
				var publicText any = core.M("finding_text.no_port", "no port")
				if len(public) > 0 {
					publicText = string(proto) + "/" + public.String()
				}
				add(code, sev, true, nil, core.M("finding_text.web_exposure",
					"{{.PortWord}} {{.Protocol}}/{{.Ports}} would be open to {{.Source}} in a {{.To}} zone without a source whitelist, and only {{.Public}} may be: list the source addresses that need these ports, or serve them through {{.Public}}",
					"PortWord", pluralPorts(extra), "Protocol", string(proto), "Ports", extra.String(), "Source", sourceOrZone(f, from), "To", classSaid(to), "Public", publicText))
			case AccessEgress:
				if f.direction != Egress {
					add(CodeEgress, SeverityHigh, true, nil, core.M("finding_text.egress_undeclared",
						"the rule lets a {{.From}} zone open connections to {{.To}}, which is egress: file it with direction egress so it is reviewed as an outbound opening", "From", classSaid(from), "To", classSaid(to)))
				}
			}
		}
	}
}

func pluralPorts(p PortSet) string {
	if p.Count() == 1 {
		return "port"
	}
	return "ports"
}

func sourceOrZone(f *facts, from Classification) core.Message {
	if from == Internet && f.rule.Source.Kind == SourceInternet {
		return core.M("finding_text.whole_internet", "the whole internet")
	}
	return core.M("finding_text.source_in_class", "{{.Source}} ({{.Class}})", "Source", f.sourceText(), "Class", classSaid(from))
}

func (e *evaluator) checkInternetHighRisk(f *facts, add addFunc) {
	if !f.fromInternet() {
		return
	}
	risky := e.servicesWhere(f, func(s *Service) bool { return s.Risk == RiskHigh })
	if len(risky) == 0 {
		return
	}
	add(CodeInternetHighRisk, SeverityCritical, true, nil, core.M("finding_text.internet_high_risk",
		"{{.Services}} {{.IsAre}} high-risk and never opened to the internet, whitelist or not: reach {{.ItThem}} through a VPN or a bastion in the transit zone; only an approved exception with compensating controls can open it",
		"Services", servicesSaid(risky), "IsAre", isAre(len(risky)), "ItThem", itThem(len(risky))))
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func itThem(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// checkServices runs the checks that follow from what the rule opens:
// cleartext, authentication, named devices, amplification, baseline controls,
// and the service's port.
func (e *evaluator) checkServices(f *facts, add addFunc) {
	ingress := f.direction == Ingress
	intoHigh := slices.Contains(f.responders, High)

	if clear := e.servicesWhere(f, func(s *Service) bool { return s.Cleartext }); len(clear) > 0 {
		sev := SeverityLow
		alternatives := make([]any, len(clear))
		for k, s := range clear {
			// The alternative is the catalog's words, in each language
			// the entry gives them in.
			texts := s.AlternativeTexts()
			for lang, t := range texts {
				texts[lang] = s.Name + " → " + t
			}
			alternatives[k] = core.Given(s.Name+" → "+s.SecureAlternative, texts)
			switch {
			case s.Risk == RiskHigh:
				sev = SeverityHigh
			case s.Risk == RiskElevated && sev == SeverityLow:
				sev = SeverityMedium
			}
		}
		msg := core.M("finding_text.cleartext", "{{.Services}} {{.CarryCarries}} credentials and data in clear text: use the secure alternative ({{.Alternatives}})",
			"Services", servicesSaid(clear), "CarryCarries", carryCarries(len(clear)), "Alternatives", listSaid(alternatives))
		if intoHigh {
			add(CodeCleartext, SeverityHigh, true, nil, core.M("finding_text.cleartext_high", "{{.Detail}}; cleartext protocols are refused into a high zone", "Detail", msg))
		} else {
			add(CodeCleartext, sev, false, nil, msg)
		}
	}

	if ingress {
		if auth := e.servicesWhere(f, func(s *Service) bool { return s.AuthCapable }); len(auth) > 0 {
			controls := make([]string, len(auth))
			for k, s := range auth {
				controls[k] = "Authentication enabled on " + s.Name
			}
			add(CodeAuthRequired, SeverityMedium, false, controls, core.M("finding_text.auth_required",
				"{{.Services}} can run without authentication: the host baseline check must confirm authentication is on before approval",
				"Services", servicesSaid(auth)))
		}
	}

	if !f.deviceList {
		if named := e.servicesWhere(f, func(s *Service) bool { return s.WhitelistRequired }); len(named) > 0 {
			controls := make([]string, len(named))
			for k, s := range named {
				controls[k] = fmt.Sprintf("Source restricted to named %s peers", s.Name)
			}
			add(CodeWhitelistRequired, SeverityHigh, true, controls, core.M("finding_text.whitelist_required",
				"{{.Services}} must talk only to named devices, and the {{.Field}} is {{.Source}}: list the devices' addresses (each no broader than /{{.V4}} or /{{.V6}})",
				"Services", servicesSaid(named), "Field", f.peerField(), "Source", f.sourceText(), "V4", e.settings.DevicePrefixV4, "V6", e.settings.DevicePrefixV6))
		}
	}

	if ingress && f.rule.Protocol == UDP && f.fromInternet() {
		if amp := e.servicesWhere(f, func(s *Service) bool { return s.Amplifies }); len(amp) > 0 {
			controls := make([]string, len(amp))
			for k, s := range amp {
				controls[k] = "Response rate limiting on " + s.Name
			}
			advice := core.M("finding_text.amplification_keep", "keep the source list to the named peers and turn on response rate limiting")
			if !f.whitelisted {
				advice = core.M("finding_text.amplification_restrict", "restrict the source to named addresses and turn on response rate limiting")
			}
			add(CodeAmplification, SeverityHigh, !f.whitelisted, controls, core.M("finding_text.amplification",
				"{{.Services}} over UDP {{.AnswerAnswers}} with far more than {{.IsAre}} asked and, reachable from the internet, {{.BecomeBecomes}} a reflector for denial-of-service attacks: {{.Advice}}",
				"Services", servicesSaid(amp), "AnswerAnswers", answerAnswers(len(amp)), "IsAre", isAre(len(amp)), "BecomeBecomes", becomeBecomes(len(amp)), "Advice", advice))
		}
	}

	if ingress {
		var controls []string
		var texts []map[string]string
		translated := false
		var names []*Service
		for _, s := range e.servicesWhere(f, func(s *Service) bool { return len(s.Controls) > 0 }) {
			names = append(names, s)
			controls = append(controls, s.Controls...)
			for k := range s.Controls {
				t := s.ControlTexts(k)
				texts = append(texts, t)
				translated = translated || t != nil
			}
		}
		if !translated {
			texts = nil
		}
		if len(controls) > 0 {
			add(CodeServiceControls, SeverityInfo, false, controls, core.M("finding_text.service_controls",
				"opening {{.Services}} needs these hardening controls confirmed on the host baseline", "Services", servicesSaid(names)), texts...)
		}
	}

	e.checkServiceName(f, add)
}

func carryCarries(n int) string {
	if n == 1 {
		return "carries"
	}
	return "carry"
}

func answerAnswers(n int) string {
	if n == 1 {
		return "answers"
	}
	return "answer"
}

func becomeBecomes(n int) string {
	if n == 1 {
		return "becomes"
	}
	return "become"
}

// checkServiceName reports an expected service the catalog does not know, or
// one asked for away from its standard ports.
func (e *evaluator) checkServiceName(f *facts, add addFunc) {
	name := strings.TrimSpace(f.rule.Service)
	if name == "" || strings.EqualFold(name, "unknown") {
		return
	}
	if f.declared < 0 {
		add(CodeUnknownService, SeverityLow, false, nil, core.M("finding_text.unknown_service",
			"service {{.Service}} is not in the port catalog, so only the port numbers were judged: name a catalog service (such as https, ssh or postgresql) so the rule can be judged and verified",
			"Service", quoted(name)))
		return
	}
	c := e.catalog
	s := &c.services[f.declared]
	proto := f.rule.Protocol
	if !s.hasProtocol(proto) {
		protos := make([]string, len(s.Protocols))
		for k, p := range s.Protocols {
			protos[k] = string(p)
		}
		add(CodeNonStandardPort, SeverityLow, false, nil, core.M("finding_text.wrong_protocol",
			"{{.Service}} does not run over {{.Protocol}} (it uses {{.Protocols}}): check the protocol; the rule is judged as {{.Service}} all the same",
			"Service", s.Name, "Protocol", string(proto), "Protocols", stringsSaid(protos)))
		return
	}
	// The service's own ports and those of its TLS variants (or of the
	// cleartext service it wraps) are all standard for it.
	standard := slices.Clone(s.Ports)
	family := append([]int{}, c.tlsVariants[f.declared]...)
	if s.TLSOf != "" {
		if base := c.index(s.TLSOf); base >= 0 {
			family = append(family, base)
			family = append(family, c.tlsVariants[base]...)
		}
	}
	for _, v := range family {
		if vs := &c.services[v]; vs.hasProtocol(proto) {
			standard = append(standard, vs.Ports...)
		}
	}
	standard = standard.normalise()
	odd := f.ports.without(standard)
	if len(odd) == 0 {
		return
	}
	msg := core.M("finding_text.non_standard_port",
		"{{.Service}} is asked for on {{.Protocol}}/{{.Ports}}, not its standard {{.PortWord}} {{.Protocol}}/{{.Standard}}: the rule is judged as {{.Service}}, because moving a service to another port hides nothing",
		"Service", s.Name, "Protocol", string(proto), "Ports", odd.String(), "PortWord", pluralPorts(s.Ports), "Standard", s.Ports.String())
	var others []*Service
	for _, i := range c.onPorts(proto, odd) {
		if !slices.Contains(family, i) && i != f.declared {
			others = append(others, &c.services[i])
		}
	}
	if len(others) > 0 {
		msg = core.M("finding_text.non_standard_port_also",
			"{{.Detail}}; {{.Protocol}}/{{.Ports}} {{.IsAre}} the standard port of {{.Others}}, so it is judged as that too and the scanner will check what answers",
			"Detail", msg, "Protocol", string(proto), "Ports", odd.String(), "IsAre", isAre(odd.Count()), "Others", servicesSaid(others))
	}
	add(CodeNonStandardPort, SeverityLow, false, nil, msg)
}

// checkEgress reviews every outbound opening.
func (e *evaluator) checkEgress(f *facts, add addFunc) {
	if f.direction != Egress {
		return
	}
	if slices.Contains(f.initiators, Internet) {
		// Our side lies outside every zone: most likely a rule written the
		// old way round, with the peer as the source.
		add(CodeEgress, SeverityHigh, true, nil, core.M("finding_text.egress_outside",
			"the source {{.Source}} of an egress rule lies outside every zone: an egress rule's source is our assets that open the connection and its destination the outside peer; if the rule was written the other way round, swap source and destination",
			"Source", f.oursText()))
		return
	}
	proto := f.rule.Protocol
	sev := SeverityMedium
	var controls []string
	var why []core.Message
	if f.anySource {
		sev = SeverityHigh
		controls = append(controls, "Egress limited to named peer addresses")
		why = append(why, core.M("finding_text.egress_any_peer", "the peer is any address: name the peers"))
	}
	if risky := e.servicesWhere(f, func(s *Service) bool { return s.Risk == RiskHigh }); len(risky) > 0 {
		sev = SeverityHigh
		why = append(why, core.M("finding_text.egress_reverse", "outbound {{.Services}} can carry a reverse connection back in", "Services", servicesSaid(risky)))
	}
	if f.ports.Count() > e.settings.BroadPortCount {
		sev = SeverityHigh
		why = append(why, core.M("finding_text.egress_broad", "{{.Count}} ports is far more than any one service needs", "Count", f.ports.Count()))
	}
	controls = append(controls, "Business need for the outbound connection confirmed")
	msg := core.M("finding_text.egress",
		"{{.From}} zones open connections to {{.Peer}} on {{.Protocol}}/{{.Ports}}: egress is always reviewed, because it is how reverse shells and stolen data get out",
		"From", classesSaid(f.initiators), "Peer", f.sourceText(), "Protocol", string(proto), "Ports", f.ports.String())
	if len(why) > 0 {
		msg = core.M("finding_text.egress_why", "{{.Detail}}; {{.Why}}", "Detail", msg, "Why", semicolonSaid(why))
	}
	add(CodeEgress, sev, false, controls, msg)
}

func (e *evaluator) checkSourceBreadth(f *facts, add addFunc) {
	if f.rule.Source.Kind != SourceCIDRs {
		return
	}
	s := e.settings
	var broad []any
	var widest netip.Prefix
	v4, v6 := false, false
	for _, p := range f.rule.Source.CIDRs {
		if p.Bits() >= limitFor(p, s.MaxSourcePrefixV4, s.MaxSourcePrefixV6) {
			continue
		}
		broad = append(broad, p.Masked().String())
		if p.Addr().Is4() {
			v4 = true
		} else {
			v6 = true
		}
		if !widest.IsValid() || p.Addr().BitLen()-p.Bits() > widest.Addr().BitLen()-widest.Bits() {
			widest = p.Masked()
		}
	}
	if len(broad) == 0 {
		return
	}
	var limit any = fmt.Sprintf("/%d", s.MaxSourcePrefixV4)
	switch {
	case v4 && v6:
		limit = core.M("finding_text.source_breadth_both", "/{{.V4}} for IPv4 and /{{.V6}} for IPv6", "V4", s.MaxSourcePrefixV4, "V6", s.MaxSourcePrefixV6)
	case v6:
		limit = fmt.Sprintf("/%d", s.MaxSourcePrefixV6)
	}
	sev := SeverityMedium
	if slices.Contains(f.sourceClasses, Internet) {
		sev = SeverityHigh
	}
	span := new(big.Int).Lsh(big.NewInt(1), uint(widest.Addr().BitLen()-widest.Bits()))
	add(CodeSourceBreadth, sev, false, nil, core.M("finding_text.source_breadth",
		"{{.Field}} {{.Prefixes}} {{.IsAre}} broader than {{.Limit}} ({{.Widest}} spans {{.Span}} addresses): list the hosts or subnets that actually need access",
		"Field", f.peerField(), "Prefixes", listSaid(broad), "IsAre", isAre(len(broad)), "Limit", limit, "Widest", widest.String(), "Span", span.String()))
}

func (e *evaluator) checkExpiry(f *facts, now time.Time, add addFunc) {
	s := e.settings
	maxDays := int(s.MaxExpiry / day)
	expires := f.rule.Expires
	switch {
	case expires.IsZero():
		add(CodePermanent, SeverityHigh, true, nil, core.M("finding_text.permanent",
			"the rule has no expiry, and permanent openings do not exist: set an expiry within {{.Max}} days (the default is {{.Default}} days) and re-certify it before it lapses",
			"Max", maxDays, "Default", int(s.DefaultExpiry/day)))
	case !expires.After(now):
		add(CodeExpiryPast, SeverityMedium, true, nil, core.M("finding_text.expiry_past",
			"the expiry {{.Date}} has already passed: set a date in the future, at most {{.Max}} days away",
			"Date", expires.UTC().Format(time.DateOnly), "Max", maxDays))
	// A day's grace, so that a date picked at the limit in a calendar passes
	// whatever the hour of submission.
	case expires.Sub(now) > s.MaxExpiry+day:
		add(CodeExpiryTooLong, SeverityMedium, true, nil, core.M("finding_text.expiry_too_long",
			"the rule expires on {{.Date}}, {{.Days}} days from now, beyond the maximum of {{.Max}} days: shorten it; it can be re-certified before it lapses",
			"Date", expires.UTC().Format(time.DateOnly), "Days", int(expires.Sub(now)/day), "Max", maxDays))
	}
}
