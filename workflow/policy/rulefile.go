package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// RuleSpec is a rule object as requests, `policy check` files and
// POST /api/v1/evaluate carry it: checked for form, not yet resolved against
// the zones. Each field holds the canonical text of what was given
// ("10.0.0.0/24,10.1.0.0/24", "80,443"), so that it parses again the same.
type RuleSpec struct {
	// Source is "internet", a zone name, or CIDRs separated by commas.
	Source string `json:"source" yaml:"source"`
	// Destination holds asset addresses (or CIDRs), or zone names.
	Destination []string `json:"destination" yaml:"destination"`
	Protocol    string   `json:"protocol" yaml:"protocol"`
	Ports       string   `json:"ports" yaml:"ports"`
	Service     string   `json:"service,omitempty" yaml:"service,omitempty"`
	Direction   string   `json:"direction" yaml:"direction"`
	// ExpiresAt is zero when the rule does not say; the caller then applies
	// the request's expiry or Settings.DefaultExpiry.
	ExpiresAt time.Time `json:"expires_at,omitzero" yaml:"expires_at,omitempty"`
}

// FieldError names the field at fault the way the API reports it:
// "rules[2].ports".
type FieldError struct {
	Field   string
	Line    int // in the file, 0 when unknown
	Message string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	return b.String()
}

var ruleFields = []string{"source", "destination", "protocol", "ports", "service", "direction", "expires_at"}

// ParseRuleFile reads a YAML or JSON document holding a list of rule objects,
// either bare or as {"rules": [...]} like the body of POST /api/v1/evaluate.
// Every field is checked; the first problem is returned as a *FieldError.
func ParseRuleFile(data []byte) ([]RuleSpec, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := yamlErrorLine(err)
		return nil, &FieldError{Line: line, Message: "not valid YAML or JSON: " + msg}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &FieldError{Field: "rules", Message: "the file holds no rules: expected a list of rule objects"}
	}
	list := doc.Content[0]
	if list.Kind == yaml.MappingNode {
		var rules *yaml.Node
		for i := 0; i+1 < len(list.Content); i += 2 {
			key := list.Content[i]
			if key.Value != "rules" {
				return nil, &FieldError{Field: key.Value, Line: key.Line, Message: "unknown field: the document holds a list of rule objects, or {\"rules\": [...]}"}
			}
			rules = list.Content[i+1]
		}
		if rules == nil {
			return nil, &FieldError{Field: "rules", Line: list.Line, Message: "the document has no \"rules\" list"}
		}
		list = rules
	}
	if list.Kind != yaml.SequenceNode {
		return nil, &FieldError{Field: "rules", Line: list.Line, Message: "expected a list of rule objects"}
	}
	if len(list.Content) == 0 {
		return nil, &FieldError{Field: "rules", Line: list.Line, Message: "the list of rules is empty"}
	}
	specs := make([]RuleSpec, 0, len(list.Content))
	for i, node := range list.Content {
		spec, err := parseRuleSpec(fmt.Sprintf("rules[%d]", i), node)
		if err != nil {
			return nil, err
		}
		specs = append(specs, spec)
	}
	return specs, nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func parseRuleSpec(path string, node *yaml.Node) (RuleSpec, error) {
	var spec RuleSpec
	fail := func(field string, n *yaml.Node, format string, args ...any) error {
		name := path
		if field != "" {
			name += "." + field
		}
		return &FieldError{Field: name, Line: n.Line, Message: fmt.Sprintf(format, args...)}
	}
	if node.Kind != yaml.MappingNode {
		return spec, fail("", node, "a rule must be an object with source, destination, protocol and ports")
	}
	values := map[string]*yaml.Node{}
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, value := node.Content[i], node.Content[i+1]
		if !slices.Contains(ruleFields, key.Value) {
			return spec, fail(key.Value, key, "unknown field (a rule has %s)", strings.Join(ruleFields, ", "))
		}
		if _, dup := values[key.Value]; dup {
			return spec, fail(key.Value, key, "given twice")
		}
		if !isNull(value) {
			values[key.Value] = value
		}
	}
	scalar := func(field string) (string, *yaml.Node, error) {
		n := values[field]
		if n == nil {
			return "", node, nil
		}
		if n.Kind != yaml.ScalarNode {
			return "", n, fail(field, n, "must be a single value")
		}
		return strings.TrimSpace(n.Value), n, nil
	}

	// source: "internet", a zone name, CIDRs in one string, or a list of CIDRs.
	switch n := values["source"]; {
	case n == nil:
		return spec, fail("source", node, "source is required: internet, a zone name, or a list of CIDRs")
	case n.Kind == yaml.ScalarNode:
		src, err := ParseSource(n.Value)
		if err != nil {
			return spec, fail("source", n, "%v", err)
		}
		spec.Source = src.String()
	case n.Kind == yaml.SequenceNode && len(n.Content) > 0:
		parts := make([]string, len(n.Content))
		for j, item := range n.Content {
			field := fmt.Sprintf("source[%d]", j)
			if item.Kind != yaml.ScalarNode {
				return spec, fail(field, item, "must be a CIDR")
			}
			p, err := ParseCIDR(item.Value)
			if err != nil {
				return spec, fail(field, item, "%v", err)
			}
			parts[j] = p.String()
		}
		spec.Source = strings.Join(parts, ",")
	default:
		return spec, fail("source", n, "source must be internet, a zone name, or a list of CIDRs")
	}

	// destination: a zone name, addresses in one string, or a list of either.
	switch n := values["destination"]; {
	case n == nil:
		return spec, fail("destination", node, "destination is required: asset addresses or a zone name")
	case n.Kind == yaml.ScalarNode:
		text := strings.TrimSpace(n.Value)
		if ValidZoneName(text) {
			spec.Destination = []string{text}
			break
		}
		prefixes, err := ParseCIDRs(text)
		if err != nil {
			return spec, fail("destination", n, "%v", err)
		}
		for _, p := range prefixes {
			spec.Destination = append(spec.Destination, p.String())
		}
	case n.Kind == yaml.SequenceNode && len(n.Content) > 0:
		for j, item := range n.Content {
			field := fmt.Sprintf("destination[%d]", j)
			if item.Kind != yaml.ScalarNode {
				return spec, fail(field, item, "must be an address or a zone name")
			}
			text := strings.TrimSpace(item.Value)
			if ValidZoneName(text) {
				spec.Destination = append(spec.Destination, text)
				continue
			}
			p, err := ParseCIDR(text)
			if err != nil {
				return spec, fail(field, item, "%v", err)
			}
			spec.Destination = append(spec.Destination, p.String())
		}
	default:
		return spec, fail("destination", n, "destination must be a list of asset addresses or a zone name")
	}

	text, at, err := scalar("protocol")
	if err != nil {
		return spec, err
	}
	proto, err := ParseProtocol(text)
	if err != nil {
		return spec, fail("protocol", at, "%v", err)
	}
	spec.Protocol = string(proto)

	// ports: "443", 443, "80,443", "8000-8100", or a list of those.
	switch n := values["ports"]; {
	case n == nil:
		return spec, fail("ports", node, "ports are required, e.g. 443, 8000-8100 or 80,443")
	case n.Kind == yaml.ScalarNode || n.Kind == yaml.SequenceNode:
		text := n.Value
		if n.Kind == yaml.SequenceNode {
			parts := make([]string, len(n.Content))
			for j, item := range n.Content {
				if item.Kind != yaml.ScalarNode {
					return spec, fail(fmt.Sprintf("ports[%d]", j), item, "must be a port or a range")
				}
				parts[j] = item.Value
			}
			text = strings.Join(parts, ",")
		}
		ports, err := ParsePorts(text)
		if err != nil {
			return spec, fail("ports", n, "%v", err)
		}
		spec.Ports = ports.String()
	default:
		return spec, fail("ports", n, "ports must be a port, a range, or a list of them")
	}

	if text, at, err = scalar("service"); err != nil {
		return spec, err
	}
	if text != "" {
		name := strings.ToLower(text)
		if !validServiceName(name) {
			return spec, fail("service", at, "%q is not a service name: use one lowercase word such as https, ssh or postgresql", text)
		}
		spec.Service = name
	}

	if text, at, err = scalar("direction"); err != nil {
		return spec, err
	}
	dir, err := ParseDirection(text)
	if err != nil {
		return spec, fail("direction", at, "%v", err)
	}
	spec.Direction = string(dir)

	if text, at, err = scalar("expires_at"); err != nil {
		return spec, err
	}
	if text != "" {
		t, err := parseExpiry(text)
		if err != nil {
			return spec, fail("expires_at", at, "%v", err)
		}
		spec.ExpiresAt = t
	}
	return spec, nil
}

// parseExpiry accepts an RFC 3339 time or a date, which means midnight UTC
// at the start of that day.
func parseExpiry(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2027-02-22) or an RFC 3339 time (2027-02-22T00:00:00Z)", s)
}
