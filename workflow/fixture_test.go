package workflow

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
)

// world is an organisation for tests: people in every role, zones, assets.
type world struct {
	svc *Service
	ctx context.Context
	// people
	alice, bob, rita, rhea, lee, lena, ivan, aude, adam, pat, ian Actor
}

func newWorld(t *testing.T, db *gorm.DB) *world {
	t.Helper()
	w := &world{svc: NewService(db, modelstest.Logger()), ctx: context.Background()}
	login := func(sub, team string, roles ...Role) Actor {
		a, err := w.svc.Login(w.ctx, Identity{Issuer: "https://idp.test", Subject: sub, Email: sub + "@example.test", Name: sub, Team: team, Roles: roles})
		if err != nil {
			t.Fatalf("login %s: %v", sub, err)
		}
		return a
	}
	w.alice = login("alice", "payments", RoleRequester)
	w.bob = login("bob", "sales", RoleRequester)
	w.rita = login("rita", "security", RoleReviewer)
	w.rhea = login("rhea", "security", RoleReviewer)
	w.lee = login("lee", "security", RoleApprover)
	w.lena = login("lena", "security", RoleApprover)
	w.ivan = login("ivan", "netops", RoleImplementer)
	w.aude = login("aude", "audit", RoleAuditor)
	w.adam = login("adam", "platform", RoleAdmin)
	w.pat = login("pat", "security", RoleRequester, RoleReviewer)
	w.ian = login("ian", "netops", RoleRequester, RoleImplementer)
	for _, z := range []ZoneInput{
		{Name: "internet", Classification: "internet"},
		{Name: "dmz", Classification: "dmz", CIDRs: "10.10.0.0/16"},
		{Name: "transit", Classification: "transit", CIDRs: "10.20.0.0/16"},
		{Name: "office", Classification: "low", CIDRs: "10.30.0.0/16"},
		{Name: "apps", Classification: "medium", CIDRs: "10.40.0.0/16, 2001:db8:40::/48"},
		{Name: "pci", Classification: "high", CIDRs: "10.50.0.0/16"},
	} {
		if _, err := w.svc.SaveZone(w.ctx, w.adam, 0, z); err != nil {
			t.Fatalf("zone %s: %v", z.Name, err)
		}
	}
	for _, a := range []string{"10.10.0.10", "10.40.0.15", "10.40.0.16", "10.50.0.10", "2001:db8:40::15"} {
		if _, err := w.svc.SaveAsset(w.ctx, w.adam, 0, AssetInput{Address: a, Hostname: "h-" + a}); err != nil {
			t.Fatalf("asset %s: %v", a, err)
		}
	}
	return w
}

func sqliteWorld(t *testing.T) *world { return newWorld(t, modelstest.SQLite(t)) }

// lowRisk is a request the policy has nothing against: one approval.
func lowRisk() RequestInput {
	return RequestInput{
		Title: "Gateway through transit", Justification: "the bastion reaches the payment gateway's console",
		Rules: []RuleInput{{Source: "transit", Destination: "10.50.0.10", Protocol: "tcp", Ports: "443", Service: "http"}},
	}
}

// internetFacing has a high finding (a broad internet source): two approvals.
func internetFacing() RequestInput {
	return RequestInput{
		Title: "Website", Justification: "partners reach the website",
		Rules: []RuleInput{{Source: "198.51.100.0/22", Destination: "10.10.0.10", Protocol: "tcp", Ports: "443", Service: "http"}},
	}
}

// databaseFromInternet is blocked by the policy: only the exception path approves it.
func databaseFromInternet() RequestInput {
	return RequestInput{
		Title: "Vendor reads the database", Justification: "the vendor's BI tool",
		Rules: []RuleInput{{Source: "internet", Destination: "10.40.0.16", Protocol: "tcp", Ports: "3306", Service: "mysql"}},
	}
}

// fullChecklist passes every item this request's findings call for.
func fullChecklist(r *models.Request) []ChecklistAnswer {
	var out []ChecklistAnswer
	for _, item := range ChecklistFor(FindingsOf(*r)) {
		out = append(out, ChecklistAnswer{Item: item.ID, Result: "pass"})
	}
	return out
}

func passing() []ChecklistAnswer {
	var out []ChecklistAnswer
	for _, item := range BaselineChecklist {
		out = append(out, ChecklistAnswer{Item: item.ID, Result: "pass"})
	}
	return out
}

func approveInput() ReviewInput {
	return ReviewInput{Decision: DecisionApprove, ZoneConfirmed: true, Checklist: passing()}
}

func (w *world) create(t *testing.T, by Actor, in RequestInput) *models.Request {
	t.Helper()
	r, err := w.svc.CreateRequest(w.ctx, by, in)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return r
}

func (w *world) submitted(t *testing.T, in RequestInput) *models.Request {
	t.Helper()
	r := w.create(t, w.alice, in)
	if _, err := w.svc.Submit(w.ctx, w.alice, r.ID); err != nil {
		t.Fatalf("submit: %v", err)
	}
	return r
}

func (w *world) state(t *testing.T, id uint) State {
	t.Helper()
	var r models.Request
	if err := w.svc.db.First(&r, id).Error; err != nil {
		t.Fatal(err)
	}
	return State(r.State)
}

func mustCode(t *testing.T, err error, want ErrorCode) {
	t.Helper()
	if got := ErrorCodeOf(err); got != want {
		t.Fatalf("error code = %q (err %v), want %q", got, err, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
