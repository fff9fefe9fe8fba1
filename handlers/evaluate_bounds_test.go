package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/demo"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/requests"
)

// wideRules is n rules of the assessment's worst case: any source into a
// whole zone on every port.
func wideRules(n int) []map[string]any {
	rules := make([]map[string]any, n)
	for i := range rules {
		rules[i] = map[string]any{"source": "0.0.0.0/0", "destination": "apps", "protocol": "tcp", "ports": "1-65535"}
	}
	return rules
}

func (a *app) rawAPI(name, method, path string, body []byte) (int, apiErr, http.Header) {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.url+"/api/v1"+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+a.tokens[email(name)])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var e apiErr
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e, resp.Header
}

// Issue 12 item 1: the assessment's 12,000-rule body (948 KB) took 15.5 s
// and 623 MB; it is now refused before anything is judged.
func TestEvaluateBounds(t *testing.T) {
	a := newApp(t)
	huge, _ := json.Marshal(map[string]any{"rules": wideRules(12000)})
	if st, e, _ := a.rawAPI("alice", http.MethodPost, "/evaluate", huge); st != http.StatusRequestEntityTooLarge || e.Error.Code != "payload_too_large" || !strings.Contains(e.Error.Message, "KiB") {
		t.Errorf("12,000 rules (%d bytes): %d %+v, want 413 naming the limit", len(huge), st, e)
	}
	// Under the byte limit but over the rule limit.
	over, _ := json.Marshal(map[string]any{"rules": wideRules(requests.MaxRules + 1)})
	if st, e, _ := a.rawAPI("alice", http.MethodPost, "/evaluate", over); st != http.StatusBadRequest || e.Error.Field != "rules" || !strings.Contains(e.Error.Message, strconv.Itoa(requests.MaxRules)) {
		t.Errorf("%d rules: %d %+v, want 400 on rules naming %d", requests.MaxRules+1, st, e, requests.MaxRules)
	}
	// One rule listing more destinations than a rule may.
	many := make([]string, 65)
	for i := range many {
		many[i] = fmt.Sprintf("127.40.0.%d", i+1)
	}
	wide, _ := json.Marshal(map[string]any{"rules": []map[string]any{{"source": "transit", "destination": many, "protocol": "tcp", "ports": "443"}}})
	if st, e, _ := a.rawAPI("alice", http.MethodPost, "/evaluate", wide); st != http.StatusBadRequest || e.Error.Field != "rules[0].destination" {
		t.Errorf("65 destinations: %d %+v, want 400 on rules[0].destination", st, e)
	}
	// Request creation has the same bound per rule.
	var created apiErr
	if st := a.api("alice", http.MethodPost, "/requests", map[string]any{"title": "wide", "justification": "j",
		"rules": []map[string]any{{"source": "transit", "destination": many, "protocol": "tcp", "ports": "443"}}}, &created); st != http.StatusBadRequest || created.Error.Field != "rules[0].destination" {
		t.Errorf("a request with 65 destinations: %d %+v", st, created)
	}
	ports := strings.Repeat("1,", 64) + "2"
	split, _ := json.Marshal(map[string]any{"rules": []map[string]any{{"source": "transit", "destination": "apps", "protocol": "tcp", "ports": ports}}})
	if st, e, _ := a.rawAPI("alice", http.MethodPost, "/evaluate", split); st != http.StatusBadRequest || e.Error.Field != "rules[0].ports" {
		t.Errorf("65 port ranges: %d %+v, want 400 on rules[0].ports", st, e)
	}
	// The largest allowed call is judged.
	most, _ := json.Marshal(map[string]any{"rules": wideRules(requests.MaxRules)})
	if st, e, _ := a.rawAPI("alice", http.MethodPost, "/evaluate", most); st != http.StatusOK {
		t.Errorf("%d rules: %d %+v", requests.MaxRules, st, e)
	}
}

// The form's live evaluation accepted 1,000 rules.
func TestEvaluateFormBounds(t *testing.T) {
	a := newApp(t)
	c := a.as("alice")
	form := url.Values{}
	for i := range 1000 {
		p := fmt.Sprintf("rules[%d].", i)
		form.Set(p+"source", "0.0.0.0/0")
		form.Set(p+"destination", "apps")
		form.Set(p+"protocol", "tcp")
		form.Set(p+"ports", "1-65535")
	}
	resp := a.post(c, "/requests/evaluate", form)
	body := a.body(resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "at most 100") || strings.Contains(body, "permit-any-any") {
		t.Errorf("1,000 rules: %d %s", resp.StatusCode, body)
	}
	form.Set("justification", strings.Repeat("x", 300<<10))
	resp = a.post(c, "/requests/evaluate", form)
	if body := a.body(resp); resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "KiB") {
		t.Errorf("a 300 KiB form: %d %s", resp.StatusCode, body)
	}
}

// A user with two evaluations running is told to wait; others are not.
func TestEvaluationsInFlightPerUser(t *testing.T) {
	a := newApp(t)
	var u models.User
	if err := a.svc.DB().Where("email = ?", email("alice")).First(&u).Error; err != nil {
		t.Fatal(err)
	}
	key := strconv.FormatUint(uint64(u.ID), 10)
	for range 2 {
		if !a.srv.limits.evaluations.acquire(key) {
			t.Fatal("a free slot was refused")
		}
	}
	one, _ := json.Marshal(map[string]any{"rules": wideRules(1)})
	st, e, h := a.rawAPI("alice", http.MethodPost, "/evaluate", one)
	if st != http.StatusTooManyRequests || e.Error.Code != "too_many_requests" || h.Get("Retry-After") == "" {
		t.Errorf("third evaluation in flight: %d %+v", st, e)
	}
	if st, e, _ := a.rawAPI("pat", http.MethodPost, "/evaluate", one); st != http.StatusOK {
		t.Errorf("another user: %d %+v", st, e)
	}
	a.srv.limits.evaluations.release(key)
	if st, e, _ := a.rawAPI("alice", http.MethodPost, "/evaluate", one); st != http.StatusOK {
		t.Errorf("after one finished: %d %+v", st, e)
	}
}

// BenchmarkEvaluateWorstAllowed is the largest evaluation one call may ask
// for, on the demo organisation: MaxRules rules from any source into a
// whole zone on every port, each listing MaxRuleParts source CIDRs and
// destinations. Run with -benchmem: time and memory per call are what one
// user can cost the server at once (times EvaluationsInFlight).
func BenchmarkEvaluateWorstAllowed(b *testing.B) {
	svc := workflow.New(modelstest.SQLite(b), modelstest.Logger())
	if err := demo.Seed(context.Background(), svc, "http://127.0.0.1:1"); err != nil {
		b.Fatal(err)
	}
	dests := make([]string, policy.MaxRuleParts)
	for i := range dests {
		dests[i] = fmt.Sprintf("127.40.0.%d", i+1)
	}
	dests[0] = "apps"
	sources := make([]string, policy.MaxRuleParts)
	for i := range sources {
		sources[i] = fmt.Sprintf("%d.0.0.0/1", i%2*128)
	}
	specs := make([]policy.RuleSpec, requests.MaxRules)
	for i := range specs {
		specs[i] = policy.RuleSpec{Source: strings.Join(sources, ","), Destination: dests, Protocol: "tcp", Ports: "1-65535"}
	}
	var findings int
	for b.Loop() {
		ev, err := svc.Requests.Evaluate(context.Background(), specs, time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		if len(ev.Incomplete) > 0 {
			b.Fatal(ev.Incomplete[0])
		}
		findings = len(ev.Findings)
	}
	b.ReportMetric(float64(findings), "findings")
}
