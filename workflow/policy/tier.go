package policy

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/portcullis/portcullis/workflow/core"
)

// Tier is an application's risk tier. New businesses ("innovation") are
// assessed more strictly before their ports open; "critical" marks the
// applications the organisation cannot do without.
type Tier string

const (
	TierInnovation Tier = "innovation"
	TierStandard   Tier = "standard"
	TierCritical   Tier = "critical"
)

// Tiers are the tiers, the default in the middle.
var Tiers = []Tier{TierInnovation, TierStandard, TierCritical}

// ParseTier reads a tier name in any case; empty is the default, standard.
func ParseTier(s string) (Tier, error) {
	t := Tier(strings.ToLower(strings.TrimSpace(s)))
	if t == "" {
		return TierStandard, nil
	}
	if !slices.Contains(Tiers, t) {
		return "", fmt.Errorf("tier %q is not one of innovation, standard, critical", s)
	}
	return t, nil
}

// Finding codes of the tiers.
const (
	// CodeInnovationTier (high): the rule's source or destination holds an
	// asset of an innovation-tier application. The request needs the
	// security assessment answered, a second approval, a short expiry
	// (Settings.InnovationMaxExpiry) and authentication verified on the
	// wire after implementation.
	CodeInnovationTier = "innovation-tier"
	// CodeInnovationExpiry (medium, blocking): such a rule expires later
	// than Settings.InnovationMaxExpiry allows.
	CodeInnovationExpiry = "innovation-expiry"
)

// The controls an innovation-tier finding adds to the reviewer's checklist.
const (
	ControlAssessment     = "Security assessment of the innovation-tier application reviewed (answers on the request)"
	ControlInnovationAuth = "Authentication is on for the innovation-tier service; the verification scan must find no unauthenticated access"
)

// TieredAsset is an asset whose application's tier asks more of a request.
type TieredAsset struct {
	Address     netip.Addr
	Application string
	Tier        Tier
}

// tierTouches lists, once each and in order, the innovation-tier assets
// the rule's source or destinations contain.
func tierTouches(r *ProposedRule, assets []TieredAsset) []TieredAsset {
	var out []TieredAsset
	for _, a := range assets {
		if a.Tier != TierInnovation || !a.Address.IsValid() {
			continue
		}
		if ruleContains(r, a.Address) {
			out = append(out, a)
		}
	}
	return out
}

func ruleContains(r *ProposedRule, addr netip.Addr) bool {
	for _, d := range r.Destinations {
		if d.Prefix.IsValid() && d.Prefix.Contains(addr) {
			return true
		}
	}
	var sources []netip.Prefix
	switch r.Source.Kind {
	case SourceCIDRs:
		sources = r.Source.CIDRs
	case SourceZone:
		sources = r.SourceZonePrefixes
	}
	for _, p := range sources {
		if p.IsValid() && p.Contains(addr) {
			return true
		}
	}
	return false
}

// TouchesInnovation reports the innovation-tier applications a rule touches,
// by name, sorted; the request's own checks (the questionnaire, the expiry)
// ask it before the engine runs.
func TouchesInnovation(r ProposedRule, assets []TieredAsset) []string {
	var apps []string
	for _, a := range tierTouches(&r, assets) {
		if !slices.Contains(apps, a.Application) {
			apps = append(apps, a.Application)
		}
	}
	slices.Sort(apps)
	return apps
}

func (e *evaluator) checkTier(f *facts, now time.Time, add addFunc) {
	touched := tierTouches(f.rule, e.tiered)
	if len(touched) == 0 {
		return
	}
	var apps []string
	var addrs []any
	for _, a := range touched {
		if !slices.Contains(apps, a.Application) {
			apps = append(apps, a.Application)
		}
		if len(addrs) < 5 {
			addrs = append(addrs, a.Address.String())
		}
	}
	slices.Sort(apps)
	if len(touched) > len(addrs) {
		addrs = append(addrs, core.M("finding_text.innovation_tier_more", "and {{.More}} more", "More", len(touched)-len(addrs)))
	}
	maxDays := int(e.settings.InnovationMaxExpiry / day)
	what := core.M("finding_text.innovation_tier_one", "an innovation-tier application (a new business)")
	if len(apps) > 1 {
		what = core.M("finding_text.innovation_tier_many", "innovation-tier applications (new businesses)")
	}
	add(CodeInnovationTier, SeverityHigh, false, []string{ControlAssessment, ControlInnovationAuth}, core.M("finding_text.innovation_tier",
		"the rule touches {{.Addresses}} of {{.Apps}}, {{.What}}: the request needs the security assessment answered, two approvals, an expiry within {{.Max}} days, and authentication verified on the wire after implementation",
		"Addresses", commaSaid(addrs), "Apps", stringsSaid(quoteAll(apps)), "What", what, "Max", maxDays))
	if exp := f.rule.Expires; !exp.IsZero() && exp.Sub(now) > e.settings.InnovationMaxExpiry+day {
		add(CodeInnovationExpiry, SeverityMedium, true, nil, core.M("finding_text.innovation_expiry",
			"the rule expires on {{.Date}}, {{.Days}} days from now, beyond the {{.Max}} days allowed for innovation-tier applications: shorten it and re-certify it when it lapses",
			"Date", exp.UTC().Format(time.DateOnly), "Days", int(exp.Sub(now)/day), "Max", maxDays))
	}
}

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%q", n)
	}
	return out
}
