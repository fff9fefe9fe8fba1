package workflow

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// fakeScanner answers every scan with the ports it was given, as a scanner
// would have seen them on the wire.
type fakeScanner struct {
	open map[string][]ScanPort // by address
	jobs []ScanJob
}

func (f *fakeScanner) Resolve(job ScanJob) (ScanJob, error) {
	if len(job.TCPPorts) == 0 && len(job.UDPPorts) == 0 {
		job.TCPPorts = []uint16{22, 80, 443, 3306, 6379, 8443}
	}
	return job, nil
}

func (f *fakeScanner) Scan(ctx context.Context, job ScanJob, progress func(ScanProgress)) ([]byte, error) {
	f.jobs = append(f.jobs, job)
	progress(ScanProgress{HostsTotal: len(job.Targets), Phase: "tcp"})
	rep := ScanReport{Schema: "portcullis.scan/v1", StartedAt: time.Now(), FinishedAt: time.Now(), Profile: job.Profile}
	for _, a := range job.Targets {
		rep.Hosts = append(rep.Hosts, ScanHost{Address: a.String(), State: "up", Ports: f.open[a.String()]})
	}
	return json.Marshal(rep)
}

func (w *world) implemented(t *testing.T, in RequestInput) uint {
	t.Helper()
	r := w.submitted(t, in)
	_, err := w.svc.Review(w.ctx, w.rita, r.ID, approveInput())
	must(t, err)
	_, err = w.svc.Implement(w.ctx, w.ivan, r.ID, "CHG-9", "")
	must(t, err)
	return r.ID
}

func (w *world) runQueued(t *testing.T) {
	t.Helper()
	for {
		run, err := w.svc.ClaimScan(w.ctx, "test")
		must(t, err)
		if run == nil {
			return
		}
		if err := w.svc.ExecuteScan(w.ctx, run); err != nil {
			t.Fatalf("scan %d: %v", run.ID, err)
		}
	}
}

func TestVerificationScan(t *testing.T) {
	w := sqliteWorld(t)
	sc := &fakeScanner{open: map[string][]ScanPort{}}
	w.svc.SetScanner(sc, ScanPolicy{})

	id := w.implemented(t, lowRisk()) // transit → 10.50.0.10 tcp/443 http
	// Nothing listens yet: verification fails, with the evidence.
	w.runQueued(t)
	if got := w.state(t, id); got != StateVerificationFailed {
		t.Fatalf("state %s, want verification_failed", got)
	}
	if len(sc.jobs) != 1 || sc.jobs[0].Targets[0].String() != "10.50.0.10" || len(sc.jobs[0].TCPPorts) != 1 || sc.jobs[0].TCPPorts[0] != 443 {
		t.Fatalf("verification scanned %+v, want 10.50.0.10 tcp/443 only", sc.jobs)
	}
	d, err := w.svc.GetRequest(w.ctx, w.alice, id)
	must(t, err)
	if d.Verification == nil || len(d.Evidence) != 1 || d.Evidence[0].OK || !strings.Contains(d.Evidence[0].Verdict, "not open") {
		t.Fatalf("evidence %+v", d.Evidence)
	}
	// The wrong service answers: still failed.
	sc.open["10.50.0.10"] = []ScanPort{{Port: 443, Protocol: "tcp", State: "open", Service: "redis", Banner: "-NOAUTH"}}
	_, err = w.svc.Implement(w.ctx, w.ivan, id, "CHG-10", "retry")
	must(t, err)
	w.runQueued(t)
	d, _ = w.svc.GetRequest(w.ctx, w.alice, id)
	if State(d.Request.State) != StateVerificationFailed || !strings.Contains(d.Evidence[0].Verdict, "answers as redis") {
		t.Fatalf("service mismatch: %s %+v", d.Request.State, d.Evidence)
	}
	// The approved service answers, over TLS: verified and in force.
	sc.open["10.50.0.10"] = []ScanPort{{Port: 443, Protocol: "tcp", State: "open", Service: "http", TLS: true, Banner: "HTTP/1.1 200 OK"}}
	_, err = w.svc.Implement(w.ctx, w.ivan, id, "CHG-11", "fixed the listener")
	must(t, err)
	w.runQueued(t)
	d, _ = w.svc.GetRequest(w.ctx, w.alice, id)
	if State(d.Request.State) != StateActive || !d.Evidence[0].OK {
		t.Fatalf("after a good scan: %s %+v", d.Request.State, d.Evidence)
	}
	if !strings.Contains(d.Verification.Summary, "as approved") {
		t.Fatalf("summary %q", d.Verification.Summary)
	}
}

func TestVerificationNeedsAuthenticationWherePolicyDemandsIt(t *testing.T) {
	w := sqliteWorld(t)
	sc := &fakeScanner{open: map[string][]ScanPort{
		"10.40.0.16": {{Port: 6379, Protocol: "tcp", State: "open", Service: "redis", Findings: []ScanFinding{{ID: "redis-no-auth", Severity: "critical"}}}},
	}}
	w.svc.SetScanner(sc, ScanPolicy{})
	r := w.submitted(t, RequestInput{Title: "cache", Justification: "sessions",
		Rules: []RuleInput{{Source: "apps", Destination: "10.40.0.16", Protocol: "tcp", Ports: "6379", Service: "redis"}}})
	d, _ := w.svc.GetRequest(w.ctx, w.rita, r.ID)
	_, err := w.svc.Review(w.ctx, w.rita, r.ID, ReviewInput{Decision: DecisionApprove, ZoneConfirmed: true, Checklist: fullChecklist(&d.Request)})
	must(t, err)
	_, err = w.svc.SecondApproval(w.ctx, w.lee, r.ID, DecisionApprove, "")
	must(t, err)
	_, err = w.svc.Implement(w.ctx, w.ivan, r.ID, "CHG-1", "")
	must(t, err)
	w.runQueued(t)
	d, _ = w.svc.GetRequest(w.ctx, w.alice, r.ID)
	if State(d.Request.State) != StateVerificationFailed || !strings.Contains(d.Evidence[0].Verdict, "redis-no-auth") {
		t.Fatalf("unauthenticated redis verified: %s %+v", d.Request.State, d.Evidence)
	}
}

func TestScanRequestsStayInTheInventory(t *testing.T) {
	w := sqliteWorld(t)
	_, err := w.svc.RequestScan(w.ctx, w.rita, []string{"192.0.2.1"}, "common")
	mustCode(t, err, CodeInvalid)
	_, err = w.svc.RequestScan(w.ctx, w.alice, []string{"10.50.0.10"}, "common")
	mustCode(t, err, CodeForbidden)
	run, err := w.svc.RequestScan(w.ctx, w.rita, []string{"apps"}, "full")
	must(t, err)
	if run.Targets != "10.40.0.15,10.40.0.16,2001:db8:40::15" {
		t.Fatalf("zone targets %q", run.Targets)
	}
	w.svc.SetScanner(&fakeScanner{}, ScanPolicy{LoopbackOnly: true})
	_, err = w.svc.RequestScan(w.ctx, w.rita, []string{"10.50.0.10"}, "common")
	mustCode(t, err, CodeInvalid)
	// A run queued before the policy was set is refused when it would run.
	claimed, err := w.svc.ClaimScan(w.ctx, "x")
	must(t, err)
	if err := w.svc.ExecuteScan(w.ctx, claimed); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("non-loopback scan ran under the loopback policy: %v", err)
	}
}
