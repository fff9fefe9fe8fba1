// Package demo seeds the demonstration organisation that `portcullis serve
// --demo` shows: zones of every classification, assets, one user per role,
// and requests in every lifecycle state, each driven there through the real
// workflow so that the timelines and the audit trail are genuine.
package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/identity"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/requests"
)

// User is a demo account of the development identity provider.
type User struct {
	Subject, Email, Name, Password string
	Groups                         []string
	Roles                          []core.Role
	Team                           string
}

// Password is the demo accounts' password, printed at start-up.
const Password = "portcullis-demo"

// Users is one account per role, plus one person who both files and
// reviews, to show separation of duties holding.
var Users = []User{
	{Subject: "demo-alice", Email: "alice@demo.portcullis.test", Name: "Alice Requester", Roles: []core.Role{core.RoleRequester}, Team: "payments"},
	{Subject: "demo-rita", Email: "rita@demo.portcullis.test", Name: "Rita Reviewer", Roles: []core.Role{core.RoleReviewer}, Team: "security"},
	{Subject: "demo-lee", Email: "lee@demo.portcullis.test", Name: "Lee Security-Lead", Roles: []core.Role{core.RoleApprover}, Team: "security"},
	{Subject: "demo-ivan", Email: "ivan@demo.portcullis.test", Name: "Ivan Implementer", Roles: []core.Role{core.RoleImplementer}, Team: "netops"},
	{Subject: "demo-aude", Email: "aude@demo.portcullis.test", Name: "Aude Auditor", Roles: []core.Role{core.RoleAuditor}, Team: "audit"},
	{Subject: "demo-adam", Email: "adam@demo.portcullis.test", Name: "Adam Admin", Roles: []core.Role{core.RoleAdmin}, Team: "platform"},
	{Subject: "demo-pat", Email: "pat@demo.portcullis.test", Name: "Pat Both (requester and reviewer)", Roles: []core.Role{core.RoleRequester, core.RoleReviewer}, Team: "security"},
}

// Groups are what the identity provider sends for u: one group per role
// (the default mapping) and the team group.
func Groups(u User, teamPrefix string) []string {
	var g []string
	for _, r := range u.Roles {
		g = append(g, "portcullis-"+string(r))
	}
	return append(g, teamPrefix+u.Team)
}

// Seeded reports whether the demo organisation exists already.
func Seeded(ctx context.Context, app *workflow.App) (bool, error) {
	var n int64
	err := app.DB().WithContext(ctx).Model(&models.Zone{}).Where("name = ?", "internet").Count(&n).Error
	return n > 0, err
}

// Seed creates the demo organisation, unless it exists. The users are
// registered with the given issuer, as if each had logged in once.
func Seed(ctx context.Context, app *workflow.App, issuer string) error {
	done, err := Seeded(ctx, app)
	if err != nil || done {
		return err
	}
	actors := map[string]core.Actor{}
	for _, u := range Users {
		a, err := app.Identity.Login(ctx, identity.Identity{Issuer: issuer, Subject: u.Subject, Email: u.Email, Name: u.Name, Team: u.Team, Roles: u.Roles})
		if err != nil {
			return fmt.Errorf("demo user %s: %w", u.Email, err)
		}
		actors[u.Subject] = a
	}
	admin := actors["demo-adam"]
	for _, z := range []inventory.ZoneInput{
		{Name: "internet", Classification: "internet", Owner: "network", Description: "Everything outside the organisation"},
		{Name: "dmz", Classification: "dmz", CIDRs: "127.10.0.0/24", Owner: "network", Description: "Public-facing web and mail front ends"},
		{Name: "transit", Classification: "transit", CIDRs: "127.20.0.0/24", Owner: "network", Description: "Checked-on-entry hop between zones"},
		{Name: "office", Classification: "low", CIDRs: "127.30.0.0/24", Owner: "it", Description: "Staff workstations"},
		{Name: "apps", Classification: "medium", CIDRs: "127.40.0.0/24", Owner: "platform", Description: "Internal business applications"},
		{Name: "payments", Classification: "high", CIDRs: "127.50.0.0/24", Owner: "payments", Description: "Cardholder data environment (PCI DSS)"},
	} {
		if _, err := app.Inventory.SaveZone(ctx, admin, 0, z); err != nil {
			return fmt.Errorf("demo zone %s: %w", z.Name, err)
		}
	}
	for _, a := range []inventory.AssetInput{
		{Address: "127.10.0.10", Hostname: "www1.demo.test", OwnerTeam: "web", Application: "Public website"},
		{Address: "127.10.0.11", Hostname: "mx1.demo.test", OwnerTeam: "it", Application: "Mail relay"},
		{Address: "127.20.0.5", Hostname: "bastion.demo.test", OwnerTeam: "netops", Application: "Jump host"},
		{Address: "127.30.0.20", Hostname: "ws-finance-01.demo.test", OwnerTeam: "finance", Application: "Workstation"},
		{Address: "127.40.0.15", Hostname: "crm-app.demo.test", OwnerTeam: "sales", Application: "CRM"},
		{Address: "127.40.0.16", Hostname: "crm-cache.demo.test", OwnerTeam: "sales", Application: "CRM cache (Redis)"},
		{Address: "127.50.0.10", Hostname: "pay-gw.demo.test", OwnerTeam: "payments", Application: "Payment gateway"},
		{Address: "127.50.0.11", Hostname: "pay-db.demo.test", OwnerTeam: "payments", Application: "Payments database"},
		{Address: "127.50.0.30", Hostname: "pilot-wallet.demo.test", OwnerTeam: "ventures", Application: "Pilot wallet"},
	} {
		if _, err := app.Inventory.SaveAsset(ctx, admin, 0, a); err != nil {
			return fmt.Errorf("demo asset %s: %w", a.Address, err)
		}
	}
	// A new business: requests to its wallet answer the security assessment.
	if err := app.Inventory.SetTier(ctx, admin, "Pilot wallet", string(policy.TierInnovation)); err != nil {
		return fmt.Errorf("demo application tier: %w", err)
	}
	return seedRequests(ctx, app, actors)
}

// seedRequests drives one request into each lifecycle state.
func seedRequests(ctx context.Context, app *workflow.App, actors map[string]core.Actor) error {
	alice, pat := actors["demo-alice"], actors["demo-pat"]
	rita, lee, ivan := actors["demo-rita"], actors["demo-lee"], actors["demo-ivan"]
	expiry := time.Now().UTC().AddDate(0, 0, 90)
	type plan struct {
		by    core.Actor
		in    requests.Input
		steps []func(id uint) error
	}
	submit := func(by core.Actor) func(uint) error {
		return func(id uint) error { _, err := app.Requests.Submit(ctx, by, id); return err }
	}
	// review is the reviewer's approval: every check passes, and each
	// blocking finding gets a compensating control (the exception path).
	review := func(id uint) error {
		d, err := app.Requests.Get(ctx, rita, id)
		if err != nil {
			return err
		}
		in := requests.ReviewInput{Decision: requests.DecisionApprove, ZoneConfirmed: true, Comment: "Baseline checked on the hosts.", CompensatingControls: map[string]string{}}
		for _, item := range requests.ChecklistFor(requests.FindingsOf(d.Request)) {
			in.Checklist = append(in.Checklist, requests.ChecklistAnswer{Item: item.ID, Result: "pass"})
		}
		for _, f := range requests.FindingsOf(d.Request) {
			if f.Blocking {
				in.CompensatingControls[requests.FindingKey(f)] = "Source pinned to the named hosts on the edge firewall, access logged to the SIEM and reviewed weekly."
			}
		}
		_, err = app.Requests.Review(ctx, rita, id, in)
		return err
	}
	// approve is the whole approval: the review, then the security lead's
	// second approval when the findings call for one.
	approve := func(id uint) error {
		if err := review(id); err != nil {
			return err
		}
		d, err := app.Requests.Get(ctx, lee, id)
		if err != nil || d.Request.State != string(requests.StateInReview) {
			return err
		}
		_, err = app.Requests.SecondApproval(ctx, lee, id, requests.DecisionApprove, "Accepted: the exposure is limited to the stated sources.")
		return err
	}
	implement := func(ref string) func(uint) error {
		return func(id uint) error {
			_, err := app.Requests.Implement(ctx, ivan, id, ref, "Rule added on the edge firewall cluster.")
			return err
		}
	}
	system := func(ev requests.Event, comment string) func(uint) error {
		return func(id uint) error { _, err := app.Requests.SystemStep(ctx, id, ev, comment, nil); return err }
	}
	rule := func(src, dst, proto, ports, app, dir string) requests.RuleInput {
		return requests.RuleInput{Source: src, Destination: dst, Protocol: proto, Ports: ports, Service: app, Direction: dir}
	}
	plans := []plan{
		{alice, requests.Input{Title: "Draft: SFTP drop for the bank's statements", Justification: "The bank will push daily statements over SFTP.", ExpiresAt: expiry,
			Rules: []requests.RuleInput{rule("198.51.100.0/28", "127.10.0.10", "tcp", "22", "ssh", "ingress")}}, nil},
		{alice, requests.Input{Title: "CRM reaches its Redis cache", Justification: "The CRM keeps user sessions in Redis; without it every login is lost on restart.", ExpiresAt: expiry,
			Rules: []requests.RuleInput{rule("apps", "127.40.0.16", "tcp", "6379", "redis", "ingress")}}, []func(uint) error{submit(alice)}},
		{alice, requests.Input{Title: "Finance workstation to the CRM", Justification: "Finance exports monthly invoices from the CRM web UI.", ExpiresAt: expiry,
			Rules: []requests.RuleInput{rule("office", "127.40.0.15", "tcp", "443", "http", "ingress")}}, []func(uint) error{submit(alice), func(id uint) error {
			_, err := app.Requests.Review(ctx, rita, id, requests.ReviewInput{Decision: requests.DecisionChangesRequest, Comment: "Name the workstations (CIDRs) rather than the whole office zone."})
			return err
		}}},
		{alice, requests.Input{Title: "Telnet to the legacy mail relay", Justification: "A vendor tool only speaks telnet.", ExpiresAt: expiry,
			Rules: []requests.RuleInput{rule("office", "127.10.0.11", "tcp", "23", "telnet", "ingress")}}, []func(uint) error{submit(alice), func(id uint) error {
			_, err := app.Requests.Review(ctx, rita, id, requests.ReviewInput{Decision: requests.DecisionReject, Comment: "Telnet sends credentials in clear: use SSH (port 22) through the bastion."})
			return err
		}}},
		{alice, requests.Input{Title: "Payment gateway from the partner acquirer", Justification: "The acquirer calls our gateway for settlement callbacks.", ExpiresAt: expiry,
			Rules: []requests.RuleInput{rule("203.0.113.0/28", "127.50.0.10", "tcp", "443", "http", "ingress")}}, []func(uint) error{submit(alice), review}},
		{alice, requests.Input{Title: "Website over HTTPS", Justification: "The public website must be reachable by customers.", ExpiresAt: expiry,
			Rules: []requests.RuleInput{rule("internet", "127.10.0.10", "tcp", "80,443", "http", "ingress")}}, []func(uint) error{submit(alice), approve}},
		{alice, requests.Input{Title: "Bastion SSH for network operations", Justification: "Netops administers the transit zone from the bastion.", ExpiresAt: expiry,
			Rules: []requests.RuleInput{rule("127.30.0.0/28", "127.20.0.5", "tcp", "2222", "ssh", "ingress")}}, []func(uint) error{submit(alice), approve, implement("CHG-1042")}},
		{alice, requests.Input{Title: "Mail relay SMTP from the DMZ web servers", Justification: "The website sends order confirmations through the relay.", ExpiresAt: expiry,
			Rules: []requests.RuleInput{rule("dmz", "127.10.0.11", "tcp", "2525", "smtp", "ingress")}}, []func(uint) error{submit(alice), approve, implement("CHG-1043"), system(requests.EventVerify, "port 25 answers with an SMTP banner")}},
		{alice, requests.Input{Title: "CRM application port for the sales team", Justification: "Sales use the CRM's web front end.", ExpiresAt: expiry,
			Rules: []requests.RuleInput{rule("office", "127.40.0.15", "tcp", "8443", "http", "ingress")}}, []func(uint) error{submit(alice), approve, implement("CHG-1044"), system(requests.EventVerify, "port 8443 answers TLS with HTTP inside"), system(requests.EventActivate, "verified and in force")}},
		{alice, requests.Input{Title: "CRM metrics endpoint", Justification: "Monitoring scrapes the CRM's metrics.", ExpiresAt: expiry,
			Rules: []requests.RuleInput{rule("apps", "127.40.0.15", "tcp", "9100", "http", "ingress")}}, []func(uint) error{submit(alice), approve, implement("CHG-1045"), system(requests.EventFailVerify, "port 9100 is closed on 127.40.0.15")}},
		{alice, requests.Input{Title: "Temporary vendor access to the CRM", Justification: "Vendor upgrade project, finished.", ExpiresAt: expiry,
			Rules: []requests.RuleInput{rule("127.30.0.20", "127.40.0.15", "tcp", "443", "http", "ingress")}}, []func(uint) error{submit(alice), approve, implement("CHG-0990"), system(requests.EventVerify, "answered"), system(requests.EventActivate, "in force"), system(requests.EventExpire, "not re-certified before its expiry")}},
		{alice, requests.Input{Title: "Database access for the reporting tool", Justification: "The reporting tool reads the payments database nightly.", ExpiresAt: expiry,
			Rules: []requests.RuleInput{rule("apps", "127.50.0.11", "tcp", "5432", "postgresql", "ingress")}}, []func(uint) error{submit(alice), approve, func(id uint) error {
			_, err := app.Requests.Revoke(ctx, rita, id, "The reporting tool was decommissioned.")
			return err
		}}},
		{alice, requests.Input{Title: "Test opening, filed by mistake", Justification: "Filed by mistake.", ExpiresAt: expiry,
			Rules: []requests.RuleInput{rule("office", "127.40.0.15", "tcp", "8080", "http", "ingress")}}, []func(uint) error{func(id uint) error {
			_, err := app.Requests.Cancel(ctx, alice, id, "filed by mistake")
			return err
		}}},
		{pat, requests.Input{Title: "Security scanner to the apps zone", Justification: "Pat's team runs authenticated vulnerability scans of the apps zone.", ExpiresAt: expiry,
			Rules: []requests.RuleInput{rule("127.20.0.5", "127.40.0.15", "tcp", "22", "ssh", "ingress")}}, []func(uint) error{submit(pat)}},
	}
	for _, p := range plans {
		req, err := app.Requests.Create(ctx, p.by, p.in)
		if err != nil {
			return fmt.Errorf("demo request %q: %w", p.in.Title, err)
		}
		for _, step := range p.steps {
			if err := step(req.ID); err != nil {
				return fmt.Errorf("demo request %q: %w", p.in.Title, err)
			}
		}
	}
	return nil
}
