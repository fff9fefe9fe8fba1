package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/paging"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/scans"
)

// requestRows lays requests out for a list, times in the reader's language and zone.
func requestRows(ctx context.Context, reqs []models.Request) []web.RequestRow {
	rows := make([]web.RequestRow, len(reqs))
	var states stateLabels
	for i, r := range reqs {
		rows[i] = web.RequestRow{
			ID: r.ID, Href: requestHref(r.ID), Title: r.Title,
			State: r.State, StateLabel: states.of(ctx, r.State), Requester: r.Requester.Email, Team: r.Team,
			Rules: rulesSummary(r.Rules), Updated: locale.Time(ctx, r.UpdatedAt), Expires: locale.Date(ctx, r.ExpiresAt),
			NeedsSecond: r.NeedsSecondApproval,
		}
	}
	return rows
}

// requestHref is a request's page.
func requestHref(id uint) string { return "/requests/" + strconv.FormatUint(uint64(id), 10) }

// stateLabels words each state a list shows once for the list, not once a
// row (a lookup and an allocation each).
type stateLabels []struct{ state, label string }

func (l *stateLabels) of(ctx context.Context, state string) string {
	for _, s := range *l {
		if s.state == state {
			return s.label
		}
	}
	label := web.Term(ctx, web.TermState, state)
	*l = append(*l, struct{ state, label string }{state, label})
	return label
}

// rulesSummary is a list's protocol/ports of each rule, the first four and
// how many more.
func rulesSummary(rules []models.Rule) string {
	var b strings.Builder
	for i, ru := range rules {
		if i == 4 {
			b.WriteString(" +")
			b.WriteString(strconv.Itoa(len(rules) - 4))
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(ru.Protocol)
		b.WriteByte('/')
		b.WriteString(ru.Ports)
	}
	return b.String()
}

func (s *Server) listRequests(w http.ResponseWriter, r *http.Request) {
	s.keptList(w, r, "requests", locale.T(r.Context(), "requests.list_heading"), requestLists, func() (templ.Component, error) {
		a := actor(r)
		q := r.URL.Query()
		f := requests.Filter{Search: q.Get("q"), Mine: q.Get("mine") != ""}
		selected := q.Get("state")
		if st, ok := requests.ParseState(selected); ok {
			f.States = []requests.State{st}
		}
		page, err := cursorPage[requests.ListKey](r)
		if err != nil {
			return nil, err
		}
		reqs, err := s.app.Requests.ListPage(requests.ForRequestList(r.Context()), a, f, page)
		if err != nil {
			return nil, err
		}
		v := web.RequestList{Heading: locale.T(r.Context(), "requests.list_heading"), Rows: requestRows(r.Context(), reqs.Items), Query: f.Search, SearchMax: core.Limits.Search, Mine: f.Mine, CanFile: a.Has(core.RoleRequester), Links: pageLinks(r, "cursor", reqs.Next)}
		if !a.SeesAllRequests() {
			v.Heading = locale.T(r.Context(), "requests.list_heading_team")
		}
		for _, st := range requests.AllStates {
			v.States = append(v.States, web.Option{Value: string(st), Label: web.Term(r.Context(), web.TermState, string(st)), Selected: string(st) == selected})
		}
		return web.RequestListContent(v), nil
	})
}

// requestForm prepares the form with the inventory's choices.
func (s *Server) requestForm(r *http.Request, v web.RequestForm) (web.RequestForm, error) {
	ctx := r.Context()
	settings, err := s.app.Inventory.GetSettings(ctx)
	if err != nil {
		return v, err
	}
	now := time.Now().UTC()
	v.MinDate = now.AddDate(0, 0, 1).Format(dateFmt)
	v.MaxDays = int(settings.MaxExpiry.Hours() / 24)
	v.MaxDate = now.Add(settings.MaxExpiry).Format(dateFmt)
	if v.ExpiresAt == "" && !v.Editing {
		v.ExpiresAt = now.Add(settings.DefaultExpiry).Format(dateFmt)
	}
	zones, err := s.app.Inventory.Zones(ctx)
	if err != nil {
		return v, err
	}
	for _, z := range zones {
		v.Zones = append(v.Zones, web.Option{Value: z.Name, Label: z.Name + " (" + z.Classification + ")"})
	}
	// The first assets only: typing in a destination asks for more.
	if v.Assets, err = s.assetOptions(ctx, ""); err != nil {
		return v, err
	}
	if v.Choices, err = s.ruleChoices(r, zones); err != nil {
		return v, err
	}
	if len(v.Rules) == 0 {
		v.Rules = []web.RuleForm{{Index: 0, Protocol: "tcp", Direction: "ingress"}}
	}
	if v.Errors == nil {
		v.Errors = map[string]string{}
	}
	v.Findings = besideRules(v.Findings, v.Rules)
	rules := make([]requests.RuleInput, len(v.Rules))
	for i, ru := range v.Rules {
		rules[i] = requests.RuleInput{Source: ru.Source, Destination: ru.Destination, Protocol: ru.Protocol, Ports: ru.Ports, Service: ru.Service, Direction: ru.Direction}
	}
	var id uint
	if v.Editing {
		id = v.ID
	}
	if v.Assessment, err = s.assessmentForm(r, rules, id, v.Answers, v.Errors); err != nil {
		return v, err
	}
	return v, nil
}

func (s *Server) newRequestForm(w http.ResponseWriter, r *http.Request) {
	form := web.RequestForm{Action: "/requests"}
	if raw := r.URL.Query().Get("drift"); raw != "" {
		id, err := strconv.ParseUint(raw, 10, 32)
		if err != nil {
			s.fail(w, r, core.Invalid("drift", core.M("err.input.drift", "drift must be a drift item's number")))
			return
		}
		in, err := s.app.Drift.Prefill(r.Context(), actor(r), uint(id))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		form.Title, form.Justification, form.DriftID = in.Title, in.Justification, uint(id)
		for i, ru := range in.Rules {
			form.Rules = append(form.Rules, web.RuleForm{Index: i, Source: ru.Source, Destination: ru.Destination, Protocol: ru.Protocol, Ports: ru.Ports, Service: ru.Service, Direction: ru.Direction})
		}
	}
	v, err := s.requestForm(r, form)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.RequestFormPage(s.page(r, locale.T(r.Context(), "request_form.title_new")), v))
}

// assetSuggestions is how many assets a destination field suggests at once.
const assetSuggestions = 50

func (s *Server) assetOptions(ctx context.Context, prefix string) ([]web.Option, error) {
	assets, err := s.app.Inventory.SuggestAssets(ctx, prefix, assetSuggestions)
	if err != nil {
		return nil, err
	}
	opts := make([]web.Option, 0, len(assets))
	for _, a := range assets {
		label := a.Hostname
		if a.Zone != nil {
			label += " — " + a.Zone.Name
		}
		opts = append(opts, web.Option{Value: a.Address, Label: label})
	}
	return opts, nil
}

// suggestAssets answers a destination field as it is typed in: the
// assets whose address or name starts with the last address being written.
func (s *Server) suggestAssets(w http.ResponseWriter, r *http.Request) {
	var typed string
	for key, vals := range r.URL.Query() {
		if (key == "q" || strings.HasSuffix(key, ".destination") || strings.HasSuffix(key, ".source")) && len(vals) > 0 {
			typed = vals[0]
		}
	}
	if i := strings.LastIndex(typed, ","); i >= 0 {
		typed = typed[i+1:]
	}
	opts, err := s.assetOptions(r.Context(), typed)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.AssetOptions(opts))
}

// ruleRow is the fragment htmx appends when the requester adds a rule.
func (s *Server) ruleRow(w http.ResponseWriter, r *http.Request) {
	i, err := strconv.Atoi(r.URL.Query().Get("index"))
	if err != nil || i < 0 || i > 99 {
		s.renderError(w, r, http.StatusBadRequest, "index must be a number from 0 to 99")
		return
	}
	zones, err := s.app.Inventory.Zones(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	choices, err := s.ruleChoices(r, zones)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	web.RuleFields(web.RuleForm{Index: i, Protocol: "tcp", Direction: "ingress"}, choices).Render(r.Context(), w)
	web.AddRuleButton(i+1).Render(r.Context(), w)
}

var ruleField = regexp.MustCompile(`^rules\[(\d{1,3})\]\.(\w+)$`)

// ruleFieldPrefix finds the rule a field path is about: rules[2].destination[1] is rule 3's.
var ruleFieldPrefix = regexp.MustCompile(`^rules\[(\d{1,3})\]`)

// parseRequestForm reads the form into a workflow input and the rows to
// show again; removed rules are dropped and the rest renumbered.
func parseRequestForm(r *http.Request) (requests.Input, []web.RuleForm, string, error) {
	if err := r.ParseForm(); err != nil {
		return requests.Input{}, nil, "", core.Invalid("", core.M("err.input.form_unreadable", "the form could not be read"))
	}
	in := requests.Input{Title: r.PostForm.Get("title"), Justification: r.PostForm.Get("justification")}
	var dateErr error
	if d := strings.TrimSpace(r.PostForm.Get("expires_at")); d != "" {
		t, err := time.Parse(dateFmt, d)
		if err != nil {
			dateErr = core.Invalid("expires_at", core.M("err.input.date", "{{.Value}} is not a date (YYYY-MM-DD)", "Value", strconv.Quote(d)))
		} else {
			in.ExpiresAt = t.Add(23*time.Hour + 59*time.Minute) // the opening lasts through the chosen day
		}
	}
	byIndex := map[int]map[string]string{}
	for key, vals := range r.PostForm {
		if id, ok := strings.CutPrefix(key, "assessment."); ok && len(vals) > 0 {
			if in.Assessment == nil {
				in.Assessment = map[string]string{}
			}
			in.Assessment[id] = vals[0]
			continue
		}
		m := ruleField.FindStringSubmatch(key)
		if m == nil || len(vals) == 0 {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if byIndex[i] == nil {
			byIndex[i] = map[string]string{}
		}
		byIndex[i][m[2]] = vals[0]
	}
	indexes := make([]int, 0, len(byIndex))
	for i := range byIndex {
		indexes = append(indexes, i)
	}
	sort.Ints(indexes)
	var rows []web.RuleForm
	for _, i := range indexes {
		f := byIndex[i]
		if f["remove"] != "" {
			continue
		}
		ri := requests.RuleInput{Source: f["source"], Destination: f["destination"], Protocol: f["protocol"], Ports: f["ports"], Service: f["service"], Direction: f["direction"]}
		in.Rules = append(in.Rules, ri)
		rows = append(rows, web.RuleForm{Index: len(rows), Source: ri.Source, Destination: ri.Destination, Protocol: ri.Protocol, Ports: ri.Ports, Service: ri.Service, Direction: ri.Direction})
	}
	return in, rows, r.PostForm.Get("action"), dateErr
}

// formWithErrors shows the form again with each message next to its field.
func (s *Server) formWithErrors(w http.ResponseWriter, r *http.Request, in requests.Input, v web.RequestForm, err error) {
	if statusOf(err) != http.StatusBadRequest {
		s.fail(w, r, err)
		return
	}
	v.Errors = map[string]string{}
	for field, msg := range fieldErrors(r.Context(), err) {
		if m := ruleField.FindStringSubmatch(field); m != nil {
			i, _ := strconv.Atoi(m[1])
			if i < len(v.Rules) {
				if v.Rules[i].Errors == nil {
					v.Rules[i].Errors = map[string]string{}
				}
				v.Rules[i].Errors[m[2]] = msg
				continue
			}
		}
		v.Errors[field] = msg
	}
	v.FormError = locale.T(r.Context(), "request_form.not_saved")
	v.Problems = problemsOf(r.Context(), err)
	if len(in.Rules) > 0 {
		if f, err := s.evaluateInput(r, in); err == nil {
			v.Findings = f
		}
	}
	v, ferr := s.requestForm(r, v)
	if ferr != nil {
		s.fail(w, r, ferr)
		return
	}
	s.render(w, r, http.StatusBadRequest, web.RequestFormPage(s.page(r, locale.T(r.Context(), "request_form.title_new")), v))
}

func formFrom(in requests.Input, rows []web.RuleForm, rawExpiry string) web.RequestForm {
	return web.RequestForm{Title: in.Title, Justification: in.Justification, ExpiresAt: rawExpiry, Rules: rows, Answers: in.Assessment}
}

func (s *Server) createRequest(w http.ResponseWriter, r *http.Request) {
	in, rows, action, dateErr := parseRequestForm(r)
	v := formFrom(in, rows, r.PostForm.Get("expires_at"))
	v.Action = "/requests"
	var driftID uint
	if raw := r.PostForm.Get("drift_id"); raw != "" {
		id, err := strconv.ParseUint(raw, 10, 32)
		if err != nil {
			s.fail(w, r, core.Invalid("drift_id", core.M("err.input.drift_id", "drift_id must be a drift item's number")))
			return
		}
		driftID = uint(id)
		v.DriftID = driftID
	}
	if action == "add_rule" {
		v.Rules = append(v.Rules, web.RuleForm{Index: len(v.Rules), Protocol: "tcp", Direction: "ingress"})
		v, err := s.requestForm(r, v)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, web.RequestFormPage(s.page(r, locale.T(r.Context(), "request_form.title_new")), v))
		return
	}
	if dateErr != nil {
		s.formWithErrors(w, r, in, v, dateErr)
		return
	}
	if driftID != 0 {
		// Refused before anything is saved: a request filed from drift
		// must come from someone who sees the item and must open what it found.
		if err := s.app.Drift.CheckLink(r.Context(), actor(r), driftID, in.Rules); err != nil {
			s.formWithErrors(w, r, in, v, err)
			return
		}
	}
	req, err := s.app.Requests.Create(r.Context(), actor(r), in)
	if err != nil {
		s.formWithErrors(w, r, in, v, err)
		return
	}
	if driftID != 0 {
		if err := s.app.Drift.LinkRequest(r.Context(), actor(r), driftID, req.ID); err != nil {
			// Only a race (another request filed from the item meanwhile) gets here.
			s.log.Warn("link drift to request", "drift", driftID, "request", req.ID, "err", err)
		}
	}
	msg := locale.T(r.Context(), "request_form.saved_draft", "ID", req.ID)
	if action == "submit" {
		if _, err := s.app.Requests.Submit(r.Context(), actor(r), req.ID); err != nil {
			s.fail(w, r, err)
			return
		}
		msg = locale.T(r.Context(), "request_form.submitted", "ID", req.ID)
	}
	s.flash(r, "ok", msg)
	s.redirect(w, r, fmt.Sprintf("/requests/%d", req.ID))
}

func (s *Server) editRequestForm(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a := actor(r)
	d, err := s.app.Requests.Get(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req := d.Request
	if !requests.Allowed(requests.EventEdit, a, requests.State(req.State), req.RequesterID) {
		s.fail(w, r, core.Conflict(core.M("err.requests.not_editable", "request #{{.ID}} is {{.State}} and can no longer be edited by you", "ID", id, "State", core.M("state."+req.State, requests.State(req.State).Label()))))
		return
	}
	v := web.RequestForm{Action: fmt.Sprintf("/requests/%d/edit", id), Editing: true, ID: id, Title: req.Title, Justification: req.Justification,
		ExpiresAt: req.ExpiresAt.Format(dateFmt), AfterSubmission: req.State == string(requests.StateSubmitted) || req.State == string(requests.StateInReview)}
	for i, ru := range req.Rules {
		v.Rules = append(v.Rules, web.RuleForm{Index: i, Source: ru.Source, Destination: ru.Destination, Protocol: ru.Protocol, Ports: ru.Ports, Service: ru.Service, Direction: ru.Direction})
	}
	if a := requests.AssessmentOf(req); a != nil {
		v.Answers = a.Answers
	}
	v.Findings = findingsView(r.Context(), requests.FindingsOf(req), nil, nil)
	v, err = s.requestForm(r, v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.RequestFormPage(s.page(r, locale.T(r.Context(), "request_form.title_edit")), v))
}

func (s *Server) updateRequest(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in, rows, action, dateErr := parseRequestForm(r)
	v := formFrom(in, rows, r.PostForm.Get("expires_at"))
	v.Action, v.Editing, v.ID = fmt.Sprintf("/requests/%d/edit", id), true, id
	if action == "add_rule" {
		v.Rules = append(v.Rules, web.RuleForm{Index: len(v.Rules), Protocol: "tcp", Direction: "ingress"})
		v, err := s.requestForm(r, v)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, web.RequestFormPage(s.page(r, locale.T(r.Context(), "request_form.title_edit")), v))
		return
	}
	if dateErr != nil {
		s.formWithErrors(w, r, in, v, dateErr)
		return
	}
	if _, err := s.app.Requests.Update(r.Context(), actor(r), id, in); err != nil {
		s.formWithErrors(w, r, in, v, err)
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "request_form.saved", "ID", id))
	s.redirect(w, r, fmt.Sprintf("/requests/%d", id))
}

// transitionHandler runs a form-button transition and returns to the request page.
func (s *Server) transitionHandler(w http.ResponseWriter, r *http.Request, done string, call func(id uint, reason string) (*models.Request, error)) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	reason := r.PostFormValue("reason")
	if _, err := call(id, reason); err != nil {
		s.refusedOnRequestPage(w, r, err, func(v *web.RequestDetail) {
			for i := range v.Actions {
				if v.Actions[i].Href == r.URL.Path {
					v.Actions[i].Reason, v.Actions[i].ReasonError = reason, fieldErrors(r.Context(), err)["reason"]
				}
			}
		})
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), done, "ID", id))
	s.redirect(w, r, fmt.Sprintf("/requests/%d", id))
}

func (s *Server) submitRequest(w http.ResponseWriter, r *http.Request) {
	s.transitionHandler(w, r, "request_form.submitted", func(id uint, _ string) (*models.Request, error) {
		return s.app.Requests.Submit(r.Context(), actor(r), id)
	})
}

func (s *Server) cancelRequest(w http.ResponseWriter, r *http.Request) {
	s.transitionHandler(w, r, "request_form.cancelled", func(id uint, reason string) (*models.Request, error) {
		return s.app.Requests.Cancel(r.Context(), actor(r), id, reason)
	})
}

func (s *Server) revokeRequest(w http.ResponseWriter, r *http.Request) {
	s.transitionHandler(w, r, "request_form.revoked", func(id uint, reason string) (*models.Request, error) {
		return s.app.Requests.Revoke(r.Context(), actor(r), id, reason)
	})
}

func (s *Server) commentRequest(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body := r.PostFormValue("body")
	if _, err := s.app.Requests.AddComment(r.Context(), actor(r), id, body); err != nil {
		s.refusedOnRequestPage(w, r, err, func(v *web.RequestDetail) {
			v.CommentDraft, v.CommentError = body, fieldErrors(r.Context(), err)["body"]
		})
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "request.comment_posted"))
	s.redirect(w, r, fmt.Sprintf("/requests/%d", id))
}

// detailView turns a request into its page's view model, with the actions the viewer may take.
func detailView(ctx context.Context, d *requests.Detail, a core.Actor) web.RequestDetail {
	req := d.Request
	st := requests.State(req.State)
	v := web.RequestDetail{
		ID: req.ID, Title: req.Title, State: req.State, StateLabel: web.Term(ctx, web.TermState, req.State), Requester: req.Requester.Email,
		Team: req.Team, Justification: req.Justification, Created: locale.Time(ctx, req.CreatedAt), Submitted: locale.TimePtr(ctx, req.SubmittedAt),
		Expires: locale.Date(ctx, req.ExpiresAt), NeedsSecondApproval: req.NeedsSecondApproval,
		ChangeRef: req.ChangeRef, ImplNote: req.ImplementNote, Implemented: locale.TimePtr(ctx, req.ImplementedAt), CanComment: true,
	}
	v.Findings = findingsView(ctx, requests.FindingsOf(req), requests.ControlsOf(req), nil)
	v.Exception = req.Exception
	v.Innovation, v.Assessment = req.Innovation, assessmentView(requests.AssessmentOf(req))
	if d.Verification != nil {
		v.Verification, v.VerificationStatus = fmt.Sprintf("/scans/%d", d.Verification.ID), web.Term(ctx, web.TermScanStatus, d.Verification.Status)
		v.VerificationState = d.Verification.Status
		for _, e := range d.Evidence {
			v.Evidence = append(v.Evidence, web.EvidenceRow{Rule: e.Rule + 1, Address: e.Address, Port: fmt.Sprintf("%s/%d", e.Protocol, e.Port),
				State: e.State, Service: e.Service, Banner: e.Banner, Verdict: e.Verdict, OK: e.OK})
		}
	}
	if d.FirstApproval != nil && st == requests.StateInReview && req.NeedsSecondApproval {
		v.AwaitingSecond, v.FirstApprover = true, d.FirstApproval.Reviewer.Email
	}
	for i, ru := range req.Rules {
		v.Rules = append(v.Rules, web.RuleView{Number: i + 1, Source: ru.Source, Destination: ru.Destination, Protocol: ru.Protocol, Ports: ru.Ports, Service: ru.Service, Direction: directionText(ctx, ru.Direction)})
	}
	for _, as := range d.Destinations {
		av := web.AssetView{Address: as.Address, Hostname: as.Hostname, OwnerTeam: as.OwnerTeam, Application: as.Application, Zone: locale.T(ctx, "request.no_zone")}
		if as.Zone != nil {
			av.Zone, av.Classification = as.Zone.Name, as.Zone.Classification
		}
		v.Destinations = append(v.Destinations, av)
	}
	items := map[string]requests.ChecklistItem{}
	for _, item := range requests.ChecklistFor(requests.FindingsOf(req)) {
		items[item.ID] = item
	}
	for _, rv := range d.Reviews {
		view := web.ReviewView{Reviewer: rv.Reviewer.Email, Kind: catalogOr(ctx, "review.kind_"+rv.Kind, rv.Kind), Decision: catalogOr(ctx, "review.decision_"+rv.Decision, rv.Decision),
			Comment: rv.Comment, At: locale.Time(ctx, rv.CreatedAt), ZoneConfirmed: rv.ZoneConfirmed, Voided: rv.Voided}
		for _, c := range requests.Checklist(rv) {
			item, known := items[c.Item]
			text, catalog := checklistText(ctx, item), false
			if item.Required {
				var translated bool
				text, translated = controlText(ctx, item.Text, item.Texts)
				catalog = !translated
			}
			if !known {
				text, catalog = c.Item, true // an item of a policy since changed
			}
			view.Checklist = append(view.Checklist, web.ChecklistView{Text: text, Catalog: catalog, Result: catalogOr(ctx, "review."+c.Result, c.Result), Note: c.Note})
		}
		v.Reviews = append(v.Reviews, view)
	}
	for _, e := range d.Timeline {
		v.Timeline = append(v.Timeline, web.Event{Kind: e.Action, At: locale.Time(ctx, e.At), Actor: e.Actor, Action: catalogOr(ctx, "timeline."+e.Action, strings.ReplaceAll(e.Action, "_", " ")), From: stateText(ctx, e.FromState), To: stateText(ctx, e.ToState), Comment: e.Comment})
	}
	if a.Has(core.RoleAuditor, core.RoleAdmin) {
		v.AuditLogHref = fmt.Sprintf("/audit/log?object_type=request&object_id=%d", req.ID)
	}
	for _, c := range d.Comments {
		v.Comments = append(v.Comments, web.CommentView{Author: c.Author.Email, At: locale.Time(ctx, c.CreatedAt), Body: c.Body})
	}
	base := fmt.Sprintf("/requests/%d", req.ID)
	allowed := func(ev requests.Event) bool { return requests.Allowed(ev, a, st, req.RequesterID) }
	if allowed(requests.EventEdit) {
		v.Actions = append(v.Actions, web.Action{Label: locale.T(ctx, "request.action_edit"), Href: base + "/edit", Method: "GET", Style: "secondary"})
	}
	if allowed(requests.EventSubmit) {
		v.Actions = append(v.Actions, web.Action{Label: locale.T(ctx, "request.action_submit"), Href: base + "/submit", Method: "POST"})
	}
	if (allowed(requests.EventClaim) || allowed(requests.EventApprove)) && !v.AwaitingSecond {
		v.Actions = append(v.Actions, web.Action{Label: locale.T(ctx, "request.action_review"), Href: base + "/review", Method: "GET"})
	}
	if v.AwaitingSecond && allowed(requests.EventSecondApprove) {
		v.Actions = append(v.Actions, web.Action{Label: locale.T(ctx, "request.action_second"), Href: base + "/approve", Method: "GET"})
	}
	if allowed(requests.EventImplement) {
		v.Actions = append(v.Actions, web.Action{Label: locale.T(ctx, "request.action_implement"), Href: base + "/implement", Method: "GET"})
	}
	if allowed(requests.EventCancel) {
		v.Actions = append(v.Actions, web.Action{Label: locale.T(ctx, "request.action_cancel"), Href: base + "/cancel", Method: "POST", Style: "danger", NeedsReason: true,
			Name: "cancel", Question: locale.T(ctx, "confirm.cancel", "ID", req.ID)})
	}
	if allowed(requests.EventRevoke) {
		v.Actions = append(v.Actions, web.Action{Label: locale.T(ctx, "request.action_revoke"), Href: base + "/revoke", Method: "POST", Style: "danger", NeedsReason: true,
			Name: "revoke", Question: locale.T(ctx, "confirm.revoke", "ID", req.ID)})
	}
	return v
}

func (s *Server) loadDetail(w http.ResponseWriter, r *http.Request) (*requests.Detail, bool) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	d, err := s.app.Requests.Get(r.Context(), actor(r), id)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return d, true
}

func (s *Server) showRequest(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.keptTitled(w, r, fmt.Sprintf("request/%d", id), requestPages, func() (string, templ.Component, error) {
		// The stamp is read before the rows: a change between the two makes
		// the page's stream ask for it again.
		src, live := s.liveSrc(r, "")
		d, err := s.app.Requests.Get(r.Context(), actor(r), id)
		if err != nil {
			return "", nil, err
		}
		v := detailView(r.Context(), d, actor(r))
		if live {
			v.Live = fmt.Sprintf("/requests/%d/events%s", d.Request.ID, src)
		}
		return locale.T(r.Context(), "request_form.page_title", "ID", d.Request.ID, "Title", d.Request.Title), web.RequestContent(web.Limits(core.Limits), v), nil
	})
}

func checklistItems(ctx context.Context, findings []requests.Finding, answers map[string]requests.ChecklistAnswer, errs map[string]string) []web.ChecklistItem {
	var items []web.ChecklistItem
	for i, item := range requests.ChecklistFor(findings) {
		a := answers[item.ID]
		text, translated := checklistText(ctx, item), true
		if item.Required {
			text, translated = controlText(ctx, item.Text, item.Texts)
		}
		items = append(items, web.ChecklistItem{ID: item.ID, Text: text, Result: a.Result, Note: a.Note, Index: i, Required: item.Required, Untranslated: !translated, Error: errs[fmt.Sprintf("checklist[%d]", i)]})
	}
	return items
}

// findingsView shows findings with the controls recorded against them and
// any error about a missing control.
func findingsView(ctx context.Context, findings []requests.Finding, controls map[string]string, errs map[string]string) web.Findings {
	v := web.Findings{Evaluated: true}
	for _, f := range findings {
		key := requests.FindingKey(f)
		required, translated := controlTexts(ctx, f)
		v.Items = append(v.Items, web.FindingView{
			Rule: f.Rule + 1, Code: f.Code, Severity: string(f.Severity), Message: findingMessage(ctx, f), Parts: findingParts(ctx, f), Blocking: f.Blocking,
			RequiredControls: required, ControlsUntranslated: !translated, Key: key, Control: controls[key], Error: errs["compensating_controls["+key+"]"],
		})
	}
	return v
}

// evaluateForm is what htmx asks while the requester types: the findings
// of the rules as they stand, nothing saved.
func (s *Server) evaluateForm(w http.ResponseWriter, r *http.Request) {
	// The form's size is bounded by validText (formBodyLimits).
	in, rows, _, _ := parseRequestForm(r)
	if len(in.Rules) > requests.MaxRules {
		s.render(w, r, http.StatusOK, web.FindingsPanel(web.Findings{Evaluated: true, Incomplete: []string{
			locale.T(r.Context(), "request_form.too_many_rules", "Rules", len(in.Rules), "Max", requests.MaxRules)}}))
		return
	}
	v, err := s.evaluateInput(r, in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	general := besideRules(v, rows)
	if err := s.portHints(r, rows); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.LiveFindings(general, rows))
}

// hintedHosts bounds how many destination hosts of one rule get a hint.
const hintedHosts = 3

// portHints puts beside each ingress rule what the last scan of its
// destination hosts saw on the ports it asks for.
func (s *Server) portHints(r *http.Request, rows []web.RuleForm) error {
	ctx := r.Context()
	for i := range rows {
		row := &rows[i]
		if strings.EqualFold(strings.TrimSpace(row.Direction), "egress") {
			continue // the destination is the outside peer, not our host
		}
		hosts := 0
		for _, d := range strings.Split(row.Destination, ",") {
			addr, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimSpace(d), "/32"))
			if err != nil || hosts == hintedHosts {
				continue
			}
			hosts++
			h, err := s.app.Scans.HintFor(ctx, actor(r), addr.String(), row.Protocol, row.Ports, row.Service)
			if err != nil {
				return err
			}
			if h == nil {
				continue
			}
			view := web.PortHintView{Address: h.Address, When: locale.Time(ctx, h.At), Full: h.Full,
				Answering: strings.Join(h.Answering, ", "), Silent: strings.Join(h.Silent, ", ")}
			var open []string
			for _, p := range h.Elsewhere {
				open = append(open, openPortText(p))
			}
			view.Elsewhere = strings.Join(open, ", ")
			row.Hints = append(row.Hints, view)
		}
	}
	return nil
}

// openPortText is an open port as the hint lists it: "tcp/8443 (http, TLS)".
func openPortText(p scans.Port) string {
	text := fmt.Sprintf("%s/%d", p.Protocol, p.Port)
	switch {
	case p.Service != "" && p.TLS:
		return text + " (" + p.Service + ", TLS)"
	case p.Service != "":
		return text + " (" + p.Service + ")"
	}
	return text
}

// besideRules puts each rule's findings, and why it could not be judged,
// beside the rule, and returns what concerns no one rule. The rows'
// indexes must match the findings' rule numbers (the rows as parsed).
func besideRules(f web.Findings, rows []web.RuleForm) web.Findings {
	if !f.Evaluated {
		return f
	}
	general := web.Findings{Evaluated: true}
	for i := range rows {
		rows[i].Evaluated = true
		rows[i].Incomplete = f.RuleIncomplete[i+1]
	}
	for _, item := range f.Items {
		if k := item.Rule - 1; k >= 0 && k < len(rows) {
			rows[k].Findings = append(rows[k].Findings, item)
			continue
		}
		general.Items = append(general.Items, item)
	}
	general.Incomplete = f.Incomplete
	// A form whose every rule is judged shows nothing more at the bottom.
	if len(general.Items) == 0 && len(general.Incomplete) == 0 {
		general.Evaluated = false
	}
	return general
}

func (s *Server) evaluateInput(r *http.Request, in requests.Input) (web.Findings, error) {
	ev, err := s.app.Requests.Evaluate(r.Context(), requests.SpecsOf(in.Rules), in.ExpiresAt)
	if err != nil {
		return web.Findings{}, err
	}
	v := findingsView(r.Context(), ev.Findings, nil, nil)
	v.RuleIncomplete = map[int][]string{}
	for _, e := range ev.Incomplete {
		text := locale.T(r.Context(), "request_form.not_judged", "Reason", humanMessage(r.Context(), e))
		if m := ruleFieldPrefix.FindStringSubmatch(e.Field); m != nil {
			i, _ := strconv.Atoi(m[1])
			v.RuleIncomplete[i+1] = append(v.RuleIncomplete[i+1], text)
			continue
		}
		v.Incomplete = append(v.Incomplete, text)
	}
	return v, nil
}

func (s *Server) reviewForm(w http.ResponseWriter, r *http.Request) {
	d, ok := s.loadDetail(w, r)
	if !ok {
		return
	}
	v := web.ReviewForm{Request: detailView(r.Context(), d, actor(r)), Checklist: checklistItems(r.Context(), requests.FindingsOf(d.Request), nil, nil), Errors: map[string]string{}}
	s.render(w, r, http.StatusOK, web.ReviewPage(s.page(r, locale.T(r.Context(), "review.title")), v))
}

func (s *Server) reviewRequest(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	r.ParseForm()
	in := requests.ReviewInput{
		Decision: requests.Decision(r.PostForm.Get("decision")), Comment: r.PostForm.Get("comment"),
		ZoneConfirmed: r.PostForm.Get("zone_confirmed") != "",
	}
	answers := map[string]requests.ChecklistAnswer{}
	in.CompensatingControls = map[string]string{}
	for key, vals := range r.PostForm {
		switch {
		case strings.HasPrefix(key, "checklist."):
			id := strings.TrimPrefix(key, "checklist.")
			a := answers[id]
			a.Item, a.Result = id, vals[0]
			answers[id] = a
		case strings.HasPrefix(key, "note."):
			id := strings.TrimPrefix(key, "note.")
			a := answers[id]
			a.Item, a.Note = id, vals[0]
			answers[id] = a
		case strings.HasPrefix(key, "control."):
			in.CompensatingControls[strings.TrimPrefix(key, "control.")] = vals[0]
		}
	}
	for _, ans := range answers {
		if ans.Result != "" || strings.TrimSpace(ans.Note) != "" {
			in.Checklist = append(in.Checklist, ans)
		}
	}
	a := actor(r)
	if _, err := s.app.Requests.Review(r.Context(), a, id, in); err != nil {
		if statusOf(err) != http.StatusBadRequest {
			s.fail(w, r, err)
			return
		}
		d, derr := s.app.Requests.Get(r.Context(), a, id)
		if derr != nil {
			s.fail(w, r, derr)
			return
		}
		errs := fieldErrors(r.Context(), err)
		view := detailView(r.Context(), d, a)
		view.Findings = findingsView(r.Context(), requests.FindingsOf(d.Request), in.CompensatingControls, errs)
		v := web.ReviewForm{Request: view, Checklist: checklistItems(r.Context(), requests.FindingsOf(d.Request), answers, errs), Decision: string(in.Decision),
			Comment: in.Comment, ZoneConfirmed: in.ZoneConfirmed, Errors: errs, FormError: locale.T(r.Context(), "review.not_recorded", "Reason", humanMessage(r.Context(), err))}
		s.render(w, r, http.StatusBadRequest, web.ReviewPage(s.page(r, locale.T(r.Context(), "review.title")), v))
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "review.recorded", "ID", id))
	s.redirect(w, r, fmt.Sprintf("/requests/%d", id))
}

func (s *Server) approveForm(w http.ResponseWriter, r *http.Request) {
	d, ok := s.loadDetail(w, r)
	if !ok {
		return
	}
	v := web.ReviewForm{Request: detailView(r.Context(), d, actor(r)), Second: true, Errors: map[string]string{}}
	s.render(w, r, http.StatusOK, web.ReviewPage(s.page(r, locale.T(r.Context(), "review.title_second")), v))
}

func (s *Server) approveRequest(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a := actor(r)
	decision, comment := requests.Decision(r.PostFormValue("decision")), r.PostFormValue("comment")
	if _, err := s.app.Requests.SecondApproval(r.Context(), a, id, decision, comment); err != nil {
		if statusOf(err) != http.StatusBadRequest {
			s.fail(w, r, err)
			return
		}
		d, derr := s.app.Requests.Get(r.Context(), a, id)
		if derr != nil {
			s.fail(w, r, derr)
			return
		}
		v := web.ReviewForm{Request: detailView(r.Context(), d, a), Second: true, Decision: string(decision), Comment: comment, Errors: fieldErrors(r.Context(), err), FormError: locale.T(r.Context(), "review.not_recorded", "Reason", humanMessage(r.Context(), err))}
		s.render(w, r, http.StatusBadRequest, web.ReviewPage(s.page(r, locale.T(r.Context(), "review.title_second")), v))
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "review.recorded", "ID", id))
	s.redirect(w, r, fmt.Sprintf("/requests/%d", id))
}

func (s *Server) implementForm(w http.ResponseWriter, r *http.Request) {
	d, ok := s.loadDetail(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, web.ImplementPage(s.page(r, locale.T(r.Context(), "implement.title")), web.ImplementForm{Request: detailView(r.Context(), d, actor(r)), Errors: map[string]string{}}))
}

func (s *Server) implementRequest(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a := actor(r)
	ref, note := r.PostFormValue("change_ref"), r.PostFormValue("note")
	if _, err := s.app.Requests.Implement(r.Context(), a, id, ref, note); err != nil {
		if statusOf(err) != http.StatusBadRequest {
			s.fail(w, r, err)
			return
		}
		d, derr := s.app.Requests.Get(r.Context(), a, id)
		if derr != nil {
			s.fail(w, r, derr)
			return
		}
		s.render(w, r, http.StatusBadRequest, web.ImplementPage(s.page(r, locale.T(r.Context(), "implement.title")), web.ImplementForm{Request: detailView(r.Context(), d, a), ChangeRef: ref, Note: note, Errors: fieldErrors(r.Context(), err)}))
		return
	}
	s.flash(r, "ok", locale.T(r.Context(), "implement.done", "ID", id))
	s.redirect(w, r, fmt.Sprintf("/requests/%d", id))
}

func (s *Server) queuePage(w http.ResponseWriter, r *http.Request, v web.Queue, list func(context.Context, paging.Request[requests.QueueKey]) (paging.Page[models.Request], error), queue requests.QueueName) {
	s.keptList(w, r, "queue:"+string(queue), v.Heading, requestLists, func() (templ.Component, error) {
		page, err := cursorPage[requests.QueueKey](r)
		if err != nil {
			return nil, err
		}
		// Only the implementation queue shows whole rules.
		listing := requests.ForRuleSummaries(r.Context())
		if queue == requests.QueueImplementation {
			listing = requests.ForListing(r.Context())
		}
		reqs, err := list(listing, page)
		if err != nil {
			return nil, err
		}
		a := actor(r)
		if v.Total, err = s.app.Requests.CountQueue(r.Context(), a, queue); err != nil {
			return nil, err
		}
		var firstByMe map[uint]bool
		if queue == requests.QueueApproval {
			ids := make([]uint, len(reqs.Items))
			for i, rq := range reqs.Items {
				ids[i] = rq.ID
			}
			if firstByMe, err = s.app.Requests.FirstApprovedBy(r.Context(), a, ids); err != nil {
				return nil, err
			}
		}
		v.ShowRules = queue == requests.QueueImplementation
		v.Rows, v.Links = queueRows(r.Context(), a, reqs.Items, firstByMe, v.ShowRules), pageLinks(r, "cursor", reqs.Next)
		return web.QueueContent(v), nil
	})
}

// queueRows marks each request with its most severe finding, the exception
// path, and whether the reader may act on it at all.
func queueRows(ctx context.Context, a core.Actor, reqs []models.Request, firstByMe map[uint]bool, withRules bool) []web.WorkQueueRow {
	base := requestRows(ctx, reqs)
	rows := make([]web.WorkQueueRow, len(reqs))
	for i, rq := range reqs {
		row := web.WorkQueueRow{RequestRow: base[i], Exception: rq.Exception, Own: rq.RequesterID == a.ID, FirstByMe: firstByMe[rq.ID]}
		worst, blocking := requests.Gravity(rq)
		row.Exception = row.Exception || blocking
		row.Severity = string(worst)
		if row.Severity != "" {
			row.SeverityLabel = web.Term(ctx, web.TermSeverity, row.Severity)
		}
		if withRules {
			for j, ru := range rq.Rules {
				row.RuleList = append(row.RuleList, web.RuleView{Number: j + 1, Source: ru.Source, Destination: ru.Destination, Protocol: ru.Protocol, Ports: ru.Ports, Service: ru.Service, Direction: directionText(ctx, ru.Direction)})
			}
		}
		rows[i] = row
	}
	return rows
}

func (s *Server) reviewQueue(w http.ResponseWriter, r *http.Request) {
	s.queuePage(w, r, queueView(locale.T(r.Context(), "queue.review_heading"), locale.T(r.Context(), "queue.review_intro"), locale.T(r.Context(), "queue.review_empty"),
		locale.T(r.Context(), "queue.review_action"), "/review"),
		func(ctx context.Context, p paging.Request[requests.QueueKey]) (paging.Page[models.Request], error) {
			return s.app.Requests.ReviewQueuePage(ctx, actor(r), p)
		}, requests.QueueReview)
}

func (s *Server) approvalQueue(w http.ResponseWriter, r *http.Request) {
	s.queuePage(w, r, queueView(locale.T(r.Context(), "queue.approval_heading"), locale.T(r.Context(), "queue.approval_intro"), locale.T(r.Context(), "queue.approval_empty"),
		locale.T(r.Context(), "queue.approval_action"), "/approve"),
		func(ctx context.Context, p paging.Request[requests.QueueKey]) (paging.Page[models.Request], error) {
			return s.app.Requests.ApprovalQueuePage(ctx, actor(r), p)
		}, requests.QueueApproval)
}

func (s *Server) implementationQueue(w http.ResponseWriter, r *http.Request) {
	s.queuePage(w, r, queueView(locale.T(r.Context(), "queue.implementation_heading"), locale.T(r.Context(), "queue.implementation_intro"), locale.T(r.Context(), "queue.implementation_empty"),
		locale.T(r.Context(), "queue.implementation_action"), "/implement"),
		func(ctx context.Context, p paging.Request[requests.QueueKey]) (paging.Page[models.Request], error) {
			return s.app.Requests.ImplementationQueuePage(ctx, actor(r), p)
		}, requests.QueueImplementation)
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	s.keptList(w, r, "register", locale.T(r.Context(), "register.title"), requestLists, func() (templ.Component, error) {
		page, err := cursorPage[requests.RegisterKey](r)
		if err != nil {
			return nil, err
		}
		entries, err := s.app.Requests.RegisterPage(requests.ForListing(r.Context()), actor(r), page)
		if err != nil {
			return nil, err
		}
		now := time.Now().UTC()
		v := web.Register{Rows: make([]web.RegisterRow, len(entries.Items)), Links: pageLinks(r, "cursor", entries.Next)}
		var states stateLabels
		for i, e := range entries.Items {
			v.Rows[i] = web.RegisterRow{
				RequestID: e.Request.ID, Href: requestHref(e.Request.ID), Title: e.Request.Title,
				Source: e.Rule.Source, Destination: e.Rule.Destination, Protocol: e.Rule.Protocol, Ports: e.Rule.Ports,
				Service: e.Rule.Service, Direction: directionText(r.Context(), e.Rule.Direction), State: e.Request.State, StateLabel: states.of(r.Context(), e.Request.State),
				Approvers: strings.Join(e.Approvers, ", "), Expires: locale.Date(r.Context(), e.Request.ExpiresAt), DaysLeft: requests.DaysLeft(now, e.Request.ExpiresAt),
				Exception: e.Request.Exception, Innovation: e.Request.Innovation,
			}
		}
		return web.RegisterContent(v), nil
	})
}

// stateText is a stored state as people read it; empty stays empty.
func stateText(ctx context.Context, s string) string {
	if s == "" {
		return ""
	}
	return web.Term(ctx, web.TermState, s)
}

// catalogOr is the message id names in the reader's language, or fallback
// (a stored value no catalog names, e.g. one a later release added).
func catalogOr(ctx context.Context, id, fallback string) string {
	if t := locale.T(ctx, id); t != id {
		return t
	}
	return fallback
}

// directionText is a rule's stored direction as people read it.
func directionText(ctx context.Context, d string) string {
	return catalogOr(ctx, "direction."+d, d)
}

// checklistText is a checklist item in the reader's language: the baseline
// items by their id, controls a finding requires as controlText says them.
func checklistText(ctx context.Context, item requests.ChecklistItem) string {
	if item.Required {
		text, _ := controlText(ctx, item.Text, item.Texts)
		return text
	}
	return catalogOr(ctx, "checklist."+item.ID, item.Text)
}

// controlPatterns are the controls the engine words with a service's name
// in them, by the catalog id that says them in other languages.
var controlPatterns = []struct{ prefix, suffix, id string }{
	{"Authentication enabled on ", "", "control_pattern.auth_on"},
	{"Source restricted to named ", " peers", "control_pattern.named_peers"},
	{"Response rate limiting on ", "", "control_pattern.rate_limit"},
}

// controlText is a control the policy requires, in the reader's language,
// and whether it is: in the catalog entry's own words for the language
// (given, or for controls recorded before findings kept them, the shipped
// catalog's), else the engine's own controls from the message catalogs;
// one an admin wrote without a translation stays as written.
func controlText(ctx context.Context, text string, given map[string]string) (string, bool) {
	lang := locale.Lang(ctx)
	if lang == locale.Offered[0].Tag {
		return text, true
	}
	if given == nil {
		given = policy.ShippedTexts(text)
	}
	if t := given[lang]; t != "" {
		return t, true
	}
	id := "checklist." + requests.ControlID(text)
	if t := locale.T(ctx, id); t != id {
		return t, true
	}
	for _, p := range controlPatterns {
		if service, ok := strings.CutPrefix(text, p.prefix); ok && strings.HasSuffix(service, p.suffix) {
			return locale.T(ctx, p.id, "Service", strings.TrimSuffix(service, p.suffix)), true
		}
	}
	return text, false
}

// controlTexts is controlText of each of a finding's controls, and
// whether all are translated.
func controlTexts(ctx context.Context, f requests.Finding) ([]string, bool) {
	out := make([]string, len(f.RequiredControls))
	all := true
	for i, c := range f.RequiredControls {
		var given map[string]string
		if i < len(f.ControlTexts) {
			given = f.ControlTexts[i]
		}
		var ok bool
		out[i], ok = controlText(ctx, c, given)
		all = all && ok
	}
	return out, all
}

// findingMessage is a finding's text for the reader, on the pages and in
// the API: in English the engine's own message; in another language its
// message said in that language, with the same ports, zones and services.
// A finding stored before findings kept their message apart from language
// has only the catalog's text for its code, which says what it means and
// what to do.
func findingMessage(ctx context.Context, f requests.Finding) string {
	if locale.Lang(ctx) == locale.Offered[0].Tag {
		return f.Message
	}
	if f.Said.ID != "" {
		return say(ctx, f.Said)
	}
	return catalogOr(ctx, "finding."+f.Code, f.Message)
}

// findingParts is findingMessage with the values it names told apart,
// for the pages to mark as data; nil where there is nothing to tell apart
// (English, whose message is the engine's own, and findings stored before
// they kept their values).
func findingParts(ctx context.Context, f requests.Finding) []web.MessagePart {
	if locale.Lang(ctx) == locale.Offered[0].Tag || f.Said.ID == "" {
		return nil
	}
	var parts []web.MessagePart
	for i, run := range strings.Split(say(ctx, markValues(f.Said)), valueMark) {
		// Runs alternate: words, a value, words, …
		if run != "" {
			parts = append(parts, web.MessagePart{Text: run, Data: i%2 == 1})
		}
	}
	return parts
}

// valueMark brackets each value in a message said for findingParts: a
// private-use character, which no catalog text or value holds.
const valueMark = "\ue000"

// markGiven is a message of given words bracketed by valueMark in each
// language.
func markGiven(m core.Message) core.Message {
	texts := make(map[string]string, len(m.Texts))
	for lang, t := range m.Texts {
		texts[lang] = valueMark + t + valueMark
	}
	return core.Given(valueMark+m.English+valueMark, texts)
}

// markValues is m with each value that is data bracketed by valueMark.
func markValues(m core.Message) core.Message {
	out := core.Message{ID: m.ID, English: m.English, Args: make([]core.Arg, len(m.Args))}
	for i, a := range m.Args {
		if n, ok := a.Value.(core.Message); ok && n.ID == "" && len(n.Args) == 0 {
			// Words the data gave (a catalog entry's): a value too.
			out.Args[i] = core.Arg{Name: a.Name, Value: markGiven(n)}
			continue
		} else if ok {
			out.Args[i] = core.Arg{Name: a.Name, Value: markValues(n)}
			continue
		}
		out.Args[i] = core.Arg{Name: a.Name, Value: valueMark + fmt.Sprint(a.Value) + valueMark}
	}
	return out
}

// queueView is the frame of a work queue; suffix is the action's path
// after the request's.
func queueView(heading, intro, empty, action, suffix string) web.Queue {
	return web.Queue{Heading: heading, Intro: intro, Empty: empty, ActionLabel: action, ActionSuffix: suffix}
}

// refusedOnRequestPage shows the request page again with what the user
// typed and why it was refused, for bad input; any other error is an error page.
func (s *Server) refusedOnRequestPage(w http.ResponseWriter, r *http.Request, err error, keep func(*web.RequestDetail)) {
	if statusOf(err) != http.StatusBadRequest {
		s.fail(w, r, err)
		return
	}
	d, ok := s.loadDetail(w, r)
	if !ok {
		return
	}
	v := detailView(r.Context(), d, actor(r))
	keep(&v)
	p := s.page(r, locale.T(r.Context(), "request_form.page_title", "ID", d.Request.ID, "Title", d.Request.Title))
	p.Flash, p.FlashKind = locale.T(r.Context(), "request.not_saved_reason", "Reason", humanMessage(r.Context(), err)), "error"
	s.render(w, r, http.StatusBadRequest, web.PageOf(p, web.RequestContent(p.Limits, v)))
}
