package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/policy"
)

// evaluateIn asks the API to judge body in the language accept and
// returns the findings by code.
func (a *app) evaluateIn(accept, body string) map[string]policy.Finding {
	a.t.Helper()
	status, raw := a.apiIn("alice", http.MethodPost, "/evaluate", accept, body)
	if status != http.StatusOK {
		a.t.Fatalf("Accept-Language %q: status %d: %s", accept, status, raw)
	}
	var ev struct {
		Findings []policy.Finding `json:"findings"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		a.t.Fatal(err)
	}
	out := map[string]policy.Finding{}
	for _, f := range ev.Findings {
		out[f.Code] = f
	}
	return out
}

// TestChineseFindingsSayTheCatalogsWords: in Chinese a cleartext finding
// names the secure alternative, and the controls finding its controls, in
// the catalog entry's Chinese words — the shipped catalog's, or those an
// admin gave; words an admin gave only in English read as written. The
// English is unchanged.
func TestChineseFindingsSayTheCatalogsWords(t *testing.T) {
	a := newApp(t)
	body := `{"rules": [{"source": "10.0.0.0/24", "destination": ["127.50.0.10"], "protocol": "tcp", "ports": "21", "service": "ftp"}]}`
	en, zh := a.evaluateIn("", body), a.evaluateIn("zh-CN", body)
	wantAll(t, "the English cleartext finding", en[policy.CodeCleartext].Message, "use the secure alternative (ftp → sftp or ftps)")
	wantAll(t, "the Chinese cleartext finding", zh[policy.CodeCleartext].Message, "请使用安全的替代协议（ftp → sftp 或 ftps）")
	if got := en[policy.CodeServiceControls].RequiredControls; strings.Join(got, "|") != "Anonymous FTP login disabled" {
		t.Errorf("English controls %q", got)
	}
	if got := zh[policy.CodeServiceControls].RequiredControls; strings.Join(got, "|") != "已禁用 FTP 匿名登录" {
		t.Errorf("Chinese controls %q", got)
	}

	// An admin words ftp's alternative anew in both languages and its
	// control in English only.
	p, err := a.svc.Inventory.GetPolicy(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.NewReplacer(
		`    secure_alternative: sftp or ftps
    auth_capable: true
    controls: ["Anonymous FTP login disabled"]
    notes: Passwords and files cross the network in clear.
    zh-CN:
      secure_alternative: "sftp 或 ftps"
      controls: ["已禁用 FTP 匿名登录"]`,
		`    secure_alternative: the partner SFTP gateway
    auth_capable: true
    controls: ["FTP accounts reviewed monthly"]
    zh-CN:
      secure_alternative: 合作方 SFTP 网关`).Replace(p.CatalogYAML)
	if edited == p.CatalogYAML {
		t.Fatal("the ftp entry was not found in the stored catalog")
	}
	admin := core.Actor{Email: email("adam"), Roles: []core.Role{core.RoleAdmin}}
	if err := a.svc.Inventory.SavePolicy(t.Context(), admin, inventory.PolicyChange{CatalogYAML: &edited}); err != nil {
		t.Fatal(err)
	}
	en, zh = a.evaluateIn("", body), a.evaluateIn("zh-CN", body)
	wantAll(t, "the English cleartext finding after the edit", en[policy.CodeCleartext].Message, "(ftp → the partner SFTP gateway)")
	wantAll(t, "the Chinese cleartext finding after the edit", zh[policy.CodeCleartext].Message, "（ftp → 合作方 SFTP 网关）")
	if got := zh[policy.CodeServiceControls].RequiredControls; strings.Join(got, "|") != "FTP accounts reviewed monthly" {
		t.Errorf("Chinese controls of an admin's English-only control %q, want it as written", got)
	}
}
