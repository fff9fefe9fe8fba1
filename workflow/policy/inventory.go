package policy

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Zone is a named set of prefixes with a classification, as the inventory
// keeps it.
type Zone struct {
	Name           string
	Classification Classification
	CIDRs          []netip.Prefix
}

// Inventory resolves the zone names and addresses of rule specs into the
// facts the engine judges. Build it from the zones in the database; it is
// read-only afterwards and safe for concurrent use.
type Inventory struct {
	zones  []Zone
	byName map[string]int
	// prefixes of every zone, most specific first, so that the first match
	// for an address is the zone it belongs to.
	prefixes []zonePrefix
}

type zonePrefix struct {
	prefix netip.Prefix
	zone   int
}

// NewInventory checks the zones: names valid and unique (in any case),
// classifications known, prefixes valid, and no prefix in two zones.
func NewInventory(zones []Zone) (*Inventory, error) {
	inv := &Inventory{byName: make(map[string]int, len(zones))}
	seen := map[netip.Prefix]string{}
	for i, z := range zones {
		if !ValidZoneName(z.Name) {
			return nil, fmt.Errorf("zone name %q is not valid: letters, digits, '-', '_' and '.', not starting with a digit", z.Name)
		}
		key := strings.ToLower(z.Name)
		if _, dup := inv.byName[key]; dup {
			return nil, fmt.Errorf("zone %q is defined twice", z.Name)
		}
		if z.Classification.index() < 0 {
			return nil, fmt.Errorf("zone %q: classification %q is not one of internet, dmz, transit, low, medium, high", z.Name, z.Classification)
		}
		z.CIDRs = slices.Clone(z.CIDRs)
		for k, p := range z.CIDRs {
			if !p.IsValid() {
				return nil, fmt.Errorf("zone %q has an invalid CIDR", z.Name)
			}
			p = p.Masked()
			z.CIDRs[k] = p
			if other, dup := seen[p]; dup {
				return nil, fmt.Errorf("zone %q: %s is already a prefix of zone %q", z.Name, p, other)
			}
			seen[p] = z.Name
			inv.prefixes = append(inv.prefixes, zonePrefix{p, i})
		}
		inv.byName[key] = i
		inv.zones = append(inv.zones, z)
	}
	slices.SortFunc(inv.prefixes, func(a, b zonePrefix) int {
		return cmp.Or(cmp.Compare(b.prefix.Bits(), a.prefix.Bits()), comparePrefix(a.prefix, b.prefix))
	})
	return inv, nil
}

// Zone returns the zone of that name, in any case.
func (inv *Inventory) Zone(name string) (Zone, bool) {
	i, ok := inv.byName[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Zone{}, false
	}
	return inv.zones[i], true
}

// ZoneOf returns the most specific zone containing the prefix, false when no
// zone does (the address is on the internet).
func (inv *Inventory) ZoneOf(p netip.Prefix) (Zone, bool) {
	if i := inv.containing(p.Masked()); i >= 0 {
		return inv.zones[i], true
	}
	return Zone{}, false
}

func (inv *Inventory) containing(p netip.Prefix) int {
	for _, zp := range inv.prefixes {
		if zp.prefix.Bits() <= p.Bits() && zp.prefix.Contains(p.Addr()) {
			return zp.zone
		}
	}
	return -1
}

// classificationsOf returns what a source prefix spans: the zone containing
// it (or the internet when none does) and every zone lying inside it.
func (inv *Inventory) classificationsOf(p netip.Prefix) []Classification {
	p = p.Masked()
	out := []Classification{Internet}
	if i := inv.containing(p); i >= 0 {
		out[0] = inv.zones[i].Classification
	}
	for _, zp := range inv.prefixes {
		if zp.prefix.Bits() > p.Bits() && p.Contains(zp.prefix.Addr()) {
			out = append(out, inv.zones[zp.zone].Classification)
		}
	}
	return ordered(out)
}

// Resolve turns checked rule specs into proposed rules: zone names become
// their classification and prefixes, addresses their zone's classification
// (the internet when outside every zone). A spec without an expiry gets
// defaultExpires: the request's expiry, or now plus Settings.DefaultExpiry
// for `policy check`. Errors are *FieldError naming the rule and field.
func (inv *Inventory) Resolve(specs []RuleSpec, defaultExpires time.Time) ([]ProposedRule, error) {
	out := make([]ProposedRule, len(specs))
	for i, spec := range specs {
		r, err := inv.resolve(i, spec, defaultExpires)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

func (inv *Inventory) resolve(i int, spec RuleSpec, defaultExpires time.Time) (ProposedRule, error) {
	fail := func(field, format string, args ...any) error {
		return &FieldError{Field: fmt.Sprintf("rules[%d].%s", i, field), Message: fmt.Sprintf(format, args...)}
	}
	var r ProposedRule
	var err error
	// The direction is read first: it says which field holds our assets.
	if r.Direction, err = ParseDirection(spec.Direction); err != nil {
		return r, fail("direction", "%v", err)
	}
	// A rule is written in the direction the connection is opened. For
	// egress the source is our assets and the destination the outside peer;
	// the engine keeps our assets in Destinations and the far side in
	// Source whatever the direction, so the two fields trade places here.
	peerField, peerText, oursField, ours := "source", spec.Source, "destination", spec.Destination
	if r.Direction == Egress {
		peerField, peerText = "destination", strings.Join(spec.Destination, ",")
		oursField, ours = "source", splitList(spec.Source)
	}
	if r.Source, err = ParseSource(peerText); err != nil {
		return r, fail(peerField, "%s", peerProblem(err, peerField))
	}
	switch r.Source.Kind {
	case SourceInternet:
		r.SourceClassifications = []Classification{Internet}
	case SourceZone:
		z, ok := inv.Zone(r.Source.Zone)
		if !ok {
			return r, fail(peerField, "there is no zone %q", r.Source.Zone)
		}
		r.Source.Zone = z.Name
		r.SourceClassifications = []Classification{z.Classification}
		r.SourceZonePrefixes = slices.Clone(z.CIDRs)
	case SourceCIDRs:
		var classes []Classification
		for _, p := range r.Source.CIDRs {
			classes = append(classes, inv.classificationsOf(p)...)
		}
		r.SourceClassifications = ordered(classes)
	}
	if len(ours) == 0 {
		return r, fail(oursField, "%s is required: asset addresses or a zone name", oursField)
	}
	for j, d := range ours {
		field := fmt.Sprintf("%s[%d]", oursField, j)
		if r.Direction == Egress {
			field = oursField // the source is one text, not a list
		}
		d = strings.TrimSpace(d)
		if strings.EqualFold(d, "internet") {
			return r, fail(field, "%s", internetOnOurSide(r.Direction))
		}
		if ValidZoneName(d) {
			z, ok := inv.Zone(d)
			if !ok {
				return r, fail(field, "there is no zone %q", d)
			}
			if len(z.CIDRs) == 0 {
				return r, fail(field, "zone %q has no addresses", z.Name)
			}
			for _, p := range z.CIDRs {
				r.Destinations = append(r.Destinations, Destination{Prefix: p, Zone: z.Name, Classification: z.Classification})
			}
			continue
		}
		p, err := ParseCIDR(d)
		if err != nil {
			return r, fail(field, "%v", err)
		}
		dest := Destination{Prefix: p, Classification: Internet}
		if z, ok := inv.ZoneOf(p); ok {
			dest.Zone, dest.Classification = z.Name, z.Classification
		}
		r.Destinations = append(r.Destinations, dest)
	}
	if r.Protocol, err = ParseProtocol(spec.Protocol); err != nil {
		return r, fail("protocol", "%v", err)
	}
	if r.Ports, err = ParsePorts(spec.Ports); err != nil {
		return r, fail("ports", "%v", err)
	}
	r.Service = spec.Service
	r.Expires = spec.ExpiresAt
	if r.Expires.IsZero() {
		r.Expires = defaultExpires
	}
	return r, nil
}

// splitList splits a list written with commas, spaces or semicolons.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(c rune) bool { return c == ',' || c == ' ' || c == ';' || c == '\n' || c == '\r' || c == '\t' })
}

// peerProblem rewords the source parser's complaint for the field it was
// about: an egress rule's peer is its destination.
func peerProblem(err error, field string) string {
	msg := err.Error()
	if field == "destination" {
		msg = strings.Replace(msg, "source", "destination", 1)
	}
	return msg
}

// internetOnOurSide explains why "internet" cannot stand for our assets.
func internetOnOurSide(d Direction) string {
	if d == Egress {
		return "the source of an egress rule is our assets that open the connection (addresses or a zone), not internet; put the outside peer, or internet, in the destination"
	}
	return "the destination of an ingress rule is our assets (addresses or a zone), not internet; to let our assets reach the internet, file an egress rule with our assets as the source and internet as the destination"
}
