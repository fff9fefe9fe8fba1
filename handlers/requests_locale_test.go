package handlers

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/requests"
)

// TestRequestPageFindingsInChinese: a request page asked for in Chinese
// reads its findings from the catalog by code, and its headings and
// timeline in Chinese; in English the page keeps the engine's message, and
// the API keeps the engine's English message with the stable code.
func TestRequestPageFindingsInChinese(t *testing.T) {
	a := newApp(t)
	// Demo request "Telnet to the legacy mail relay": a cleartext finding,
	// rejected by the reviewer.
	list, err := a.svc.Requests.List(t.Context(), core.Actor{Roles: []core.Role{core.RoleAuditor}}, requests.Filter{Search: "Telnet"})
	if err != nil || len(list) != 1 {
		t.Fatalf("demo request not found: %v (%d)", err, len(list))
	}
	req := list[0]
	var engine string
	for _, f := range requests.FindingsOf(req) {
		if f.Code == policy.CodeCleartext {
			engine = f.Message
		}
	}
	if engine == "" {
		t.Fatalf("the demo telnet request has no %s finding", policy.CodeCleartext)
	}
	path := fmt.Sprintf("/requests/%d", req.ID)
	alice := a.as("alice")

	status, zh := a.getIn(alice, path, "zh-CN,zh;q=0.9")
	if status != http.StatusOK {
		t.Fatalf("GET %s in Chinese: %d", path, status)
	}
	wantAll(t, "the request page in Chinese", zh,
		"以明文传输凭据和数据", "telnet → ssh", // finding_text.cleartext, with the engine's values
		"策略发现项", "时间线", "拒绝了申请", "审核决定")
	wantNone(t, "the request page in Chinese", zh, engine, "Policy findings", "Timeline")

	status, en := a.getIn(alice, path, "")
	if status != http.StatusOK {
		t.Fatalf("GET %s in English: %d", path, status)
	}
	wantAll(t, "the request page in English", en, engine, "Policy findings", "Timeline")

	var out struct {
		Findings []policy.Finding `json:"findings"`
	}
	if code := a.api("alice", http.MethodGet, fmt.Sprintf("/requests/%d", req.ID), nil, &out); code != http.StatusOK {
		t.Fatalf("API GET request: %d", code)
	}
	found := false
	for _, f := range out.Findings {
		found = found || f.Code == policy.CodeCleartext && f.Message == engine
	}
	if !found {
		t.Errorf("the API's cleartext finding should keep the engine's English message %q; findings: %+v", engine, out.Findings)
	}
}
