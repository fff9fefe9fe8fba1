package policy

import (
	"fmt"
	"strings"
)

// MaxRuleParts bounds what one rule may list: destinations, source CIDRs
// and port ranges. The engine's work on a rule grows with these lists (ports
// are judged as ranges, never one by one, so a range's width costs nothing),
// so a bound on each bounds the work of one rule.
const MaxRuleParts = 64

// CheckSpecSize refuses a rule that lists more than MaxRuleParts of
// anything, before anything is parsed or resolved. field is "" when the
// rule is within bounds.
func CheckSpecSize(spec RuleSpec) (field, message string) {
	count := func(s string) int {
		return len(strings.FieldsFunc(s, func(c rune) bool { return c == ',' || c == ' ' || c == ';' || c == '\n' }))
	}
	switch {
	case len(spec.Destination) > MaxRuleParts:
		return "destination", fmt.Sprintf("%d destinations listed; a rule names at most %d: split it into several rules", len(spec.Destination), MaxRuleParts)
	case count(spec.Source) > MaxRuleParts:
		return "source", fmt.Sprintf("%d source CIDRs listed; a rule names at most %d: use a zone or split the rule", count(spec.Source), MaxRuleParts)
	case count(spec.Ports) > MaxRuleParts:
		return "ports", fmt.Sprintf("%d port ranges listed; a rule names at most %d: use ranges (such as 8000-8100) or split the rule", count(spec.Ports), MaxRuleParts)
	}
	return "", ""
}
