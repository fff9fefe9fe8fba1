package requests

import (
	"slices"
	"testing"
)

// TestTransitionTableIsWellFormed guards the table itself.
func TestTransitionTableIsWellFormed(t *testing.T) {
	for ev, tr := range transitions {
		if len(tr.From) == 0 {
			t.Errorf("%s has no source state", ev)
		}
		if tr.By == byRole && len(tr.Roles) == 0 {
			t.Errorf("%s is caused by a role but names none", ev)
		}
		for _, s := range append(slices.Clone(tr.From), tr.To) {
			if _, ok := ParseState(string(s)); !ok && s != "" {
				t.Errorf("%s names unknown state %q", ev, s)
			}
		}
	}
}
