package requests

import "testing"

// TestTransitionTableIsWellFormed guards the table itself.
func TestTransitionTableIsWellFormed(t *testing.T) {
	if err := Lifecycle.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, r := range Lifecycle.Rows {
		if len(r.Guards) == 0 {
			t.Errorf("%s from %v: no guard says who may cause it", r.Event, r.From)
		}
	}
}
