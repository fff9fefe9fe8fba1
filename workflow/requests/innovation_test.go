package requests_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// innovationWorld makes 10.40.0.15 an asset of "pilot", an innovation-tier
// application; 10.40.0.16 stays standard.
func innovationWorld(t *testing.T) *workflowtest.World {
	t.Helper()
	w := workflowtest.SQLiteWorld(t)
	setApplication(t, w, "10.40.0.15", "pilot")
	workflowtest.Must(t, w.App.Inventory.SetTier(w.Ctx, w.Adam, "pilot", "innovation"))
	return w
}

func setApplication(t *testing.T, w *workflowtest.World, addr, app string) {
	t.Helper()
	assets, err := w.App.Inventory.ListAssets(w.Ctx)
	workflowtest.Must(t, err)
	for _, a := range assets {
		if a.Address == addr {
			_, err := w.App.Inventory.SaveAsset(w.Ctx, w.Adam, a.ID, inventory.AssetInput{Address: a.Address, Hostname: a.Hostname, Application: app})
			workflowtest.Must(t, err)
			return
		}
	}
	t.Fatalf("no asset %s", addr)
}

func answers() map[string]string {
	return map[string]string{
		"data_handled": "customer e-mail addresses", "exposure": "internal users only",
		"authentication": "OIDC through the corporate provider", "owner_on_call": "pilot team, +1 555 0100",
	}
}

func toPilot(mod func(*requests.Input)) requests.Input {
	in := requests.Input{
		Title: "Pilot API", Justification: "the new business's first customers",
		Rules:      []requests.RuleInput{{Source: "transit", Destination: "10.40.0.15", Protocol: "tcp", Ports: "443", Service: "http"}},
		Assessment: answers(),
	}
	if mod != nil {
		mod(&in)
	}
	return in
}

// The guards of the innovation tier, on creation: each case names the
// fields refused, or none when the request is accepted.
func TestInnovationTierGuards(t *testing.T) {
	w := innovationWorld(t)
	now := w.App.Now()
	for _, c := range []struct {
		name       string
		in         requests.Input
		wantFields []string
		contains   string
	}{
		{name: "answered, default expiry", in: toPilot(nil)},
		{name: "answered, 30 days", in: toPilot(func(in *requests.Input) { in.ExpiresAt = now.Add(30 * 24 * time.Hour) })},
		{name: "no answers", in: toPilot(func(in *requests.Input) { in.Assessment = nil }),
			wantFields: []string{"assessment.authentication", "assessment.data_handled", "assessment.exposure", "assessment.owner_on_call"}, contains: "needs an answer"},
		{name: "one blank answer", in: toPilot(func(in *requests.Input) { in.Assessment["owner_on_call"] = "  " }),
			wantFields: []string{"assessment.owner_on_call"}},
		{name: "an unknown question", in: toPilot(func(in *requests.Input) { in.Assessment["favourite_colour"] = "blue" }),
			wantFields: []string{"assessment.favourite_colour"}, contains: "not a question"},
		{name: "an over-long answer", in: toPilot(func(in *requests.Input) {
			in.Assessment["exposure"] = strings.Repeat("x", core.Limits.AssessmentAnswer+1)
		}),
			wantFields: []string{"assessment.exposure"}},
		{name: "expiry beyond the innovation maximum", in: toPilot(func(in *requests.Input) { in.ExpiresAt = now.Add(60 * 24 * time.Hour) }),
			wantFields: []string{"expires_at"}, contains: "at most 30 days"},
		{name: "missing answers and a long expiry, reported together", in: toPilot(func(in *requests.Input) {
			in.ExpiresAt = now.Add(60 * 24 * time.Hour)
			delete(in.Assessment, "exposure")
		}), wantFields: []string{"assessment.exposure", "expires_at"}},
		{name: "the innovation asset as source", in: toPilot(func(in *requests.Input) {
			in.Rules = []requests.RuleInput{{Source: "10.40.0.15/32", Destination: "10.50.0.10", Protocol: "tcp", Ports: "443", Service: "http"}}
			in.Assessment = nil
		}), wantFields: []string{"assessment.authentication", "assessment.data_handled", "assessment.exposure", "assessment.owner_on_call"}},
		{name: "a standard application needs no assessment", in: toPilot(func(in *requests.Input) {
			in.Rules[0].Destination = "10.40.0.16"
			in.Assessment = nil
			in.ExpiresAt = now.Add(90 * 24 * time.Hour)
		})},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := w.App.Requests.Create(w.Ctx, w.Alice, c.in)
			if len(c.wantFields) == 0 {
				workflowtest.Must(t, err)
				return
			}
			if r != nil {
				t.Fatalf("created #%d despite %v", r.ID, c.wantFields)
			}
			workflowtest.MustCode(t, err, core.CodeInvalid)
			got := workflowtest.FieldErrorsOf(err)
			var fields []string
			for f := range got {
				fields = append(fields, f)
			}
			slices.Sort(fields)
			if !slices.Equal(fields, c.wantFields) {
				t.Fatalf("fields %v, want %v (%v)", fields, c.wantFields, got)
			}
			if c.contains != "" && !strings.Contains(err.Error(), c.contains) {
				t.Fatalf("message %q lacks %q", err, c.contains)
			}
		})
	}
}

func TestInnovationRequestIsMarkedAndNeedsTwoApprovals(t *testing.T) {
	w := innovationWorld(t)
	r := w.Create(t, w.Alice, toPilot(nil))
	if !r.Innovation || !r.NeedsSecondApproval {
		t.Fatalf("innovation %v, second approval %v", r.Innovation, r.NeedsSecondApproval)
	}
	if days := r.ExpiresAt.Sub(w.App.Now()).Hours() / 24; days < 29.9 || days > 30.1 {
		t.Fatalf("default expiry %.1f days, want the innovation maximum of 30", days)
	}
	a := requests.AssessmentOf(*r)
	if a == nil || a.Version != 1 || len(a.Questions) != 4 || a.Answers["owner_on_call"] != "pilot team, +1 555 0100" {
		t.Fatalf("assessment %+v", a)
	}
	findings := requests.FindingsOf(*r)
	if !slices.ContainsFunc(findings, func(f requests.Finding) bool {
		return f.Code == policy.CodeInnovationTier && f.Severity == policy.SeverityHigh
	}) {
		t.Fatalf("findings %+v", findings)
	}
	items := requests.ChecklistFor(findings)
	if !slices.ContainsFunc(items, func(i requests.ChecklistItem) bool { return i.Text == policy.ControlAssessment && i.Required }) {
		t.Fatalf("the checklist does not carry the assessment: %+v", items)
	}
	_, err := w.App.Requests.Submit(w.Ctx, w.Alice, r.ID)
	workflowtest.Must(t, err)
	d, _ := w.App.Requests.Get(w.Ctx, w.Rita, r.ID)
	_, err = w.App.Requests.Review(w.Ctx, w.Rita, r.ID, requests.ReviewInput{Decision: requests.DecisionApprove, ZoneConfirmed: true, Checklist: workflowtest.FullChecklist(&d.Request)})
	workflowtest.Must(t, err)
	if got := w.State(t, r.ID); got != requests.StateInReview {
		t.Fatalf("after one approval: %s, want in_review awaiting the second", got)
	}
	_, err = w.App.Requests.SecondApproval(w.Ctx, w.Rita, r.ID, requests.DecisionApprove, "")
	workflowtest.MustCode(t, err, core.CodeForbidden)
	_, err = w.App.Requests.SecondApproval(w.Ctx, w.Lee, r.ID, requests.DecisionApprove, "")
	workflowtest.Must(t, err)
	if got := w.State(t, r.ID); got != requests.StateApproved {
		t.Fatalf("after two approvals: %s", got)
	}
}

// The submit guard: a draft saved while its application was standard
// cannot be submitted once the application is innovation-tier, until the
// assessment is answered.
func TestSubmitGuardAfterTheTierChanged(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	setApplication(t, w, "10.40.0.15", "pilot")
	r := w.Create(t, w.Alice, toPilot(func(in *requests.Input) { in.Assessment = nil }))
	if r.Innovation {
		t.Fatal("a standard application's request is marked innovation")
	}
	workflowtest.Must(t, w.App.Inventory.SetTier(w.Ctx, w.Adam, "pilot", "innovation"))
	_, err := w.App.Requests.Submit(w.Ctx, w.Alice, r.ID)
	workflowtest.MustCode(t, err, core.CodeInvalid)
	if f := workflowtest.FieldErrorsOf(err); !strings.Contains(f["assessment"], "answer the security assessment") {
		t.Fatalf("refusal %v", f)
	}
	if got := w.State(t, r.ID); got != requests.StateDraft {
		t.Fatalf("state %s after a refused submit", got)
	}
	in := toPilot(func(in *requests.Input) { in.ExpiresAt = w.App.Now().Add(20 * 24 * time.Hour) })
	_, err = w.App.Requests.Update(w.Ctx, w.Alice, r.ID, in)
	workflowtest.Must(t, err)
	_, err = w.App.Requests.Submit(w.Ctx, w.Alice, r.ID)
	workflowtest.Must(t, err)
}

// An admin's edit of the questionnaire is a new version: a request keeps
// the questions it was asked; a new request is asked the new ones.
func TestQuestionnaireVersionsKeepWhatWasAsked(t *testing.T) {
	w := innovationWorld(t)
	r := w.Create(t, w.Alice, toPilot(nil))
	qs := []inventory.QuestionInput{
		{ID: "data_handled", Text: "Which data?", Required: true},
		{ID: "exposure", Text: "Who reaches it?", Required: true},
		{ID: "authentication", Text: "How do clients log in?", Required: true},
		{ID: "owner_on_call", Text: "Who is on call?", Required: true, Remove: true},
		{ID: "pen_test", Text: "When was it last tested?", Required: true},
	}
	_, err := w.App.Inventory.SaveQuestionnaire(w.Ctx, w.Rita, qs)
	workflowtest.MustCode(t, err, core.CodeForbidden)
	q, err := w.App.Inventory.SaveQuestionnaire(w.Ctx, w.Adam, qs)
	workflowtest.Must(t, err)
	if q.Version != 2 || len(q.Questions) != 4 {
		t.Fatalf("saved %+v", q)
	}
	// The answered request keeps version 1, and an edit is judged by it.
	_, err = w.App.Requests.Update(w.Ctx, w.Alice, r.ID, toPilot(nil))
	workflowtest.Must(t, err)
	d, _ := w.App.Requests.Get(w.Ctx, w.Alice, r.ID)
	if a := requests.AssessmentOf(d.Request); a.Version != 1 || a.Questions[3].ID != "owner_on_call" {
		t.Fatalf("kept %+v", a)
	}
	// A new request answers version 2.
	_, err = w.App.Requests.Create(w.Ctx, w.Alice, toPilot(nil))
	f := workflowtest.FieldErrorsOf(err)
	if _, ok := f["assessment.pen_test"]; !ok || f["assessment.owner_on_call"] == "" {
		t.Fatalf("new request against version 2: %v", f)
	}
	// Bad questionnaires are refused naming the row.
	for _, c := range []struct {
		in    []inventory.QuestionInput
		field string
	}{
		{[]inventory.QuestionInput{{ID: "Bad Key", Text: "x"}}, "questions[0].id"},
		{[]inventory.QuestionInput{{ID: "a", Text: "x"}, {ID: "a", Text: "y"}}, "questions[1].id"},
		{[]inventory.QuestionInput{{ID: "a", Text: ""}}, "questions[0].text"},
		{[]inventory.QuestionInput{{ID: "a", Text: "x", Remove: true}}, "questions"},
		{[]inventory.QuestionInput{{ID: "a", Text: strings.Repeat("q", inventory.MaxQuestionText+1)}}, "questions[0].text"},
	} {
		_, err := w.App.Inventory.SaveQuestionnaire(w.Ctx, w.Adam, c.in)
		if _, ok := workflowtest.FieldErrorsOf(err)[c.field]; !ok {
			t.Errorf("%+v: %v, want a refusal of %s", c.in, err, c.field)
		}
	}
}

func TestInnovationMaxExpiryIsAnAdminSetting(t *testing.T) {
	w := innovationWorld(t)
	workflowtest.MustCode(t, w.App.Inventory.SaveInnovationMaxExpiry(w.Ctx, w.Alice, "10"), core.CodeForbidden)
	for _, bad := range []string{"0", "366", "ten", ""} {
		err := w.App.Inventory.SaveInnovationMaxExpiry(w.Ctx, w.Adam, bad)
		if _, ok := workflowtest.FieldErrorsOf(err)["innovation_max_expiry_days"]; !ok {
			t.Errorf("%q: %v", bad, err)
		}
	}
	workflowtest.Must(t, w.App.Inventory.SaveInnovationMaxExpiry(w.Ctx, w.Adam, "10"))
	_, err := w.App.Requests.Create(w.Ctx, w.Alice, toPilot(func(in *requests.Input) { in.ExpiresAt = w.App.Now().Add(20 * 24 * time.Hour) }))
	if msg := workflowtest.FieldErrorsOf(err)["expires_at"]; !strings.Contains(msg, "at most 10 days") {
		t.Fatalf("20 days over a 10-day maximum: %v", err)
	}
	ev, err := w.App.Requests.Evaluate(w.Ctx, requests.SpecsOf(toPilot(nil).Rules), w.App.Now().Add(20*24*time.Hour))
	workflowtest.Must(t, err)
	if !slices.ContainsFunc(ev.Findings, func(f requests.Finding) bool { return f.Code == policy.CodeInnovationExpiry && f.Blocking }) {
		t.Fatalf("evaluate: %+v", ev.Findings)
	}
}
