package requests_test

import (
	"cmp"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/identity"
	"github.com/portcullis/portcullis/workflow/paging"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// walk reads every page of a list, adding rows between pages with grow,
// and returns the ids in the order the pages gave them.
func walk[T, K any](t *testing.T, limit int, read func(paging.Request[K]) (paging.Page[T], error), id func(T) uint, grow func(page int)) []uint {
	t.Helper()
	var ids []uint
	page := paging.Request[K]{Limit: limit}
	for n := 0; ; n++ {
		p, err := read(page)
		if err != nil {
			t.Fatalf("page %d: %v", n, err)
		}
		if len(p.Items) > limit {
			t.Fatalf("page %d holds %d rows, more than the limit %d", n, len(p.Items), limit)
		}
		for _, it := range p.Items {
			ids = append(ids, id(it))
		}
		if p.Next == "" {
			return ids
		}
		if grow != nil {
			grow(n)
		}
		if page, err = paging.Parse[K]("", p.Next); err != nil {
			t.Fatal(err)
		}
		page.Limit = limit
		if n > 1000 {
			t.Fatal("the pages never end")
		}
	}
}

func once(t *testing.T, what string, got, want []uint) {
	t.Helper()
	seen := map[uint]int{}
	for _, id := range got {
		seen[id]++
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("%s: #%d seen %d times, want once (got %v)", what, id, seen[id], got)
		}
	}
}

func TestListPagesWhatTheActorMaySee(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	paula, err := w.App.Identity.Login(w.Ctx, identity.Identity{Issuer: "https://idp.test", Subject: "paula", Email: "paula@example.test", Name: "paula", Team: "payments", Roles: []core.Role{core.RoleRequester}})
	workflowtest.Must(t, err)
	var alices, paulas, bobs []uint
	for i := range 5 {
		alices = append(alices, w.Create(t, w.Alice, workflowtest.LowRisk()).ID)
		paulas = append(paulas, w.Create(t, paula, workflowtest.LowRisk()).ID)
		bobs = append(bobs, w.Create(t, w.Bob, workflowtest.LowRisk()).ID)
		if i%2 == 0 {
			_, err := w.App.Requests.Submit(w.Ctx, w.Alice, alices[i])
			workflowtest.Must(t, err)
		}
	}
	list := func(a core.Actor, f requests.Filter) func(paging.Request[requests.ListKey]) (paging.Page[models.Request], error) {
		return func(p paging.Request[requests.ListKey]) (paging.Page[models.Request], error) {
			return w.App.Requests.ListPage(w.Ctx, a, f, p)
		}
	}
	id := func(r models.Request) uint { return r.ID }
	desc := func(ids []uint) bool {
		return slices.IsSortedFunc(ids, func(a, b uint) int { return cmp.Compare(b, a) })
	}

	// Alice sees her team's: her own and Paula's, never Bob's; newest first.
	var added []uint
	got := walk(t, 2, list(w.Alice, requests.Filter{}), id, func(int) {
		// Rows added while the list is walked are newer: they do not shift it.
		added = append(added, w.Create(t, paula, workflowtest.LowRisk()).ID)
	})
	once(t, "alice's list", got, append(slices.Clone(alices), paulas...))
	if len(got) != len(alices)+len(paulas) || !desc(got) {
		t.Errorf("alice's list %v: want her 5 and paula's 5, newest first", got)
	}
	for _, b := range bobs {
		if slices.Contains(got, b) {
			t.Errorf("alice sees bob's #%d", b)
		}
	}
	// Only her own, and a state filter.
	newest := slices.Clone(alices)
	slices.Reverse(newest)
	if got := walk(t, 2, list(w.Alice, requests.Filter{Mine: true}), id, nil); !slices.Equal(got, newest) {
		t.Errorf("alice's own: %v, want %v reversed", got, alices)
	}
	submitted := walk(t, 1, list(w.Alice, requests.Filter{States: []requests.State{requests.StateSubmitted}}), id, nil)
	if !slices.Equal(submitted, []uint{alices[4], alices[2], alices[0]}) {
		t.Errorf("alice's submitted: %v", submitted)
	}
	// A reviewer sees everything; several states are merged in id order.
	all := walk(t, 3, list(w.Rita, requests.Filter{}), id, nil)
	everything := slices.Concat(alices, paulas, bobs, added)
	once(t, "rita's list", all, everything)
	if len(all) != len(everything) || !desc(all) {
		t.Errorf("rita's list %v", all)
	}
	both := walk(t, 2, list(w.Rita, requests.Filter{States: []requests.State{requests.StateSubmitted, requests.StateDraft}}), id, nil)
	if len(both) != len(everything) || !desc(both) {
		t.Errorf("drafts and submitted: %v", both)
	}
	// Counts agree with the lists, by aggregate.
	counts, err := w.App.Requests.Counts(w.Ctx, w.Alice)
	workflowtest.Must(t, err)
	if counts[requests.StateSubmitted] != 3 || counts[requests.StateDraft] != 7+len(added) {
		t.Errorf("alice's counts %v", counts)
	}
}

func TestQueueAndRegisterPages(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	var queued []uint
	for range 5 {
		queued = append(queued, w.Submitted(t, workflowtest.LowRisk()).ID)
	}
	review := func(p paging.Request[requests.QueueKey]) (paging.Page[models.Request], error) {
		return w.App.Requests.ReviewQueuePage(w.Ctx, w.Rita, p)
	}
	var late []uint
	got := walk(t, 2, review, func(r models.Request) uint { return r.ID }, func(int) {
		late = append(late, w.Submitted(t, workflowtest.LowRisk()).ID)
	})
	once(t, "review queue", got, queued)
	if !slices.Equal(got[:5], queued) {
		t.Errorf("review queue %v: want the oldest submissions first %v", got, queued)
	}
	counts, err := w.App.Requests.CountQueues(w.Ctx, w.Rita)
	workflowtest.Must(t, err)
	if counts.Review == nil || *counts.Review != len(queued)+len(late) || counts.Implementation != nil {
		t.Errorf("rita's queue counts %+v", counts)
	}

	// The register: approved rules, soonest expiry first, each once.
	now := time.Now().UTC()
	var inForce []uint
	for i := range 5 {
		in := workflowtest.LowRisk()
		in.ExpiresAt = now.Add(time.Duration(30+10*((i*3)%5)) * 24 * time.Hour)
		inForce = append(inForce, w.Implemented(t, in))
	}
	reg := func(p paging.Request[requests.RegisterKey]) (paging.Page[requests.RegisterEntry], error) {
		return w.App.Requests.RegisterPage(w.Ctx, w.Aude, p)
	}
	var entries []requests.RegisterEntry
	got = walk(t, 2, reg, func(e requests.RegisterEntry) uint { entries = append(entries, e); return e.Request.ID }, nil)
	once(t, "register", got, inForce)
	if len(got) != len(inForce) || !slices.IsSortedFunc(entries, func(a, b requests.RegisterEntry) int {
		return cmp.Or(a.Request.ExpiresAt.Compare(b.Request.ExpiresAt), cmp.Compare(a.Request.ID, b.Request.ID))
	}) {
		t.Errorf("register %v: want each opening once, soonest expiry first", got)
	}
	if len(entries[0].Approvers) != 1 || entries[0].Approvers[0] != "rita@example.test" {
		t.Errorf("register approvers %v", entries[0].Approvers)
	}
}

func overlaps(ev *requests.Evaluation) bool {
	return slices.ContainsFunc(ev.Findings, func(f requests.Finding) bool { return f.Code == policy.CodeOverlapDuplicate })
}

// The rules in force are indexed once and reused until they change: an
// approval is judged against by the next evaluation, a revocation frees
// it, and another instance's change is seen too.
func TestActiveRuleIndexFollowsChanges(t *testing.T) {
	db := modelstest.SQLite(t)
	w := workflowtest.NewWorld(t, db)
	other := workflow.New(db, modelstest.Logger()) // a second instance on the same database
	in := workflowtest.LowRisk()
	specs := requests.SpecsOf(in.Rules)
	evaluate := func(app *workflow.App) *requests.Evaluation {
		t.Helper()
		ev, err := app.Requests.Evaluate(w.Ctx, specs, time.Time{})
		workflowtest.Must(t, err)
		return ev
	}
	if overlaps(evaluate(w.App)) || overlaps(evaluate(other)) {
		t.Fatal("a duplicate before anything is approved")
	}
	builds := w.App.Requests.ActiveIndexBuilds()
	evaluate(w.App)
	evaluate(w.App)
	if n := w.App.Requests.ActiveIndexBuilds(); n != builds {
		t.Errorf("nothing changed, yet the index was rebuilt %d times", n-builds)
	}

	r := w.Submitted(t, in)
	_, err := w.App.Requests.Review(w.Ctx, w.Rita, r.ID, workflowtest.ApproveInput())
	workflowtest.Must(t, err)
	if !overlaps(evaluate(w.App)) {
		t.Error("the approval is not in the next evaluation")
	}
	if !overlaps(evaluate(other)) {
		t.Error("the other instance does not see the approval")
	}
	_, err = other.Requests.Revoke(w.Ctx, w.Lee, r.ID, "no longer needed")
	workflowtest.Must(t, err)
	if overlaps(evaluate(w.App)) {
		t.Error("the revocation made on the other instance is not seen")
	}

	// Evaluations run at once while openings are approved: no race, and
	// each answer is one the database held at some point.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				evaluate(w.App)
			}
		})
	}
	for range 3 {
		w.Implemented(t, in)
	}
	wg.Wait()
	if !overlaps(evaluate(w.App)) {
		t.Error("the implemented openings are not in the evaluation after the race")
	}
}

func TestRegisterToOneHost(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	var ids []uint
	for range 3 {
		ids = append(ids, w.Implemented(t, workflowtest.LowRisk())) // to 10.50.0.10 in pci
	}
	got, more, err := w.App.Requests.RegisterTo(w.Ctx, "10.50.0.10", "pci", 10)
	workflowtest.Must(t, err)
	if len(got) != 3 || more {
		t.Fatalf("rules to 10.50.0.10: %d (more %v), want 3", len(got), more)
	}
	for _, e := range got {
		if !slices.Contains(ids, e.Request.ID) || e.Rule.Destination != "10.50.0.10" || len(e.Approvers) != 1 {
			t.Errorf("entry %+v", e)
		}
	}
	if got, more, _ := w.App.Requests.RegisterTo(w.Ctx, "10.50.0.10", "pci", 2); len(got) != 2 || !more {
		t.Errorf("limited to 2: %d, more %v", len(got), more)
	}
	if got, _, _ := w.App.Requests.RegisterTo(w.Ctx, "10.10.0.10", "dmz", 10); len(got) != 0 {
		t.Errorf("nothing is allowed to 10.10.0.10, got %d", len(got))
	}
	_, err = w.App.Requests.Revoke(w.Ctx, w.Lee, ids[0], "gone")
	workflowtest.Must(t, err)
	if got, _, _ := w.App.Requests.RegisterTo(w.Ctx, "10.50.0.10", "pci", 10); len(got) != 2 {
		t.Errorf("after a revocation: %d, want 2", len(got))
	}
}

// TestRegisterPagesEveryStateInForce: the register is one walk of the
// requests in force, whatever their state, soonest expiry first, on both
// databases; requests that are no longer (or not yet) in force are not in
// it, and a request that comes into force during the walk does not move
// the ones already listed.
func TestRegisterPagesEveryStateInForce(t *testing.T) {
	for _, db := range []struct {
		name string
		open func(testing.TB) *gorm.DB
	}{{"sqlite", modelstest.SQLite}, {"postgres", modelstest.Postgres}} {
		t.Run(db.name, func(t *testing.T) {
			w := workflowtest.NewWorld(t, db.open(t))
			now := time.Now().UTC()
			// Each state twice, expiries interleaved across the states.
			states := []requests.State{requests.StateImplemented, requests.StateVerified, requests.StateVerificationFailed,
				requests.StateActive, requests.StateApproved, requests.StateRevoked, requests.StateExpired}
			var inForce, out []uint
			for i := range 2 * len(states) {
				st := states[i%len(states)]
				in := workflowtest.LowRisk()
				in.ExpiresAt = now.Add(time.Duration(40+(i*7)%len(states)*2+i%2) * 24 * time.Hour)
				id := w.Implemented(t, in)
				// Set straight in the table: this is about the list, not the transitions.
				workflowtest.Must(t, w.App.DB().Model(&models.Request{}).Where("id = ?", id).Update("state", string(st)).Error)
				if slices.Contains(requests.InForceStates, st) {
					inForce = append(inForce, id)
				} else {
					out = append(out, id)
				}
			}
			var entries []requests.RegisterEntry
			var added []uint
			got := walk(t, 3, func(p paging.Request[requests.RegisterKey]) (paging.Page[requests.RegisterEntry], error) {
				return w.App.Requests.RegisterPage(w.Ctx, w.Aude, p)
			}, func(e requests.RegisterEntry) uint { entries = append(entries, e); return e.Request.ID }, func(page int) {
				if page == 0 {
					// Expires before everything listed: it sorts ahead of the cursor.
					in := workflowtest.LowRisk()
					in.ExpiresAt = now.Add(35 * 24 * time.Hour)
					added = append(added, w.Implemented(t, in))
				}
			})
			once(t, "register", got, inForce)
			for _, id := range slices.Concat(out, added) {
				if slices.Contains(got, id) {
					t.Errorf("the register lists #%d, which is not in force or came in ahead of the cursor", id)
				}
			}
			if !slices.IsSortedFunc(entries, func(a, b requests.RegisterEntry) int {
				return cmp.Or(a.Request.ExpiresAt.Compare(b.Request.ExpiresAt), cmp.Compare(a.Request.ID, b.Request.ID))
			}) {
				t.Errorf("register %v: want soonest expiry first, then by id", got)
			}
			for _, e := range entries {
				if len(e.Approvers) != 1 || e.Approvers[0] != "rita@example.test" {
					t.Errorf("#%d approvers %v, want rita's", e.Request.ID, e.Approvers)
				}
			}
		})
	}
}
