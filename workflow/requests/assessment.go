package requests

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/policy"
)

// Question is one question of the security assessment.
type Question = inventory.Question

// Assessment is the security assessment of a request touching an
// innovation-tier application: the questions as they were asked (a copy of
// the questionnaire's version, so an admin's later edit changes nothing
// here) and the requester's answers, keyed by question id.
type Assessment struct {
	Version   uint              `json:"version"`
	Questions []Question        `json:"questions"`
	Answers   map[string]string `json:"answers"`
}

// AssessmentOf decodes a request's assessment; nil when it has none.
func AssessmentOf(r models.Request) *Assessment {
	if r.Assessment == "" {
		return nil
	}
	var a Assessment
	if json.Unmarshal([]byte(r.Assessment), &a) != nil {
		return nil
	}
	if a.Answers == nil {
		a.Answers = map[string]string{}
	}
	return &a
}

// Unanswered are the required questions without an answer, in order.
func (a *Assessment) Unanswered() []Question {
	var out []Question
	for _, q := range a.Questions {
		if q.Required && strings.TrimSpace(a.Answers[q.ID]) == "" {
			out = append(out, q)
		}
	}
	return out
}

// AnswerField is the form and API field of a question's answer.
func AnswerField(id string) string { return "assessment." + id }

// answerAssessment checks the answers against the questions asked and
// returns the assessment to store; every problem names its answer's field.
func answerAssessment(qs inventory.Questionnaire, answers map[string]string) (*Assessment, core.FieldErrors) {
	var errs core.FieldErrors
	a := &Assessment{Version: qs.Version, Questions: qs.Questions, Answers: map[string]string{}}
	known := map[string]bool{}
	for _, q := range qs.Questions {
		known[q.ID] = true
		text := strings.TrimSpace(answers[q.ID])
		field := AnswerField(q.ID)
		switch {
		case text == "" && q.Required:
			errs.Add(field, core.M("err.requests.assessment_unanswered", "the security assessment needs an answer to {{.Question}}", "Question", strconv.Quote(q.Text)))
		case text != "":
			if why := policy.CheckText(text); why != "" {
				errs.Add(field, core.M("err.requests.answer_invalid", "the answer {{.Reason}}", "Reason", core.Plain(why)))
			} else if err := core.CheckLength(field, core.M("err.field.answer", "the answer"), text, core.Limits.AssessmentAnswer); err != nil {
				errs = append(errs, err.(*core.Error))
			}
			a.Answers[q.ID] = text
		}
	}
	var unknown []string
	for id := range answers {
		if !known[id] && strings.TrimSpace(answers[id]) != "" {
			unknown = append(unknown, id)
		}
	}
	sort.Strings(unknown)
	for _, id := range unknown {
		errs.Add(AnswerField(id), core.M("err.requests.assessment_unknown", "{{.ID}} is not a question of the security assessment (version {{.Version}})", "ID", strconv.Quote(id), "Version", qs.Version))
	}
	return a, errs
}

// Innovation is what the requests' checks need to know about the
// innovation-tier applications a set of rules touches.
type Innovation struct {
	// Applications touched, by name; none: the rules need no assessment.
	Applications []string
	// Questionnaire is what the requester answers: the questions a request
	// was asked already, or the version in force.
	Questionnaire inventory.Questionnaire
	// MaxExpiry is the longest such an opening may last.
	MaxExpiry time.Duration
}

// innovationOf works out which innovation-tier applications the rules
// touch; rules that do not resolve are left out (their own errors say why).
// asked is the assessment a request already carries, if any.
func innovationOf(tx *gorm.DB, specs []policy.RuleSpec, asked *Assessment) (*Innovation, error) {
	tiered, err := inventory.TieredAssets(tx)
	if err != nil {
		return nil, err
	}
	settings, err := inventory.LoadSettings(tx)
	if err != nil {
		return nil, err
	}
	out := &Innovation{MaxExpiry: policy.DefaultSettings().InnovationMaxExpiry}
	if settings.InnovationMaxExpiry > 0 {
		out.MaxExpiry = settings.InnovationMaxExpiry
	}
	if len(tiered) == 0 {
		return out, nil
	}
	inv, err := inventory.PolicyInventory(tx)
	if err != nil {
		return nil, err
	}
	for _, spec := range specs {
		rs, err := inv.Resolve([]policy.RuleSpec{spec}, time.Time{})
		if err != nil {
			continue
		}
		for _, app := range policy.TouchesInnovation(rs[0], tiered) {
			if !slices.Contains(out.Applications, app) {
				out.Applications = append(out.Applications, app)
			}
		}
	}
	sort.Strings(out.Applications)
	if len(out.Applications) == 0 {
		return out, nil
	}
	if asked != nil && len(asked.Questions) > 0 {
		out.Questionnaire = inventory.Questionnaire{Version: asked.Version, Questions: asked.Questions}
	} else if out.Questionnaire, err = inventory.CurrentQuestionnaire(tx); err != nil {
		return nil, err
	}
	return out, nil
}

// InnovationFor tells the request form whether the rules being typed touch
// an innovation-tier application, and which questions to ask: those request
// id (0 for a new one) was asked already, or the version in force.
func (s *Service) InnovationFor(ctx context.Context, actor core.Actor, rules []RuleInput, id uint) (*Innovation, error) {
	db := s.DB().WithContext(ctx)
	var asked *Assessment
	if id != 0 {
		r, err := LoadRequest(db, id)
		if err != nil {
			return nil, err
		}
		if err := s.canSee(actor, r); err != nil {
			return nil, err
		}
		asked = AssessmentOf(*r)
	}
	specs := SpecsOf(rules)
	if len(specs) > MaxRules {
		specs = specs[:MaxRules]
	}
	return innovationOf(db, specs, asked)
}

// checkInnovation applies the innovation tier's demands to a validated
// request: the expiry within the tier's maximum (the tier's maximum when
// the requester named none) and every required question answered.
func (s *Service) checkInnovation(tx *gorm.DB, v *validated, in Input, asked *Assessment) (core.FieldErrors, error) {
	specs := make([]policy.RuleSpec, len(v.rules))
	for i, r := range v.rules {
		specs[i] = ruleSpec(r, v.req.ExpiresAt)
	}
	inn, err := innovationOf(tx, specs, asked)
	if err != nil {
		return nil, err
	}
	if len(inn.Applications) == 0 {
		v.req.Innovation, v.req.Assessment = false, ""
		return nil, nil
	}
	var errs core.FieldErrors
	now := s.Now()
	days := int(inn.MaxExpiry / (24 * time.Hour))
	if in.ExpiresAt.IsZero() {
		v.req.ExpiresAt = now.Add(inn.MaxExpiry).UTC()
	} else if v.req.ExpiresAt.Sub(now) > inn.MaxExpiry+24*time.Hour {
		errs.Add("expires_at", core.M("err.requests.innovation_expiry",
			"the request touches the innovation-tier application {{.Applications}}: its openings last at most {{.Days}} days (until {{.Until}}), not until {{.Date}}",
			"Applications", strings.Join(inn.Applications, ", "), "Days", days, "Until", now.Add(inn.MaxExpiry).Format(time.DateOnly), "Date", v.req.ExpiresAt.Format(time.DateOnly)))
	}
	a, aerrs := answerAssessment(inn.Questionnaire, in.Assessment)
	errs = append(errs, aerrs...)
	b, _ := json.Marshal(a)
	v.req.Innovation, v.req.Assessment = true, string(b)
	return errs, nil
}

// assessmentAnswered refuses to submit an innovation-tier request whose
// assessment is missing or incomplete: the application may have become
// innovation-tier after the draft was saved.
func assessmentAnswered(r *models.Request) error {
	if !r.Innovation {
		return nil
	}
	a := AssessmentOf(*r)
	if a == nil {
		return core.Invalid("assessment", core.M("err.requests.assessment_missing", "request #{{.ID}} touches an innovation-tier application: edit it and answer the security assessment before submitting", "ID", r.ID))
	}
	if missing := a.Unanswered(); len(missing) > 0 {
		return core.Invalid(AnswerField(missing[0].ID), core.M("err.requests.assessment_incomplete", "request #{{.ID}} touches an innovation-tier application: edit it and answer {{.Question}} (and every other required question of the security assessment) before submitting", "ID", r.ID, "Question", strconv.Quote(missing[0].Text)))
	}
	return nil
}
