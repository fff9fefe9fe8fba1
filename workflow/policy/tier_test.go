package policy

import (
	"net/netip"
	"slices"
	"testing"
)

func withTiered(p Policy, assets ...TieredAsset) Policy {
	p.Tiered = assets
	return p
}

func pilot(addr string) TieredAsset {
	return TieredAsset{Address: netip.MustParseAddr(addr), Application: "pilot", Tier: TierInnovation}
}

func zoneSource(name string, c Classification, prefixes ...string) ruleOption {
	return func(r *ProposedRule) {
		r.Source = Source{Kind: SourceZone, Zone: name}
		r.SourceClassifications = []Classification{c}
		r.SourceZonePrefixes = nil
		for _, p := range prefixes {
			r.SourceZonePrefixes = append(r.SourceZonePrefixes, pfx(p))
		}
	}
}

func TestInnovationTier(t *testing.T) {
	p := withTiered(DefaultPolicy(), pilot("10.1.0.5"), pilot("10.2.0.99"),
		TieredAsset{Address: netip.MustParseAddr("10.1.0.6"), Application: "ledger", Tier: TierCritical})
	within := expires(testNow.Add(30 * day))
	runCodeTable(t, p, CodeInnovationTier, []codeCase{
		{name: "destination is the asset", rule: newRule(within), want: true, severity: SeverityHigh, blocking: no, contains: []string{"10.1.0.5", `"pilot"`, "30 days", "two approvals"}},
		{name: "destination prefix holds the asset", rule: newRule(within, to(DMZ, "10.1.0.0/24")), want: true},
		{name: "source CIDR holds the asset", rule: newRule(within, from("10.2.0.99/32", Transit), to(DMZ, "10.1.0.7")), want: true, contains: []string{"10.2.0.99"}},
		{name: "source zone holds the asset", rule: newRule(within, zoneSource("lab", Transit, "10.2.0.0/24"), to(DMZ, "10.1.0.7")), want: true},
		{name: "egress from the asset", rule: newRule(within, egress(), from("internet"), on(TCP, "443")), want: true},
		{name: "another asset", rule: newRule(within, to(DMZ, "10.1.0.7")), want: false},
		{name: "a critical-tier asset", rule: newRule(within, to(DMZ, "10.1.0.6")), want: false},
		{name: "internet source, other destination", rule: newRule(within, from("internet"), to(DMZ, "10.1.0.8")), want: false},
	})
	runCodeTable(t, DefaultPolicy(), CodeInnovationTier, []codeCase{
		{name: "no tiered assets", rule: newRule(within), want: false},
	})
}

func TestInnovationExpiry(t *testing.T) {
	p := withTiered(DefaultPolicy(), pilot("10.1.0.5"))
	short := p
	short.Settings.InnovationMaxExpiry = 10 * day
	runCodeTable(t, p, CodeInnovationExpiry, []codeCase{
		{name: "90 days", rule: newRule(), want: true, severity: SeverityMedium, blocking: yes, contains: []string{"30 days allowed"}},
		{name: "31 days (a day's grace)", rule: newRule(expires(testNow.Add(31 * day))), want: false},
		{name: "30 days", rule: newRule(expires(testNow.Add(30 * day))), want: false},
		{name: "not an innovation asset", rule: newRule(to(DMZ, "10.1.0.7")), want: false},
	})
	runCodeTable(t, short, CodeInnovationExpiry, []codeCase{
		{name: "20 days over an admin's 10", rule: newRule(expires(testNow.Add(20 * day))), want: true, contains: []string{"10 days allowed"}},
	})
}

func TestInnovationNeedsTwoApprovalsAndTheAssessment(t *testing.T) {
	p := withTiered(DefaultPolicy(), pilot("10.1.0.5"))
	fs := p.Evaluate([]ProposedRule{newRule(expires(testNow.Add(30 * day)))}, nil, testNow)
	if !NeedsSecondApproval(fs, false) {
		t.Fatalf("an innovation-tier rule needs two approvals: %+v", fs)
	}
	if HasBlocking(fs) {
		t.Fatalf("an innovation-tier rule within its expiry blocks nothing: %+v", fs)
	}
	got := findingsWith(fs, CodeInnovationTier)
	if len(got) != 1 || !slices.Contains(got[0].RequiredControls, ControlAssessment) || !slices.Contains(got[0].RequiredControls, ControlInnovationAuth) {
		t.Fatalf("controls %+v", got)
	}
}

func TestParseTier(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Tier
		ok   bool
	}{
		{"", TierStandard, true}, {"Innovation", TierInnovation, true}, {" critical ", TierCritical, true},
		{"standard", TierStandard, true}, {"new", "", false}, {"innovation-tier", "", false},
	} {
		got, err := ParseTier(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseTier(%q) = %q, %v; want %q ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func FuzzParseTier(f *testing.F) {
	for _, s := range []string{"", "innovation", " Critical ", "standard\x00", "ınnovation"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTier(s)
		if err != nil {
			return
		}
		if !slices.Contains(Tiers, got) {
			t.Fatalf("ParseTier(%q) = %q, not a tier", s, got)
		}
		if again, err := ParseTier(string(got)); err != nil || again != got {
			t.Fatalf("ParseTier(%q) does not read back: %q %v", got, again, err)
		}
	})
}
