// Package workflowtest is the organisation the domain's tests run in: people
// in every role, zones and assets, requests of each kind of risk, and a fake
// scanner that answers as configured.
package workflowtest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/identity"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/scans"
)

// World is an organisation for tests: people in every role, zones, assets.
type World struct {
	App *workflow.App
	Ctx context.Context
	// people
	Alice, Bob, Rita, Rhea, Lee, Lena, Ivan, Aude, Adam, Pat, Ian core.Actor
}

// NewWorld logs the people in and creates the zones and assets on db.
func NewWorld(t testing.TB, db *gorm.DB) *World {
	t.Helper()
	w := &World{App: workflow.New(db, modelstest.Logger()), Ctx: context.Background()}
	catalog, err := locale.New("en", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	w.App.SetLanguages(func(tag, zone string) core.Language { return catalog.Localizer(tag, "", zone) })
	login := func(sub, team string, roles ...core.Role) core.Actor {
		a, err := w.App.Identity.Login(w.Ctx, identity.Identity{Issuer: "https://idp.test", Subject: sub, Email: sub + "@example.test", Name: sub, Team: team, Roles: roles})
		if err != nil {
			t.Fatalf("login %s: %v", sub, err)
		}
		return a
	}
	w.Alice = login("alice", "payments", core.RoleRequester)
	w.Bob = login("bob", "sales", core.RoleRequester)
	w.Rita = login("rita", "security", core.RoleReviewer)
	w.Rhea = login("rhea", "security", core.RoleReviewer)
	w.Lee = login("lee", "security", core.RoleApprover)
	w.Lena = login("lena", "security", core.RoleApprover)
	w.Ivan = login("ivan", "netops", core.RoleImplementer)
	w.Aude = login("aude", "audit", core.RoleAuditor)
	w.Adam = login("adam", "platform", core.RoleAdmin)
	w.Pat = login("pat", "security", core.RoleRequester, core.RoleReviewer)
	w.Ian = login("ian", "netops", core.RoleRequester, core.RoleImplementer)
	for _, z := range []inventory.ZoneInput{
		{Name: "internet", Classification: "internet"},
		{Name: "dmz", Classification: "dmz", CIDRs: "10.10.0.0/16"},
		{Name: "transit", Classification: "transit", CIDRs: "10.20.0.0/16"},
		{Name: "office", Classification: "low", CIDRs: "10.30.0.0/16"},
		{Name: "apps", Classification: "medium", CIDRs: "10.40.0.0/16, 2001:db8:40::/48"},
		{Name: "pci", Classification: "high", CIDRs: "10.50.0.0/16"},
	} {
		if _, err := w.App.Inventory.SaveZone(w.Ctx, w.Adam, 0, z); err != nil {
			t.Fatalf("zone %s: %v", z.Name, err)
		}
	}
	for _, a := range []string{"10.10.0.10", "10.40.0.15", "10.40.0.16", "10.50.0.10", "2001:db8:40::15"} {
		if _, err := w.App.Inventory.SaveAsset(w.Ctx, w.Adam, 0, inventory.AssetInput{Address: a, Hostname: "h-" + a}); err != nil {
			t.Fatalf("asset %s: %v", a, err)
		}
	}
	return w
}

// SQLiteWorld is a world in a fresh SQLite file.
func SQLiteWorld(t testing.TB) *World { return NewWorld(t, modelstest.SQLite(t)) }

// LowRisk is a request the policy has nothing against: one approval.
func LowRisk() requests.Input {
	return requests.Input{
		Title: "Gateway through transit", Justification: "the bastion reaches the payment gateway's console",
		Rules: []requests.RuleInput{{Source: "transit", Destination: "10.50.0.10", Protocol: "tcp", Ports: "443", Service: "http"}},
	}
}

// InternetFacing has a high finding (a broad internet source): two approvals.
func InternetFacing() requests.Input {
	return requests.Input{
		Title: "Website", Justification: "partners reach the website",
		Rules: []requests.RuleInput{{Source: "198.51.100.0/22", Destination: "10.10.0.10", Protocol: "tcp", Ports: "443", Service: "http"}},
	}
}

// DatabaseFromInternet is blocked by the policy: only the exception path approves it.
func DatabaseFromInternet() requests.Input {
	return requests.Input{
		Title: "Vendor reads the database", Justification: "the vendor's BI tool",
		Rules: []requests.RuleInput{{Source: "internet", Destination: "10.40.0.16", Protocol: "tcp", Ports: "3306", Service: "mysql"}},
	}
}

// FullChecklist passes every item this request's findings call for.
func FullChecklist(r *models.Request) []requests.ChecklistAnswer {
	var out []requests.ChecklistAnswer
	for _, item := range requests.ChecklistFor(requests.FindingsOf(*r)) {
		out = append(out, requests.ChecklistAnswer{Item: item.ID, Result: "pass"})
	}
	return out
}

// Passing answers every baseline item "pass".
func Passing() []requests.ChecklistAnswer {
	var out []requests.ChecklistAnswer
	for _, item := range requests.BaselineChecklist {
		out = append(out, requests.ChecklistAnswer{Item: item.ID, Result: "pass"})
	}
	return out
}

// ApproveInput is a reviewer's approval with the zone confirmed and the baseline passed.
func ApproveInput() requests.ReviewInput {
	return requests.ReviewInput{Decision: requests.DecisionApprove, ZoneConfirmed: true, Checklist: Passing()}
}

// Create files a request as by.
func (w *World) Create(t testing.TB, by core.Actor, in requests.Input) *models.Request {
	t.Helper()
	r, err := w.App.Requests.Create(w.Ctx, by, in)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return r
}

// Submitted is a request filed and submitted by Alice.
func (w *World) Submitted(t testing.TB, in requests.Input) *models.Request {
	t.Helper()
	r := w.Create(t, w.Alice, in)
	if _, err := w.App.Requests.Submit(w.Ctx, w.Alice, r.ID); err != nil {
		t.Fatalf("submit: %v", err)
	}
	return r
}

// State reads a request's state from the database.
func (w *World) State(t testing.TB, id uint) requests.State {
	t.Helper()
	var r models.Request
	if err := w.App.DB().First(&r, id).Error; err != nil {
		t.Fatal(err)
	}
	return requests.State(r.State)
}

// Implemented is a low-risk-reviewed request approved by Rita and implemented by Ivan.
func (w *World) Implemented(t testing.TB, in requests.Input) uint {
	t.Helper()
	r := w.Submitted(t, in)
	_, err := w.App.Requests.Review(w.Ctx, w.Rita, r.ID, ApproveInput())
	Must(t, err)
	_, err = w.App.Requests.Implement(w.Ctx, w.Ivan, r.ID, "CHG-9", "")
	Must(t, err)
	return r.ID
}

// RunQueued runs every queued scan to its end, oldest first, through the
// function the scan job calls (without the job engine).
func (w *World) RunQueued(t testing.TB) {
	t.Helper()
	for {
		var ids []uint
		Must(t, w.App.DB().Model(&models.ScanRun{}).Where("status = ?", "queued").Order("id").Limit(1).Pluck("id", &ids).Error)
		if len(ids) == 0 {
			return
		}
		if err := w.App.Scans.Run(w.Ctx, ids[0], "test", 0); err != nil {
			t.Fatalf("scan %d: %v", ids[0], err)
		}
	}
}

// ScheduleDue finds the due scan slots as the periodic job does, then
// queues their runs as the slot jobs do (without the job engine); it
// returns the number of slots found due.
func (w *World) ScheduleDue(t testing.TB) (int, error) {
	t.Helper()
	n, err := w.App.Scans.ScheduleDue(w.Ctx)
	if err != nil {
		return n, err
	}
	res, err := w.App.Jobs.Client().JobList(w.Ctx, river.NewJobListParams().Kinds(scans.SlotArgs{}.Kind()).States(rivertype.JobStateAvailable).First(10000))
	Must(t, err)
	for _, j := range res.Jobs {
		var slot scans.SlotArgs
		Must(t, json.Unmarshal(j.EncodedArgs, &slot))
		if _, err := w.App.Scans.QueueSlot(w.Ctx, slot); err != nil {
			return n, err
		}
	}
	return n, nil
}

// DeliverPending makes one attempt at every pending alert delivery, through
// the function the delivery job calls (without the job engine), and returns
// how many were delivered.
func DeliverPending(t testing.TB, app *workflow.App) int {
	t.Helper()
	var ids []uint
	Must(t, app.DB().Model(&models.AlertDelivery{}).Where("status = ?", "pending").Order("id").Pluck("id", &ids).Error)
	for _, id := range ids {
		if err := app.Alerts.Deliver(context.Background(), id, 1, 8); err != nil {
			t.Logf("delivery %d: %v", id, err)
		}
	}
	var n int64
	Must(t, app.DB().Model(&models.AlertDelivery{}).Where("id IN ? AND status = ?", ids, "delivered").Count(&n).Error)
	return int(n)
}

// MustCode fails unless err is a domain error with the code want.
func MustCode(t testing.TB, err error, want core.ErrorCode) {
	t.Helper()
	if got := core.ErrorCodeOf(err); got != want {
		t.Fatalf("error code = %q (err %v), want %q", got, err, want)
	}
}

// Must fails on any error.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// FakeScanner answers every scan with the ports it was given, as a scanner
// would have seen them on the wire.
type FakeScanner struct {
	Open map[string][]scans.Port // by address
	Jobs []scans.Job
	mu   sync.Mutex // the job engine runs scans at once
}

// Resolve fills in the default ports.
func (f *FakeScanner) Resolve(job scans.Job) (scans.Job, error) {
	if len(job.TCPPorts) == 0 && len(job.UDPPorts) == 0 {
		job.TCPPorts = []uint16{22, 80, 443, 3306, 6379, 8443}
	}
	return job, nil
}

// Scan reports the configured open ports of each target.
func (f *FakeScanner) Scan(ctx context.Context, job scans.Job, progress func(scans.Progress)) ([]byte, error) {
	f.mu.Lock()
	f.Jobs = append(f.Jobs, job)
	f.mu.Unlock()
	progress(scans.Progress{HostsTotal: len(job.Targets), Phase: "tcp"})
	rep := scans.Report{Schema: "portcullis.scan/v1", StartedAt: time.Now(), FinishedAt: time.Now(), Profile: job.Profile}
	for _, a := range job.Targets {
		rep.Hosts = append(rep.Hosts, scans.Host{Address: a.String(), State: "up", Ports: f.Open[a.String()]})
	}
	return json.Marshal(rep)
}

// FieldErrorsOf maps each invalid field of a domain error to its message.
func FieldErrorsOf(err error) map[string]string {
	out := map[string]string{}
	if fe, ok := err.(core.FieldErrors); ok {
		for _, e := range fe {
			out[e.Field] = e.Message
		}
	} else if de, ok := err.(*core.Error); ok {
		out[de.Field] = de.Message
	}
	return out
}
