package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/drift"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/paging"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/scans"
)

func (s *Server) apiRoutes(r chi.Router, prefix string) {
	R, RV, AP, IM, AD := core.RoleRequester, core.RoleReviewer, core.RoleApprover, core.RoleImplementer, core.RoleAdmin
	get, post, put, del := http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	for _, rt := range []struct {
		method, pattern string
		a               access
		h               http.HandlerFunc
	}{
		{get, "/me", anyone(), s.apiMe},
		{post, "/evaluate", anyone(), s.apiEvaluate},
		{get, "/requests", anyone(), s.apiListRequests},
		{post, "/requests", roles(R, AD), s.apiCreateRequest},
		{get, "/requests/{id}", anyone(), s.apiGetRequest},
		{put, "/requests/{id}", roles(R, AD), s.apiUpdateRequest},
		{post, "/requests/{id}/submit", roles(R, AD), s.apiSubmit},
		{post, "/requests/{id}/cancel", roles(R, AD), s.apiCancel},
		{post, "/requests/{id}/review", roles(RV, AP), s.apiReview},
		{post, "/requests/{id}/approve", roles(AP), s.apiApprove},
		{post, "/requests/{id}/implement", roles(IM), s.apiImplement},
		{post, "/requests/{id}/revoke", roles(RV, AP), s.apiRevoke},
		{get, "/requests/{id}/comments", anyone(), s.apiListComments},
		{post, "/requests/{id}/comments", anyone(), s.apiAddComment},
		{get, "/queues/review", roles(RV, AP), s.apiQueue("review")},
		{get, "/queues/approval", roles(AP), s.apiQueue("approval")},
		{get, "/queues/implementation", roles(IM), s.apiQueue("implementation")},
		{get, "/rules", anyone(), s.apiRuleRegister},
		{get, "/zones", anyone(), s.apiListZones},
		{post, "/zones", roles(AD), s.apiSaveZone},
		{put, "/zones/{id}", roles(AD), s.apiSaveZone},
		{del, "/zones/{id}", roles(AD), s.apiDeleteZone},
		{get, "/assets", anyone(), s.apiListAssets},
		{post, "/assets", roles(AD), s.apiSaveAsset},
		{put, "/assets/{id}", roles(AD), s.apiSaveAsset},
		{del, "/assets/{id}", roles(AD), s.apiDeleteAsset},
		{post, "/assets/import", roles(AD), s.apiImportAssets},
		{get, "/audit/export", roles(core.RoleAuditor, AD), s.apiAuditExport},
		{get, "/reports/{kind}", roles(core.RoleAuditor, AD), s.apiReport},
		{get, "/drift", roles(RV, AP, IM, core.RoleAuditor, AD), s.apiListDrift},
		{post, "/drift/{id}/acknowledge", roles(RV, AP, AD), s.apiDriftAction},
		{post, "/drift/{id}/suppress", roles(AP, AD), s.apiDriftAction},
		{get, "/scans", roles(RV, AP, IM, core.RoleAuditor, AD), s.apiListScans},
		{post, "/scans", roles(RV, AP, AD), s.apiStartScan},
		{get, "/scans/{id}", roles(RV, AP, IM, core.RoleAuditor, AD), s.apiGetScan},
		{get, "/agents", roles(core.RoleAuditor, AD), s.apiListAgents},
	} {
		s.handle(r, rt.method, rt.pattern, prefix, rt.a, rt.h, true)
	}
}

// flexString accepts a JSON string, number or list of strings; a list is
// joined with commas (a list of CIDRs, of addresses, of ports).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		*f = flexString(n.String())
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err == nil {
		*f = flexString(strings.Join(list, ","))
		return nil
	}
	return errors.New("want a string or a list of strings")
}

type apiRule struct {
	Source      flexString `json:"source"`
	Destination flexString `json:"destination"`
	Protocol    string     `json:"protocol"`
	Ports       flexString `json:"ports"`
	Service     string     `json:"service"`
	Direction   string     `json:"direction"`
}

type apiRequestInput struct {
	Title         string    `json:"title"`
	Justification string    `json:"justification"`
	ExpiresAt     string    `json:"expires_at"`
	Rules         []apiRule `json:"rules"`
	// Assessment answers the security assessment by question id; needed
	// when the rules touch an innovation-tier application.
	Assessment map[string]string `json:"assessment"`
}

func (in apiRequestInput) toWorkflow() (requests.Input, error) {
	out := requests.Input{Title: in.Title, Justification: in.Justification, Assessment: in.Assessment}
	if in.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, in.ExpiresAt)
		if err != nil {
			d, derr := time.Parse(dateFmt, in.ExpiresAt)
			if derr != nil {
				return out, core.Invalid("expires_at", core.M("err.input.date_rfc3339", "{{.Value}} is not a date (RFC 3339, or YYYY-MM-DD)", "Value", strconv.Quote(in.ExpiresAt)))
			}
			t = d.Add(23*time.Hour + 59*time.Minute)
		}
		out.ExpiresAt = t
	}
	for _, r := range in.Rules {
		out.Rules = append(out.Rules, requests.RuleInput{Source: string(r.Source), Destination: string(r.Destination), Protocol: r.Protocol, Ports: string(r.Ports), Service: r.Service, Direction: r.Direction})
	}
	return out, nil
}

// maxJSONBody bounds every JSON body; maxEvaluateBody the evaluation's,
// which holds at most requests.MaxRules rules.
const (
	maxJSONBody     = 1 << 20
	maxEvaluateBody = 256 << 10
)

// decodeJSON reads a bounded JSON body, refusing unknown fields so a typo is
// reported rather than silently ignored.
func decodeJSON(r *http.Request, v any) error { return decodeJSONLimit(r, v, maxJSONBody) }

// decodeJSONLimit refuses a body longer than limit bytes with a 413 rather
// than reading it whole or cutting it short.
func decodeJSONLimit(r *http.Request, v any, limit int64) error {
	raw, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err == nil && int64(len(raw)) > limit {
		return core.TooLarge("body", core.M("err.input.body_too_large", "the body is larger than {{.KiB}} KiB; send fewer rules per call", "KiB", limit>>10))
	}
	if err != nil {
		return core.Invalid("body", core.M("err.input.body_cannot_read", "the body cannot be read: {{.Reason}}", "Reason", core.Plain(err.Error())))
	}
	if err := checkJSONText(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return core.Invalid("body", core.M("err.input.body_empty", "the request body is empty; send a JSON object"))
		case errors.As(err, &syn):
			return core.Invalid("body", core.M("err.input.body_not_json", "the body is not valid JSON (at byte {{.Offset}})", "Offset", syn.Offset))
		case errors.As(err, &typ):
			return core.Invalid(typ.Field, core.M("err.input.json_type", "{{.Field}} must be a {{.Type}}", "Field", typ.Field, "Type", typ.Type.String()))
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return core.Invalid(field, core.M("err.input.json_unknown_field", "unknown field {{.Field}}", "Field", strconv.Quote(field)))
		}
		return core.Invalid("body", core.M("err.input.body_cannot_read", "the body cannot be read: {{.Reason}}", "Reason", core.Plain(err.Error())))
	}
	return nil
}

// The JSON shapes of the API.
type (
	ruleJSON struct {
		Source      any    `json:"source"`
		Destination any    `json:"destination"`
		Protocol    string `json:"protocol"`
		Ports       string `json:"ports"`
		Service     string `json:"service"`
		Direction   string `json:"direction"`
	}
	reviewJSON struct {
		Reviewer      string                     `json:"reviewer"`
		Kind          string                     `json:"kind"`
		Decision      string                     `json:"decision"`
		Comment       string                     `json:"comment"`
		ZoneConfirmed bool                       `json:"zone_confirmed"`
		Checklist     []requests.ChecklistAnswer `json:"checklist"`
		Voided        bool                       `json:"voided"`
		At            time.Time                  `json:"at"`
	}
	eventJSON struct {
		At      time.Time `json:"at"`
		Actor   string    `json:"actor"`
		Action  string    `json:"action"`
		From    string    `json:"from,omitempty"`
		To      string    `json:"to,omitempty"`
		Comment string    `json:"comment,omitempty"`
	}
	commentJSON struct {
		ID     uint      `json:"id"`
		Author string    `json:"author"`
		Body   string    `json:"body"`
		At     time.Time `json:"at"`
	}
	requestJSON struct {
		ID                   uint                 `json:"id"`
		Title                string               `json:"title"`
		Justification        string               `json:"justification"`
		State                string               `json:"state"`
		Requester            string               `json:"requester"`
		Team                 string               `json:"team"`
		ExpiresAt            time.Time            `json:"expires_at"`
		NeedsSecondApproval  bool                 `json:"needs_second_approval"`
		ChangeRef            string               `json:"change_ref,omitempty"`
		ImplementNote        string               `json:"implement_note,omitempty"`
		CreatedAt            time.Time            `json:"created_at"`
		UpdatedAt            time.Time            `json:"updated_at"`
		Version              int                  `json:"version"`
		Rules                []ruleJSON           `json:"rules"`
		Findings             []requests.Finding   `json:"findings"`
		Exception            bool                 `json:"exception"`
		CompensatingControls map[string]string    `json:"compensating_controls,omitempty"`
		Innovation           bool                 `json:"innovation"`
		Assessment           *requests.Assessment `json:"assessment,omitempty"`
		Reviews              []reviewJSON         `json:"reviews,omitempty"`
		Timeline             []eventJSON          `json:"timeline,omitempty"`
	}
)

func ruleToJSON(ru models.Rule) ruleJSON {
	var src any = ru.Source
	if strings.ContainsAny(ru.Source, "/:") || (ru.Source != "" && ru.Source[0] >= '0' && ru.Source[0] <= '9') {
		src = strings.Split(ru.Source, ",")
	}
	var dst any = ru.Destination
	if strings.ContainsAny(ru.Destination, ".:") {
		dst = strings.Split(ru.Destination, ",")
	}
	return ruleJSON{Source: src, Destination: dst, Protocol: ru.Protocol, Ports: ru.Ports, Service: ru.Service, Direction: ru.Direction}
}

func requestToJSON(ctx context.Context, r models.Request) requestJSON {
	out := requestJSON{
		ID: r.ID, Title: r.Title, Justification: r.Justification, State: r.State, Requester: r.Requester.Email, Team: r.Team,
		ExpiresAt: r.ExpiresAt.UTC(), NeedsSecondApproval: r.NeedsSecondApproval, ChangeRef: r.ChangeRef, ImplementNote: r.ImplementNote,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Version: r.Version, Rules: []ruleJSON{}, Findings: apiFindings(ctx, requests.FindingsOf(r)),
		Exception: r.Exception, Innovation: r.Innovation, Assessment: requests.AssessmentOf(r),
	}
	if out.Findings == nil {
		out.Findings = []requests.Finding{}
	}
	if r.Exception {
		out.CompensatingControls = requests.ControlsOf(r)
	}
	for _, ru := range r.Rules {
		out.Rules = append(out.Rules, ruleToJSON(ru))
	}
	return out
}

// requestPageJSON is a page of requests as the API lists them.
func requestPageJSON(ctx context.Context, reqs paging.Page[models.Request]) map[string]any {
	out := make([]requestJSON, len(reqs.Items))
	for i, req := range reqs.Items {
		out[i] = requestToJSON(ctx, req)
	}
	return nextCursor(map[string]any{"requests": out}, reqs.Next)
}

func detailToJSON(ctx context.Context, d *requests.Detail) requestJSON {
	out := requestToJSON(ctx, d.Request)
	for _, rv := range d.Reviews {
		out.Reviews = append(out.Reviews, reviewJSON{Reviewer: rv.Reviewer.Email, Kind: rv.Kind, Decision: rv.Decision, Comment: rv.Comment, ZoneConfirmed: rv.ZoneConfirmed, Checklist: requests.Checklist(rv), Voided: rv.Voided, At: rv.CreatedAt.UTC()})
	}
	for _, e := range d.Timeline {
		out.Timeline = append(out.Timeline, eventJSON{At: e.At.UTC(), Actor: e.Actor, Action: e.Action, From: e.FromState, To: e.ToState, Comment: e.Comment})
	}
	return out
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	writeJSON(w, http.StatusOK, map[string]any{"email": a.Email, "name": a.Name, "team": a.Team, "roles": a.Roles})
}

func (s *Server) apiListRequests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := requests.Filter{Search: q.Get("q"), Mine: q.Get("mine") == "true" || q.Get("mine") == "1"}
	for _, raw := range q["state"] {
		for _, name := range strings.Split(raw, ",") {
			st, ok := requests.ParseState(name)
			if !ok {
				s.apiError(w, r, core.Invalid("state", core.M("err.input.request_state", "{{.Value}} is not a request state", "Value", strconv.Quote(name))))
				return
			}
			f.States = append(f.States, st)
		}
	}
	page, err := cursorPage[requests.ListKey](r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.keptJSON(w, r, "requests", requestLists, func() (any, error) {
		reqs, err := s.app.Requests.ListPage(r.Context(), actor(r), f, page)
		if err != nil {
			return nil, err
		}
		return requestPageJSON(r.Context(), reqs), nil
	})
}

func (s *Server) apiCreateRequest(w http.ResponseWriter, r *http.Request) {
	var body apiRequestInput
	if err := decodeJSON(r, &body); err != nil {
		s.apiError(w, r, err)
		return
	}
	in, err := body.toWorkflow()
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	req, err := s.app.Requests.Create(r.Context(), actor(r), in)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.apiWriteRequest(w, r, req.ID, http.StatusCreated)
}

func (s *Server) apiWriteRequest(w http.ResponseWriter, r *http.Request, id uint, status int) {
	d, err := s.app.Requests.Get(r.Context(), actor(r), id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if status == http.StatusCreated {
		w.Header().Set("Location", fmt.Sprintf("/api/v1/requests/%d", id))
	}
	writeJSON(w, status, detailToJSON(r.Context(), d))
}

func (s *Server) apiGetRequest(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.keptJSON(w, r, fmt.Sprintf("request/%d", id), requestPages, func() (any, error) {
		d, err := s.app.Requests.Get(r.Context(), actor(r), id)
		if err != nil {
			return nil, err
		}
		return detailToJSON(r.Context(), d), nil
	})
}

func (s *Server) apiUpdateRequest(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var body apiRequestInput
	if err := decodeJSON(r, &body); err != nil {
		s.apiError(w, r, err)
		return
	}
	in, err := body.toWorkflow()
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if _, err := s.app.Requests.Update(r.Context(), actor(r), id, in); err != nil {
		s.apiError(w, r, err)
		return
	}
	s.apiWriteRequest(w, r, id, http.StatusOK)
}

// apiAction decodes an optional JSON body into v, runs call and answers with the request.
func (s *Server) apiAction(w http.ResponseWriter, r *http.Request, v any, call func(id uint) error) {
	id, err := idParam(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if v != nil && r.ContentLength != 0 {
		if err := decodeJSON(r, v); err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	if err := call(id); err != nil {
		s.apiError(w, r, err)
		return
	}
	s.apiWriteRequest(w, r, id, http.StatusOK)
}

type reasonBody struct {
	Reason string `json:"reason"`
}

func (s *Server) apiSubmit(w http.ResponseWriter, r *http.Request) {
	s.apiAction(w, r, nil, func(id uint) error { _, err := s.app.Requests.Submit(r.Context(), actor(r), id); return err })
}

func (s *Server) apiCancel(w http.ResponseWriter, r *http.Request) {
	var b reasonBody
	s.apiAction(w, r, &b, func(id uint) error { _, err := s.app.Requests.Cancel(r.Context(), actor(r), id, b.Reason); return err })
}

func (s *Server) apiRevoke(w http.ResponseWriter, r *http.Request) {
	var b reasonBody
	s.apiAction(w, r, &b, func(id uint) error { _, err := s.app.Requests.Revoke(r.Context(), actor(r), id, b.Reason); return err })
}

func (s *Server) apiReview(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Decision             string                     `json:"decision"`
		Comment              string                     `json:"comment"`
		ZoneConfirmed        bool                       `json:"zone_confirmed"`
		Checklist            []requests.ChecklistAnswer `json:"checklist"`
		CompensatingControls map[string]string          `json:"compensating_controls"`
	}
	s.apiAction(w, r, &b, func(id uint) error {
		_, err := s.app.Requests.Review(r.Context(), actor(r), id, requests.ReviewInput{Decision: requests.Decision(b.Decision), Comment: b.Comment, ZoneConfirmed: b.ZoneConfirmed, Checklist: b.Checklist, CompensatingControls: b.CompensatingControls})
		return err
	})
}

func (s *Server) apiApprove(w http.ResponseWriter, r *http.Request) {
	b := struct {
		Decision string `json:"decision"`
		Comment  string `json:"comment"`
	}{Decision: string(requests.DecisionApprove)}
	s.apiAction(w, r, &b, func(id uint) error {
		_, err := s.app.Requests.SecondApproval(r.Context(), actor(r), id, requests.Decision(b.Decision), b.Comment)
		return err
	})
}

func (s *Server) apiImplement(w http.ResponseWriter, r *http.Request) {
	var b struct {
		ChangeRef string `json:"change_ref"`
		Note      string `json:"note"`
	}
	s.apiAction(w, r, &b, func(id uint) error {
		_, err := s.app.Requests.Implement(r.Context(), actor(r), id, b.ChangeRef, b.Note)
		return err
	})
}

func (s *Server) apiListComments(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.keptJSON(w, r, fmt.Sprintf("comments/%d", id), requestPages, func() (any, error) {
		d, err := s.app.Requests.Get(r.Context(), actor(r), id)
		if err != nil {
			return nil, err
		}
		out := []commentJSON{}
		for _, c := range d.Comments {
			out = append(out, commentJSON{ID: c.ID, Author: c.Author.Email, Body: c.Body, At: c.CreatedAt.UTC()})
		}
		return map[string]any{"comments": out}, nil
	})
}

func (s *Server) apiAddComment(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var b struct {
		Body string `json:"body"`
	}
	if err := decodeJSON(r, &b); err != nil {
		s.apiError(w, r, err)
		return
	}
	a := actor(r)
	c, err := s.app.Requests.AddComment(r.Context(), a, id, b.Body)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, commentJSON{ID: c.ID, Author: a.Email, Body: c.Body, At: c.CreatedAt.UTC()})
}

func (s *Server) apiQueue(which string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		page, err := cursorPage[requests.QueueKey](r)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		s.keptJSON(w, r, "queue:"+which, requestLists, func() (any, error) {
			var reqs paging.Page[models.Request]
			switch which {
			case "review":
				reqs, err = s.app.Requests.ReviewQueuePage(r.Context(), actor(r), page)
			case "approval":
				reqs, err = s.app.Requests.ApprovalQueuePage(r.Context(), actor(r), page)
			default:
				reqs, err = s.app.Requests.ImplementationQueuePage(r.Context(), actor(r), page)
			}
			if err != nil {
				return nil, err
			}
			return requestPageJSON(r.Context(), reqs), nil
		})
	}
}

func (s *Server) apiRuleRegister(w http.ResponseWriter, r *http.Request) {
	page, err := cursorPage[requests.RegisterKey](r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.keptJSON(w, r, "rules", requestLists, func() (any, error) {
		entries, err := s.app.Requests.RegisterPage(r.Context(), actor(r), page)
		if err != nil {
			return nil, err
		}
		type entry struct {
			ruleJSON
			RequestID  uint      `json:"request_id"`
			Title      string    `json:"title"`
			State      string    `json:"state"`
			Approvers  []string  `json:"approvers"`
			ExpiresAt  time.Time `json:"expires_at"`
			Innovation bool      `json:"innovation"`
		}
		out := make([]entry, len(entries.Items))
		for i, e := range entries.Items {
			out[i] = entry{ruleToJSON(e.Rule), e.Request.ID, e.Request.Title, e.Request.State, e.Approvers, e.Request.ExpiresAt.UTC(), e.Request.Innovation}
		}
		return nextCursor(map[string]any{"rules": out}, entries.Next), nil
	})
}

type zoneJSON struct {
	ID             uint     `json:"id"`
	Name           string   `json:"name"`
	Classification string   `json:"classification"`
	CIDRs          []string `json:"cidrs"`
	Owner          string   `json:"owner"`
	Description    string   `json:"description"`
	// CheckCredentials: the zone's scans try default credentials.
	CheckCredentials bool `json:"check_credentials"`
}

func zoneToJSON(z models.Zone) zoneJSON {
	c := strings.Fields(z.CIDRs)
	if c == nil {
		c = []string{}
	}
	return zoneJSON{ID: z.ID, Name: z.Name, Classification: z.Classification, CIDRs: c, Owner: z.Owner, Description: z.Description, CheckCredentials: z.CheckCredentials}
}

func (s *Server) apiListZones(w http.ResponseWriter, r *http.Request) {
	page, err := cursorPage[inventory.ZoneKey](r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	zones, err := s.app.Inventory.ListZonesPage(r.Context(), page)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := make([]zoneJSON, len(zones.Items))
	for i, z := range zones.Items {
		out[i] = zoneToJSON(z)
	}
	writeJSON(w, http.StatusOK, nextCursor(map[string]any{"zones": out}, zones.Next))
}

// optionalID reads {id} when the route has one (PUT), or 0 (POST creates).
func optionalID(r *http.Request) (uint, error) {
	if chi.URLParam(r, "id") == "" {
		return 0, nil
	}
	return idParam(r)
}

func (s *Server) apiSaveZone(w http.ResponseWriter, r *http.Request) {
	id, err := optionalID(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var b struct {
		Name           string     `json:"name"`
		Classification string     `json:"classification"`
		CIDRs          flexString `json:"cidrs"`
		Owner          string     `json:"owner"`
		Description    string     `json:"description"`
		// Omitted: off, as every field of a zone is replaced.
		CheckCredentials bool `json:"check_credentials"`
	}
	if err := decodeJSON(r, &b); err != nil {
		s.apiError(w, r, err)
		return
	}
	z, err := s.app.Inventory.SaveZone(r.Context(), actor(r), id, inventory.ZoneInput{Name: b.Name, Classification: b.Classification, CIDRs: string(b.CIDRs), Owner: b.Owner, Description: b.Description, CheckCredentials: b.CheckCredentials})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	status := http.StatusOK
	if id == 0 {
		status = http.StatusCreated
	}
	writeJSON(w, status, zoneToJSON(*z))
}

func (s *Server) apiDeleteZone(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err == nil {
		err = s.app.Inventory.DeleteZone(r.Context(), actor(r), id)
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type assetJSON struct {
	ID             uint   `json:"id"`
	Address        string `json:"address"`
	Hostname       string `json:"hostname"`
	OwnerTeam      string `json:"owner_team"`
	Application    string `json:"application"`
	Zone           string `json:"zone"`
	Classification string `json:"classification"`
	// PublicAddress is the internet-facing (NAT) address, when it has one.
	PublicAddress string `json:"public_address,omitempty"`
	// Tier is the application's risk tier: innovation, standard or critical.
	Tier string `json:"tier"`
}

func assetToJSON(a models.Asset, tiers map[string]policy.Tier) assetJSON {
	out := assetJSON{ID: a.ID, Address: a.Address, Hostname: a.Hostname, OwnerTeam: a.OwnerTeam, Application: a.Application, PublicAddress: a.PublicAddress,
		Tier: string(inventory.TierOf(tiers, a.Application))}
	if a.Zone != nil {
		out.Zone, out.Classification = a.Zone.Name, a.Zone.Classification
	}
	return out
}

func (s *Server) apiListAssets(w http.ResponseWriter, r *http.Request) {
	page, err := cursorPage[inventory.AssetKey](r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.keptJSON(w, r, "assets", inventoryLists, func() (any, error) {
		assets, tiers, err := s.assetsPage(r.Context(), page)
		if err != nil {
			return nil, err
		}
		out := make([]assetJSON, len(assets.Items))
		for i, a := range assets.Items {
			out[i] = assetToJSON(a, tiers)
		}
		return nextCursor(map[string]any{"assets": out}, assets.Next), nil
	})
}

func (s *Server) apiSaveAsset(w http.ResponseWriter, r *http.Request) {
	id, err := optionalID(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var b struct {
		Address       string `json:"address"`
		Hostname      string `json:"hostname"`
		OwnerTeam     string `json:"owner_team"`
		Application   string `json:"application"`
		PublicAddress string `json:"public_address"`
	}
	if err := decodeJSON(r, &b); err != nil {
		s.apiError(w, r, err)
		return
	}
	a, err := s.app.Inventory.SaveAsset(r.Context(), actor(r), id, inventory.AssetInput(b))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	full, err := s.app.Inventory.GetAsset(r.Context(), a.ID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	tiers, err := s.app.Inventory.Tiers(r.Context())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	status := http.StatusOK
	if id == 0 {
		status = http.StatusCreated
	}
	writeJSON(w, status, assetToJSON(*full, tiers))
}

func (s *Server) apiDeleteAsset(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err == nil {
		err = s.app.Inventory.DeleteAsset(r.Context(), actor(r), id)
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiImportAssets takes the CSV as the request body (Content-Type: text/csv).
func (s *Server) apiImportAssets(w http.ResponseWriter, r *http.Request) {
	created, updated, err := s.app.Inventory.ImportAssets(r.Context(), actor(r), http.MaxBytesReader(w, r.Body, maxUpload))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"created": created, "updated": updated})
}

// apiEvaluate judges rule objects against the policy in force; nothing is
// saved. Every rule must parse: the first bad field is a 400.
func (s *Server) apiEvaluate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Rules     []apiRule `json:"rules"`
		ExpiresAt string    `json:"expires_at"`
	}
	if err := decodeJSONLimit(r, &body, maxEvaluateBody); err != nil {
		s.apiError(w, r, err)
		return
	}
	if len(body.Rules) == 0 {
		s.apiError(w, r, core.Invalid("rules", core.M("err.input.rules_none", "give at least one rule object")))
		return
	}
	if len(body.Rules) > requests.MaxRules {
		s.apiError(w, r, core.Invalid("rules", core.M("err.requests.evaluate_too_many", "{{.Count}} rules given; one evaluation judges at most {{.Max}} (as one request holds): split them", "Count", len(body.Rules), "Max", requests.MaxRules)))
		return
	}
	in, err := apiRequestInput{ExpiresAt: body.ExpiresAt, Rules: body.Rules}.toWorkflow()
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	ev, err := s.app.Requests.Evaluate(r.Context(), requests.SpecsOf(in.Rules), in.ExpiresAt)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if len(ev.Incomplete) > 0 {
		s.apiError(w, r, ev.Incomplete[0])
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"findings": apiFindings(r.Context(), ev.Findings), "blocking": policy.HasBlocking(ev.Findings), "needs_second_approval": policy.NeedsSecondApproval(ev.Findings, false)})
}

type driftJSON struct {
	ID              uint       `json:"id"`
	Kind            string     `json:"kind"`
	Severity        string     `json:"severity"`
	Asset           string     `json:"asset"`
	Port            int        `json:"port"`
	LastPort        int        `json:"last_port,omitempty"`
	Protocol        string     `json:"protocol"`
	Service         string     `json:"service"`
	Zone            string     `json:"zone"`
	State           string     `json:"state"`
	FirstSeen       time.Time  `json:"first_seen"`
	LastSeen        time.Time  `json:"last_seen"`
	ResolvedAt      *time.Time `json:"resolved_at,omitempty"`
	RuleID          uint       `json:"rule_id,omitempty"`
	RequestID       uint       `json:"request_id,omitempty"`
	Detail          string     `json:"detail"`
	Evidence        any        `json:"evidence"`
	SuppressedUntil *time.Time `json:"suppressed_until,omitempty"`
	SuppressReason  string     `json:"suppress_reason,omitempty"`
}

func driftToJSON(d models.DriftItem) driftJSON {
	var ev any
	json.Unmarshal([]byte(d.Evidence), &ev)
	return driftJSON{ID: d.ID, Kind: d.Kind, Severity: d.Severity, Asset: d.Address, Port: d.Port, LastPort: d.LastPort, Protocol: d.Protocol,
		Service: d.Service, Zone: d.Zone, State: d.State, FirstSeen: d.FirstSeen.UTC(), LastSeen: d.LastSeen.UTC(), ResolvedAt: d.ResolvedAt,
		RuleID: d.RuleID, RequestID: d.RequestID, Detail: d.Detail, Evidence: ev, SuppressedUntil: d.SuppressedUntil, SuppressReason: d.SuppressReason}
}

func (s *Server) apiListDrift(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := drift.Filter{Kind: q.Get("kind"), Severity: q.Get("severity"), Zone: q.Get("zone"), Address: q.Get("asset")}
	if st := q.Get("state"); st != "" {
		for _, name := range strings.Split(st, ",") {
			switch name {
			case drift.Open, drift.Acknowledged, drift.Resolved, drift.Suppressed:
				f.States = append(f.States, name)
			default:
				s.apiError(w, r, core.Invalid("state", core.M("err.input.drift_state", "{{.Value}} is not open, acknowledged, resolved or suppressed", "Value", strconv.Quote(name))))
				return
			}
		}
	}
	req, err := pageParams[drift.Key](r, "limit", "cursor")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.keptJSON(w, r, "drift", driftLists, func() (any, error) {
		page, err := s.app.Drift.Page(r.Context(), actor(r), f, req)
		if err != nil {
			return nil, err
		}
		out := make([]driftJSON, len(page.Items))
		for i, d := range page.Items {
			out[i] = driftToJSON(d)
		}
		body := map[string]any{"drift": out}
		if page.Next != "" {
			body["next_cursor"] = page.Next
		}
		return body, nil
	})
}

// apiListScans lists runs newest first, a page at a time, without their
// reports (GET /scans/{id} has the report).
func (s *Server) apiListScans(w http.ResponseWriter, r *http.Request) {
	req, err := pageParams[scans.RunKey](r, "limit", "cursor")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.keptJSON(w, r, "scans", runLists, func() (any, error) {
		page, err := s.app.Scans.List(r.Context(), actor(r), req)
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, len(page.Items))
		for i, run := range page.Items {
			out[i] = scanToJSON(run)
		}
		return nextCursor(map[string]any{"scans": out}, page.Next), nil
	})
}

func (s *Server) apiDriftAction(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	var b struct {
		Comment string `json:"comment"`
		Reason  string `json:"reason"`
		Until   string `json:"until"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &b); err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	var d *models.DriftItem
	if strings.HasSuffix(r.URL.Path, "/suppress") {
		until, perr := time.Parse(time.RFC3339, b.Until)
		if perr != nil {
			day, derr := time.Parse(dateFmt, b.Until)
			if derr != nil {
				s.apiError(w, r, core.Invalid("until", core.M("err.input.until", "until is a date (YYYY-MM-DD or RFC 3339)")))
				return
			}
			until = day.Add(23*time.Hour + 59*time.Minute)
		}
		d, err = s.app.Drift.Suppress(r.Context(), actor(r), id, b.Reason, until)
	} else {
		d, err = s.app.Drift.Acknowledge(r.Context(), actor(r), id, b.Comment)
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, driftToJSON(*d))
}

func (s *Server) apiStartScan(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Targets []string `json:"targets"`
		Profile string   `json:"profile"`
	}
	if err := decodeJSON(r, &b); err != nil {
		s.apiError(w, r, err)
		return
	}
	run, err := s.app.Scans.RequestScan(r.Context(), actor(r), b.Targets, b.Profile)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/scans/%d", run.ID))
	writeJSON(w, http.StatusAccepted, scanToJSON(*run))
}

func scanToJSON(run models.ScanRun) map[string]any {
	out := map[string]any{
		"id": run.ID, "kind": run.Kind, "profile": run.Profile, "targets": strings.Split(run.Targets, ","), "state": run.Status,
		"queued_at": run.QueuedAt.UTC(), "started_at": run.StartedAt, "finished_at": run.FinishedAt, "requested_by": run.RequestedBy,
	}
	var progress any
	if json.Unmarshal([]byte(run.Progress), &progress) == nil {
		out["progress"] = progress
	}
	if run.Error != "" {
		out["error"] = run.Error
	}
	if run.Status == "done" && run.Report != "" {
		out["report"] = json.RawMessage(run.Report)
	}
	return out
}

func (s *Server) apiGetScan(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	run, err := s.app.Scans.Get(r.Context(), actor(r), id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := scanToJSON(*run)
	// A run split among agents names its chunks and who did them.
	chunks, did, err := s.app.Agents.ChunksOf(r.Context(), run.ID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if len(chunks) > 0 {
		out["chunks"], out["agents"] = chunks, did
	}
	writeJSON(w, http.StatusOK, out)
}

// apiFindings are findings as the API gives them to the caller: the
// machine fields (rule, code, severity, blocking) as the engine set them,
// the message and the required controls in the caller's language
// (Accept-Language; English, the engine's own words, by default).
func apiFindings(ctx context.Context, findings []requests.Finding) []requests.Finding {
	if findings == nil {
		return nil
	}
	out := make([]requests.Finding, len(findings))
	for i, f := range findings {
		f.Message = findingMessage(ctx, f)
		f.RequiredControls, _ = controlTexts(ctx, f)
		out[i] = f
	}
	return out
}
