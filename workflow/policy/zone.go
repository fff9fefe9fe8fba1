package policy

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Classification is the sensitivity of a zone. Every address belongs to
// exactly one classification for the engine: the most specific zone that
// contains it, or the internet when no zone does.
type Classification string

const (
	Internet Classification = "internet"
	DMZ      Classification = "dmz"
	Transit  Classification = "transit"
	Low      Classification = "low"
	Medium   Classification = "medium"
	High     Classification = "high"
)

// classificationOrder fixes the order used for matrix rows, serialisation and
// messages, so that output never depends on map iteration.
var classificationOrder = [...]Classification{Internet, DMZ, Transit, Low, Medium, High}

const classificationCount = len(classificationOrder)

// Classifications returns every classification, from the least to the most
// trusted.
func Classifications() []Classification {
	return append([]Classification(nil), classificationOrder[:]...)
}

// ParseClassification accepts the six classification words in any case.
func ParseClassification(s string) (Classification, error) {
	c := Classification(strings.ToLower(strings.TrimSpace(s)))
	if c.index() < 0 {
		return "", fmt.Errorf("zone classification %q is not one of internet, dmz, transit, low, medium, high", s)
	}
	return c, nil
}

func (c Classification) index() int {
	for i, k := range classificationOrder {
		if k == c {
			return i
		}
	}
	return -1
}

// Access is what the matrix allows from one classification to another. The
// matrix is read in the direction connections are opened: the "from" side
// initiates, the "to" side accepts.
type Access string

const (
	// AccessAllow lets the flow through; the other rules still apply.
	AccessAllow Access = "allow"
	// AccessWeb allows the public ports (Settings.PublicTCPPorts and
	// PublicUDPPorts, 80 and 443 by default) from anywhere, and any other port
	// only from a source whitelist. It is how the internet reaches the DMZ.
	AccessWeb Access = "web"
	// AccessWhitelist allows the flow only from a source whitelist: named
	// addresses, never a whole zone or the internet.
	AccessWhitelist Access = "whitelist"
	// AccessEgress marks a flow out of the datacentre: allowed only as an
	// explicit egress rule, and always reviewed.
	AccessEgress Access = "egress"
	// AccessDeny refuses the flow.
	AccessDeny Access = "deny"
)

// ParseAccess accepts the access words in any case.
func ParseAccess(s string) (Access, error) {
	switch a := Access(strings.ToLower(strings.TrimSpace(s))); a {
	case AccessAllow, AccessWeb, AccessWhitelist, AccessEgress, AccessDeny:
		return a, nil
	}
	return "", fmt.Errorf("access %q is not one of allow, web, whitelist, egress, deny", s)
}

// Matrix says, for every ordered pair of classifications, how the first may
// open connections to the second. The zero Matrix denies everything. It is a
// plain value: copying it copies the whole matrix.
type Matrix struct {
	cells [classificationCount][classificationCount]Access
}

// Access returns what the matrix allows from one classification to another;
// an unknown classification, or a cell never set, is denied.
func (m Matrix) Access(from, to Classification) Access {
	i, j := from.index(), to.index()
	if i < 0 || j < 0 || m.cells[i][j] == "" {
		return AccessDeny
	}
	return m.cells[i][j]
}

// Set changes one cell.
func (m *Matrix) Set(from, to Classification, a Access) error {
	i, j := from.index(), to.index()
	if i < 0 {
		return fmt.Errorf("zone classification %q is not one of internet, dmz, transit, low, medium, high", from)
	}
	if j < 0 {
		return fmt.Errorf("zone classification %q is not one of internet, dmz, transit, low, medium, high", to)
	}
	if _, err := ParseAccess(string(a)); err != nil {
		return err
	}
	m.cells[i][j] = a
	return nil
}

// DefaultMatrix encodes the field practice:
//   - the internet reaches only the DMZ, and there only the public ports
//     without a whitelist;
//   - nothing reaches a high zone from the internet, the DMZ or a low or
//     medium zone: the way in is through the transit zone, which checks
//     traffic on entry;
//   - every zone may open connections to the internet only through an
//     explicit egress rule;
//   - the DMZ and low zones reach more sensitive internal zones only from
//     whitelisted addresses.
func DefaultMatrix() Matrix {
	var m Matrix
	rows := map[Classification]map[Classification]Access{
		Internet: {DMZ: AccessWeb},
		DMZ:      {Internet: AccessEgress, DMZ: AccessAllow, Transit: AccessAllow, Low: AccessWhitelist, Medium: AccessWhitelist},
		Transit:  {Internet: AccessEgress, DMZ: AccessAllow, Transit: AccessAllow, Low: AccessAllow, Medium: AccessAllow, High: AccessAllow},
		Low:      {Internet: AccessEgress, DMZ: AccessAllow, Transit: AccessAllow, Low: AccessAllow, Medium: AccessWhitelist},
		Medium:   {Internet: AccessEgress, DMZ: AccessAllow, Transit: AccessAllow, Low: AccessAllow, Medium: AccessAllow},
		High:     {Internet: AccessEgress, DMZ: AccessAllow, Transit: AccessAllow, Low: AccessAllow, Medium: AccessAllow, High: AccessAllow},
	}
	for _, from := range classificationOrder {
		for _, to := range classificationOrder {
			a, ok := rows[from][to]
			if !ok {
				a = AccessDeny
			}
			m.cells[from.index()][to.index()] = a
		}
	}
	return m
}

// table is the serialised form: from → to → access, every cell written out so
// that a stored matrix reads on its own.
func (m Matrix) table() map[string]map[string]string {
	t := make(map[string]map[string]string, classificationCount)
	for _, from := range classificationOrder {
		row := make(map[string]string, classificationCount)
		for _, to := range classificationOrder {
			row[string(to)] = string(m.Access(from, to))
		}
		t[string(from)] = row
	}
	return t
}

func matrixFromTable(t map[string]map[string]string) (Matrix, error) {
	var m Matrix
	for _, from := range slices.Sorted(maps.Keys(t)) {
		row := t[from]
		f, err := ParseClassification(from)
		if err != nil {
			return Matrix{}, fmt.Errorf("matrix: %w", err)
		}
		for _, to := range slices.Sorted(maps.Keys(row)) {
			access := row[to]
			c, err := ParseClassification(to)
			if err != nil {
				return Matrix{}, fmt.Errorf("matrix %s: %w", f, err)
			}
			a, err := ParseAccess(access)
			if err != nil {
				return Matrix{}, fmt.Errorf("matrix %s → %s: %w", f, c, err)
			}
			m.cells[f.index()][c.index()] = a
		}
	}
	return m, nil
}

// MarshalJSON writes {"internet": {"dmz": "web", …}, …}.
func (m Matrix) MarshalJSON() ([]byte, error) { return json.Marshal(m.table()) }

// UnmarshalJSON reads what MarshalJSON writes; cells left out are denied.
func (m *Matrix) UnmarshalJSON(data []byte) error {
	var t map[string]map[string]string
	if err := json.Unmarshal(data, &t); err != nil {
		return fmt.Errorf("matrix: %w", err)
	}
	parsed, err := matrixFromTable(t)
	if err != nil {
		return err
	}
	*m = parsed
	return nil
}

// MarshalYAML writes the same table as MarshalJSON, rows in classification
// order.
func (m Matrix) MarshalYAML() (any, error) {
	doc := &yaml.Node{Kind: yaml.MappingNode}
	for _, from := range classificationOrder {
		row := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
		for _, to := range classificationOrder {
			row.Content = append(row.Content,
				&yaml.Node{Kind: yaml.ScalarNode, Value: string(to)},
				&yaml.Node{Kind: yaml.ScalarNode, Value: string(m.Access(from, to))})
		}
		doc.Content = append(doc.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: string(from)}, row)
	}
	return doc, nil
}

// UnmarshalYAML reads what MarshalYAML writes; cells left out are denied.
func (m *Matrix) UnmarshalYAML(node *yaml.Node) error {
	var t map[string]map[string]string
	if err := node.Decode(&t); err != nil {
		return fmt.Errorf("matrix: %w", err)
	}
	parsed, err := matrixFromTable(t)
	if err != nil {
		return fmt.Errorf("line %d: %w", node.Line, err)
	}
	*m = parsed
	return nil
}
