package handlers

// The security tests, in one file a reviewer can read top to bottom. Each
// runs on SQLite and, where it is reachable, on PostgreSQL:
//
//  1. every route as every role: a route refuses (403) exactly the roles
//     its access decision leaves out;
//  2. every state-changing page route sent cross-site: refused, nothing
//     written;
//  3. every free-text field of the forms and the API with an over-long
//     value (refused, naming the field, form kept) and hostile values:
//     markup (stored, shown escaped), NUL and invalid UTF-8 (refused,
//     naming the field), bidi overrides (stored, never a 500);
//  4. every list (pages and API) with hostile query parameters: never a
//     500, never the markup reflected raw, q=%ff refused naming q.
//
// Run them with `make test-security` (go test -race -run TestSecurity ./handlers/).

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/scanner/credcheck"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/credentials"
	"github.com/portcullis/portcullis/workflow/identity"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/requests"
)

func TestSecurity(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		// Rate limits are tested in hardening_test.go; here they would only
		// slow the walk over every route.
		a := newAppOn(t, db, func(c *Config) {
			wide := Limit{Burst: 100000, PerMinute: 100000}
			c.RateLimits = RateLimits{Login: wide, TokenFailures: wide, Evaluate: wide, Export: wide, Scan: wide, ClientMultiple: 1, EvaluationsInFlight: 2}
		})
		// The default-credentials list needs its sealing key and the
		// scanner's parser, as serve wires them.
		key, err := credentials.KeyFrom([]byte("a sealing key for the security test"))
		if err != nil {
			t.Fatal(err)
		}
		if err := a.svc.Credentials.SetKey(key); err != nil {
			t.Fatal(err)
		}
		a.svc.Credentials.SetParser(func(text string) (int, error) {
			list, err := credcheck.ParseList(strings.NewReader(text))
			return len(list), err
		})
		t.Run("route x role", func(t *testing.T) { routeAccessByRole(t, a) })
		t.Run("cross-site", func(t *testing.T) { crossSiteRequestsAreRefused(t, a) })
		t.Run("text fields", func(t *testing.T) { textFieldsAreBoundedAndEscaped(t, a) })
		t.Run("list parameters", func(t *testing.T) { listsSurviveHostileParameters(t, a) })
	})
}

// TestRouteAccessByRole is the route x role walk on SQLite alone, the
// quick check while working on routes.
func TestRouteAccessByRole(t *testing.T) { routeAccessByRole(t, newApp(t)) }

// people are the demo's single-role users.
var people = map[core.Role]string{
	core.RoleRequester: "alice", core.RoleReviewer: "rita", core.RoleApprover: "lee",
	core.RoleImplementer: "ivan", core.RoleAuditor: "aude", core.RoleAdmin: "adam",
}

// sortedRoutes are the routes with an access decision, as "METHOD /path".
func sortedRoutes(a *app) []string {
	keys := make([]string, 0, len(a.srv.access))
	for k := range a.srv.access {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// routeAccessByRole calls every route as each single-role person: a route
// refuses (403) exactly the roles its decision leaves out.
func routeAccessByRole(t *testing.T, a *app) {
	clients := map[core.Role]*http.Client{}
	for role, name := range people {
		clients[role] = a.as(name)
	}
	for _, key := range sortedRoutes(a) {
		acc := a.srv.access[key]
		method, pattern, _ := strings.Cut(key, " ")
		if acc.Public || pattern == "/logout" {
			continue
		}
		// A request id that does not exist: allowed roles get 404 or 400, never 403.
		path := strings.NewReplacer("{id}", "999999", "*", "x").Replace(pattern)
		for _, role := range core.AllRoles {
			var status int
			if strings.HasPrefix(path, "/api/v1/") {
				body := map[string]any{}
				if method == http.MethodGet || method == http.MethodDelete {
					body = nil
				}
				status = a.api(people[role], method, strings.TrimPrefix(path, "/api/v1"), body, nil)
			} else {
				status = a.mustDo(clients[role], method, a.url+path, "", "application/x-www-form-urlencoded").StatusCode
			}
			allowed := len(acc.Roles) == 0 || slices.Contains(acc.Roles, role)
			if allowed && (status == http.StatusForbidden || status == http.StatusUnauthorized || status >= 500) {
				t.Errorf("%s %s as %s: %d, want access", method, path, role, status)
			}
			if !allowed && status != http.StatusForbidden {
				t.Errorf("%s %s as %s: %d, want 403", method, path, role, status)
			}
		}
	}
}

// crossSiteRequestsAreRefused posts to every state-changing page route
// from another origin, as a logged-in admin and as a requester: each is
// refused by the forgery protection and nothing reaches the audit log.
// (The API takes bearer tokens, never cookies, so a forged call has no
// credentials.)
func crossSiteRequestsAreRefused(t *testing.T, a *app) {
	clients := []*http.Client{a.as("adam"), a.as("alice"), a.as("pat")}
	var before, after int64
	a.svc.DB().Model(&models.AuditEvent{}).Count(&before)
	for _, key := range sortedRoutes(a) {
		method, pattern, _ := strings.Cut(key, " ")
		if method == http.MethodGet || strings.HasPrefix(pattern, "/api/") {
			continue
		}
		path := strings.NewReplacer("{id}", "1", "*", "x").Replace(pattern)
		for _, c := range clients {
			req, _ := http.NewRequest(method, a.url+path, strings.NewReader("title=forged&reason=forged&body=forged"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", "https://evil.example")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "sent from another site") {
				t.Errorf("cross-site %s %s: %d, want the forgery refusal", method, path, resp.StatusCode)
			}
		}
	}
	a.svc.DB().Model(&models.AuditEvent{}).Count(&after)
	if after != before {
		t.Errorf("cross-site posts wrote %d audit events", after-before)
	}
}

// A textField is one free-text field of a form: who fills it, where the
// form goes (setup makes what the form needs, fresh each time, and returns
// the form's path and the page that shows the value), the other fields.
type textField struct {
	name, who string
	max       int
	setup     func(t *testing.T, a *app, n int) (action, shown string)
	form      func(n int) url.Values
	// strict: the field takes a restricted alphabet (host names), so markup
	// and bidi overrides are refused too.
	strict bool
	// limitSays is how the refusal of an over-long value states the limit,
	// when not as "… characters".
	limitSays string
	// notKept says why a refused value is not put back into the form, for
	// the fields exempt from "the form keeps what was typed".
	notKept string
}

// hostile are the values every field is tried with, beside an over-long one.
var hostile = []struct {
	name, value string
	refused     string // "" when the value is stored (and must be shown escaped)
}{
	{"markup", `<script>alert(1)</script><img src=x onerror=alert(2)>`, ""},
	{"NUL", "a\x00b", "contains a NUL"},
	{"bidi override", "abc\u202Egnp.exe", ""},
	{"invalid UTF-8", "a\xffb", "not valid UTF-8"},
}

func textFields() []textField {
	newDraft := func(t *testing.T, a *app, n int) (string, string) {
		var out struct{ ID uint }
		st := a.api("alice", http.MethodPost, "/requests", map[string]any{"title": fmt.Sprintf("Draft %d", n), "justification": "a test draft",
			"rules": []map[string]any{{"source": "transit", "destination": "127.50.0.10", "protocol": "tcp", "ports": "443"}}}, &out)
		if st != http.StatusCreated && st != http.StatusOK {
			t.Fatalf("draft: %d", st)
		}
		return fmt.Sprintf("/requests/%d", out.ID), fmt.Sprintf("/requests/%d", out.ID)
	}
	requestForm := func(field string) func(n int) url.Values {
		return func(n int) url.Values {
			v := url.Values{"title": {fmt.Sprintf("Field test %d", n)}, "justification": {"a business need"}, "action": {"save"},
				"rules[0].source": {"transit"}, "rules[0].destination": {"127.50.0.10"}, "rules[0].protocol": {"tcp"}, "rules[0].ports": {"443"}, "rules[0].direction": {"ingress"}}
			v.Del(field)
			return v
		}
	}
	fixed := func(action string) func(*testing.T, *app, int) (string, string) {
		return func(*testing.T, *app, int) (string, string) { return action, "" }
	}
	onDraft := func(suffix string) func(*testing.T, *app, int) (string, string) {
		return func(t *testing.T, a *app, n int) (string, string) {
			page, shown := newDraft(t, a, n)
			return page + suffix, shown
		}
	}
	none := func(int) url.Values { return url.Values{} }
	onDrift := func(t *testing.T, a *app, n int) (string, string) {
		now := time.Now().UTC()
		d := models.DriftItem{Key: fmt.Sprintf("open-unapproved|127.40.2.%d|tcp|%d", n%250+1, 9000+n), Kind: "open-unapproved", Severity: "high",
			Address: fmt.Sprintf("127.40.2.%d", n%250+1), Protocol: "tcp", Port: 9000 + n, State: "open", FirstSeen: now, LastSeen: now}
		if err := a.svc.DB().Create(&d).Error; err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("/drift/%d/suppress", d.ID), "/drift?state=all"
	}
	l := core.Limits
	zone := func(field string) func(n int) url.Values {
		return func(n int) url.Values {
			v := url.Values{"name": {fmt.Sprintf("lab%d", n)}, "classification": {"low"}, "cidrs": {fmt.Sprintf("127.%d.0.0/24", 100+n%100)}, "owner": {"it"}, "description": {"a lab"}}
			v.Del(field)
			return v
		}
	}
	asset := func(field string) func(n int) url.Values {
		return func(n int) url.Values {
			v := url.Values{"address": {fmt.Sprintf("127.40.1.%d", n%250+1)}, "hostname": {"lab-host"}, "owner_team": {"it"}, "application": {"lab"}}
			v.Del(field)
			return v
		}
	}
	// A fresh request submitted for review, and one approved and waiting
	// for its implementation, for each try.
	submitted := func(t *testing.T, a *app, n int, source string) string {
		var out struct{ ID uint }
		if st := a.api("alice", http.MethodPost, "/requests", map[string]any{"title": fmt.Sprintf("Review %d", n), "justification": "a test request",
			"rules": []map[string]any{{"source": source, "destination": "127.50.0.10", "protocol": "tcp", "ports": "443", "service": "http"}}}, &out); st != http.StatusCreated && st != http.StatusOK {
			t.Fatalf("create: %d", st)
		}
		if st := a.api("alice", http.MethodPost, fmt.Sprintf("/requests/%d/submit", out.ID), map[string]any{}, nil); st >= 300 {
			t.Fatalf("submit: %d", st)
		}
		return fmt.Sprintf("/requests/%d", out.ID)
	}
	onSubmitted := func(source string) func(*testing.T, *app, int) (string, string) {
		return func(t *testing.T, a *app, n int) (string, string) {
			page := submitted(t, a, n, source)
			return page + "/review", page
		}
	}
	onApproved := func(t *testing.T, a *app, n int) (string, string) {
		page := submitted(t, a, n, "transit")
		var checklist []map[string]string
		for _, item := range requests.BaselineChecklist {
			checklist = append(checklist, map[string]string{"item": item.ID, "result": "pass"})
		}
		if st := a.api("rita", http.MethodPost, page+"/review", map[string]any{"decision": "approve", "zone_confirmed": true, "checklist": checklist}, nil); st >= 300 {
			t.Fatalf("approve: %d", st)
		}
		var got struct{ State string }
		if a.api("alice", http.MethodGet, page, nil, &got); got.State != "approved" {
			a.api("lee", http.MethodPost, page+"/approve", map[string]any{"decision": "approve"}, nil)
		}
		return page + "/implement", page
	}
	review := func(decision string) func(int) url.Values {
		return func(int) url.Values {
			v := url.Values{"decision": {decision}, "zone_confirmed": {"1"}, "comment": {"narrow the source"}}
			if decision == "approve" {
				for _, item := range requests.BaselineChecklist {
					v.Set("checklist."+item.ID, "pass")
				}
			}
			return v
		}
	}
	// A fresh user to disable, and a fresh agent to revoke, for each try.
	onUser := func(t *testing.T, a *app, n int) (string, string) {
		u := models.User{Issuer: "https://idp.test", Subject: fmt.Sprintf("leaver-%d", n), Email: fmt.Sprintf("leaver%d@demo.portcullis.test", n), Name: "Leaver", Roles: "requester"}
		if err := a.svc.DB().Create(&u).Error; err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("/admin/users/%d/disable", u.ID), "/admin/users"
	}
	onAgent := func(t *testing.T, a *app, n int) (string, string) {
		var adam models.User
		if err := a.svc.DB().Where("email = ?", email("adam")).First(&adam).Error; err != nil {
			t.Fatal(err)
		}
		agent, _, err := a.svc.Agents.Enrol(t.Context(), identity.ActorOf(adam), fmt.Sprintf("field-test-%d", n), []string{"dmz"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("/admin/agents/%d/revoke", agent.ID), "/admin/agents"
	}
	onApprovedRevoke := func(t *testing.T, a *app, n int) (string, string) {
		_, page := onApproved(t, a, n)
		return page + "/revoke", page
	}
	// A request from the internet approved on the exception path by a
	// reviewer, waiting for the security lead's second approval.
	onException := func(t *testing.T, a *app, n int) (string, string) {
		page := submitted(t, a, n, "203.0.113.0/28")
		var checklist []map[string]string
		for _, item := range requests.BaselineChecklist {
			checklist = append(checklist, map[string]string{"item": item.ID, "result": "pass"})
		}
		if st := a.api("rita", http.MethodPost, page+"/review", map[string]any{"decision": "approve", "zone_confirmed": true, "checklist": checklist,
			"compensating_controls": map[string]string{"0:internet-internal": "a jump host with MFA"}}, nil); st >= 300 {
			t.Fatalf("first approval: %d", st)
		}
		return page + "/approve", page
	}
	// A request in force (approved) that alice owns, put in a fresh
	// campaign through the workflow service: its re-certification item.
	onRecert := func(action string) func(*testing.T, *app, int) (string, string) {
		return func(t *testing.T, a *app, n int) (string, string) {
			_, page := onApproved(t, a, n)
			if _, _, err := a.svc.Recert.StartCampaign(t.Context(), a.actorOf("lee"), fmt.Sprintf("Field test %d", n), time.Now().AddDate(2, 0, 0)); err != nil {
				t.Fatal(err)
			}
			var item models.Recertification
			if err := a.svc.DB().Where("request_id = ? AND status = ?", strings.TrimPrefix(page, "/requests/"), "pending").First(&item).Error; err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("/recertification/items/%d/%s", item.ID, action), page
		}
	}
	onDriftAck := func(t *testing.T, a *app, n int) (string, string) {
		action, shown := onDrift(t, a, n)
		return strings.TrimSuffix(action, "/suppress") + "/acknowledge", shown
	}
	// The demo's 127.50.0.30 is an innovation-tier application: a request
	// to it carries the security assessment, one answer per question.
	innovation := func(field string) func(n int) url.Values {
		return func(n int) url.Values {
			v := url.Values{"title": {fmt.Sprintf("Pilot %d", n)}, "justification": {"pilot customers"}, "action": {"save"},
				"rules[0].source": {"transit"}, "rules[0].destination": {"127.50.0.30"}, "rules[0].protocol": {"tcp"}, "rules[0].ports": {"443"}, "rules[0].direction": {"ingress"},
				"assessment.data_handled": {"wallet balances"}, "assessment.exposure": {"office staff"}, "assessment.authentication": {"OIDC"}, "assessment.owner_on_call": {"ventures on-call"}}
			v.Del(field)
			return v
		}
	}
	fields := []textField{
		{name: "comment", who: "rita", max: l.Comment, setup: onSubmitted("transit"), form: review("changes_requested")},
		{name: "comment", who: "lee", max: l.Comment, setup: onException, form: func(int) url.Values { return url.Values{"decision": {"approve"}} }},
		{name: "reason", who: "rita", max: l.Reason, setup: onApprovedRevoke, form: none},
		// An agent's name is a restricted alphabet of at most 64 characters.
		{name: "name", who: "adam", max: 64, limitSays: "1 to 64", setup: fixed("/admin/agents"), form: func(int) url.Values { return url.Values{"zones": {"dmz"}} }, strict: true},
		// A zone's name too: 1 to 64 of a restricted alphabet.
		{name: "name", who: "adam", max: 64, limitSays: "1 to 64", setup: fixed("/zones"), form: zone("name"), strict: true},
		{name: "note.patched", who: "rita", max: l.ChecklistNote, setup: onSubmitted("transit"), form: func(n int) url.Values {
			v := review("changes_requested")(n)
			v.Set("checklist.patched", "fail")
			return v
		}},
		{name: "control.0:internet-internal", who: "rita", max: l.CompensatingControl, setup: onSubmitted("203.0.113.0/28"), form: review("approve")},
		{name: "change_ref", who: "ivan", max: l.ChangeRef, setup: onApproved, form: func(int) url.Values { return url.Values{"note": {"done"}} }},
		{name: "note", who: "ivan", max: l.ChangeNote, setup: onApproved, form: func(int) url.Values { return url.Values{"change_ref": {"CHG-1"}} }},
		{name: "name", who: "alice", max: l.Name, limitSays: "too long (at most", setup: func(*testing.T, *app, int) (string, string) { return "/profile/tokens", "/profile" }, form: none},
		{name: "reason", who: "adam", max: identity.MaxDisableReason, limitSays: "too long (at most", setup: onUser, form: func(int) url.Values { return url.Values{"confirm": {"1"}} }},
		{name: "reason", who: "adam", max: l.Reason, setup: onAgent, form: none},
		{name: "title", who: "alice", max: l.Title, setup: fixed("/requests"), form: requestForm("title")},
		{name: "justification", who: "alice", max: l.Justification, setup: fixed("/requests"), form: requestForm("justification")},
		{name: "body", who: "alice", max: l.Comment, setup: onDraft("/comments"), form: none},
		{name: "reason", who: "alice", max: l.Reason, setup: onDraft("/cancel"), form: none},
		{name: "name", who: "lee", max: l.Name, setup: fixed("/recertification/campaigns"), form: func(int) url.Values {
			return url.Values{"due_by": {time.Now().AddDate(0, 2, 0).Format(time.DateOnly)}}
		}},
		{name: "reason", who: "lee", max: l.Reason, setup: onDrift, form: func(int) url.Values {
			return url.Values{"until": {time.Now().AddDate(0, 1, 0).Format(time.DateOnly)}}
		}},
		{name: "owner", who: "adam", max: l.Label, setup: fixed("/zones"), form: zone("owner")},
		{name: "description", who: "adam", max: l.Label, setup: fixed("/zones"), form: zone("description")},
		{name: "owner_team", who: "adam", max: l.Label, setup: fixed("/assets"), form: asset("owner_team")},
		{name: "application", who: "adam", max: l.Label, setup: fixed("/assets"), form: asset("application")},
		{name: "hostname", who: "adam", max: l.Hostname, limitSays: "at most 253 characters", setup: fixed("/assets"), form: asset("hostname"), strict: true},
		{name: "justification", who: "alice", max: l.Justification, setup: onRecert("recertify"), form: none},
		{name: "reason", who: "alice", max: l.Reason, setup: onRecert("lapse"), form: none},
		{name: "comment", who: "rita", max: l.Comment, setup: onDriftAck, form: none},
		{name: "application", who: "adam", max: l.Label, setup: fixed("/admin/applications/tier"), form: func(int) url.Values { return url.Values{"tier": {"innovation"}} },
			notKept: "the application is a hidden field naming a row of the table, never typed: an unknown one has no row to show it in"},
	}
	for _, q := range []string{"data_handled", "exposure", "authentication", "owner_on_call"} {
		fields = append(fields, textField{name: "assessment." + q, who: "alice", max: l.AssessmentAnswer, setup: fixed("/requests"), form: innovation("assessment." + q)})
	}
	// The questionnaire's editor (after the answers: saving it replaces the
	// demo's questions). A key is 1 to 40 of a restricted alphabet.
	question := func(field string) func(int) url.Values {
		return func(n int) url.Values {
			v := url.Values{"questions[0].id": {fmt.Sprintf("q%d", n)}, "questions[0].text": {"What data does it handle?"}, "questions[0].required": {"1"}}
			v.Del(field)
			return v
		}
	}
	fields = append(fields,
		textField{name: "questions[0].text", who: "adam", max: inventory.MaxQuestionText, setup: fixed("/admin/applications/questionnaire"), form: question("questions[0].text")},
		textField{name: "questions[0].id", who: "adam", max: 40, limitSays: "1 to 40", strict: true, setup: fixed("/admin/applications/questionnaire"), form: question("questions[0].id")})
	// Its lines are SERVICE USER PASSWORD for known services, so a value
	// that is not such a line (markup, a bidi override) is refused.
	fields = append(fields, textField{name: "list", who: "adam", max: credentials.MaxListBytes, limitSays: "KiB", strict: true, setup: fixed("/admin/credentials"), form: none,
		notKept: "the default-credentials list holds passwords: the page never shows it again, not even to the admin who typed it, so only the refusal naming the list is checked"})
	// The settings come last: saving them changes what later requests may ask.
	// Each is a number, a port list or an address list, so markup is refused.
	settings := url.Values{"default_expiry_days": {"90"}, "max_expiry_days": {"365"}, "max_source_prefix_v4": {"8"}, "max_source_prefix_v6": {"32"},
		"device_prefix_v4": {"32"}, "device_prefix_v6": {"128"}, "broad_port_count": {"100"}, "public_tcp_ports": {"80,443"}, "recertify_months": {"6"},
		"asset_address_allow": {""}, "token_default_ttl_days": {"90"}, "token_max_ttl_days": {"365"}, "scan_max_targets": {"4096"}}
	for _, key := range slices.Sorted(maps.Keys(settings)) {
		says := "whole number"
		if key == "public_tcp_ports" || key == "asset_address_allow" {
			says = "characters long"
		}
		fields = append(fields, textField{name: key, who: "adam", max: inventory.MaxSettingText, limitSays: says, strict: true, setup: fixed("/admin/settings"), form: func(int) url.Values {
			v := maps.Clone(settings)
			v.Del(key)
			return v
		}})
	}
	return fields
}

// textFieldsAreBoundedAndEscaped sends each free-text field over-long and
// with each hostile value.
func textFieldsAreBoundedAndEscaped(t *testing.T, a *app) {
	clients := map[string]*http.Client{}
	n := 0
	for _, f := range textFields() {
		if clients[f.who] == nil {
			clients[f.who] = a.as(f.who)
		}
		c := clients[f.who]
		send := func(value string) (*http.Response, string, string) {
			n++
			action, shown := f.setup(t, a, n)
			form := f.form(n)
			form.Set(f.name, value)
			resp := a.post(c, action, form)
			if shown == "" {
				shown = resp.Header.Get("Location")
			}
			return resp, a.body(resp), shown
		}
		t.Run(f.name, func(t *testing.T) {
			long := strings.Repeat("x", f.max+1)
			resp, body, _ := send(long)
			says := f.limitSays
			if says == "" {
				says = "characters long" // the refusal, not the hint ("up to … characters")
			}
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, says) {
				t.Errorf("over-long: %d, want 400 naming the limit", resp.StatusCode)
			} else if f.notKept == "" && !strings.Contains(body, long) {
				t.Errorf("over-long: the form shown again lost what was typed")
			}
			for _, h := range hostile {
				resp, body, shown := send(h.value)
				switch {
				case resp.StatusCode >= 500:
					t.Errorf("%s: %d", h.name, resp.StatusCode)
				case h.refused != "" || f.strict:
					if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, f.name) {
						t.Errorf("%s: %d, want 400 naming %s", h.name, resp.StatusCode, f.name)
					}
				case resp.StatusCode >= 400:
					t.Errorf("%s: refused (%d) but should be stored", h.name, resp.StatusCode)
				case shown != "":
					page := a.body(a.get(c, shown))
					if strings.Contains(page, "<script>alert(1)") || strings.Contains(page, "<img src=x") {
						t.Errorf("%s: %s shows the markup unescaped", h.name, shown)
					}
				}
			}
		})
	}
	// The API takes the same limits and refuses the same values.
	for _, tc := range []struct {
		field string
		body  map[string]any
	}{
		{"title", map[string]any{"title": strings.Repeat("x", core.Limits.Title+1), "justification": "j"}},
		{"justification", map[string]any{"title": "t", "justification": strings.Repeat("x", core.Limits.Justification+1)}},
		{"title", map[string]any{"title": "a\x00b", "justification": "j"}},
	} {
		tc.body["rules"] = []map[string]any{{"source": "transit", "destination": "127.50.0.10", "protocol": "tcp", "ports": "443"}}
		var e apiErr
		if st := a.api("alice", http.MethodPost, "/requests", tc.body, &e); st != http.StatusBadRequest || e.Error.Field != tc.field {
			t.Errorf("API %s: %d %+v", tc.field, st, e)
		}
	}
}

// hostileQueries are sent to every list.
var hostileQueries = []string{
	"limit=-1", "limit=1000000000", "cursor=" + url.QueryEscape("garbage!@#$%^&*()"), "cursor=eyJpZCI6LTF9",
	"q=%ff", "state=" + url.QueryEscape("<script>alert(1)</script>"), "q=" + url.QueryEscape(strings.Repeat("q", 10000)),
}

// listsSurviveHostileParameters sends every GET route without a path
// parameter (the lists, and the pages that read the query) each hostile
// query, as a person allowed to use it.
func listsSurviveHostileParameters(t *testing.T, a *app) {
	clients := map[core.Role]*http.Client{}
	for _, key := range sortedRoutes(a) {
		acc := a.srv.access[key]
		method, path, _ := strings.Cut(key, " ")
		if method != http.MethodGet || acc.Public || strings.Contains(path, "{") || strings.Contains(path, "*") || strings.HasSuffix(path, "/events") {
			continue
		}
		role := core.RoleAuditor
		if len(acc.Roles) > 0 {
			role = acc.Roles[0]
		}
		for _, q := range hostileQueries {
			var status int
			var body string
			if strings.HasPrefix(path, "/api/v1/") {
				req, _ := http.NewRequest(http.MethodGet, a.url+path+"?"+q, nil)
				req.Header.Set("Authorization", "Bearer "+a.tokens[email(people[role])])
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				status, body = resp.StatusCode, string(b)
			} else {
				if clients[role] == nil {
					clients[role] = a.as(people[role])
				}
				resp := a.get(clients[role], path+"?"+q)
				status, body = resp.StatusCode, a.body(resp)
			}
			switch {
			case status >= 500:
				t.Errorf("GET %s?%s: %d", path, q, status)
			case strings.Contains(body, "<script>alert(1)"):
				t.Errorf("GET %s?%s reflects the markup unescaped", path, q)
			case q == "q=%ff" && status != http.StatusBadRequest:
				t.Errorf("GET %s?%s: %d, want 400 naming q", path, q, status)
			}
		}
	}
}
