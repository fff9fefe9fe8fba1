package requests_test

import (
	"testing"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/requests"
)

// Gravity gives the same answer for a text it has kept as for one it
// decodes, and tells texts apart.
func TestGravityKeptByText(t *testing.T) {
	for range 2 {
		for _, tc := range []struct {
			findings string
			worst    policy.Severity
			blocking bool
		}{
			{`[{"severity":"high","blocking":true},{"severity":"critical"}]`, "critical", true},
			{`[{"severity":"medium"}]`, "medium", false},
			{`[]`, "", false},
			{`not json`, "", false},
		} {
			worst, blocking := requests.Gravity(models.Request{Findings: tc.findings})
			if worst != tc.worst || blocking != tc.blocking {
				t.Errorf("Gravity(%s) = %q, %v; want %q, %v", tc.findings, worst, blocking, tc.worst, tc.blocking)
			}
		}
	}
}
