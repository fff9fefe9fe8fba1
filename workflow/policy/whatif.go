package policy

import "time"

// Violation is an active rule that a changed policy would refuse.
type Violation struct {
	// Index is the rule's position in the slice given to WhatIf.
	Index int        `json:"index"`
	Rule  ActiveRule `json:"rule"`
	// Added are the blocking findings the new policy raises that the old one
	// did not; Findings is everything the new policy says about the rule.
	Added    []Finding `json:"added"`
	Findings []Finding `json:"findings"`
}

// WhatIf shows an admin, before saving a change to the matrix, the catalog
// or the settings, which active approved rules the new policy would block.
// A rule counts when the new policy raises a blocking finding the old one
// did not: rules approved through an exception are not reported again for
// what was already accepted. Overlap between active rules is not judged
// here; it does not depend on the policy. Findings' Rule fields index
// active.
func WhatIf(before, after Policy, active []ActiveRule, now time.Time) []Violation {
	old, changed := before.evaluator(), after.evaluator()
	var out []Violation
	for i := range active {
		r := &active[i].ProposedRule
		was := old.evaluateRule(nil, i, r, nil, now)
		is := changed.evaluateRule(nil, i, r, nil, now)
		var added []Finding
		for _, f := range is {
			if f.Blocking && !containsFinding(was, f) {
				added = append(added, f)
			}
		}
		if len(added) == 0 {
			continue
		}
		sortFindings(added)
		sortFindings(is)
		out = append(out, Violation{Index: i, Rule: active[i], Added: added, Findings: is})
	}
	return out
}

// containsFinding matches on code and message: the same code for a
// different reason (another zone pair, another service) is a new finding.
func containsFinding(fs []Finding, f Finding) bool {
	for _, g := range fs {
		if g.Blocking && g.Code == f.Code && g.Message == f.Message {
			return true
		}
	}
	return false
}
