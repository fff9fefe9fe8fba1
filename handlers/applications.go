package handlers

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/requests"
)

// applicationsView is the admin's page of tiers, the innovation tier's
// expiry and the questionnaire, with what the admin typed kept on a refusal.
func (s *Server) applicationsView(r *http.Request, questions []web.QuestionRow) (web.Applications, error) {
	ctx := r.Context()
	apps, err := s.app.Inventory.ListApplications(ctx)
	if err != nil {
		return web.Applications{}, err
	}
	settings, err := s.app.Inventory.GetSettings(ctx)
	if err != nil {
		return web.Applications{}, err
	}
	q, err := s.app.Inventory.GetQuestionnaire(ctx)
	if err != nil {
		return web.Applications{}, err
	}
	v := web.Applications{
		MaxExpiryDays:        strconv.Itoa(int(settings.InnovationMaxExpiry / (24 * time.Hour))),
		QuestionnaireVersion: int(q.Version), Questions: questions, MaxQuestionText: inventory.MaxQuestionText,
	}
	for _, t := range policy.Tiers {
		v.Tiers = append(v.Tiers, string(t))
	}
	for _, a := range apps {
		row := web.ApplicationRow{Name: a.Name, Tier: string(a.Tier), Assets: a.Assets, UpdatedBy: a.UpdatedBy}
		if !a.UpdatedAt.IsZero() {
			row.Updated = locale.Time(ctx, a.UpdatedAt)
		}
		v.Rows = append(v.Rows, row)
	}
	if v.Questions == nil {
		for i, qu := range q.Questions {
			v.Questions = append(v.Questions, web.QuestionRow{Index: i, ID: qu.ID, Text: qu.Text, Required: qu.Required})
		}
		// One empty row to add a question with.
		v.Questions = append(v.Questions, web.QuestionRow{Index: len(q.Questions), Required: true})
	}
	return v, nil
}

func (s *Server) applicationsPage(w http.ResponseWriter, r *http.Request) {
	s.keptList(w, r, "applications", locale.T(r.Context(), "applications.title"), applicationPages, func() (templ.Component, error) {
		v, err := s.applicationsView(r, nil)
		return web.ApplicationsContent(v), err
	})
}

// refusedOnApplications shows the page again with the refusal next to its field.
func (s *Server) refusedOnApplications(w http.ResponseWriter, r *http.Request, err error, questions []web.QuestionRow, mark func(v *web.Applications, errs map[string]string)) {
	if statusOf(err) != http.StatusBadRequest {
		s.fail(w, r, err)
		return
	}
	s.drawnOnce(w, r, http.StatusBadRequest, locale.T(r.Context(), "applications.title"), func() (templ.Component, error) {
		v, verr := s.applicationsView(r, questions)
		mark(&v, fieldErrors(r.Context(), err))
		return web.ApplicationsContent(v), verr
	})
}

func (s *Server) setApplicationTier(w http.ResponseWriter, r *http.Request) {
	app, tier := r.PostFormValue("application"), r.PostFormValue("tier")
	if err := s.app.Inventory.SetTier(r.Context(), actor(r), app, tier); err != nil {
		s.refusedOnApplications(w, r, err, nil, func(v *web.Applications, errs map[string]string) {
			v.TierErrorApp = strings.TrimSpace(app)
			for _, msg := range errs {
				v.TierError = msg
			}
		})
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "applications.tier_set", "Application", strings.TrimSpace(app), "Tier", web.Term(r.Context(), web.TermTier, strings.ToLower(strings.TrimSpace(tier)))))
	s.redirect(w, r, "/admin/applications")
}

func (s *Server) saveInnovationExpiry(w http.ResponseWriter, r *http.Request) {
	days := r.PostFormValue("innovation_max_expiry_days")
	if err := s.app.Inventory.SaveInnovationMaxExpiry(r.Context(), actor(r), days); err != nil {
		s.refusedOnApplications(w, r, err, nil, func(v *web.Applications, errs map[string]string) {
			v.MaxExpiryDays, v.MaxExpiryError = days, errs["innovation_max_expiry_days"]
		})
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "applications.expiry_saved"))
	s.redirect(w, r, "/admin/applications")
}

var questionFormField = regexp.MustCompile(`^questions\[(\d{1,2})\]\.(id|text|required|remove)$`)

// parseQuestionnaireForm reads the editor's rows in their order.
func parseQuestionnaireForm(r *http.Request) ([]inventory.QuestionInput, []web.QuestionRow) {
	byIndex := map[int]*inventory.QuestionInput{}
	for key, vals := range r.PostForm {
		m := questionFormField.FindStringSubmatch(key)
		if m == nil || len(vals) == 0 {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		q := byIndex[i]
		if q == nil {
			q = &inventory.QuestionInput{}
			byIndex[i] = q
		}
		switch m[2] {
		case "id":
			q.ID = vals[0]
		case "text":
			q.Text = vals[0]
		case "required":
			q.Required = vals[0] != ""
		case "remove":
			q.Remove = vals[0] != ""
		}
	}
	indexes := make([]int, 0, len(byIndex))
	for i := range byIndex {
		indexes = append(indexes, i)
	}
	sort.Ints(indexes)
	in := make([]inventory.QuestionInput, 0, len(indexes))
	rows := make([]web.QuestionRow, 0, len(indexes))
	for _, i := range indexes {
		q := *byIndex[i]
		in = append(in, q)
		rows = append(rows, web.QuestionRow{Index: len(rows), ID: q.ID, Text: q.Text, Required: q.Required})
	}
	return in, rows
}

func (s *Server) saveQuestionnaire(w http.ResponseWriter, r *http.Request) {
	in, rows := parseQuestionnaireForm(r)
	q, err := s.app.Inventory.SaveQuestionnaire(r.Context(), actor(r), in)
	if err != nil {
		s.refusedOnApplications(w, r, err, rows, func(v *web.Applications, errs map[string]string) {
			for i := range v.Questions {
				v.Questions[i].IDErr = errs[fmt.Sprintf("questions[%d].id", i)]
				v.Questions[i].TextErr = errs[fmt.Sprintf("questions[%d].text", i)]
			}
			v.QuestionsError = locale.T(r.Context(), "applications.questions_not_saved")
			if msg := errs["questions"]; msg != "" {
				v.QuestionsError = locale.T(r.Context(), "applications.questions_refused", "Reason", msg)
			}
		})
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "applications.questions_saved", "Version", q.Version))
	s.redirect(w, r, "/admin/applications")
}

// assessmentForm is the security assessment of the request form for the
// rules typed so far: empty unless they touch an innovation-tier
// application; answers and errors are the form's, kept as typed.
func (s *Server) assessmentForm(r *http.Request, rules []requests.RuleInput, id uint, answers, errs map[string]string) (web.AssessmentForm, error) {
	v := web.AssessmentForm{Endpoint: "/requests/assessment"}
	if id != 0 {
		v.Endpoint += "?request=" + strconv.FormatUint(uint64(id), 10)
	}
	inn, err := s.app.Requests.InnovationFor(r.Context(), actor(r), rules, id)
	if err != nil || len(inn.Applications) == 0 {
		return v, err
	}
	v.Applications, v.Version = inn.Applications, int(inn.Questionnaire.Version)
	v.MaxDays = int(inn.MaxExpiry / (24 * time.Hour))
	v.Until = locale.Date(r.Context(), time.Now().Add(inn.MaxExpiry))
	for _, q := range inn.Questionnaire.Questions {
		v.Questions = append(v.Questions, web.AssessmentQuestion{ID: q.ID, Text: q.Text, Required: q.Required,
			Answer: answers[q.ID], Error: errs[requests.AnswerField(q.ID)]})
	}
	return v, nil
}

// assessmentFragment answers htmx while the requester types the rules:
// the questionnaire appears when they touch an innovation-tier application.
func (s *Server) assessmentFragment(w http.ResponseWriter, r *http.Request) {
	in, _, _, _ := parseRequestForm(r)
	if len(in.Rules) > requests.MaxRules {
		in.Rules = in.Rules[:requests.MaxRules]
	}
	var id uint
	if raw := r.URL.Query().Get("request"); raw != "" {
		n, err := strconv.ParseUint(raw, 10, 32)
		if err != nil {
			s.renderError(w, r, http.StatusBadRequest, "request must be a request's number")
			return
		}
		id = uint(n)
	}
	v, err := s.assessmentForm(r, in.Rules, id, in.Assessment, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.AssessmentQuestions(v, core.Limits.AssessmentAnswer))
}

// assessmentView is a request's answered assessment for its pages.
func assessmentView(a *requests.Assessment) *web.AssessmentView {
	if a == nil {
		return nil
	}
	v := &web.AssessmentView{Version: int(a.Version)}
	for _, q := range a.Questions {
		v.Questions = append(v.Questions, web.AssessmentQuestion{ID: q.ID, Text: q.Text, Required: q.Required, Answer: a.Answers[q.ID]})
	}
	return v
}
