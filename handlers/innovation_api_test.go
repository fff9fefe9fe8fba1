package handlers

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/workflow/requests"
)

// The innovation path through the API, on the demo organisation, whose
// "Pilot wallet" (127.50.0.30) is an innovation-tier application.
func TestAPIInnovationTier(t *testing.T) {
	a := newApp(t)
	rule := map[string]any{"source": "transit", "destination": []string{"127.50.0.30"}, "protocol": "tcp", "ports": "443", "service": "http"}

	// The evaluate endpoint reports the finding.
	var ev struct{ Findings []requests.Finding }
	if st := a.api("alice", http.MethodPost, "/evaluate", map[string]any{"rules": []any{rule}}, &ev); st != http.StatusOK {
		t.Fatalf("evaluate: %d", st)
	}
	found := false
	for _, f := range ev.Findings {
		found = found || (f.Code == "innovation-tier" && f.Severity == "high" && strings.Contains(f.Message, "Pilot wallet"))
	}
	if !found {
		t.Fatalf("evaluate findings %+v", ev.Findings)
	}

	// Without answers: 400 naming the first unanswered question; nothing created.
	in := map[string]any{"title": "Wallet API", "justification": "pilot customers", "rules": []any{rule}}
	var e apiErr
	if st := a.api("alice", http.MethodPost, "/requests", in, &e); st != http.StatusBadRequest || !strings.HasPrefix(e.Error.Field, "assessment.") {
		t.Fatalf("no assessment: %d %+v", st, e)
	}
	// Longer than the innovation maximum: refused naming expires_at.
	in["assessment"] = map[string]string{"data_handled": "wallet balances", "exposure": "office staff", "authentication": "OIDC", "owner_on_call": "ventures on-call"}
	in["expires_at"] = time.Now().UTC().AddDate(0, 0, 60).Format("2006-01-02")
	if st := a.api("alice", http.MethodPost, "/requests", in, &e); st != http.StatusBadRequest || e.Error.Field != "expires_at" || !strings.Contains(e.Error.Message, "at most 30 days") {
		t.Fatalf("60 days: %d %+v", st, e)
	}
	delete(in, "expires_at")
	var created struct {
		ID                  uint
		State               string
		Innovation          bool
		NeedsSecondApproval bool      `json:"needs_second_approval"`
		ExpiresAt           time.Time `json:"expires_at"`
		Assessment          *requests.Assessment
		Findings            []requests.Finding
	}
	if st := a.api("alice", http.MethodPost, "/requests", in, &created); st != http.StatusCreated {
		t.Fatalf("create: %d", st)
	}
	if !created.Innovation || !created.NeedsSecondApproval || created.Assessment == nil || created.Assessment.Answers["owner_on_call"] != "ventures on-call" || len(created.Assessment.Questions) != 4 {
		t.Fatalf("created %+v", created)
	}
	if days := time.Until(created.ExpiresAt).Hours() / 24; days > 30.1 {
		t.Fatalf("expiry %.1f days away, want the innovation maximum", days)
	}
	p := fmt.Sprintf("/requests/%d", created.ID)
	if st := a.api("alice", http.MethodPost, p+"/submit", nil, nil); st != http.StatusOK {
		t.Fatalf("submit: %d", st)
	}
	checklist := []map[string]string{}
	for _, item := range requests.ChecklistFor(created.Findings) {
		checklist = append(checklist, map[string]string{"item": item.ID, "result": "pass"})
	}
	var after struct{ State string }
	if st := a.api("rita", http.MethodPost, p+"/review", map[string]any{"decision": "approve", "zone_confirmed": true, "checklist": checklist}, &after); st != http.StatusOK || after.State != "in_review" {
		t.Fatalf("first approval: %d %s", st, after.State)
	}
	if st := a.api("lee", http.MethodPost, p+"/approve", map[string]any{"decision": "approve"}, &after); st != http.StatusOK || after.State != "approved" {
		t.Fatalf("second approval: %d %s", st, after.State)
	}
	// The register marks it.
	var reg struct {
		Rules []struct {
			RequestID  uint `json:"request_id"`
			Innovation bool
		}
	}
	a.api("aude", http.MethodGet, "/rules?limit=200", nil, &reg)
	marked := false
	for _, r := range reg.Rules {
		marked = marked || (r.RequestID == created.ID && r.Innovation)
	}
	if !marked {
		t.Fatalf("register %+v", reg.Rules)
	}
	// The change record export marks it too.
	req, _ := http.NewRequest(http.MethodGet, a.url+"/api/v1/reports/changes?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+a.tokens[email("aude")])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Innovation tier") || !strings.Contains(string(body), "ventures on-call") {
		t.Fatalf("changes export lacks the innovation tier: %d %.300s", resp.StatusCode, body)
	}

	// Assets show their application's tier.
	var assets struct {
		Assets []struct{ Address, Tier string }
	}
	a.api("alice", http.MethodGet, "/assets?limit=200", nil, &assets)
	tiers := map[string]string{}
	for _, as := range assets.Assets {
		tiers[as.Address] = as.Tier
	}
	if tiers["127.50.0.30"] != "innovation" || tiers["127.40.0.15"] != "standard" {
		t.Fatalf("asset tiers %v", tiers)
	}
	// Imported tiers: disagreeing lines are refused, naming them.
	csv := "address,application,tier\n127.40.0.41,Lab,innovation\n127.40.0.42,Lab,critical\n"
	hreq, _ := http.NewRequest(http.MethodPost, a.url+"/api/v1/assets/import", strings.NewReader(csv))
	hreq.Header.Set("Authorization", "Bearer "+a.tokens[email("adam")])
	hreq.Header.Set("Content-Type", "text/csv")
	resp, err = http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "line 3") || !strings.Contains(string(body), "line 2") {
		t.Fatalf("disagreeing import: %d %s", resp.StatusCode, body)
	}
}

// The admin's page sets a tier, the expiry and the questionnaire, each audited
// and refused with the field named.
func TestApplicationsPage(t *testing.T) {
	a := newApp(t)
	adam := a.as("adam")
	if body := a.body(a.get(adam, "/admin/applications")); !strings.Contains(body, "Pilot wallet") || !strings.Contains(body, `value="innovation" selected`) {
		t.Fatalf("page: %.500s", body)
	}
	if st := a.get(a.as("alice"), "/admin/applications").StatusCode; st != http.StatusForbidden {
		t.Fatalf("requester: %d", st)
	}
	resp := a.post(adam, "/admin/applications/tier", url.Values{"application": {"CRM"}, "tier": {"critical"}})
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set tier: %d", resp.StatusCode)
	}
	resp = a.post(adam, "/admin/applications/tier", url.Values{"application": {"CRM"}, "tier": {"bold"}})
	if body := a.body(resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not one of innovation, standard, critical") {
		t.Fatalf("bad tier: %d", resp.StatusCode)
	}
	resp = a.post(adam, "/admin/applications/expiry", url.Values{"innovation_max_expiry_days": {"400"}})
	if body := a.body(resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "from 1 to 365") || !strings.Contains(body, `value="400"`) {
		t.Fatalf("bad expiry: %d", resp.StatusCode)
	}
	resp = a.post(adam, "/admin/applications/questionnaire", url.Values{
		"questions[0].id": {"data_handled"}, "questions[0].text": {"Which data?"}, "questions[0].required": {"1"},
		"questions[1].id": {"Bad Key"}, "questions[1].text": {"kept <as typed>"},
	})
	if body := a.body(resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "answer key is 1 to 40") || !strings.Contains(body, "kept &lt;as typed&gt;") {
		t.Fatalf("bad questionnaire: %d", resp.StatusCode)
	}
	resp = a.post(adam, "/admin/applications/questionnaire", url.Values{
		"questions[0].id": {"data_handled"}, "questions[0].text": {"Which data does it hold?"}, "questions[0].required": {"1"},
	})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("saved questionnaire: %d", resp.StatusCode)
	}
	if body := a.body(a.get(adam, "/admin/applications")); !strings.Contains(body, "Security assessment (version 2)") || !strings.Contains(body, "Which data does it hold?") {
		t.Fatalf("after saving: %.300s", body)
	}
	var events []struct{ Action string }
	a.svc.DB().Table("audit_events").Where("action IN ?", []string{"application.tier", "assessment.questionnaire.update"}).Find(&events)
	if len(events) < 3 { // the demo's tier, the CRM's, the questionnaire
		t.Fatalf("audit events %+v", events)
	}
}
