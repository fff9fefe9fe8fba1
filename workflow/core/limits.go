package core

import (
	"fmt"
	"unicode/utf8"
)

// TextLimits is the one table of free-text lengths, in characters. The
// domain refuses longer input (so the API and the command line are bound
// too) and the forms show each limit: everything typed here ends up in the
// append-only audit log, where it stays.
type TextLimits struct {
	Title               int // a request's title
	Justification       int // a request's or a re-certification's business justification
	Comment             int // review and approval comments, comments on a request, drift acknowledgements
	Reason              int // cancel, revoke, let-lapse, suppress and scan-cancel reasons
	ChecklistNote       int // a reviewer's note on one checklist item
	CompensatingControl int // a control recorded against a finding
	ChangeRef           int // the implementer's change ticket reference
	ChangeNote          int // the implementer's note
	Name                int // zone, campaign and token names
	Hostname            int // an asset's host name (DNS allows 253)
	Label               int // zone owner and description, asset owner team and application
	Search              int // a list's search text (q)
	AssessmentAnswer    int // one answer of the security assessment (innovation-tier requests)
}

// Limits are the limits in force.
var Limits = TextLimits{
	Title: 200, Justification: 10000, Comment: 10000, Reason: 2000,
	ChecklistNote: 1000, CompensatingControl: 2000, ChangeRef: 100, ChangeNote: 4000,
	Name: 100, Hostname: 253, Label: 200, Search: 200, AssessmentAnswer: 2000,
}

// CheckLength refuses value when it is longer than max characters, naming
// field (what, as people call it: "the reason") and the limit.
func CheckLength(field string, what Message, value string, max int) error {
	if n := utf8.RuneCountInString(value); n > max {
		return Invalid(field, M("err.core.too_long", "{{.What}} is {{.Length}} characters long; at most {{.Max}} are allowed", "What", what, "Length", thousands(n), "Max", thousands(max)))
	}
	return nil
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
