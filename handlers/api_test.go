package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/workflow/auditlog"
	"github.com/portcullis/portcullis/workflow/compliance"
	"github.com/portcullis/portcullis/workflow/requests"
)

type apiErr struct {
	Error struct {
		Code, Message, Field string
	}
}

type apiReq struct {
	ID        uint
	State     string
	Exception bool
	Rules     []map[string]any
	Findings  []struct {
		Rule             int
		Code             string
		Blocking         bool
		RequiredControls []string `json:"required_controls"`
	}
	Timeline []struct{ Action, Actor string }
}

func TestAPILifecycle(t *testing.T) {
	a := newApp(t)
	in := map[string]any{
		"title": "Payment callbacks", "justification": "The acquirer posts settlements",
		"expires_at": "2027-01-15",
		"rules": []map[string]any{
			{"source": []string{"203.0.113.0/28"}, "destination": []string{"127.50.0.10"}, "protocol": "tcp", "ports": 443, "service": "http", "direction": "ingress"},
		},
	}
	var created apiReq
	if st := a.api("alice", http.MethodPost, "/requests", in, &created); st != http.StatusCreated {
		t.Fatalf("create: %d", st)
	}
	if created.State != "draft" || created.Findings == nil || len(created.Rules) != 1 || created.Rules[0]["ports"] != "443" {
		t.Fatalf("created %+v", created)
	}
	p := fmt.Sprintf("/requests/%d", created.ID)
	var e apiErr
	if st := a.api("rita", http.MethodPost, p+"/submit", nil, &e); st != http.StatusForbidden {
		t.Fatalf("reviewer submits: %d", st)
	}
	if st := a.api("alice", http.MethodPost, p+"/submit", nil, nil); st != http.StatusOK {
		t.Fatalf("submit: %d", st)
	}
	// The internet into a high zone is blocked: approving takes the
	// exception path, with a compensating control per blocking finding.
	var findings []requests.Finding
	for _, f := range created.Findings {
		findings = append(findings, requests.Finding{Rule: f.Rule, Code: f.Code, Blocking: f.Blocking, RequiredControls: f.RequiredControls})
	}
	checklist := []map[string]string{}
	for _, item := range requests.ChecklistFor(findings) {
		checklist = append(checklist, map[string]string{"item": item.ID, "result": "pass"})
	}
	review := map[string]any{"decision": "approve", "zone_confirmed": true, "checklist": checklist}
	if st := a.api("rita", http.MethodPost, p+"/review", review, &e); st != http.StatusBadRequest || !strings.HasPrefix(e.Error.Field, "compensating_controls[") {
		t.Fatalf("approving a blocked request without controls: %d %+v", st, e)
	}
	controls := map[string]string{}
	for _, f := range findings {
		if f.Blocking {
			controls[requests.FindingKey(f)] = "Only the acquirer's two addresses, mutual TLS at the load balancer"
		}
	}
	if len(controls) == 0 {
		t.Fatalf("the internet into the payments zone raised no blocking finding: %+v", created.Findings)
	}
	review["compensating_controls"] = controls
	var r apiReq
	if st := a.api("rita", http.MethodPost, p+"/review", review, &r); st != http.StatusOK || r.State != "in_review" || !r.Exception {
		t.Fatalf("review: %d %s exception=%v", st, r.State, r.Exception)
	}
	if st := a.api("lee", http.MethodPost, p+"/approve", map[string]any{"comment": "ok"}, &r); st != http.StatusOK || r.State != "approved" {
		t.Fatalf("second approval: %d %s", st, r.State)
	}
	if st := a.api("lee", http.MethodPost, p+"/approve", nil, &e); st != http.StatusConflict || e.Error.Code != "conflict" {
		t.Fatalf("approving twice: %d %+v", st, e)
	}
	if st := a.api("ivan", http.MethodPost, p+"/implement", map[string]any{}, &e); st != http.StatusBadRequest || e.Error.Field != "change_ref" {
		t.Fatalf("implement without ref: %d %+v", st, e)
	}
	if st := a.api("ivan", http.MethodPost, p+"/implement", map[string]any{"change_ref": "CHG-1"}, &r); st != http.StatusOK || r.State != "implemented" {
		t.Fatalf("implement: %d %s", st, r.State)
	}
	if st := a.api("aude", http.MethodPost, p+"/comments", map[string]any{"body": "sampled for the audit"}, nil); st != http.StatusCreated {
		t.Fatalf("comment: %d", st)
	}
	var full apiReq
	a.api("alice", http.MethodGet, p, nil, &full)
	var actions []string
	for _, ev := range full.Timeline {
		actions = append(actions, ev.Action)
	}
	if got := strings.Join(actions, ","); got != "create,submit,claim,first_approve,second_approve,implement,comment" {
		t.Fatalf("timeline %s", got)
	}
	var list struct{ Requests []apiReq }
	if st := a.api("aude", http.MethodGet, "/requests?state=implemented&q=callbacks", nil, &list); st != http.StatusOK || len(list.Requests) != 1 {
		t.Fatalf("list: %d %d", st, len(list.Requests))
	}
	var reg struct{ Rules []map[string]any }
	a.api("alice", http.MethodGet, "/rules", nil, &reg)
	found := false
	for _, r := range reg.Rules {
		if r["title"] == "Payment callbacks" {
			found = true
		}
	}
	if !found {
		t.Fatal("register lacks the approved rule")
	}
}

func TestAPIErrors(t *testing.T) {
	a := newApp(t)
	good := func() map[string]any {
		return map[string]any{"title": "t", "justification": "j", "rules": []map[string]any{{"source": "office", "destination": "127.40.0.15", "protocol": "tcp", "ports": "443"}}}
	}
	for _, tc := range []struct {
		name   string
		mutate func(map[string]any)
		field  string
	}{
		{"port 70000", func(m map[string]any) { m["rules"].([]map[string]any)[0]["ports"] = "70000" }, "rules[0].ports"},
		{"backwards", func(m map[string]any) { m["rules"].([]map[string]any)[0]["ports"] = "90-80" }, "rules[0].ports"},
		{"bad CIDR", func(m map[string]any) { m["rules"].([]map[string]any)[0]["source"] = []string{"10.0.0.0/40"} }, "rules[0].source"},
		{"unknown zone", func(m map[string]any) { m["rules"].([]map[string]any)[0]["source"] = "mars" }, "rules[0].source"},
		{"empty justification", func(m map[string]any) { m["justification"] = "" }, "justification"},
		{"bad date", func(m map[string]any) { m["expires_at"] = "soon" }, "expires_at"},
		{"typo in a field", func(m map[string]any) { m["titel"] = "x" }, "titel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := good()
			tc.mutate(in)
			var e apiErr
			if st := a.api("alice", http.MethodPost, "/requests", in, &e); st != http.StatusBadRequest || e.Error.Field != tc.field || e.Error.Code != "bad_request" || e.Error.Message == "" {
				t.Fatalf("status %d error %+v, want 400 naming %s", st, e, tc.field)
			}
		})
	}
	var e apiErr
	if st := a.api("", http.MethodGet, "/requests", nil, &e); st != http.StatusUnauthorized || e.Error.Code != "unauthorized" {
		t.Fatalf("no token: %d %+v", st, e)
	}
	if st := a.api("alice", http.MethodGet, "/requests/999999", nil, &e); st != http.StatusNotFound {
		t.Fatalf("missing request: %d", st)
	}
	if st := a.api("alice", http.MethodGet, "/nothing-here", nil, &e); st != http.StatusNotFound || e.Error.Code != "not_found" {
		t.Fatalf("unknown endpoint: %d %+v", st, e)
	}
}

func TestOpenAPIDocument(t *testing.T) {
	a := newApp(t)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if st := a.api("", http.MethodGet, "/openapi.json", nil, &doc); st != http.StatusOK {
		t.Fatalf("openapi: %d", st)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("version %q", doc.OpenAPI)
	}
	for key := range a.srv.access {
		method, path, _ := strings.Cut(key, " ")
		if !strings.HasPrefix(path, "/api/v1/") {
			continue
		}
		if _, ok := doc.Paths[strings.TrimPrefix(path, "/api/v1")][strings.ToLower(method)]; !ok {
			t.Errorf("%s is not described", key)
		}
	}
}

func TestAPIInventory(t *testing.T) {
	a := newApp(t)
	var z map[string]any
	if st := a.api("adam", http.MethodPost, "/zones", map[string]any{"name": "lab", "classification": "low", "cidrs": []string{"127.60.0.0/24"}}, &z); st != http.StatusCreated {
		t.Fatalf("zone: %d %v", st, z)
	}
	var e apiErr
	if st := a.api("rita", http.MethodPost, "/zones", map[string]any{"name": "x", "classification": "low", "cidrs": "127.61.0.0/24"}, &e); st != http.StatusForbidden {
		t.Fatalf("reviewer creates zone: %d", st)
	}
	var as map[string]any
	if st := a.api("adam", http.MethodPost, "/assets", map[string]any{"address": "127.60.0.5", "hostname": "lab1"}, &as); st != http.StatusCreated || as["zone"] != "lab" || as["classification"] != "low" {
		t.Fatalf("asset: %d %v", st, as)
	}
	var zones struct{ Zones []map[string]any }
	a.api("alice", http.MethodGet, "/zones", nil, &zones)
	if len(zones.Zones) != 7 {
		t.Fatalf("%d zones", len(zones.Zones))
	}
}

func TestAPIEvaluate(t *testing.T) {
	a := newApp(t)
	var out struct {
		Findings []struct {
			Code     string
			Blocking bool
			Rule     int
		}
		Blocking bool
	}
	in := map[string]any{"rules": []map[string]any{
		{"source": "internet", "destination": []string{"127.40.0.16"}, "protocol": "tcp", "ports": "3306", "service": "mysql"},
		{"source": "transit", "destination": "127.50.0.10", "protocol": "tcp", "ports": "443", "service": "http"},
	}}
	if st := a.api("alice", http.MethodPost, "/evaluate", in, &out); st != http.StatusOK || !out.Blocking {
		t.Fatalf("evaluate: %d %+v", st, out)
	}
	found := false
	for _, f := range out.Findings {
		if f.Code == "internet-high-risk" && f.Rule == 0 && f.Blocking {
			found = true
		}
		if f.Rule == 1 && f.Blocking {
			t.Errorf("the transit rule is blocked: %+v", f)
		}
	}
	if !found {
		t.Fatalf("no internet-high-risk on rule 0: %+v", out.Findings)
	}
	var e apiErr
	bad := map[string]any{"rules": []map[string]any{{"source": "internet", "destination": "127.40.0.16", "protocol": "tcp", "ports": "0"}}}
	if st := a.api("alice", http.MethodPost, "/evaluate", bad, &e); st != http.StatusBadRequest || e.Error.Field != "rules[0].ports" {
		t.Fatalf("bad rule: %d %+v", st, e)
	}
}

func TestAuditExportAndVerifyPage(t *testing.T) {
	a := newApp(t)
	keys, err := compliance.NewAuditKeys("test")
	if err != nil {
		t.Fatal(err)
	}
	a.svc.Compliance.SetAuditKeys(keys)
	// A change made over HTTP: its event records the client's address.
	if st := a.api("alice", http.MethodPost, "/requests", map[string]any{"title": "From a client", "justification": "j",
		"rules": []map[string]any{{"source": "transit", "destination": "127.50.0.10", "protocol": "tcp", "ports": "443"}}}, nil); st != http.StatusCreated {
		t.Fatalf("create: %d", st)
	}
	req, _ := http.NewRequest(http.MethodGet, a.url+"/api/v1/audit/export?format=csv&from=2000-01-01", nil)
	req.Header.Set("Authorization", "Bearer "+a.tokens[email("aude")])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := a.body(resp)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "seq,at,") || strings.Count(body, "\n") < 20 {
		t.Fatalf("csv export: %d %.200s", resp.StatusCode, body)
	}
	// The address is exported and under the hash: the export verifies, and
	// not once the address is changed.
	if !strings.Contains(body, ",127.0.0.1,2,") {
		t.Fatalf("the csv export does not carry the client address under hash version 2")
	}
	if rep, err := auditlog.VerifyCSV(strings.NewReader(body)); err != nil || !rep.OK() {
		t.Fatalf("the web export does not verify: %v %+v", err, rep)
	}
	if rep, err := auditlog.VerifyCSV(strings.NewReader(strings.Replace(body, ",127.0.0.1,2,", ",127.0.0.2,2,", 1))); err != nil || rep.OK() {
		t.Fatalf("a changed client address verifies: %v", err)
	}
	var e apiErr
	if st := a.api("alice", http.MethodGet, "/audit/export", nil, &e); st != http.StatusForbidden {
		t.Fatalf("requester exports the audit log: %d", st)
	}
	if st := a.api("aude", http.MethodGet, "/audit/export?from=yesterday", nil, &e); st != http.StatusBadRequest || e.Error.Field != "from" {
		t.Fatalf("bad period: %d %+v", st, e)
	}
	page := a.body(a.post(a.as("aude"), "/audit/verify", nil))
	if !strings.Contains(page, `id="verify-result"`) || !strings.Contains(page, "Intact:") {
		t.Fatalf("verify page: %.400s", page)
	}
}

func TestReportDownloads(t *testing.T) {
	a := newApp(t)
	aude := a.as("aude")
	for _, format := range []string{"csv", "json", "xlsx", "pdf"} {
		for _, kind := range []string{"changes", "rules", "insecure", "drift", "recertification", "audit"} {
			if format == "pdf" && kind != "changes" {
				continue // one PDF is enough here; building each costs a font load
			}
			r := a.get(aude, "/audit/reports?kind="+kind+"&format="+format+"&from=2000-01-01&to=2999-12-31")
			body := a.body(r)
			if r.StatusCode != http.StatusOK || !strings.Contains(r.Header.Get("Content-Disposition"), "portcullis-"+kind) || len(body) < 50 {
				t.Errorf("%s as %s: %d %q (%d bytes)", kind, format, r.StatusCode, r.Header.Get("Content-Type"), len(body))
			}
		}
	}
	if r := a.get(a.as("alice"), "/audit/reports?kind=changes&format=csv"); r.StatusCode != http.StatusForbidden {
		t.Errorf("requester downloads reports: %d", r.StatusCode)
	}
	if r := a.get(aude, "/audit/reports?kind=changes&format=docx"); r.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown format: %d", r.StatusCode)
	}
	var e apiErr
	if st := a.api("aude", http.MethodGet, "/reports/rules?format=json", nil, nil); st != http.StatusOK {
		t.Errorf("API report: %d", st)
	}
	if st := a.api("aude", http.MethodGet, "/reports/changes?state=bogus", nil, &e); st != http.StatusBadRequest || e.Error.Field != "state" {
		t.Errorf("bad state filter: %d %+v", st, e)
	}
}
