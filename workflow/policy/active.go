package policy

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/portcullis/portcullis/workflow/core"
)

// ActiveRule is an approved, active rule: the same facts as a proposed rule,
// plus where it comes from, so that findings can name it.
type ActiveRule struct {
	ProposedRule
	// ID is the rule's identifier, RequestID its request's; Label is the
	// request's title.
	ID        int64
	RequestID int64
	Label     string
	// Number is the rule's place in its request, from 1, as its pages show
	// it; 0 when the caller does not know it.
	Number int
}

// Name reads `rule 2 of request #40 "Web to payments"`, as people see the
// rule on the request's page; without a Number, `rule #12 of request #40`
// by the rule's identifier.
func (a *ActiveRule) Name() string {
	var b strings.Builder
	if a.Number > 0 && a.RequestID != 0 {
		fmt.Fprintf(&b, "rule %d", a.Number)
	} else {
		fmt.Fprintf(&b, "rule #%d", a.ID)
	}
	if a.RequestID != 0 {
		fmt.Fprintf(&b, " of request #%d", a.RequestID)
	}
	if a.Label != "" {
		fmt.Fprintf(&b, " %q", a.Label)
	}
	return b.String()
}

// said is Name in the reader's language: "rule 1 of request #6".
func (a *ActiveRule) said() core.Message {
	m := core.M("finding_text.rule_id", "rule #{{.ID}}", "ID", a.ID)
	switch {
	case a.Number > 0 && a.RequestID != 0:
		m = core.M("finding_text.rule_of_request", "rule {{.Number}} of request #{{.Request}}", "Number", a.Number, "Request", a.RequestID)
	case a.RequestID != 0:
		m = core.M("finding_text.rule_id_of_request", "rule #{{.ID}} of request #{{.Request}}", "ID", a.ID, "Request", a.RequestID)
	}
	if a.Label != "" {
		m = core.M("finding_text.rule_labelled", "{{.Rule}} {{.Label}}", "Rule", m, "Label", quoted(a.Label))
	}
	return m
}

// ActiveIndex answers, for a proposed rule, which active rules already open
// some or all of it. It is built once per evaluation batch and read-only
// afterwards, so it is safe for concurrent use.
//
// Rules are filed by protocol, direction and destination prefix; within one
// destination, by port range, with a running maximum of range ends so that a
// lookup stops as soon as no earlier range can reach the ports asked for.
// A proposed destination is looked up once for every prefix length present
// in the index (a handful in practice: hosts, and the zones' prefix lengths),
// which finds every active rule whose destination contains it.
type ActiveIndex struct {
	rules   []ActiveRule
	facts   []activeFacts
	buckets map[destKey]int32
	store   []portBucket
	// lengths holds the destination prefix lengths present, ascending;
	// prefixes the distinct destination prefixes, sorted, for finding active
	// rules inside a proposed zone-wide destination.
	lengths  map[familyKey][]int
	prefixes map[familyKey][]netip.Prefix
}

type familyKey struct {
	udp, egress, v6 bool
}

type destKey struct {
	family familyKey
	prefix netip.Prefix
}

type portBucket struct {
	entries []portEntry // sorted by first port
	maxLast []uint16    // maxLast[k] is the largest last port of entries[:k+1]
}

type portEntry struct {
	ports PortRange
	rule  int32
}

// activeFacts is what the overlap test needs of an active rule, cleaned once.
type activeFacts struct {
	valid  bool
	ports  PortSet
	source []netip.Prefix // the addresses the source stands for, masked
	dests  []netip.Prefix // masked, sorted
}

// NewActiveIndex indexes the active rules. Rules that cannot be judged
// (no ports, no destination) are left out: they open nothing the engine can
// compare. The rules are kept in (RequestID, ID) order so that findings name
// them in the same order whatever order they were given in.
func NewActiveIndex(rules []ActiveRule) *ActiveIndex {
	own := slices.Clone(rules)
	slices.SortStableFunc(own, func(a, b ActiveRule) int {
		return cmp.Or(cmp.Compare(a.RequestID, b.RequestID), cmp.Compare(a.ID, b.ID))
	})
	idx := &ActiveIndex{
		rules:    own,
		facts:    make([]activeFacts, len(own)),
		buckets:  make(map[destKey]int32, len(own)),
		lengths:  map[familyKey][]int{},
		prefixes: map[familyKey][]netip.Prefix{},
	}
	for i := range own {
		r := &own[i]
		ports, ok := r.Ports.clean()
		if !ok || (r.Protocol != TCP && r.Protocol != UDP) || (r.Direction != "" && r.Direction != Ingress && r.Direction != Egress) {
			continue
		}
		fa := activeFacts{valid: true, ports: ports, source: sourcePrefixes(&r.ProposedRule)}
		for _, d := range r.Destinations {
			if !d.Prefix.IsValid() {
				continue
			}
			p := d.Prefix.Masked()
			fa.dests = append(fa.dests, p)
			key := destKey{family: familyOf(r.Protocol, r.Direction, p), prefix: p}
			b, ok := idx.buckets[key]
			if !ok {
				b = int32(len(idx.store))
				idx.store = append(idx.store, portBucket{})
				idx.buckets[key] = b
				idx.prefixes[key.family] = append(idx.prefixes[key.family], p)
			}
			for _, pr := range ports {
				idx.store[b].entries = append(idx.store[b].entries, portEntry{pr, int32(i)})
			}
		}
		slices.SortFunc(fa.dests, comparePrefix)
		fa.dests = slices.Compact(fa.dests)
		idx.facts[i] = fa
	}
	for b := range idx.store {
		bucket := &idx.store[b]
		slices.SortFunc(bucket.entries, func(x, y portEntry) int {
			return cmp.Or(cmp.Compare(x.ports.First, y.ports.First), cmp.Compare(x.rule, y.rule))
		})
		bucket.maxLast = make([]uint16, len(bucket.entries))
		var top uint16
		for k, e := range bucket.entries {
			top = max(top, e.ports.Last)
			bucket.maxLast[k] = top
		}
	}
	for fam, ps := range idx.prefixes {
		slices.SortFunc(ps, comparePrefix)
		var lengths []int
		for _, p := range ps {
			if !slices.Contains(lengths, p.Bits()) {
				lengths = append(lengths, p.Bits())
			}
		}
		slices.Sort(lengths)
		idx.lengths[fam] = lengths
	}
	return idx
}

// Len is the number of rules indexed.
func (x *ActiveIndex) Len() int { return len(x.rules) }

func familyOf(p Protocol, d Direction, prefix netip.Prefix) familyKey {
	return familyKey{udp: p == UDP, egress: d == Egress, v6: !prefix.Addr().Is4()}
}

func comparePrefix(a, b netip.Prefix) int {
	return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
}

var (
	allIPv4 = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	allIPv6 = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
)

// sourcePrefixes is the set of addresses a rule's source stands for; empty
// for a zone whose prefixes the caller did not give.
func sourcePrefixes(r *ProposedRule) []netip.Prefix {
	var out []netip.Prefix
	switch r.Source.Kind {
	case SourceInternet:
		return []netip.Prefix{allIPv4, allIPv6}
	case SourceZone:
		out = slices.Clone(r.SourceZonePrefixes)
	case SourceCIDRs:
		out = slices.Clone(r.Source.CIDRs)
	}
	out = slices.DeleteFunc(out, func(p netip.Prefix) bool { return !p.IsValid() })
	for i, p := range out {
		out[i] = p.Masked()
	}
	slices.SortFunc(out, comparePrefix)
	return slices.Compact(out)
}

// prefixSetCovers reports whether every prefix of inner lies in some prefix
// of outer. A prefix split over several outer prefixes counts as not
// covered: the answer errs towards "partly open", never towards "covered".
func prefixSetCovers(outer, inner []netip.Prefix) bool {
	if len(inner) == 0 {
		return false
	}
	for _, in := range inner {
		if !slices.ContainsFunc(outer, func(out netip.Prefix) bool {
			return out.Bits() <= in.Bits() && out.Contains(in.Addr())
		}) {
			return false
		}
	}
	return true
}

func prefixSetsOverlap(a, b []netip.Prefix) bool {
	for _, p := range a {
		for _, q := range b {
			if p.Overlaps(q) {
				return true
			}
		}
	}
	return false
}

// sourceCovers: does the active rule's source include every address of the
// proposed one? Without prefixes, two sources naming the same zone do.
func sourceCovers(active *ActiveRule, activeSource []netip.Prefix, proposed *ProposedRule, proposedSource []netip.Prefix) bool {
	if active.Source.Kind == SourceInternet {
		return true
	}
	if active.Source.Kind == SourceZone && proposed.Source.Kind == SourceZone && strings.EqualFold(active.Source.Zone, proposed.Source.Zone) {
		return true
	}
	return prefixSetCovers(activeSource, proposedSource)
}

func sourceOverlaps(active *ActiveRule, activeSource []netip.Prefix, proposed *ProposedRule, proposedSource []netip.Prefix) bool {
	if active.Source.Kind == SourceInternet || proposed.Source.Kind == SourceInternet {
		return true
	}
	if active.Source.Kind == SourceZone && proposed.Source.Kind == SourceZone && strings.EqualFold(active.Source.Zone, proposed.Source.Zone) {
		return true
	}
	return prefixSetsOverlap(activeSource, proposedSource)
}

func sameSource(a, b *ProposedRule, aPrefixes, bPrefixes []netip.Prefix) bool {
	if a.Source.Kind != b.Source.Kind {
		return false
	}
	switch a.Source.Kind {
	case SourceInternet:
		return true
	case SourceZone:
		return strings.EqualFold(a.Source.Zone, b.Source.Zone)
	}
	return slices.Equal(aPrefixes, bPrefixes)
}

// lookup calls hit for every active rule whose ports overlap ports on the
// destination prefix dest: contains says whether the rule's destination
// contains dest (it may then cover it) or only lies inside it.
func (x *ActiveIndex) lookup(fam familyKey, dest netip.Prefix, ports PortSet, hit func(rule int32, contains bool)) {
	lengths := x.lengths[fam]
	for _, l := range lengths {
		if l > dest.Bits() {
			break
		}
		outer, err := dest.Addr().Prefix(l)
		if err != nil {
			continue
		}
		if b, ok := x.buckets[destKey{fam, outer}]; ok {
			x.store[b].query(ports, func(rule int32) { hit(rule, true) })
		}
	}
	if len(lengths) == 0 || lengths[len(lengths)-1] <= dest.Bits() {
		return
	}
	// Active rules on prefixes inside a wide proposed destination: they open
	// part of it.
	ps := x.prefixes[fam]
	k, _ := slices.BinarySearchFunc(ps, dest, comparePrefix)
	for ; k < len(ps) && dest.Contains(ps[k].Addr()); k++ {
		if ps[k].Bits() <= dest.Bits() {
			continue
		}
		if b, ok := x.buckets[destKey{fam, ps[k]}]; ok {
			x.store[b].query(ports, func(rule int32) { hit(rule, false) })
		}
	}
}

// query calls hit for every entry whose range overlaps ports.
func (b *portBucket) query(ports PortSet, hit func(rule int32)) {
	for _, r := range ports {
		// Entries after end start beyond r; walk back from there while an
		// earlier entry can still reach r.First.
		end, _ := slices.BinarySearchFunc(b.entries, r.Last, func(e portEntry, last uint16) int {
			if e.ports.First <= last {
				return -1
			}
			return 1
		})
		for k := end - 1; k >= 0 && b.maxLast[k] >= r.First; k-- {
			if b.entries[k].ports.Last >= r.First {
				hit(b.entries[k].rule)
			}
		}
	}
}

// checkOverlap reports whether active rules already open this rule.
func (x *ActiveIndex) checkOverlap(f *facts, add addFunc) {
	r := f.rule
	source := sourcePrefixes(r)
	dests := make([]netip.Prefix, 0, len(r.Destinations))
	for _, d := range r.Destinations {
		dests = append(dests, d.Prefix.Masked())
	}
	slices.SortFunc(dests, comparePrefix)
	dests = slices.Compact(dests)

	var covering []int32 // the first active rule covering each destination
	var partial []int32
	var candidates []int32
	allCovered := true
	var duplicate int32 = -1
	for di, dest := range dests {
		candidates = candidates[:0]
		var containing []int32
		x.lookup(familyOf(r.Protocol, f.direction, dest), dest, f.ports, func(rule int32, contains bool) {
			candidates = append(candidates, rule)
			if contains {
				containing = append(containing, rule)
			}
		})
		slices.Sort(candidates)
		candidates = slices.Compact(candidates)
		slices.Sort(containing)
		containing = slices.Compact(containing)
		var cover int32 = -1
		for _, c := range containing {
			a, fa := &x.rules[c], &x.facts[c]
			if fa.valid && fa.ports.Covers(f.ports) && sourceCovers(a, fa.source, r, source) {
				if cover < 0 {
					cover = c
				}
				if di == 0 && duplicate < 0 && slices.Equal(fa.ports, f.ports) && slices.Equal(fa.dests, dests) && sameSource(&a.ProposedRule, r, fa.source, source) {
					duplicate = c
				}
			}
		}
		if cover >= 0 {
			covering = append(covering, cover)
			continue
		}
		allCovered = false
		for _, c := range candidates {
			a, fa := &x.rules[c], &x.facts[c]
			if fa.valid && sourceOverlaps(a, fa.source, r, source) {
				partial = append(partial, c)
			}
		}
	}
	switch {
	case duplicate >= 0:
		a := &x.rules[duplicate]
		add(CodeOverlapDuplicate, SeverityLow, false, nil, core.M("finding_text.overlap_duplicate",
			"{{.Rule}} already opens exactly this{{.Until}}: re-certify or extend that rule instead of opening it twice",
			"Rule", a.said(), "Until", expiresText(a.Expires)))
	case allCovered && len(covering) > 0:
		add(CodeOverlapCovered, SeverityLow, false, nil, core.M("finding_text.overlap_covered",
			"{{.Rules}} already {{.OpenOpens}} all of this: the rule adds nothing; withdraw it, or say in the justification why it is needed",
			"Rules", x.names(covering), "OpenOpens", openOpens(covering)))
	case len(partial) > 0 || len(covering) > 0:
		add(CodeOverlapPartial, SeverityInfo, false, nil, core.M("finding_text.overlap_partial",
			"part of this is already open through {{.Rules}}: check that the rules do not grant more together than intended",
			"Rules", x.names(append(partial, covering...))))
	}
}

func expiresText(t time.Time) core.Message {
	if t.IsZero() {
		return core.Plain("")
	}
	return core.M("finding_text.until", " (until {{.Date}})", "Date", t.UTC().Format(time.DateOnly))
}

func openOpens(rules []int32) string {
	slices.Sort(rules)
	if len(slices.Compact(rules)) == 1 {
		return "opens"
	}
	return "open"
}

// names lists the active rules, in index order, without repeats.
func (x *ActiveIndex) names(rules []int32) core.Message {
	rules = slices.Clone(rules)
	slices.Sort(rules)
	rules = slices.Compact(rules)
	// Only the names listNames shows are built: a wide rule can overlap
	// thousands of active ones, and the message counts the rest.
	names := make([]any, len(rules))
	for i, r := range rules[:min(len(rules), 7)] {
		names[i] = x.rules[r].said()
	}
	return listSaid(names)
}
