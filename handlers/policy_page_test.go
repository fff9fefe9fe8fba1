package handlers

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The policy page draws the matrix as a grid coloured by access, numbers the
// catalog's lines, and a refused catalog points at its line: a link naming
// it and the lines around it with the faulty one marked, the text kept.
func TestPolicyPageGridAndCatalogLine(t *testing.T) {
	a := newApp(t)
	adam := a.as("adam")
	page := a.body(a.get(adam, "/admin/policy"))
	cells := regexp.MustCompile(`<td class="access-cell access-(\w+)">`).FindAllStringSubmatch(page, -1)
	if len(cells) != 36 {
		t.Fatalf("%d coloured matrix cells, want 6×6", len(cells))
	}
	if !strings.Contains(page, `<td class="access-cell access-web"><label class="visually-hidden" for="m.internet.dmz">`) {
		t.Errorf("the internet → dmz cell is not coloured as web")
	}
	if !regexp.MustCompile(`<pre class="gutter" aria-hidden="true">1\n2\n3\n`).MatchString(page) {
		t.Errorf("the catalog editor has no line numbers")
	}

	// The shipped catalog with one category misspelt.
	pol, err := a.svc.Inventory.GetPolicy(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(pol.CatalogYAML, "\n")
	wrong := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "category: remote-admin") })
	if wrong < 0 {
		t.Fatal("the shipped catalog has no remote-admin category line")
	}
	lines[wrong] = strings.Replace(lines[wrong], "remote-admin", "remote-admn", 1)
	bad := strings.Join(lines, "\n")
	resp := a.post(adam, "/admin/policy/catalog", url.Values{"catalog": {bad}, "action": {"save"}})
	body := a.body(resp)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d", resp.StatusCode)
	}
	m := regexp.MustCompile(`<a href="#catalog" class="goto-line" data-line="(\d+)">Line (\d+)</a>`).FindStringSubmatch(body)
	if m == nil || m[1] != m[2] {
		t.Fatalf("no link to the faulty line:\n%s", body)
	}
	marked := regexp.MustCompile(`<span class="code-line bad"><span class="line-no">(\d+)</span>([^<]*)</span>`).FindStringSubmatch(body)
	if marked == nil || marked[1] != m[1] {
		t.Fatalf("the excerpt marks no line, or another than the error's (%v):\n%s", marked, body)
	}
	if marked[1] != strconv.Itoa(wrong+1) || !strings.Contains(marked[2], "remote-admn") {
		t.Errorf("the excerpt marks line %s %q, want line %d with the misspelt category", marked[1], marked[2], wrong+1)
	}
	if !strings.Contains(body, "category: remote-admn") || !strings.Contains(body, `aria-invalid="true"`) {
		t.Errorf("the refused catalog is not kept in the editor, marked invalid")
	}

	// In Chinese, the same page.
	req, _ := http.NewRequest(http.MethodGet, a.url+"/admin/policy", nil)
	req.Header.Set("Accept-Language", "zh-CN")
	zh, err := adam.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if b := a.body(zh); !strings.Contains(b, "区域访问矩阵") || !strings.Contains(b, "互联网") {
		t.Errorf("the policy page is not in Chinese for a zh-CN reader")
	}
}
