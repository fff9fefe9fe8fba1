package policy

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// testNow is the fixed "now" of every test, so expiries are reproducible.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func pfx(s string) netip.Prefix {
	p, err := ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return p
}

func portSet(s string) PortSet {
	p, err := ParsePorts(s)
	if err != nil {
		panic(err)
	}
	return p
}

type ruleOption func(*ProposedRule)

// newRule returns a rule that raises no finding under the default policy
// (transit host → DMZ host, https on 443, 90 days), changed by opts.
func newRule(opts ...ruleOption) ProposedRule {
	r := ProposedRule{
		Source:                Source{Kind: SourceCIDRs, CIDRs: []netip.Prefix{pfx("10.2.0.10/32")}},
		SourceClassifications: []Classification{Transit},
		Destinations:          []Destination{{Prefix: pfx("10.1.0.5/32"), Zone: "web", Classification: DMZ}},
		Protocol:              TCP,
		Ports:                 portSet("443"),
		Service:               "https",
		Direction:             Ingress,
		Expires:               testNow.Add(90 * day),
	}
	for _, o := range opts {
		o(&r)
	}
	return r
}

// from sets the source ("internet", a zone name or CIDRs) and the
// classifications it lies in.
func from(source string, classes ...Classification) ruleOption {
	return func(r *ProposedRule) {
		s, err := ParseSource(source)
		if err != nil {
			panic(err)
		}
		r.Source = s
		r.SourceClassifications = classes
		if s.Kind == SourceInternet && len(classes) == 0 {
			r.SourceClassifications = []Classification{Internet}
		}
	}
}

// to sets one destination per address, all in a zone of classification c.
func to(c Classification, addresses ...string) ruleOption {
	return func(r *ProposedRule) {
		r.Destinations = nil
		for _, a := range addresses {
			r.Destinations = append(r.Destinations, Destination{Prefix: pfx(a), Zone: string(c) + "-zone", Classification: c})
		}
	}
}

func on(p Protocol, ports string) ruleOption {
	return func(r *ProposedRule) { r.Protocol, r.Ports = p, portSet(ports) }
}

func service(name string) ruleOption { return func(r *ProposedRule) { r.Service = name } }

func egress() ruleOption { return func(r *ProposedRule) { r.Direction = Egress } }

func expires(t time.Time) ruleOption { return func(r *ProposedRule) { r.Expires = t } }

func findingsWith(fs []Finding, code string) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Code == code {
			out = append(out, f)
		}
	}
	return out
}

func codes(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// codeCase is one row of a finding code's table: the rule must raise the
// code (want) or must not.
type codeCase struct {
	name string
	rule ProposedRule
	want bool
	// When want: the severity and blocking expected, if set.
	severity Severity
	blocking *bool
	// Words the message must contain.
	contains []string
}

var (
	yes = func() *bool { b := true; return &b }()
	no  = func() *bool { b := false; return &b }()
)

func runCodeTable(t *testing.T, p Policy, code string, cases []codeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := p.Evaluate([]ProposedRule{c.rule}, nil, testNow)
			got := findingsWith(fs, code)
			if !c.want {
				if len(got) > 0 {
					t.Fatalf("unexpected %s: %+v", code, got)
				}
				return
			}
			if len(got) == 0 {
				t.Fatalf("no %s finding; got %v", code, fs)
			}
			for _, f := range got {
				if c.severity != "" && f.Severity != c.severity {
					t.Errorf("severity %s, want %s: %s", f.Severity, c.severity, f.Message)
				}
				if c.blocking != nil && f.Blocking != *c.blocking {
					t.Errorf("blocking %v, want %v: %s", f.Blocking, *c.blocking, f.Message)
				}
				if f.RequiredControls == nil {
					t.Errorf("required controls are nil")
				}
			}
			for _, word := range c.contains {
				if !slices.ContainsFunc(got, func(f Finding) bool { return strings.Contains(f.Message, word) }) {
					t.Errorf("no %s message contains %q: %+v", code, word, got)
				}
			}
		})
	}
}

func TestBaselineRuleIsClean(t *testing.T) {
	p := DefaultPolicy()
	if fs := p.Evaluate([]ProposedRule{newRule()}, nil, testNow); len(fs) != 0 {
		t.Fatalf("the baseline rule raised %+v", fs)
	}
}
