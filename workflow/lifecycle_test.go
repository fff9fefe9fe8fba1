package workflow

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
)

// TestEveryStateEventPair tries each action from each state and checks that
// it succeeds exactly where the lifecycle table allows it, and that a
// refusal changes nothing.
func TestEveryStateEventPair(t *testing.T) {
	w := sqliteWorld(t)
	type action struct {
		name    string
		allowed []State
		to      State
		run     func(id uint) error
	}
	fromTable := func(ev Event) []State { return transitions[ev].From }
	actions := []action{
		{"submit", fromTable(EventSubmit), StateSubmitted, func(id uint) error { _, err := w.svc.Submit(w.ctx, w.alice, id); return err }},
		{"edit", fromTable(EventEdit), "", func(id uint) error { _, err := w.svc.UpdateRequest(w.ctx, w.alice, id, lowRisk()); return err }},
		// A review of a submitted request claims it first, in the same transaction.
		{"approve", append(fromTable(EventClaim), fromTable(EventApprove)...), StateApproved, func(id uint) error { _, err := w.svc.Review(w.ctx, w.rita, id, approveInput()); return err }},
		{"reject", append(fromTable(EventClaim), fromTable(EventReject)...), StateRejected, func(id uint) error {
			_, err := w.svc.Review(w.ctx, w.rita, id, ReviewInput{Decision: DecisionReject, Comment: "no"})
			return err
		}},
		{"request_changes", append(fromTable(EventClaim), fromTable(EventRequestChanges)...), StateChangesRequested, func(id uint) error {
			_, err := w.svc.Review(w.ctx, w.rita, id, ReviewInput{Decision: DecisionChangesRequest, Comment: "narrow the source"})
			return err
		}},
		{"implement", fromTable(EventImplement), StateImplemented, func(id uint) error { _, err := w.svc.Implement(w.ctx, w.ivan, id, "CHG-1", ""); return err }},
		{"cancel", fromTable(EventCancel), StateCancelled, func(id uint) error { _, err := w.svc.Cancel(w.ctx, w.alice, id, ""); return err }},
		{"revoke", fromTable(EventRevoke), StateRevoked, func(id uint) error { _, err := w.svc.Revoke(w.ctx, w.rita, id, "decommissioned"); return err }},
		{"verify", fromTable(EventVerify), StateVerified, func(id uint) error { _, err := w.svc.SystemStep(w.ctx, id, EventVerify, "", nil); return err }},
		{"fail_verification", fromTable(EventFailVerify), StateVerificationFailed, func(id uint) error {
			_, err := w.svc.SystemStep(w.ctx, id, EventFailVerify, "", nil)
			return err
		}},
		{"activate", fromTable(EventActivate), StateActive, func(id uint) error { _, err := w.svc.SystemStep(w.ctx, id, EventActivate, "", nil); return err }},
		{"expire", fromTable(EventExpire), StateExpired, func(id uint) error { _, err := w.svc.SystemStep(w.ctx, id, EventExpire, "", nil); return err }},
	}
	for _, st := range AllStates {
		for _, a := range actions {
			t.Run(string(st)+"/"+a.name, func(t *testing.T) {
				r := w.create(t, w.alice, lowRisk())
				must(t, w.svc.db.Model(&models.Request{}).Where("id = ?", r.ID).Update("state", string(st)).Error)
				before := countEvents(t, w.svc.db, r.ID)
				err := a.run(r.ID)
				if slices.Contains(a.allowed, st) {
					if err != nil {
						t.Fatalf("%s from %s refused: %v", a.name, st, err)
					}
					want := a.to
					if want == "" { // an edit keeps the state, but sends a request in review back to the queue
						want = st
						if st == StateInReview {
							want = StateSubmitted
						}
					}
					if got := w.state(t, r.ID); got != want {
						t.Fatalf("%s from %s: state %s, want %s", a.name, st, got, want)
					}
					if countEvents(t, w.svc.db, r.ID) <= before {
						t.Fatalf("%s from %s wrote no audit event", a.name, st)
					}
					return
				}
				mustCode(t, err, CodeConflict)
				if got := w.state(t, r.ID); got != st {
					t.Fatalf("refused %s changed the state to %s", a.name, got)
				}
				if n := countEvents(t, w.svc.db, r.ID); n != before {
					t.Fatalf("refused %s wrote %d audit events", a.name, n-before)
				}
			})
		}
	}
}

func countEvents(t *testing.T, db *gorm.DB, id uint) int64 {
	t.Helper()
	var n int64
	must(t, db.Model(&models.AuditEvent{}).Where("object_type = ? AND object_id = ?", "request", id).Count(&n).Error)
	return n
}

// TestTransitionTableIsWellFormed guards the table itself.
func TestTransitionTableIsWellFormed(t *testing.T) {
	for ev, tr := range transitions {
		if len(tr.From) == 0 {
			t.Errorf("%s has no source state", ev)
		}
		if tr.By == byRole && len(tr.Roles) == 0 {
			t.Errorf("%s is caused by a role but names none", ev)
		}
		for _, s := range append(slices.Clone(tr.From), tr.To) {
			if _, ok := ParseState(string(s)); !ok && s != "" {
				t.Errorf("%s names unknown state %q", ev, s)
			}
		}
	}
}

func TestSeparationOfDuties(t *testing.T) {
	w := sqliteWorld(t)
	t.Run("requester cannot review own request", func(t *testing.T) {
		r := w.create(t, w.pat, lowRisk())
		_, err := w.svc.Submit(w.ctx, w.pat, r.ID)
		must(t, err)
		_, err = w.svc.Review(w.ctx, w.pat, r.ID, approveInput())
		mustCode(t, err, CodeForbidden)
		if !strings.Contains(err.Error(), "separation of duties") {
			t.Errorf("message %q does not name separation of duties", err)
		}
		if got := w.state(t, r.ID); got != StateSubmitted {
			t.Errorf("state %s, want submitted", got)
		}
	})
	t.Run("requester cannot implement own request", func(t *testing.T) {
		r := w.create(t, w.ian, lowRisk())
		_, err := w.svc.Submit(w.ctx, w.ian, r.ID)
		must(t, err)
		_, err = w.svc.Review(w.ctx, w.rita, r.ID, approveInput())
		must(t, err)
		_, err = w.svc.Implement(w.ctx, w.ian, r.ID, "CHG-9", "")
		mustCode(t, err, CodeForbidden)
	})
	t.Run("the two approvals come from two people", func(t *testing.T) {
		r := w.submitted(t, internetFacing())
		_, err := w.svc.Review(w.ctx, w.lee, r.ID, approveInput())
		must(t, err)
		if got := w.state(t, r.ID); got != StateInReview {
			t.Fatalf("after the first of two approvals: %s, want in_review", got)
		}
		_, err = w.svc.SecondApproval(w.ctx, w.lee, r.ID, DecisionApprove, "")
		mustCode(t, err, CodeForbidden)
		_, err = w.svc.SecondApproval(w.ctx, w.lena, r.ID, DecisionApprove, "")
		must(t, err)
		if got := w.state(t, r.ID); got != StateApproved {
			t.Fatalf("after two approvals: %s", got)
		}
	})
	t.Run("a first approval cannot be repeated by another reviewer", func(t *testing.T) {
		r := w.submitted(t, internetFacing())
		_, err := w.svc.Review(w.ctx, w.rita, r.ID, approveInput())
		must(t, err)
		_, err = w.svc.Review(w.ctx, w.rhea, r.ID, approveInput())
		mustCode(t, err, CodeConflict)
	})
	t.Run("a reviewer cannot give the second approval", func(t *testing.T) {
		r := w.submitted(t, internetFacing())
		_, err := w.svc.Review(w.ctx, w.rita, r.ID, approveInput())
		must(t, err)
		_, err = w.svc.SecondApproval(w.ctx, w.rhea, r.ID, DecisionApprove, "")
		mustCode(t, err, CodeForbidden)
	})
	t.Run("roles", func(t *testing.T) {
		r := w.submitted(t, lowRisk())
		for _, tc := range []struct {
			name string
			err  error
		}{
			{"requester reviews", func() error { _, err := w.svc.Review(w.ctx, w.bob, r.ID, approveInput()); return err }()},
			{"implementer reviews", func() error { _, err := w.svc.Review(w.ctx, w.ivan, r.ID, approveInput()); return err }()},
			{"auditor reviews", func() error { _, err := w.svc.Review(w.ctx, w.aude, r.ID, approveInput()); return err }()},
			{"reviewer files", func() error { _, err := w.svc.CreateRequest(w.ctx, w.rita, lowRisk()); return err }()},
			{"other requester submits", func() error { _, err := w.svc.Submit(w.ctx, w.bob, r.ID); return err }()},
			{"admin-less zone change", func() error {
				_, err := w.svc.SaveZone(w.ctx, w.rita, 0, ZoneInput{Name: "x", Classification: "low", CIDRs: "10.99.0.0/16"})
				return err
			}()},
		} {
			if code := ErrorCodeOf(tc.err); code != CodeForbidden && code != CodeNotFound {
				t.Errorf("%s: code %q (%v), want forbidden", tc.name, code, tc.err)
			}
		}
	})
	t.Run("requesters see only their team's requests", func(t *testing.T) {
		r := w.create(t, w.alice, lowRisk())
		_, err := w.svc.GetRequest(w.ctx, w.bob, r.ID)
		mustCode(t, err, CodeNotFound)
		if _, err := w.svc.GetRequest(w.ctx, w.aude, r.ID); err != nil {
			t.Errorf("auditor cannot read: %v", err)
		}
	})
}

func TestEditAfterSubmissionVoidsApprovals(t *testing.T) {
	w := sqliteWorld(t)
	r := w.submitted(t, internetFacing())
	_, err := w.svc.Review(w.ctx, w.rita, r.ID, approveInput())
	must(t, err)
	q, err := w.svc.ApprovalQueue(w.ctx, w.lee)
	must(t, err)
	if len(q) != 1 {
		t.Fatalf("approval queue has %d, want 1", len(q))
	}
	edited := internetFacing()
	edited.Rules[0].Ports = "443,8443"
	_, err = w.svc.UpdateRequest(w.ctx, w.alice, r.ID, edited)
	must(t, err)
	if got := w.state(t, r.ID); got != StateSubmitted {
		t.Fatalf("state after edit %s, want submitted", got)
	}
	q, _ = w.svc.ApprovalQueue(w.ctx, w.lee)
	if len(q) != 0 {
		t.Fatalf("voided approval still in the approval queue")
	}
	_, err = w.svc.SecondApproval(w.ctx, w.lee, r.ID, DecisionApprove, "")
	mustCode(t, err, CodeConflict)
	d, err := w.svc.GetRequest(w.ctx, w.alice, r.ID)
	must(t, err)
	if d.FirstApproval != nil || !d.Reviews[0].Voided {
		t.Fatalf("the first approval was not voided: %+v", d.Reviews)
	}
	rq, _ := w.svc.ReviewQueue(w.ctx, w.rita)
	if len(rq) != 1 || rq[0].ID != r.ID {
		t.Fatalf("edited request is not back in the review queue")
	}
}

func TestApprovalNeedsBaselineAndZone(t *testing.T) {
	w := sqliteWorld(t)
	r := w.submitted(t, lowRisk())
	in := approveInput()
	in.ZoneConfirmed = false
	_, err := w.svc.Review(w.ctx, w.rita, r.ID, in)
	mustCode(t, err, CodeInvalid)
	in = approveInput()
	in.Checklist[0] = ChecklistAnswer{Item: in.Checklist[0].Item, Result: "fail", Note: "kernel two years old"}
	_, err = w.svc.Review(w.ctx, w.rita, r.ID, in)
	mustCode(t, err, CodeInvalid)
	in = approveInput()
	in.Checklist = in.Checklist[1:]
	_, err = w.svc.Review(w.ctx, w.rita, r.ID, in)
	mustCode(t, err, CodeInvalid)
	in = approveInput()
	in.Checklist[2] = ChecklistAnswer{Item: in.Checklist[2].Item, Result: "na"}
	_, err = w.svc.Review(w.ctx, w.rita, r.ID, in)
	mustCode(t, err, CodeInvalid)
	if got := w.state(t, r.ID); got != StateSubmitted {
		t.Fatalf("refused reviews changed the state to %s", got)
	}
	in.Checklist[2].Note = "no authentication in this protocol"
	_, err = w.svc.Review(w.ctx, w.rita, r.ID, in)
	must(t, err)
	if got := w.state(t, r.ID); got != StateApproved {
		t.Fatalf("state %s, want approved", got)
	}
}

func TestSecondApprovalFollowsTheFindings(t *testing.T) {
	w := sqliteWorld(t)
	for _, tc := range []struct {
		name string
		rule RuleInput
		want bool
	}{
		{"nothing to say", RuleInput{Source: "transit", Destination: "10.50.0.10", Protocol: "tcp", Ports: "443", Service: "http"}, false},
		{"the internet on 443 to the DMZ", RuleInput{Source: "internet", Destination: "10.10.0.10", Protocol: "tcp", Ports: "443", Service: "http"}, false},
		{"a broad internet source (high)", RuleInput{Source: "198.51.100.0/22", Destination: "10.10.0.10", Protocol: "tcp", Ports: "443", Service: "http"}, true},
		{"cleartext redis (high)", RuleInput{Source: "apps", Destination: "10.40.0.16", Protocol: "tcp", Ports: "6379", Service: "redis"}, true},
		{"a blocking zone path", RuleInput{Source: "office", Destination: "10.40.0.15", Protocol: "tcp", Ports: "443"}, true},
		{"IPv6 inside a zone", RuleInput{Source: "2001:db8:40::/64", Destination: "2001:db8:40::15", Protocol: "tcp", Ports: "443", Service: "http"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.create(t, w.alice, RequestInput{Title: tc.name, Justification: "x", Rules: []RuleInput{tc.rule}})
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
	w := sqliteWorld(t)
	r := w.submitted(t, databaseFromInternet())
	stored, err := w.svc.GetRequest(w.ctx, w.rita, r.ID)
	must(t, err)
	findings := FindingsOf(stored.Request)
	var blocking []string
	for _, f := range findings {
		if f.Blocking {
			blocking = append(blocking, FindingKey(f))
		}
	}
	if !slices.Contains(blocking, "0:internet-high-risk") {
		t.Fatalf("no internet-high-risk finding: %+v", findings)
	}
	in := ReviewInput{Decision: DecisionApprove, ZoneConfirmed: true, Checklist: fullChecklist(&stored.Request)}
	_, err = w.svc.Review(w.ctx, w.rita, r.ID, in)
	mustCode(t, err, CodeInvalid)
	if msgs := fieldErrorsOf(err); msgs["compensating_controls[0:internet-high-risk]"] == "" {
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
			na[i] = ChecklistAnswer{Item: a.Item, Result: "na", Note: "not needed"}
		}
	}
	_, err = w.svc.Review(w.ctx, w.rita, r.ID, ReviewInput{Decision: DecisionApprove, ZoneConfirmed: true, Checklist: na, CompensatingControls: in.CompensatingControls})
	mustCode(t, err, CodeInvalid)
	if got := w.state(t, r.ID); got != StateSubmitted {
		t.Fatalf("refused approvals changed the state to %s", got)
	}
	_, err = w.svc.Review(w.ctx, w.rita, r.ID, in)
	must(t, err)
	d, err := w.svc.GetRequest(w.ctx, w.lee, r.ID)
	must(t, err)
	if got := State(d.Request.State); got != StateInReview || !d.Request.Exception || !d.Request.NeedsSecondApproval {
		t.Fatalf("after the reviewer's exception: %s exception=%v", got, d.Request.Exception)
	}
	if ControlsOf(d.Request)["0:internet-high-risk"] == "" {
		t.Fatal("compensating control not recorded")
	}
	// A reviewer cannot complete an exception; the security lead can.
	_, err = w.svc.SecondApproval(w.ctx, w.rhea, r.ID, DecisionApprove, "")
	mustCode(t, err, CodeForbidden)
	_, err = w.svc.SecondApproval(w.ctx, w.lee, r.ID, DecisionApprove, "accepted with controls")
	must(t, err)
	reg, err := w.svc.RuleRegister(w.ctx, w.aude)
	must(t, err)
	if len(reg) != 1 || !reg[0].Request.Exception {
		t.Fatalf("register does not mark the exception: %+v", reg)
	}
	// The overlap check now sees the approved rule.
	again := w.create(t, w.alice, databaseFromInternet())
	if !strings.Contains(again.Findings, "overlap-duplicate") || !strings.Contains(again.Findings, fmt.Sprintf("request #%d", r.ID)) {
		t.Fatalf("duplicate not reported: %s", again.Findings)
	}
}

func TestBadInputNamesTheField(t *testing.T) {
	w := sqliteWorld(t)
	ok := RuleInput{Source: "office", Destination: "10.40.0.15", Protocol: "tcp", Ports: "443"}
	with := func(f func(*RuleInput)) RequestInput {
		r := ok
		f(&r)
		return RequestInput{Title: "t", Justification: "j", Rules: []RuleInput{ok, r}}
	}
	for _, tc := range []struct {
		name, field, msg string
		in               RequestInput
	}{
		{"invalid CIDR", "rules[1].source", "not a valid CIDR", with(func(r *RuleInput) { r.Source = "10.0.0.0/33" })},
		{"host bits", "rules[1].source", "host bits", with(func(r *RuleInput) { r.Source = "10.1.2.3/16" })},
		{"port 0", "rules[1].ports", "out of range", with(func(r *RuleInput) { r.Ports = "0" })},
		{"port 70000", "rules[1].ports", "out of range", with(func(r *RuleInput) { r.Ports = "70000" })},
		{"backwards range", "rules[1].ports", "backwards", with(func(r *RuleInput) { r.Ports = "9000-8000" })},
		{"unknown zone", "rules[1].source", "no zone named", with(func(r *RuleInput) { r.Source = "nowhere" })},
		{"unknown asset", "rules[1].destination", "not in the inventory", with(func(r *RuleInput) { r.Destination = "10.40.9.9" })},
		{"bad protocol", "rules[1].protocol", "not tcp or udp", with(func(r *RuleInput) { r.Protocol = "icmp" })},
		{"unknown service", "rules[1].service", "not a known service", with(func(r *RuleInput) { r.Service = "gopher" })},
		{"empty justification", "justification", "required", RequestInput{Title: "t", Rules: []RuleInput{ok}}},
		{"no rules", "rules", "at least one rule", RequestInput{Title: "t", Justification: "j"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before int64
			w.svc.db.Model(&models.Request{}).Count(&before)
			_, err := w.svc.CreateRequest(w.ctx, w.alice, tc.in)
			mustCode(t, err, CodeInvalid)
			msgs := fieldErrorsOf(err)
			if !strings.Contains(msgs[tc.field], tc.msg) {
				t.Fatalf("field %s: message %q, want one containing %q (all: %v)", tc.field, msgs[tc.field], tc.msg, msgs)
			}
			var after int64
			w.svc.db.Model(&models.Request{}).Count(&after)
			var rules int64
			w.svc.db.Model(&models.Rule{}).Where("request_id NOT IN (?)", w.svc.db.Model(&models.Request{}).Select("id")).Count(&rules)
			if after != before || rules != 0 {
				t.Fatalf("bad input was half-written: %d requests, %d orphan rules", after-before, rules)
			}
		})
	}
}

func fieldErrorsOf(err error) map[string]string {
	out := map[string]string{}
	if fe, ok := err.(FieldErrors); ok {
		for _, e := range fe {
			out[e.Field] = e.Message
		}
	} else if de, ok := err.(*Error); ok {
		out[de.Field] = de.Message
	}
	return out
}

// TestConcurrentReviewersOneWins has two reviewers approve the same request
// at the same moment, many times over: exactly one wins each time and the
// other gets a conflict; the audit trail holds one approval.
func TestConcurrentReviewersOneWins(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := newWorld(t, db)
		for round := 0; round < 10; round++ {
			r := w.submitted(t, lowRisk())
			var wg sync.WaitGroup
			errs := make([]error, 2)
			start := make(chan struct{})
			for i, reviewer := range []Actor{w.rita, w.rhea} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = w.svc.Review(w.ctx, reviewer, r.ID, approveInput())
				}()
			}
			close(start)
			wg.Wait()
			wins, conflicts := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					wins++
				case ErrorCodeOf(err) == CodeConflict:
					conflicts++
				default:
					t.Fatalf("round %d: unexpected error %v", round, err)
				}
			}
			if wins != 1 || conflicts != 1 {
				t.Fatalf("round %d: %d wins and %d conflicts, want 1 and 1", round, wins, conflicts)
			}
			var approvals, reviews int64
			db.Model(&models.AuditEvent{}).Where("object_id = ? AND action = ?", r.ID, EventApprove).Count(&approvals)
			db.Model(&models.Review{}).Where("request_id = ?", r.ID).Count(&reviews)
			if approvals != 1 || reviews != 1 {
				t.Fatalf("round %d: %d approval events and %d reviews, want 1 and 1", round, approvals, reviews)
			}
			if got := w.state(t, r.ID); got != StateApproved {
				t.Fatalf("round %d: state %s", round, got)
			}
		}
	})
}

// TestLifecycleOnEachDatabase walks the happy path on SQLite and Postgres.
func TestLifecycleOnEachDatabase(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w := newWorld(t, db)
		r := w.submitted(t, internetFacing())
		_, err := w.svc.Review(w.ctx, w.rita, r.ID, approveInput())
		must(t, err)
		_, err = w.svc.SecondApproval(w.ctx, w.lee, r.ID, DecisionApprove, "ok")
		must(t, err)
		_, err = w.svc.Implement(w.ctx, w.ivan, r.ID, "CHG-42", "done")
		must(t, err)
		_, err = w.svc.AddComment(w.ctx, w.alice, r.ID, "thanks")
		must(t, err)
		d, err := w.svc.GetRequest(w.ctx, w.alice, r.ID)
		must(t, err)
		var actions []string
		for _, e := range d.Timeline {
			actions = append(actions, e.Action)
		}
		want := []string{"create", "submit", "claim", "first_approve", "second_approve", "implement", "comment"}
		if !slices.Equal(actions, want) {
			t.Fatalf("timeline %v, want %v", actions, want)
		}
		reg, err := w.svc.RuleRegister(w.ctx, w.aude)
		must(t, err)
		if len(reg) != 1 || reg[0].Rule.Ports != "443" || len(reg[0].Approvers) != 2 {
			t.Fatalf("register %+v", reg)
		}
		list, err := w.svc.ListRequests(w.ctx, w.alice, RequestFilter{Search: "websi", States: []State{StateImplemented}})
		must(t, err)
		if len(list) != 1 {
			t.Fatalf("search found %d", len(list))
		}
	})
}
