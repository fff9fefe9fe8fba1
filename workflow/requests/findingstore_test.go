package requests

import (
	"net/netip"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/policy"
)

// TestStoredFindingsKeepTheirMessage: a request's stored findings give
// back each message apart from language, saying in English exactly what
// the engine said; findings stored before then decode without it.
func TestStoredFindingsKeepTheirMessage(t *testing.T) {
	ports, err := policy.ParsePorts("2222")
	if err != nil {
		t.Fatal(err)
	}
	rule := policy.ProposedRule{
		Source:                policy.Source{Kind: policy.SourceCIDRs, CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
		SourceClassifications: []policy.Classification{policy.Transit},
		Destinations:          []policy.Destination{{Prefix: netip.MustParsePrefix("10.1.0.5/32"), Zone: "web", Classification: policy.DMZ}},
		Protocol:              policy.TCP, Ports: ports, Service: "ssh", Direction: policy.Ingress,
	}
	findings := policy.DefaultPolicy().Evaluate([]policy.ProposedRule{rule}, nil, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	if len(findings) < 3 {
		t.Fatalf("expected source-breadth, non-standard-port and permanent: %+v", findings)
	}
	back := FindingsOf(models.Request{Findings: encodeFindings(findings)})
	if len(back) != len(findings) {
		t.Fatalf("stored %d findings, read %d", len(findings), len(back))
	}
	for i, f := range back {
		if f.Code != findings[i].Code || f.Message != findings[i].Message || f.Said.ID != findings[i].Said.ID {
			t.Errorf("finding %d changed in storage: %+v, was %+v", i, f, findings[i])
		}
		if got := f.Said.String(); got != f.Message {
			t.Errorf("stored %s says %q, the engine said %q", f.Code, got, f.Message)
		}
	}
	old := FindingsOf(models.Request{Findings: `[{"rule":0,"code":"permanent","severity":"high","message":"no expiry","blocking":true,"required_controls":[]}]`})
	if len(old) != 1 || old[0].Message != "no expiry" || old[0].Said.ID != "" {
		t.Fatalf("an old stored finding: %+v", old)
	}
}
