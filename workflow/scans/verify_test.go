package scans_test

import (
	"strings"
	"testing"

	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/scans"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

func TestVerificationScan(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	sc := &workflowtest.FakeScanner{Open: map[string][]scans.Port{}}
	w.App.Scans.SetScanner(sc, scans.Policy{})

	id := w.Implemented(t, workflowtest.LowRisk()) // transit → 10.50.0.10 tcp/443 http
	// Nothing listens yet: verification fails, with the evidence.
	w.RunQueued(t)
	if got := w.State(t, id); got != requests.StateVerificationFailed {
		t.Fatalf("state %s, want verification_failed", got)
	}
	if len(sc.Jobs) != 1 || sc.Jobs[0].Targets[0].String() != "10.50.0.10" || len(sc.Jobs[0].TCPPorts) != 1 || sc.Jobs[0].TCPPorts[0] != 443 {
		t.Fatalf("verification scanned %+v, want 10.50.0.10 tcp/443 only", sc.Jobs)
	}
	d, err := w.App.Requests.Get(w.Ctx, w.Alice, id)
	workflowtest.Must(t, err)
	if d.Verification == nil || len(d.Evidence) != 1 || d.Evidence[0].OK || !strings.Contains(d.Evidence[0].Verdict, "not open") {
		t.Fatalf("evidence %+v", d.Evidence)
	}
	// The wrong service answers: still failed.
	sc.Open["10.50.0.10"] = []scans.Port{{Port: 443, Protocol: "tcp", State: "open", Service: "redis", Banner: "-NOAUTH"}}
	_, err = w.App.Requests.Implement(w.Ctx, w.Ivan, id, "CHG-10", "retry")
	workflowtest.Must(t, err)
	w.RunQueued(t)
	d, _ = w.App.Requests.Get(w.Ctx, w.Alice, id)
	if requests.State(d.Request.State) != requests.StateVerificationFailed || !strings.Contains(d.Evidence[0].Verdict, "answers as redis") {
		t.Fatalf("service mismatch: %s %+v", d.Request.State, d.Evidence)
	}
	// The approved service answers, over TLS: verified and in force.
	sc.Open["10.50.0.10"] = []scans.Port{{Port: 443, Protocol: "tcp", State: "open", Service: "http", TLS: true, Banner: "HTTP/1.1 200 OK"}}
	_, err = w.App.Requests.Implement(w.Ctx, w.Ivan, id, "CHG-11", "fixed the listener")
	workflowtest.Must(t, err)
	w.RunQueued(t)
	d, _ = w.App.Requests.Get(w.Ctx, w.Alice, id)
	if requests.State(d.Request.State) != requests.StateActive || !d.Evidence[0].OK {
		t.Fatalf("after a good scan: %s %+v", d.Request.State, d.Evidence)
	}
	if !strings.Contains(d.Verification.Summary, "as approved") {
		t.Fatalf("summary %q", d.Verification.Summary)
	}
}

func TestVerificationNeedsAuthenticationWherePolicyDemandsIt(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	sc := &workflowtest.FakeScanner{Open: map[string][]scans.Port{
		"10.40.0.16": {{Port: 6379, Protocol: "tcp", State: "open", Service: "redis", Findings: []scans.Finding{{ID: "redis-no-auth", Severity: "critical"}}}},
	}}
	w.App.Scans.SetScanner(sc, scans.Policy{})
	r := w.Submitted(t, requests.Input{Title: "cache", Justification: "sessions",
		Rules: []requests.RuleInput{{Source: "apps", Destination: "10.40.0.16", Protocol: "tcp", Ports: "6379", Service: "redis"}}})
	d, _ := w.App.Requests.Get(w.Ctx, w.Rita, r.ID)
	_, err := w.App.Requests.Review(w.Ctx, w.Rita, r.ID, requests.ReviewInput{Decision: requests.DecisionApprove, ZoneConfirmed: true, Checklist: workflowtest.FullChecklist(&d.Request)})
	workflowtest.Must(t, err)
	_, err = w.App.Requests.SecondApproval(w.Ctx, w.Lee, r.ID, requests.DecisionApprove, "")
	workflowtest.Must(t, err)
	_, err = w.App.Requests.Implement(w.Ctx, w.Ivan, r.ID, "CHG-1", "")
	workflowtest.Must(t, err)
	w.RunQueued(t)
	d, _ = w.App.Requests.Get(w.Ctx, w.Alice, r.ID)
	if requests.State(d.Request.State) != requests.StateVerificationFailed || !strings.Contains(d.Evidence[0].Verdict, "redis-no-auth") {
		t.Fatalf("unauthenticated redis verified: %s %+v", d.Request.State, d.Evidence)
	}
}

func TestScanRequestsStayInTheInventory(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	_, err := w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{"192.0.2.1"}, "common")
	workflowtest.MustCode(t, err, core.CodeInvalid)
	_, err = w.App.Scans.RequestScan(w.Ctx, w.Alice, []string{"10.50.0.10"}, "common")
	workflowtest.MustCode(t, err, core.CodeForbidden)
	run, err := w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{"apps"}, "full")
	workflowtest.Must(t, err)
	if run.Targets != "10.40.0.15,10.40.0.16,2001:db8:40::15" {
		t.Fatalf("zone targets %q", run.Targets)
	}
	w.App.Scans.SetScanner(&workflowtest.FakeScanner{}, scans.Policy{LoopbackOnly: true})
	_, err = w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{"10.50.0.10"}, "common")
	workflowtest.MustCode(t, err, core.CodeInvalid)
	// A run queued before the policy was set is refused when it would run.
	if err := w.App.Scans.Run(w.Ctx, run.ID, "x", 0); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("non-loopback scan ran under the loopback policy: %v", err)
	}
}

// An innovation-tier request is verified only when the scanner finds no
// unauthenticated access on its ports, whatever the service: here Redis
// without a password on a rule the policy did not flag for authentication
// (the expected service is not named).
func TestVerificationOfInnovationRequestsChecksAuthentication(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	assets, err := w.App.Inventory.ListAssets(w.Ctx)
	workflowtest.Must(t, err)
	for _, a := range assets {
		if a.Address == "10.40.0.16" {
			_, err := w.App.Inventory.SaveAsset(w.Ctx, w.Adam, a.ID, inventory.AssetInput{Address: a.Address, Application: "pilot"})
			workflowtest.Must(t, err)
		}
	}
	workflowtest.Must(t, w.App.Inventory.SetTier(w.Ctx, w.Adam, "pilot", "innovation"))
	sc := &workflowtest.FakeScanner{Open: map[string][]scans.Port{
		"10.40.0.16": {{Port: 7000, Protocol: "tcp", State: "open", Service: "redis", Findings: []scans.Finding{{ID: "redis-no-auth", Severity: "critical"}}}},
	}}
	w.App.Scans.SetScanner(sc, scans.Policy{})
	r := w.Submitted(t, requests.Input{Title: "pilot cache", Justification: "the pilot's sessions",
		Rules:      []requests.RuleInput{{Source: "apps", Destination: "10.40.0.16", Protocol: "tcp", Ports: "7000"}},
		Assessment: map[string]string{"data_handled": "sessions", "exposure": "internal", "authentication": "password", "owner_on_call": "pilot team"}})
	d, _ := w.App.Requests.Get(w.Ctx, w.Rita, r.ID)
	_, err = w.App.Requests.Review(w.Ctx, w.Rita, r.ID, requests.ReviewInput{Decision: requests.DecisionApprove, ZoneConfirmed: true, Checklist: workflowtest.FullChecklist(&d.Request)})
	workflowtest.Must(t, err)
	_, err = w.App.Requests.SecondApproval(w.Ctx, w.Lee, r.ID, requests.DecisionApprove, "")
	workflowtest.Must(t, err)
	_, err = w.App.Requests.Implement(w.Ctx, w.Ivan, r.ID, "CHG-1", "")
	workflowtest.Must(t, err)
	w.RunQueued(t)
	d, _ = w.App.Requests.Get(w.Ctx, w.Alice, r.ID)
	if requests.State(d.Request.State) != requests.StateVerificationFailed || len(d.Evidence) != 1 ||
		!strings.Contains(d.Evidence[0].Verdict, "unauthenticated or anonymous access") || !strings.Contains(d.Evidence[0].Verdict, "redis-no-auth") {
		t.Fatalf("innovation redis without auth: %s %+v", d.Request.State, d.Evidence)
	}
	// With authentication on, the same port verifies.
	sc.Open["10.40.0.16"] = []scans.Port{{Port: 7000, Protocol: "tcp", State: "open", Service: "redis", Banner: "-NOAUTH Authentication required."}}
	_, err = w.App.Requests.Implement(w.Ctx, w.Ivan, r.ID, "CHG-2", "requirepass set")
	workflowtest.Must(t, err)
	w.RunQueued(t)
	if got := w.State(t, r.ID); got != requests.StateActive {
		t.Fatalf("with authentication: %s", got)
	}
}
