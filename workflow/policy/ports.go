package policy

import (
	"slices"
	"strings"
)

// MarshalText writes the set as ParsePorts reads it, so a PortSet can sit in
// JSON and YAML documents (the catalog, settings, stored rules) as "80,443".
func (p PortSet) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads what ParsePorts reads, and an empty text as the empty
// set, which MarshalText writes for it.
func (p *PortSet) UnmarshalText(text []byte) error {
	if strings.TrimSpace(string(text)) == "" {
		*p = nil
		return nil
	}
	set, err := ParsePorts(string(text))
	if err != nil {
		return err
	}
	*p = set
	return nil
}

// clean returns a sorted, merged copy of p, or false when a range is not a
// range of real ports. The engine takes PortSets from callers it cannot
// trust to have used ParsePorts.
func (p PortSet) clean() (PortSet, bool) {
	if len(p) == 0 {
		return nil, false
	}
	for _, r := range p {
		if r.First == 0 || r.First > r.Last {
			return nil, false
		}
	}
	return slices.Clone(p).normalise(), true
}

// without returns the ports of p that are not in q; both must be clean.
func (p PortSet) without(q PortSet) PortSet {
	var out PortSet
	j := 0
	for _, r := range p {
		first := int(r.First)
		for j < len(q) && q[j].Last < r.First {
			j++
		}
		k := j
		for k < len(q) && int(q[k].First) <= int(r.Last) {
			if int(q[k].First) > first {
				out = append(out, PortRange{uint16(first), q[k].First - 1})
			}
			first = int(q[k].Last) + 1
			k++
		}
		if first <= int(r.Last) {
			out = append(out, PortRange{uint16(first), r.Last})
		}
	}
	return out
}

// intersect returns the ports in both p and q; both must be clean.
func (p PortSet) intersect(q PortSet) PortSet {
	var out PortSet
	i, j := 0, 0
	for i < len(p) && j < len(q) {
		lo := max(p[i].First, q[j].First)
		hi := min(p[i].Last, q[j].Last)
		if lo <= hi {
			out = append(out, PortRange{lo, hi})
		}
		if p[i].Last < q[j].Last {
			i++
		} else {
			j++
		}
	}
	return out
}
