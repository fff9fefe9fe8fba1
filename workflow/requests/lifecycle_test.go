package requests_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// TestEveryStateEventPair tries each action from each state and checks that
// it succeeds exactly where the lifecycle table allows it, and that a
// refusal changes nothing.
func TestEveryStateEventPair(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	type action struct {
		name    string
		allowed []requests.State
		to      requests.State
		run     func(id uint) error
	}
	fromTable := requests.FromStates
	actions := []action{
		{"submit", fromTable(requests.EventSubmit), requests.StateSubmitted, func(id uint) error { _, err := w.App.Requests.Submit(w.Ctx, w.Alice, id); return err }},
		{"edit", fromTable(requests.EventEdit), "", func(id uint) error {
			_, err := w.App.Requests.Update(w.Ctx, w.Alice, id, workflowtest.LowRisk())
			return err
		}},
		// A review of a submitted request claims it first, in the same transaction.
		{"approve", append(fromTable(requests.EventClaim), fromTable(requests.EventApprove)...), requests.StateApproved, func(id uint) error {
			_, err := w.App.Requests.Review(w.Ctx, w.Rita, id, workflowtest.ApproveInput())
			return err
		}},
		{"reject", append(fromTable(requests.EventClaim), fromTable(requests.EventReject)...), requests.StateRejected, func(id uint) error {
			_, err := w.App.Requests.Review(w.Ctx, w.Rita, id, requests.ReviewInput{Decision: requests.DecisionReject, Comment: "no"})
			return err
		}},
		{"request_changes", append(fromTable(requests.EventClaim), fromTable(requests.EventRequestChanges)...), requests.StateChangesRequested, func(id uint) error {
			_, err := w.App.Requests.Review(w.Ctx, w.Rita, id, requests.ReviewInput{Decision: requests.DecisionChangesRequest, Comment: "narrow the source"})
			return err
		}},
		{"implement", fromTable(requests.EventImplement), requests.StateImplemented, func(id uint) error { _, err := w.App.Requests.Implement(w.Ctx, w.Ivan, id, "CHG-1", ""); return err }},
		{"cancel", fromTable(requests.EventCancel), requests.StateCancelled, func(id uint) error {
			_, err := w.App.Requests.Cancel(w.Ctx, w.Alice, id, "filed by mistake")
			return err
		}},
		{"revoke", fromTable(requests.EventRevoke), requests.StateRevoked, func(id uint) error { _, err := w.App.Requests.Revoke(w.Ctx, w.Rita, id, "decommissioned"); return err }},
		{"verify", fromTable(requests.EventVerify), requests.StateVerified, func(id uint) error {
			_, err := w.App.Requests.SystemStep(w.Ctx, id, requests.EventVerify, "", nil)
			return err
		}},
		{"fail_verification", fromTable(requests.EventFailVerify), requests.StateVerificationFailed, func(id uint) error {
			_, err := w.App.Requests.SystemStep(w.Ctx, id, requests.EventFailVerify, "", nil)
			return err
		}},
		{"activate", fromTable(requests.EventActivate), requests.StateActive, func(id uint) error {
			_, err := w.App.Requests.SystemStep(w.Ctx, id, requests.EventActivate, "", nil)
			return err
		}},
		{"expire", fromTable(requests.EventExpire), requests.StateExpired, func(id uint) error {
			_, err := w.App.Requests.SystemStep(w.Ctx, id, requests.EventExpire, "", nil)
			return err
		}},
	}
	for _, st := range requests.AllStates {
		for _, a := range actions {
			t.Run(string(st)+"/"+a.name, func(t *testing.T) {
				r := w.Create(t, w.Alice, workflowtest.LowRisk())
				workflowtest.Must(t, w.App.DB().Model(&models.Request{}).Where("id = ?", r.ID).Update("state", string(st)).Error)
				before := countEvents(t, w.App.DB(), r.ID)
				err := a.run(r.ID)
				if slices.Contains(a.allowed, st) {
					if err != nil {
						t.Fatalf("%s from %s refused: %v", a.name, st, err)
					}
					want := a.to
					if want == "" { // an edit keeps the state, but sends a request in review back to the queue
						want = st
						if st == requests.StateInReview {
							want = requests.StateSubmitted
						}
					}
					if got := w.State(t, r.ID); got != want {
						t.Fatalf("%s from %s: state %s, want %s", a.name, st, got, want)
					}
					if countEvents(t, w.App.DB(), r.ID) <= before {
						t.Fatalf("%s from %s wrote no audit event", a.name, st)
					}
					return
				}
				workflowtest.MustCode(t, err, core.CodeConflict)
				if got := w.State(t, r.ID); got != st {
					t.Fatalf("refused %s changed the state to %s", a.name, got)
				}
				if n := countEvents(t, w.App.DB(), r.ID); n != before {
					t.Fatalf("refused %s wrote %d audit events", a.name, n-before)
				}
			})
		}
	}
}

func countEvents(t *testing.T, db *gorm.DB, id uint) int64 {
	t.Helper()
	var n int64
	workflowtest.Must(t, db.Model(&models.AuditEvent{}).Where("object_type = ? AND object_id = ?", "request", id).Count(&n).Error)
	return n
}

func TestSeparationOfDuties(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	t.Run("requester cannot review own request", func(t *testing.T) {
		r := w.Create(t, w.Pat, workflowtest.LowRisk())
		_, err := w.App.Requests.Submit(w.Ctx, w.Pat, r.ID)
		workflowtest.Must(t, err)
		_, err = w.App.Requests.Review(w.Ctx, w.Pat, r.ID, workflowtest.ApproveInput())
		workflowtest.MustCode(t, err, core.CodeForbidden)
		if !strings.Contains(err.Error(), "separation of duties") {
			t.Errorf("message %q does not name separation of duties", err)
		}
		if got := w.State(t, r.ID); got != requests.StateSubmitted {
			t.Errorf("state %s, want submitted", got)
		}
	})
	t.Run("requester cannot implement own request", func(t *testing.T) {
		r := w.Create(t, w.Ian, workflowtest.LowRisk())
		_, err := w.App.Requests.Submit(w.Ctx, w.Ian, r.ID)
		workflowtest.Must(t, err)
		_, err = w.App.Requests.Review(w.Ctx, w.Rita, r.ID, workflowtest.ApproveInput())
		workflowtest.Must(t, err)
		_, err = w.App.Requests.Implement(w.Ctx, w.Ian, r.ID, "CHG-9", "")
		workflowtest.MustCode(t, err, core.CodeForbidden)
	})
	t.Run("the two approvals come from two people", func(t *testing.T) {
		r := w.Submitted(t, workflowtest.InternetFacing())
		_, err := w.App.Requests.Review(w.Ctx, w.Lee, r.ID, workflowtest.ApproveInput())
		workflowtest.Must(t, err)
		if got := w.State(t, r.ID); got != requests.StateInReview {
			t.Fatalf("after the first of two approvals: %s, want in_review", got)
		}
		_, err = w.App.Requests.SecondApproval(w.Ctx, w.Lee, r.ID, requests.DecisionApprove, "")
		workflowtest.MustCode(t, err, core.CodeForbidden)
		_, err = w.App.Requests.SecondApproval(w.Ctx, w.Lena, r.ID, requests.DecisionApprove, "")
		workflowtest.Must(t, err)
		if got := w.State(t, r.ID); got != requests.StateApproved {
			t.Fatalf("after two approvals: %s", got)
		}
	})
	t.Run("a first approval cannot be repeated by another reviewer", func(t *testing.T) {
		r := w.Submitted(t, workflowtest.InternetFacing())
		_, err := w.App.Requests.Review(w.Ctx, w.Rita, r.ID, workflowtest.ApproveInput())
		workflowtest.Must(t, err)
		_, err = w.App.Requests.Review(w.Ctx, w.Rhea, r.ID, workflowtest.ApproveInput())
		workflowtest.MustCode(t, err, core.CodeConflict)
	})
	t.Run("a reviewer cannot give the second approval", func(t *testing.T) {
		r := w.Submitted(t, workflowtest.InternetFacing())
		_, err := w.App.Requests.Review(w.Ctx, w.Rita, r.ID, workflowtest.ApproveInput())
		workflowtest.Must(t, err)
		_, err = w.App.Requests.SecondApproval(w.Ctx, w.Rhea, r.ID, requests.DecisionApprove, "")
		workflowtest.MustCode(t, err, core.CodeForbidden)
	})
	t.Run("roles", func(t *testing.T) {
		r := w.Submitted(t, workflowtest.LowRisk())
		for _, tc := range []struct {
			name string
			err  error
		}{
			{"requester reviews", func() error {
				_, err := w.App.Requests.Review(w.Ctx, w.Bob, r.ID, workflowtest.ApproveInput())
				return err
			}()},
			{"implementer reviews", func() error {
				_, err := w.App.Requests.Review(w.Ctx, w.Ivan, r.ID, workflowtest.ApproveInput())
				return err
			}()},
			{"auditor reviews", func() error {
				_, err := w.App.Requests.Review(w.Ctx, w.Aude, r.ID, workflowtest.ApproveInput())
				return err
			}()},
			{"reviewer files", func() error {
				_, err := w.App.Requests.Create(w.Ctx, w.Rita, workflowtest.LowRisk())
				return err
			}()},
			{"other requester submits", func() error { _, err := w.App.Requests.Submit(w.Ctx, w.Bob, r.ID); return err }()},
			{"admin-less zone change", func() error {
				_, err := w.App.Inventory.SaveZone(w.Ctx, w.Rita, 0, inventory.ZoneInput{Name: "x", Classification: "low", CIDRs: "10.99.0.0/16"})
				return err
			}()},
		} {
			if code := core.ErrorCodeOf(tc.err); code != core.CodeForbidden && code != core.CodeNotFound {
				t.Errorf("%s: code %q (%v), want forbidden", tc.name, code, tc.err)
			}
		}
	})
	t.Run("requesters see only their team's requests", func(t *testing.T) {
		r := w.Create(t, w.Alice, workflowtest.LowRisk())
		_, err := w.App.Requests.Get(w.Ctx, w.Bob, r.ID)
		workflowtest.MustCode(t, err, core.CodeNotFound)
		if _, err := w.App.Requests.Get(w.Ctx, w.Aude, r.ID); err != nil {
			t.Errorf("auditor cannot read: %v", err)
		}
	})
}

func TestEditAfterSubmissionVoidsApprovals(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	r := w.Submitted(t, workflowtest.InternetFacing())
	_, err := w.App.Requests.Review(w.Ctx, w.Rita, r.ID, workflowtest.ApproveInput())
	workflowtest.Must(t, err)
	q, err := w.App.Requests.ApprovalQueue(w.Ctx, w.Lee)
	workflowtest.Must(t, err)
	if len(q) != 1 {
		t.Fatalf("approval queue has %d, want 1", len(q))
	}
	edited := workflowtest.InternetFacing()
	edited.Rules[0].Ports = "443,8443"
	_, err = w.App.Requests.Update(w.Ctx, w.Alice, r.ID, edited)
	workflowtest.Must(t, err)
	if got := w.State(t, r.ID); got != requests.StateSubmitted {
		t.Fatalf("state after edit %s, want submitted", got)
	}
	q, _ = w.App.Requests.ApprovalQueue(w.Ctx, w.Lee)
	if len(q) != 0 {
		t.Fatalf("voided approval still in the approval queue")
	}
	_, err = w.App.Requests.SecondApproval(w.Ctx, w.Lee, r.ID, requests.DecisionApprove, "")
	workflowtest.MustCode(t, err, core.CodeConflict)
	d, err := w.App.Requests.Get(w.Ctx, w.Alice, r.ID)
	workflowtest.Must(t, err)
	if d.FirstApproval != nil || !d.Reviews[0].Voided {
		t.Fatalf("the first approval was not voided: %+v", d.Reviews)
	}
	rq, _ := w.App.Requests.ReviewQueue(w.Ctx, w.Rita)
	if len(rq) != 1 || rq[0].ID != r.ID {
		t.Fatalf("edited request is not back in the review queue")
	}
}

func TestApprovalNeedsBaselineAndZone(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	r := w.Submitted(t, workflowtest.LowRisk())
	in := workflowtest.ApproveInput()
	in.ZoneConfirmed = false
	_, err := w.App.Requests.Review(w.Ctx, w.Rita, r.ID, in)
	workflowtest.MustCode(t, err, core.CodeInvalid)
	in = workflowtest.ApproveInput()
	in.Checklist[0] = requests.ChecklistAnswer{Item: in.Checklist[0].Item, Result: "fail", Note: "kernel two years old"}
	_, err = w.App.Requests.Review(w.Ctx, w.Rita, r.ID, in)
	workflowtest.MustCode(t, err, core.CodeInvalid)
	in = workflowtest.ApproveInput()
	in.Checklist = in.Checklist[1:]
	_, err = w.App.Requests.Review(w.Ctx, w.Rita, r.ID, in)
	workflowtest.MustCode(t, err, core.CodeInvalid)
	in = workflowtest.ApproveInput()
	in.Checklist[2] = requests.ChecklistAnswer{Item: in.Checklist[2].Item, Result: "na"}
	_, err = w.App.Requests.Review(w.Ctx, w.Rita, r.ID, in)
	workflowtest.MustCode(t, err, core.CodeInvalid)
	if got := w.State(t, r.ID); got != requests.StateSubmitted {
		t.Fatalf("refused reviews changed the state to %s", got)
	}
	in.Checklist[2].Note = "no authentication in this protocol"
	_, err = w.App.Requests.Review(w.Ctx, w.Rita, r.ID, in)
	workflowtest.Must(t, err)
	if got := w.State(t, r.ID); got != requests.StateApproved {
		t.Fatalf("state %s, want approved", got)
	}
}

func TestSecondApprovalFollowsTheFindings(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	for _, tc := range []struct {
		name string
		rule requests.RuleInput
		want bool
	}{
		{"nothing to say", requests.RuleInput{Source: "transit", Destination: "10.50.0.10", Protocol: "tcp", Ports: "443", Service: "http"}, false},
		{"the internet on 443 to the DMZ", requests.RuleInput{Source: "internet", Destination: "10.10.0.10", Protocol: "tcp", Ports: "443", Service: "http"}, false},
		{"a broad internet source (high)", requests.RuleInput{Source: "198.51.100.0/22", Destination: "10.10.0.10", Protocol: "tcp", Ports: "443", Service: "http"}, true},
		{"cleartext redis (high)", requests.RuleInput{Source: "apps", Destination: "10.40.0.16", Protocol: "tcp", Ports: "6379", Service: "redis"}, true},
		{"a blocking zone path", requests.RuleInput{Source: "office", Destination: "10.40.0.15", Protocol: "tcp", Ports: "443"}, true},
		{"IPv6 inside a zone", requests.RuleInput{Source: "2001:db8:40::/64", Destination: "2001:db8:40::15", Protocol: "tcp", Ports: "443", Service: "http"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.Create(t, w.Alice, requests.Input{Title: tc.name, Justification: "x", Rules: []requests.RuleInput{tc.rule}})
			if r.NeedsSecondApproval != tc.want {
				t.Fatalf("needs second approval = %v, want %v (findings %s)", r.NeedsSecondApproval, tc.want, r.Findings)
			}
		})
	}
}

// TestExceptionPath: a blocking finding stops approval; compensating
// controls for each blocking finding and a security lead's second approval
// let it through, marked as an exception.
func TestExceptionPath(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	r := w.Submitted(t, workflowtest.DatabaseFromInternet())
	stored, err := w.App.Requests.Get(w.Ctx, w.Rita, r.ID)
	workflowtest.Must(t, err)
	findings := requests.FindingsOf(stored.Request)
	var blocking []string
	for _, f := range findings {
		if f.Blocking {
			blocking = append(blocking, requests.FindingKey(f))
		}
	}
	if !slices.Contains(blocking, "0:internet-high-risk") {
		t.Fatalf("no internet-high-risk finding: %+v", findings)
	}
	in := requests.ReviewInput{Decision: requests.DecisionApprove, ZoneConfirmed: true, Checklist: workflowtest.FullChecklist(&stored.Request)}
	_, err = w.App.Requests.Review(w.Ctx, w.Rita, r.ID, in)
	workflowtest.MustCode(t, err, core.CodeInvalid)
	if msgs := workflowtest.FieldErrorsOf(err); msgs["compensating_controls[0:internet-high-risk]"] == "" {
		t.Fatalf("refusal does not name the finding: %v", msgs)
	}
	// The required control cannot be waved through as not applicable.
	in.CompensatingControls = map[string]string{}
	for _, k := range blocking {
		in.CompensatingControls[k] = "Source restricted at the edge to the vendor's two egress addresses; TLS client certificates"
	}
	na := slices.Clone(in.Checklist)
	for i, a := range na {
		if strings.HasPrefix(a.Item, "control-") {
			na[i] = requests.ChecklistAnswer{Item: a.Item, Result: "na", Note: "not needed"}
		}
	}
	_, err = w.App.Requests.Review(w.Ctx, w.Rita, r.ID, requests.ReviewInput{Decision: requests.DecisionApprove, ZoneConfirmed: true, Checklist: na, CompensatingControls: in.CompensatingControls})
	workflowtest.MustCode(t, err, core.CodeInvalid)
	if got := w.State(t, r.ID); got != requests.StateSubmitted {
		t.Fatalf("refused approvals changed the state to %s", got)
	}
	_, err = w.App.Requests.Review(w.Ctx, w.Rita, r.ID, in)
	workflowtest.Must(t, err)
	d, err := w.App.Requests.Get(w.Ctx, w.Lee, r.ID)
	workflowtest.Must(t, err)
	if got := requests.State(d.Request.State); got != requests.StateInReview || !d.Request.Exception || !d.Request.NeedsSecondApproval {
		t.Fatalf("after the reviewer's exception: %s exception=%v", got, d.Request.Exception)
	}
	if requests.ControlsOf(d.Request)["0:internet-high-risk"] == "" {
		t.Fatal("compensating control not recorded")
	}
	// A reviewer cannot complete an exception; the security lead can.
	_, err = w.App.Requests.SecondApproval(w.Ctx, w.Rhea, r.ID, requests.DecisionApprove, "")
	workflowtest.MustCode(t, err, core.CodeForbidden)
	_, err = w.App.Requests.SecondApproval(w.Ctx, w.Lee, r.ID, requests.DecisionApprove, "accepted with controls")
	workflowtest.Must(t, err)
	reg, err := w.App.Requests.RuleRegister(w.Ctx, w.Aude)
	workflowtest.Must(t, err)
	if len(reg) != 1 || !reg[0].Request.Exception {
		t.Fatalf("register does not mark the exception: %+v", reg)
	}
	// The overlap check now sees the approved rule.
	again := w.Create(t, w.Alice, workflowtest.DatabaseFromInternet())
	if !strings.Contains(again.Findings, "overlap-duplicate") || !strings.Contains(again.Findings, fmt.Sprintf("request #%d", r.ID)) {
		t.Fatalf("duplicate not reported: %s", again.Findings)
	}
}

func TestBadInputNamesTheField(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	ok := requests.RuleInput{Source: "office", Destination: "10.40.0.15", Protocol: "tcp", Ports: "443"}
	with := func(f func(*requests.RuleInput)) requests.Input {
		r := ok
		f(&r)
		return requests.Input{Title: "t", Justification: "j", Rules: []requests.RuleInput{ok, r}}
	}
	for _, tc := range []struct {
		name, field, msg string
		in               requests.Input
	}{
		{"invalid CIDR", "rules[1].source", "not a valid CIDR", with(func(r *requests.RuleInput) { r.Source = "10.0.0.0/33" })},
		{"host bits", "rules[1].source", "host bits", with(func(r *requests.RuleInput) { r.Source = "10.1.2.3/16" })},
		{"port 0", "rules[1].ports", "out of range", with(func(r *requests.RuleInput) { r.Ports = "0" })},
		{"port 70000", "rules[1].ports", "out of range", with(func(r *requests.RuleInput) { r.Ports = "70000" })},
		{"backwards range", "rules[1].ports", "backwards", with(func(r *requests.RuleInput) { r.Ports = "9000-8000" })},
		{"unknown zone", "rules[1].source", "no zone named", with(func(r *requests.RuleInput) { r.Source = "nowhere" })},
		{"unknown asset", "rules[1].destination", "not in the inventory", with(func(r *requests.RuleInput) { r.Destination = "10.40.9.9" })},
		{"bad protocol", "rules[1].protocol", "not tcp or udp", with(func(r *requests.RuleInput) { r.Protocol = "icmp" })},
		{"unknown service", "rules[1].service", "not a known service", with(func(r *requests.RuleInput) { r.Service = "gopher" })},
		{"empty justification", "justification", "required", requests.Input{Title: "t", Rules: []requests.RuleInput{ok}}},
		{"no rules", "rules", "at least one rule", requests.Input{Title: "t", Justification: "j"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before int64
			w.App.DB().Model(&models.Request{}).Count(&before)
			_, err := w.App.Requests.Create(w.Ctx, w.Alice, tc.in)
			workflowtest.MustCode(t, err, core.CodeInvalid)
			msgs := workflowtest.FieldErrorsOf(err)
			if !strings.Contains(msgs[tc.field], tc.msg) {
				t.Fatalf("field %s: message %q, want one containing %q (all: %v)", tc.field, msgs[tc.field], tc.msg, msgs)
			}
			var after int64
			w.App.DB().Model(&models.Request{}).Count(&after)
			var rules int64
			w.App.DB().Model(&models.Rule{}).Where("request_id NOT IN (?)", w.App.DB().Model(&models.Request{}).Select("id")).Count(&rules)
			if after != before || rules != 0 {
				t.Fatalf("bad input was half-written: %d requests, %d orphan rules", after-before, rules)
			}
		})
	}
}

// TestConcurrentReviewersOneWins has two reviewers approve the same request
// at the same moment, many times over: exactly one wins each time and the
// other gets a conflict; the audit trail holds one approval.
func TestConcurrentReviewersOneWins(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := workflowtest.NewWorld(t, db)
		for round := 0; round < 10; round++ {
			r := w.Submitted(t, workflowtest.LowRisk())
			var wg sync.WaitGroup
			errs := make([]error, 2)
			start := make(chan struct{})
			for i, reviewer := range []core.Actor{w.Rita, w.Rhea} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = w.App.Requests.Review(w.Ctx, reviewer, r.ID, workflowtest.ApproveInput())
				}()
			}
			close(start)
			wg.Wait()
			wins, conflicts := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					wins++
				case core.ErrorCodeOf(err) == core.CodeConflict:
					conflicts++
				default:
					t.Fatalf("round %d: unexpected error %v", round, err)
				}
			}
			if wins != 1 || conflicts != 1 {
				t.Fatalf("round %d: %d wins and %d conflicts, want 1 and 1", round, wins, conflicts)
			}
			var approvals, reviews int64
			db.Model(&models.AuditEvent{}).Where("object_id = ? AND action = ?", r.ID, requests.EventApprove).Count(&approvals)
			db.Model(&models.Review{}).Where("request_id = ?", r.ID).Count(&reviews)
			if approvals != 1 || reviews != 1 {
				t.Fatalf("round %d: %d approval events and %d reviews, want 1 and 1", round, approvals, reviews)
			}
			if got := w.State(t, r.ID); got != requests.StateApproved {
				t.Fatalf("round %d: state %s", round, got)
			}
		}
	})
}

// TestLifecycleOnEachDatabase walks the happy path on SQLite and Postgres.
func TestLifecycleOnEachDatabase(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := workflowtest.NewWorld(t, db)
		r := w.Submitted(t, workflowtest.InternetFacing())
		_, err := w.App.Requests.Review(w.Ctx, w.Rita, r.ID, workflowtest.ApproveInput())
		workflowtest.Must(t, err)
		_, err = w.App.Requests.SecondApproval(w.Ctx, w.Lee, r.ID, requests.DecisionApprove, "ok")
		workflowtest.Must(t, err)
		_, err = w.App.Requests.Implement(w.Ctx, w.Ivan, r.ID, "CHG-42", "done")
		workflowtest.Must(t, err)
		_, err = w.App.Requests.AddComment(w.Ctx, w.Alice, r.ID, "thanks")
		workflowtest.Must(t, err)
		d, err := w.App.Requests.Get(w.Ctx, w.Alice, r.ID)
		workflowtest.Must(t, err)
		var actions []string
		for _, e := range d.Timeline {
			actions = append(actions, e.Action)
		}
		want := []string{"create", "submit", "claim", "first_approve", "second_approve", "implement", "comment"}
		if !slices.Equal(actions, want) {
			t.Fatalf("timeline %v, want %v", actions, want)
		}
		reg, err := w.App.Requests.RuleRegister(w.Ctx, w.Aude)
		workflowtest.Must(t, err)
		if len(reg) != 1 || reg[0].Rule.Ports != "443" || len(reg[0].Approvers) != 2 {
			t.Fatalf("register %+v", reg)
		}
		list, err := w.App.Requests.List(w.Ctx, w.Alice, requests.Filter{Search: "websi", States: []requests.State{requests.StateImplemented}})
		workflowtest.Must(t, err)
		if len(list) != 1 {
			t.Fatalf("search found %d", len(list))
		}
	})
}
