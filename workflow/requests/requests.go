package requests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
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

// Services is the vocabulary of expected services (the scan report's).
var Services = []string{
	"amqp", "dns", "elasticsearch", "ftp", "http", "imap", "kerberos", "ldap", "memcached", "mongodb",
	"mqtt", "mssql", "mysql", "nats", "ntp", "pop3", "postgresql", "rdp", "redis", "rsync", "sip",
	"smb", "smtp", "snmp", "ssh", "telnet", "vnc", "unknown",
}

// RuleInput is one proposed rule as a person or a script writes it.
type RuleInput struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Protocol    string `json:"protocol"`
	Ports       string `json:"ports"`
	Service     string `json:"service"`
	Direction   string `json:"direction"`
}

// Input is the editable part of a request.
type Input struct {
	Title         string
	Justification string
	ExpiresAt     time.Time // zero: the default expiry from the settings
	Rules         []RuleInput
	// Assessment are the answers to the security assessment, by question
	// id; asked for only when the rules touch an innovation-tier application.
	Assessment map[string]string
}

// validated is a request input checked against the inventory.
type validated struct {
	req   models.Request
	rules []models.Rule
}

// MaxRules bounds one request, and one evaluation; larger sets belong in
// several requests.
const MaxRules = 100

// validateRequest checks a request's input; asked is the assessment the
// request carries already (nil for a new one), whose questions it keeps.
func (s *Service) validateRequest(tx *gorm.DB, in Input, asked *Assessment) (*validated, error) {
	var errs core.FieldErrors
	add := errs.Add
	v := &validated{req: models.Request{
		Title: strings.TrimSpace(in.Title), Justification: strings.TrimSpace(in.Justification),
	}}
	addErr := func(err error) {
		var e *core.Error
		if errors.As(err, &e) {
			errs = append(errs, e)
		}
	}
	if v.req.Title == "" {
		add("title", core.M("err.requests.title_required", "a title is required"))
	} else {
		addErr(core.CheckLength("title", core.M("err.field.title", "the title"), v.req.Title, core.Limits.Title))
	}
	if v.req.Justification == "" {
		add("justification", core.M("err.requests.justification_required", "a business justification is required: say why this port must be open"))
	} else {
		addErr(core.CheckLength("justification", core.M("err.field.justification", "the justification"), v.req.Justification, core.Limits.Justification))
	}
	settings, err := inventory.LoadSettings(tx)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	expires := in.ExpiresAt
	if expires.IsZero() {
		expires = now.Add(settings.DefaultExpiry)
	}
	expires = expires.UTC()
	switch {
	case !expires.After(now):
		add("expires_at", core.M("err.requests.expiry_past", "the expiry {{.Date}} is in the past", "Date", expires.Format(time.DateOnly)))
	case expires.Sub(now) > settings.MaxExpiry+24*time.Hour:
		add("expires_at", core.M("err.requests.expiry_too_far", "the expiry {{.Date}} is too far: openings last at most {{.Days}} days (until {{.Until}})",
			"Date", expires.Format(time.DateOnly), "Days", int(settings.MaxExpiry.Hours()/24), "Until", now.Add(settings.MaxExpiry).Format(time.DateOnly)))
	}
	v.req.ExpiresAt = expires

	if len(in.Rules) == 0 {
		add("rules", core.M("err.requests.rules_none", "a request needs at least one rule"))
	}
	if len(in.Rules) > MaxRules {
		add("rules", core.M("err.requests.rules_too_many", "a request holds at most {{.Max}} rules; split it", "Max", MaxRules))
	}
	zones, err := inventory.LoadZoneIndex(tx)
	if err != nil {
		return nil, err
	}
	pol, err := s.inventory.LoadPolicy(tx)
	if err != nil {
		return nil, err
	}
	if pol.Catalog == nil {
		pol.Catalog = policy.DefaultCatalog()
	}
	for i, ri := range in.Rules {
		if i >= MaxRules {
			break
		}
		field := func(name string) string { return fmt.Sprintf("rules[%d].%s", i, name) }
		// ruleProblem says what the policy's parsers found wrong with a
		// part of rule i; their English is the detail, the rule and the
		// part are named in the reader's language.
		ruleProblem := func(name, why string) {
			add(field(name), RuleProblem(i, name, core.Plain(why)))
		}
		rule := models.Rule{Position: i}
		if name, msg := policy.CheckSpecSize(SpecsOf([]RuleInput{ri})[0]); name != "" {
			ruleProblem(name, msg)
			continue
		}

		dir, err := policy.ParseDirection(ri.Direction)
		if err != nil {
			ruleProblem("direction", err.Error())
		}
		rule.Direction = string(dir)

		// A rule reads in the direction the connection is opened: for
		// egress our assets are the source and the outside peer the
		// destination; for ingress the other way round.
		peerField, peerText, oursField, oursText := "source", ri.Source, "destination", ri.Destination
		if dir == policy.Egress {
			peerField, peerText, oursField, oursText = "destination", ri.Destination, "source", ri.Source
		}
		peer, perr := policy.ParseSource(peerText)
		if perr != nil {
			msg := perr.Error()
			if peerField == "destination" {
				msg = strings.Replace(msg, "source", "destination", 1)
			}
			ruleProblem(peerField, msg)
		} else if peer.Kind == policy.SourceZone {
			if z := zones.ByName(peer.Zone); z == nil {
				add(field(peerField), core.M("err.requests.no_zone", "there is no zone named {{.Zone}}", "Zone", strconv.Quote(peer.Zone)))
			} else {
				peer.Zone = z.Name
			}
		}
		ours, oerr := s.resolveAssets(tx, zones, oursText, oursField, dir)
		if oerr != "" {
			ruleProblem(oursField, oerr)
		}
		if dir == policy.Egress {
			rule.Source, rule.Destination = ours, peer.String()
		} else {
			rule.Source, rule.Destination = peer.String(), ours
		}

		proto, err := policy.ParseProtocol(ri.Protocol)
		if err != nil {
			ruleProblem("protocol", err.Error())
		}
		rule.Protocol = string(proto)

		ports, err := policy.ParsePorts(ri.Ports)
		if err != nil {
			ruleProblem("ports", err.Error())
		} else {
			rule.Ports = ports.String()
		}

		// The scanner's words and every service of the port catalog (https,
		// grafana, …) may be expected.
		svc := strings.ToLower(strings.TrimSpace(ri.Service))
		if _, inCatalog := pol.Catalog.Lookup(svc); svc != "" && !slices.Contains(Services, svc) && !inCatalog {
			add(field("service"), core.M("err.requests.service_unknown_catalog", "{{.Service}} is not a known service: name one of the port catalog or one the scanner names (such as {{.Known}})",
				"Service", strconv.Quote(ri.Service), "Known", strings.Join(Services[:8], ", ")))
		}
		rule.Service = svc

		v.rules = append(v.rules, rule)
	}
	tierErrs, err := s.checkInnovation(tx, v, in, asked)
	if err != nil {
		return nil, err
	}
	errs = append(errs, tierErrs...)
	if len(errs) > 0 {
		return nil, errs
	}
	return v, nil
}

// resolveAssets checks that our side of a rule (the destination of an
// ingress rule, the source of an egress rule, named by field) names
// inventory assets by address, or a zone, and returns its canonical form:
// the zone's name, or the addresses joined by commas.
func (s *Service) resolveAssets(tx *gorm.DB, zones *inventory.ZoneIndex, text, field string, dir policy.Direction) (canonical string, problem string) {
	text = strings.TrimSpace(text)
	if text == "" {
		return "", fmt.Sprintf("a %s is required: one or more asset addresses, or a zone", field)
	}
	fields := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == ';' })
	if len(fields) == 1 && strings.EqualFold(fields[0], "internet") {
		if dir == policy.Egress {
			return text, "the source of an egress rule is our assets that open the connection, not internet: put the outside peer, or internet, in the destination"
		}
		return text, "the destination of an ingress rule is our assets, not internet: to let our assets reach the internet, choose egress with our assets as the source and internet as the destination"
	}
	if len(fields) == 1 && policy.ValidZoneName(fields[0]) {
		z := zones.ByName(fields[0])
		if z == nil {
			return text, fmt.Sprintf("there is no zone named %q", fields[0])
		}
		return z.Name, ""
	}
	var out []string
	for _, f := range fields {
		addr, err := hostAddress(f)
		if err != nil {
			return text, fmt.Sprintf("%q is not an asset address (the %s is our inventory assets, by address)", f, field)
		}
		var asset models.Asset
		if err := tx.Where("address = ?", addr.String()).First(&asset).Error; err != nil {
			return text, fmt.Sprintf("%s is not in the inventory; ask an admin to add the asset first", addr)
		}
		if !slices.Contains(out, addr.String()) {
			out = append(out, addr.String())
		}
	}
	return strings.Join(out, ","), ""
}

// hostAddress reads one host: an address, or a prefix holding just one
// address (127.50.0.10/32), as people often write hosts.
func hostAddress(s string) (netip.Addr, error) {
	if p, err := netip.ParsePrefix(s); err == nil && p.IsSingleIP() {
		return p.Addr().Unmap(), nil
	}
	addr, err := netip.ParseAddr(s)
	if err != nil || addr.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q is not a host address", s)
	}
	return addr.Unmap(), nil
}

// Create saves a new draft.
func (s *Service) Create(ctx context.Context, actor core.Actor, in Input) (*models.Request, error) {
	// Admins file too: turning unapproved drift into a request is often theirs to do.
	if !actor.Has(core.RoleRequester, core.RoleAdmin) {
		return nil, core.Forbidden(core.M("err.requests.requester_role", "you need the requester role to file a request"))
	}
	var req *models.Request
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		v, err := s.validateRequest(tx, in, nil)
		if err != nil {
			return err
		}
		r := v.req
		r.State, r.Version, r.RequesterID, r.Team = string(StateDraft), 1, actor.ID, actor.Team
		if err := tx.Omit("Rules", "Reviews", "Requester").Create(&r).Error; err != nil {
			return err
		}
		for i := range v.rules {
			v.rules[i].RequestID = r.ID
		}
		if err := tx.Create(&v.rules).Error; err != nil {
			return err
		}
		r.Rules = v.rules
		if _, err := s.rejudge(tx, &r); err != nil {
			return err
		}
		req = &r
		return s.Audit(tx, actor, "create", "request", r.ID, "", string(StateDraft), requestSnapshot(&r), "")
	})
	return req, err
}

// Update replaces the title, justification, expiry and rules. After
// submission, an edit voids every approval given so far and sends the
// request back to the review queue.
func (s *Service) Update(ctx context.Context, actor core.Actor, id uint, in Input) (*models.Request, error) {
	var req *models.Request
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		old, err := LoadRequest(tx, id)
		if err != nil {
			return err
		}
		if err := s.canSee(actor, old); err != nil {
			return err
		}
		from := State(old.State)
		if _, err := target(EventEdit, from); err != nil {
			return err
		}
		if err := authorise(EventEdit, actor, old); err != nil {
			return err
		}
		v, err := s.validateRequest(tx, in, AssessmentOf(*old))
		if err != nil {
			return err
		}
		// An edit voids every decision given so far; the table sends a request in review back to the queue.
		voided := tx.Model(&models.Review{}).Where("request_id = ? AND voided = ?", id, false).Update("voided", true)
		if voided.Error != nil {
			return voided.Error
		}
		detail := map[string]any{"before": requestSnapshot(old), "voided_reviews": voided.RowsAffected}
		comment := ""
		if voided.RowsAffected > 0 {
			comment = fmt.Sprintf("edited after submission: %d earlier review decision(s) voided", voided.RowsAffected)
		}
		if err := s.Step(tx, actor, old, EventEdit, map[string]any{
			"title": v.req.Title, "justification": v.req.Justification, "expires_at": v.req.ExpiresAt,
			"exception": false, "compensating_controls": "{}", "assessment": v.req.Assessment,
		}, detail, comment); err != nil {
			return err
		}
		if err := tx.Where("request_id = ?", id).Delete(&models.Rule{}).Error; err != nil {
			return err
		}
		for i := range v.rules {
			v.rules[i].RequestID = id
		}
		if err := tx.Create(&v.rules).Error; err != nil {
			return err
		}
		if req, err = LoadRequest(tx, id); err != nil {
			return err
		}
		_, err = s.rejudge(tx, req)
		return err
	})
	return req, err
}

// requestSnapshot is what the audit log keeps of a request's content.
func requestSnapshot(r *models.Request) map[string]any {
	rules := make([]RuleInput, len(r.Rules))
	for i, ru := range r.Rules {
		rules[i] = RuleInput{ru.Source, ru.Destination, ru.Protocol, ru.Ports, ru.Service, ru.Direction}
	}
	out := map[string]any{
		"title": r.Title, "justification": r.Justification, "expires_at": r.ExpiresAt, "rules": rules,
	}
	if a := AssessmentOf(*r); a != nil {
		out["assessment"] = a
	}
	return out
}

// Submit sends a draft (or a request waiting for changes) to security,
// judged afresh against the policy in force.
func (s *Service) Submit(ctx context.Context, actor core.Actor, id uint) (*models.Request, error) {
	return s.onRequest(ctx, actor, id, func(tx *gorm.DB, r *models.Request) error {
		if err := authorise(EventSubmit, actor, r); err != nil {
			return err
		}
		if _, err := target(EventSubmit, State(r.State)); err != nil {
			return err
		}
		findings, err := s.rejudge(tx, r)
		if err != nil {
			return err
		}
		blocking := 0
		for _, f := range findings {
			if f.Blocking {
				blocking++
			}
		}
		if err := s.Step(tx, actor, r, EventSubmit, map[string]any{"submitted_at": s.Now()}, map[string]int{"findings": len(findings), "blocking": blocking}, ""); err != nil {
			return err
		}
		return nil
	})
}

// Cancel withdraws a draft or a submitted request.
func (s *Service) Cancel(ctx context.Context, actor core.Actor, id uint, reason string) (*models.Request, error) {
	reason = strings.TrimSpace(reason)
	// A cancelled request cannot be reopened: its timeline says why.
	if reason == "" {
		return nil, core.Invalid("reason", core.M("err.requests.cancel_reason_required", "a reason is required to cancel a request"))
	}
	if err := core.CheckLength("reason", core.M("err.field.reason", "the reason"), reason, core.Limits.Reason); err != nil {
		return nil, err
	}
	return s.simpleStep(ctx, actor, id, EventCancel, reason, func(r *models.Request) map[string]any {
		return map[string]any{"closed_at": s.Now()}
	})
}

// Revoke withdraws an approval or an opening, with the reason security gives.
func (s *Service) Revoke(ctx context.Context, actor core.Actor, id uint, reason string) (*models.Request, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, core.Invalid("reason", core.M("err.requests.revoke_reason", "a reason is required to revoke a request"))
	}
	if err := core.CheckLength("reason", core.M("err.field.reason", "the reason"), reason, core.Limits.Reason); err != nil {
		return nil, err
	}
	return s.simpleStep(ctx, actor, id, EventRevoke, reason, func(r *models.Request) map[string]any {
		return map[string]any{"closed_at": s.Now()}
	})
}

func (s *Service) simpleStep(ctx context.Context, actor core.Actor, id uint, ev Event, comment string, extra func(*models.Request) map[string]any) (*models.Request, error) {
	return s.onRequest(ctx, actor, id, func(tx *gorm.DB, r *models.Request) error {
		if err := s.Step(tx, actor, r, ev, extra(r), nil, comment); err != nil {
			return err
		}
		return nil
	})
}

// Decision is a reviewer's verdict.
type Decision string

const (
	DecisionApprove        Decision = "approve"
	DecisionReject         Decision = "reject"
	DecisionChangesRequest Decision = "changes_requested"
)

// ChecklistAnswer is one item of the baseline checklist.
type ChecklistAnswer struct {
	Item   string `json:"item"`
	Result string `json:"result"` // pass | fail | na
	Note   string `json:"note"`
}

// BaselineChecklist is what a reviewer checks on the destination hosts
// before an opening is approved.
var BaselineChecklist = []struct{ ID, Text string }{
	{"patched", "Host is patched to the current baseline"},
	{"unprivileged", "The service runs as an unprivileged account"},
	{"authentication", "Authentication is enabled on the service (where it can authenticate)"},
	{"only-requested-ports", "Only the requested ports listen on the host"},
	{"secure-protocol", "The protocol is encrypted, or a secure alternative was considered"},
	{"logging", "Access is logged and forwarded to the SIEM"},
}

// ReviewInput is a reviewer's decision with its evidence.
type ReviewInput struct {
	Decision      Decision
	Comment       string
	ZoneConfirmed bool
	Checklist     []ChecklistAnswer
	// CompensatingControls take the exception path: for each blocking
	// finding (keyed by FindingKey) the control that stands in for it.
	CompensatingControls map[string]string
}

func validateChecklist(in []ChecklistAnswer, items []ChecklistItem, approving bool) ([]ChecklistAnswer, error) {
	var errs core.FieldErrors
	byItem := map[string]ChecklistAnswer{}
	for _, a := range in {
		byItem[a.Item] = a
	}
	known := map[string]bool{}
	out := make([]ChecklistAnswer, 0, len(items))
	for i, item := range items {
		known[item.ID] = true
		a, ok := byItem[item.ID]
		a.Item, a.Note = item.ID, strings.TrimSpace(a.Note)
		field := fmt.Sprintf("checklist[%d]", i)
		switch {
		case !ok || a.Result == "":
			if approving {
				errs.Add(field, core.M("err.requests.checklist_unanswered", "answer {{.Item}} (pass, fail or not applicable) before approving", "Item", item.Said()))
			}
		case a.Result != "pass" && a.Result != "fail" && a.Result != "na":
			errs.Add(field, core.M("err.requests.checklist_result", "{{.Result}} is not pass, fail or na", "Result", strconv.Quote(a.Result)))
		case a.Result != "pass" && a.Note == "":
			if a.Result == "fail" {
				errs.Add(field, core.M("err.requests.checklist_note_fail", "say why {{.Item}} is failing in a note", "Item", item.Said()))
			} else {
				errs.Add(field, core.M("err.requests.checklist_note_na", "say why {{.Item}} is not applicable in a note", "Item", item.Said()))
			}
		case a.Result == "fail" && approving:
			errs.Add(field, core.M("err.requests.checklist_failed", "the check {{.Item}} failed: the host must pass it before the opening is approved", "Item", item.Said()))
		case a.Result == "na" && approving && item.Required:
			errs.Add(field, core.M("err.requests.checklist_required", "the policy requires {{.Item}} for this request: it cannot be marked not applicable", "Item", item.Said()))
		}
		out = append(out, a)
	}
	for _, a := range in {
		if !known[a.Item] {
			errs.Add("checklist", core.M("err.requests.checklist_unknown", "{{.Item}} is not an item of this request's checklist", "Item", strconv.Quote(a.Item)))
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// Review records a reviewer's decision. A submitted request is taken into
// review first, in the same transaction. Approving a request that needs two
// approvals leaves it in review for the approver.
func (s *Service) Review(ctx context.Context, actor core.Actor, id uint, in ReviewInput) (*models.Request, error) {
	comment := strings.TrimSpace(in.Comment)
	if err := checkReviewLengths(comment, in); err != nil {
		return nil, err
	}
	var ev Event
	switch in.Decision {
	case DecisionApprove:
		ev = EventApprove
	case DecisionReject:
		ev = EventReject
	case DecisionChangesRequest:
		ev = EventRequestChanges
	default:
		return nil, core.Invalid("decision", core.M("err.requests.decision_review", "decision {{.Decision}} is not approve, reject or changes_requested", "Decision", strconv.Quote(string(in.Decision))))
	}
	if ev != EventApprove && comment == "" {
		return nil, core.Invalid("comment", core.M("err.requests.comment_why", "say in a comment why; the requester will read it"))
	}
	return s.onRequest(ctx, actor, id, func(tx *gorm.DB, r *models.Request) error {
		// Guards before input checks: a refused actor learns why they may not, not what to fill in.
		if State(r.State) == StateSubmitted {
			if err := authorise(EventClaim, actor, r); err != nil {
				return err
			}
		}
		if State(r.State) == StateInReview {
			var prior int64
			tx.Model(&models.Review{}).Where("request_id = ? AND voided = ? AND decision = ?", r.ID, false, DecisionApprove).Count(&prior)
			if prior > 0 {
				return core.Conflict(core.M("err.requests.first_given", "request #{{.ID}} has its first approval already and waits for the second approval by a security lead", "ID", r.ID))
			}
		}
		if err := authorise(ev, actor, r); err != nil {
			return err
		}
		findings, err := s.rejudge(tx, r)
		if err != nil {
			return err
		}
		checklist, err := validateChecklist(in.Checklist, ChecklistFor(findings), ev == EventApprove)
		if err != nil {
			return err
		}
		if ev == EventApprove && !in.ZoneConfirmed {
			return core.Invalid("zone_confirmed", core.M("err.requests.zone_confirm", "confirm the classification of the destination zones before approving"))
		}
		controls, err := exceptionControls(findings, in.CompensatingControls, ev == EventApprove)
		if err != nil {
			return err
		}
		if len(controls) > 0 {
			cj, _ := json.Marshal(controls)
			// An exception always needs the security lead's second approval.
			if err := tx.Model(&models.Request{}).Where("id = ?", r.ID).Updates(map[string]any{"exception": true, "compensating_controls": string(cj), "needs_second_approval": true}).Error; err != nil {
				return err
			}
			r.Exception, r.CompensatingControls, r.NeedsSecondApproval = true, string(cj), true
		}
		if State(r.State) == StateSubmitted {
			if err := s.Step(tx, actor, r, EventClaim, nil, nil, ""); err != nil {
				return err
			}
		}
		if ev == EventApprove && r.NeedsSecondApproval {
			ev = EventFirstApprove
		}
		extra := map[string]any{}
		if ev == EventApprove {
			extra["approved_at"], extra["certified_at"] = s.Now(), s.Now()
		}
		if ev == EventReject {
			extra["closed_at"] = s.Now()
		}
		cl, _ := json.Marshal(checklist)
		rev := models.Review{
			RequestID: r.ID, ReviewerID: actor.ID, Kind: "review", Decision: string(in.Decision),
			Comment: comment, ZoneConfirmed: in.ZoneConfirmed, Checklist: string(cl),
		}
		detail := map[string]any{"checklist": checklist, "zone_confirmed": in.ZoneConfirmed, "findings": findings}
		if len(controls) > 0 {
			detail["exception"] = controls
		}
		if err := s.Step(tx, actor, r, ev, extra, detail, comment); err != nil {
			return err
		}
		if err := tx.Create(&rev).Error; err != nil {
			return err
		}
		return nil
	})
}

// SecondApproval records the security lead's decision on a request that
// needs two approvals. The approver must not be the requester nor the first
// approver.
func (s *Service) SecondApproval(ctx context.Context, actor core.Actor, id uint, decision Decision, comment string) (*models.Request, error) {
	comment = strings.TrimSpace(comment)
	if err := core.CheckLength("comment", core.M("err.field.comment", "the comment"), comment, core.Limits.Comment); err != nil {
		return nil, err
	}
	if decision != DecisionApprove && decision != DecisionReject {
		return nil, core.Invalid("decision", core.M("err.requests.decision_second", "decision {{.Decision}} is not approve or reject", "Decision", strconv.Quote(string(decision))))
	}
	if decision == DecisionReject && comment == "" {
		return nil, core.Invalid("comment", core.M("err.requests.comment_why", "say in a comment why; the requester will read it"))
	}
	return s.onRequest(ctx, actor, id, func(tx *gorm.DB, r *models.Request) error {
		if err := authorise(EventSecondApprove, actor, r); err != nil {
			return err
		}
		if State(r.State) != StateInReview || !r.NeedsSecondApproval {
			return core.Conflict(core.M("err.requests.not_waiting_second", "request #{{.ID}} is {{.State}} and does not wait for a second approval", "ID", r.ID, "State", Lifecycle.LabelSaid(State(r.State))))
		}
		var first models.Review
		err := tx.Where("request_id = ? AND voided = ? AND decision = ?", r.ID, false, DecisionApprove).First(&first).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return core.Conflict(core.M("err.requests.first_missing", "request #{{.ID}} needs the first approval of a reviewer before the second", "ID", r.ID))
		}
		if err != nil {
			return err
		}
		if first.ReviewerID == actor.ID {
			return core.Forbidden(core.M("err.requests.same_approver", "separation of duties: you gave the first approval; the second must come from another person"))
		}
		if decision == DecisionApprove {
			findings, err := s.rejudge(tx, r)
			if err != nil {
				return err
			}
			recorded := ControlsOf(*r)
			for _, f := range findings {
				if f.Blocking && recorded[FindingKey(f)] == "" {
					return core.Conflict(core.M("err.requests.new_blocking", "the policy now raises a blocking finding the reviewer did not accept ({{.Code}} on rule {{.Rule}}): reject, or ask the requester to change the request", "Code", f.Code, "Rule", f.Rule+1))
				}
			}
		}
		ev, extra := EventSecondApprove, map[string]any{"approved_at": s.Now(), "certified_at": s.Now()}
		if decision == DecisionReject {
			ev, extra = EventReject, map[string]any{"closed_at": s.Now()}
		}
		if err := s.Step(tx, actor, r, ev, extra, nil, comment); err != nil {
			return err
		}
		return tx.Create(&models.Review{
			RequestID: r.ID, ReviewerID: actor.ID, Kind: "second_approval", Decision: string(decision),
			Comment: comment, Checklist: "[]",
		}).Error
	})
}

// Implement records that network operations put the approved rules in place.
func (s *Service) Implement(ctx context.Context, actor core.Actor, id uint, changeRef, note string) (*models.Request, error) {
	changeRef, note = strings.TrimSpace(changeRef), strings.TrimSpace(note)
	if changeRef == "" {
		return nil, core.Invalid("change_ref", core.M("err.requests.change_ref_required", "the change reference (the firewall change id) is required"))
	}
	if err := core.CheckLength("change_ref", core.M("err.field.change_ref", "the change reference"), changeRef, core.Limits.ChangeRef); err != nil {
		return nil, err
	}
	if err := core.CheckLength("note", core.M("err.field.note", "the note"), note, core.Limits.ChangeNote); err != nil {
		return nil, err
	}
	return s.onRequest(ctx, actor, id, func(tx *gorm.DB, r *models.Request) error {
		implementer := actor.ID
		extra := map[string]any{"change_ref": changeRef, "implement_note": note, "implemented_at": s.Now(), "implementer_id": &implementer}
		comment := "change " + changeRef
		if note != "" {
			comment += ": " + note
		}
		if err := s.Step(tx, actor, r, EventImplement, extra, map[string]string{"change_ref": changeRef}, comment); err != nil {
			return err
		}
		// An implementation is a claim; the scan that follows is the proof.
		return s.verification.QueueVerification(tx, r)
	})
}

// AddComment posts to a request's discussion.
func (s *Service) AddComment(ctx context.Context, actor core.Actor, id uint, body string) (*models.Comment, error) {
	body = strings.TrimSpace(body)
	if body == "" {
		return nil, core.Invalid("body", core.M("err.requests.comment_empty", "the comment is empty"))
	}
	if err := core.CheckLength("body", core.M("err.field.comment", "the comment"), body, core.Limits.Comment); err != nil {
		return nil, err
	}
	var c models.Comment
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		r, err := LoadRequest(tx, id)
		if err != nil {
			return err
		}
		if err := s.canSee(actor, r); err != nil {
			return err
		}
		c = models.Comment{RequestID: id, AuthorID: actor.ID, Body: body}
		if err := tx.Create(&c).Error; err != nil {
			return err
		}
		return s.Audit(tx, actor, "comment", "request", id, "", "", map[string]uint{"comment_id": c.ID}, body)
	})
	return &c, err
}

// canSee hides other teams' requests from requesters.
func (s *Service) canSee(actor core.Actor, r *models.Request) error {
	if actor.SeesAllRequests() || actor.ID == r.RequesterID || (actor.Team != "" && actor.Team == r.Team) {
		return nil
	}
	return core.NotFound("request", r.ID)
}

// SystemStep runs an event that only the scanner or the scheduler may cause
// (verification, activation, expiry), with its audit event.
func (s *Service) SystemStep(ctx context.Context, id uint, ev Event, comment string, detail any) (*models.Request, error) {
	if !IsSystemEvent(ev) {
		return nil, fmt.Errorf("event %q is not a system event", ev)
	}
	var req *models.Request
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		r, err := LoadRequest(tx, id)
		if err != nil {
			return err
		}
		if err := s.Step(tx, core.SystemActor, r, ev, nil, detail, comment); err != nil {
			return err
		}
		req = r
		return nil
	})
	return req, err
}

// minControlText keeps "ok" from passing for a compensating control.
const minControlText = 10

// exceptionControls checks the exception path: approving a request with
// blocking findings needs a compensating control for each of them.
func exceptionControls(findings []Finding, given map[string]string, approving bool) (map[string]string, error) {
	if !approving {
		return nil, nil
	}
	var errs core.FieldErrors
	controls := map[string]string{}
	for _, f := range findings {
		if !f.Blocking {
			continue
		}
		key := FindingKey(f)
		text := strings.TrimSpace(given[key])
		switch {
		case text == "":
			errs.Add("compensating_controls["+key+"]", core.M("err.requests.control_missing", "rule {{.Rule}} has a blocking finding ({{.Code}}): approving it is an exception that needs the compensating control in force; otherwise reject the request or request changes", "Rule", f.Rule+1, "Code", f.Code))
		case len(text) < minControlText:
			errs.Add("compensating_controls["+key+"]", core.M("err.requests.control_short", "describe the compensating control for {{.Code}} on rule {{.Rule}} (at least {{.Min}} characters)", "Code", f.Code, "Rule", f.Rule+1, "Min", minControlText))
		default:
			controls[key] = text
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return controls, nil
}

// onRequest runs fn on a request the actor may see, in one transaction, and
// returns the request as fn left it.
func (s *Service) onRequest(ctx context.Context, actor core.Actor, id uint, fn func(tx *gorm.DB, r *models.Request) error) (*models.Request, error) {
	var req *models.Request
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		r, err := LoadRequest(tx, id)
		if err != nil {
			return err
		}
		if err := s.canSee(actor, r); err != nil {
			return err
		}
		if err := fn(tx, r); err != nil {
			return err
		}
		req = r
		return nil
	})
	return req, err
}

// checkReviewLengths bounds the review's free text: the comment, each
// checklist note and each compensating control, each named by its form field.
func checkReviewLengths(comment string, in ReviewInput) error {
	if err := core.CheckLength("comment", core.M("err.field.comment", "the comment"), comment, core.Limits.Comment); err != nil {
		return err
	}
	for _, a := range in.Checklist {
		if err := core.CheckLength("note."+a.Item, core.M("err.field.note_on", "the note on {{.Item}}", "Item", a.Item), strings.TrimSpace(a.Note), core.Limits.ChecklistNote); err != nil {
			return err
		}
	}
	keys := make([]string, 0, len(in.CompensatingControls))
	for k := range in.CompensatingControls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := core.CheckLength("compensating_controls["+k+"]", core.M("err.field.compensating_control", "the compensating control"), strings.TrimSpace(in.CompensatingControls[k]), core.Limits.CompensatingControl); err != nil {
			return err
		}
	}
	return nil
}
