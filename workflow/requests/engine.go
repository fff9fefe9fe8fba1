package requests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/policy"
)

// Finding is the policy engine's verdict on one rule.
type Finding = policy.Finding

func ruleSpec(r models.Rule, expires time.Time) policy.RuleSpec {
	return policy.RuleSpec{
		Source: r.Source, Destination: strings.Split(r.Destination, ","), Protocol: r.Protocol,
		Ports: r.Ports, Service: r.Service, Direction: r.Direction, ExpiresAt: expires,
	}
}

// activeRules are the approved rules in force, as the overlap check and
// the what-if preview need them; except leaves one request out (its own
// earlier approval must not count as a duplicate of itself). One join read
// row by row: tens of thousands of requests in force do not fit a list of
// ids in one statement.
//
// It also files each rule in force under the words of its destination (an
// address or a zone name, lower case), for the pages that ask what is
// allowed to one host.
func activeRules(tx *gorm.DB, inv *policy.Inventory, except uint) ([]policy.ActiveRule, map[string][]activeRef, error) {
	rows, err := tx.Model(&models.Rule{}).
		Select("rules.id, rules.request_id, rules.position, rules.source, rules.destination, rules.protocol, rules.ports, rules.service, rules.direction, requests.title, requests.expires_at").
		Joins("JOIN requests ON requests.id = rules.request_id").
		Where("requests.state IN ? AND requests.id <> ?", InForceStates, except).
		Order("rules.request_id, rules.position").Rows()
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var out []policy.ActiveRule
	byDest := map[string][]activeRef{}
	for rows.Next() {
		var ru models.Rule
		var title string
		var expires time.Time
		if err := rows.Scan(&ru.ID, &ru.RequestID, &ru.Position, &ru.Source, &ru.Destination, &ru.Protocol, &ru.Ports, &ru.Service, &ru.Direction, &title, &expires); err != nil {
			return nil, nil, err
		}
		for _, d := range strings.Split(OurSide(ru), ",") {
			d = strings.ToLower(strings.TrimSpace(d))
			byDest[d] = append(byDest[d], activeRef{Rule: ru.ID, Request: ru.RequestID})
		}
		resolved, err := inv.Resolve([]policy.RuleSpec{ruleSpec(ru, expires)}, expires)
		if err != nil {
			continue // a rule whose zone was since deleted cannot be compared
		}
		out = append(out, policy.ActiveRule{ProposedRule: resolved[0], ID: int64(ru.ID), RequestID: int64(ru.RequestID), Label: title, Number: ru.Position + 1})
	}
	return out, byDest, rows.Err()
}

// OurSide is the part of a stored rule that names our assets (addresses
// joined by commas, or a zone): the destination of an ingress rule, the
// source of an egress rule.
func OurSide(ru models.Rule) string {
	if ru.Direction == string(policy.Egress) {
		return ru.Source
	}
	return ru.Destination
}

// activeRef names one rule in force.
type activeRef struct{ Rule, Request uint }

// judge evaluates a request's rules against the policy in force.
func (s *Service) judge(tx *gorm.DB, rules []models.Rule, expires time.Time, requestID uint) ([]Finding, error) {
	p, err := s.inventory.LoadPolicy(tx)
	if err != nil {
		return nil, err
	}
	inv, err := inventory.PolicyInventory(tx)
	if err != nil {
		return nil, err
	}
	specs := make([]policy.RuleSpec, len(rules))
	for i, r := range rules {
		specs[i] = ruleSpec(r, expires)
	}
	proposed, err := inv.Resolve(specs, expires)
	if err != nil {
		return nil, err
	}
	_, active, err := s.active(tx, inv, requestID)
	if err != nil {
		return nil, err
	}
	return p.Evaluate(proposed, active, s.Now()), nil
}

// rejudge evaluates a stored request afresh and records the findings and
// whether it needs two approvals.
func (s *Service) rejudge(tx *gorm.DB, r *models.Request) ([]Finding, error) {
	findings, err := s.judge(tx, r.Rules, r.ExpiresAt, r.ID)
	if err != nil {
		return nil, err
	}
	stored := encodeFindings(findings)
	needs := policy.NeedsSecondApproval(findings, r.Exception)
	innovation := slices.ContainsFunc(findings, func(f Finding) bool { return f.Code == policy.CodeInnovationTier })
	if err := tx.Model(&models.Request{}).Where("id = ?", r.ID).Updates(map[string]any{"findings": stored, "needs_second_approval": needs, "innovation": innovation}).Error; err != nil {
		return nil, err
	}
	r.Findings, r.NeedsSecondApproval, r.Innovation = stored, needs, innovation
	return findings, nil
}

// ControlsOf decodes a request's compensating controls, keyed by FindingKey.
func ControlsOf(r models.Request) map[string]string {
	out := map[string]string{}
	_ = json.Unmarshal([]byte(r.CompensatingControls), &out)
	return out
}

// FindingKey names a finding for the exception path: "rule:code", e.g. "0:internet-high-risk".
func FindingKey(f Finding) string { return fmt.Sprintf("%d:%s", f.Rule, f.Code) }

// Evaluation is the engine's answer on proposed rules that may not all be
// complete yet (the request form while someone types).
type Evaluation struct {
	Findings []Finding
	// Incomplete are the rules that could not be judged, with why.
	Incomplete core.FieldErrors
}

// Evaluate judges proposed rules against the policy in force without
// saving anything: the live preview of the form, POST /api/v1/evaluate and
// `portcullis policy check`. Rules that do not parse are reported in
// Incomplete and the others are judged.
func (s *Service) Evaluate(ctx context.Context, specs []policy.RuleSpec, expires time.Time) (*Evaluation, error) {
	if len(specs) > MaxRules {
		return nil, core.Invalid("rules", core.M("err.requests.evaluate_too_many", "{{.Count}} rules given; one evaluation judges at most {{.Max}} (as one request holds): split them", "Count", len(specs), "Max", MaxRules))
	}
	db := s.DB().WithContext(ctx)
	p, err := s.inventory.LoadPolicy(db)
	if err != nil {
		return nil, err
	}
	inv, err := inventory.PolicyInventory(db)
	if err != nil {
		return nil, err
	}
	if expires.IsZero() {
		expires = s.Now().Add(p.Settings.DefaultExpiry)
	}
	ev := &Evaluation{Findings: []Finding{}}
	var proposed []policy.ProposedRule
	var index []int
	for i, spec := range specs {
		if field, msg := policy.CheckSpecSize(spec); field != "" {
			ev.Incomplete.Add(fmt.Sprintf("rules[%d].%s", i, field), RuleProblem(i, field, core.Plain(msg)))
			continue
		}
		r, err := inv.Resolve([]policy.RuleSpec{spec}, expires)
		if err != nil {
			var fe *policy.FieldError
			field, part, msg := fmt.Sprintf("rules[%d]", i), "rule", err.Error()
			if errors.As(err, &fe) {
				field, msg = strings.Replace(fe.Field, "rules[0]", fmt.Sprintf("rules[%d]", i), 1), fe.Message
				if _, p, ok := strings.Cut(fe.Field, "]."); ok {
					part, _, _ = strings.Cut(p, "[")
				}
			}
			ev.Incomplete.Add(field, RuleProblem(i, part, core.Plain(msg)))
			continue
		}
		proposed = append(proposed, r[0])
		index = append(index, i)
	}
	_, active, err := s.active(db, inv, 0)
	if err != nil {
		return nil, err
	}
	for _, f := range p.Evaluate(proposed, active, s.Now()) {
		f.Rule = index[f.Rule]
		ev.Findings = append(ev.Findings, f)
	}
	return ev, nil
}

// EvaluateInBatches judges a rule file of any length MaxRules at a time,
// for the command line, which runs on the server's own host; callers
// over the network use Evaluate and its bound.
func (s *Service) EvaluateInBatches(ctx context.Context, specs []policy.RuleSpec, expires time.Time) (*Evaluation, error) {
	all := &Evaluation{Findings: []Finding{}}
	for start := 0; start < len(specs); start += MaxRules {
		ev, err := s.Evaluate(ctx, specs[start:min(start+MaxRules, len(specs))], expires)
		if err != nil {
			return nil, err
		}
		for _, f := range ev.Findings {
			f.Rule += start
			all.Findings = append(all.Findings, f)
		}
		for _, e := range ev.Incomplete {
			e.Field = shiftRuleField(e.Field, start)
			all.Incomplete = append(all.Incomplete, e)
		}
	}
	return all, nil
}

// shiftRuleField renumbers "rules[3].ports" by offset.
func shiftRuleField(field string, offset int) string {
	var i int
	if n, _ := fmt.Sscanf(field, "rules[%d]", &i); n != 1 {
		return field
	}
	return fmt.Sprintf("rules[%d]%s", i+offset, field[strings.Index(field, "]")+1:])
}

// SpecsOf turns form or API input into rule specs for Evaluate.
func SpecsOf(rules []RuleInput) []policy.RuleSpec {
	out := make([]policy.RuleSpec, len(rules))
	for i, r := range rules {
		var dest []string
		for _, d := range strings.FieldsFunc(r.Destination, func(c rune) bool { return c == ',' || c == ' ' || c == ';' || c == '\n' }) {
			dest = append(dest, d)
		}
		out[i] = policy.RuleSpec{Source: r.Source, Destination: dest, Protocol: r.Protocol, Ports: r.Ports, Service: r.Service, Direction: r.Direction}
	}
	return out
}

// ChecklistItem is one thing a reviewer confirms on the destination hosts.
type ChecklistItem struct {
	ID, Text string
	// Required items come from the findings: controls the policy demands.
	Required bool
	// Texts are a required control in other languages (tag → words),
	// where the catalog gives them.
	Texts map[string]string
}

// Said is the item's text for people: the baseline's under checklist.ID;
// a control the findings require in the catalog's words for it, or under
// its control id.
func (c ChecklistItem) Said() core.Message {
	if c.Texts != nil {
		return core.Given(c.Text, c.Texts)
	}
	return core.M("checklist."+c.ID, c.Text)
}

// RuleProblem says that part (source, destination, ports, …) of rule i
// (from 0) is wrong for why. The rule and the part are named as people see
// them, in the reader's language; why is the parser's own words.
func RuleProblem(i int, part string, why core.Message) core.Message {
	return core.M("err.requests.rule_problem", "{{.Reason}}",
		"Rule", i+1, "Part", core.M("err.field.rule_"+part, part), "Reason", why)
}

// ChecklistFor is the baseline checklist plus the controls the findings require.
func ChecklistFor(findings []Finding) []ChecklistItem {
	items := make([]ChecklistItem, 0, len(BaselineChecklist)+len(findings))
	for _, b := range BaselineChecklist {
		items = append(items, ChecklistItem{ID: b.ID, Text: b.Text})
	}
	texts := map[string]map[string]string{}
	var controls []string
	for _, f := range findings {
		for i, c := range f.RequiredControls {
			if _, seen := texts[c]; seen {
				continue
			}
			texts[c] = nil
			if i < len(f.ControlTexts) {
				texts[c] = f.ControlTexts[i]
			}
			if texts[c] == nil {
				// Recorded before findings kept the catalog's words.
				texts[c] = policy.ShippedTexts(c)
			}
			controls = append(controls, c)
		}
	}
	sort.Strings(controls)
	for _, c := range controls {
		items = append(items, ChecklistItem{ID: ControlID(c), Text: c, Required: true, Texts: texts[c]})
	}
	return items
}

// ControlID makes a stable form-friendly id from a control's text; the
// message catalogs translate the control under checklist.ID.
func ControlID(text string) string {
	var b strings.Builder
	b.WriteString("control-")
	dash := false
	for _, r := range strings.ToLower(text) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 72 {
			break
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// WhatIf lists the active approved rules that the changed policy would
// block and the current one does not. Nothing is saved.
func (s *Service) WhatIf(ctx context.Context, actor core.Actor, change inventory.PolicyChange) ([]policy.Violation, []policy.ActiveRule, error) {
	if !actor.Has(core.RoleAdmin) {
		return nil, nil, core.Forbidden(core.M("err.inventory.policy_admin", "you need the admin role to change the policy"))
	}
	db := s.DB().WithContext(ctx)
	before, err := s.inventory.LoadPolicy(db)
	if err != nil {
		return nil, nil, err
	}
	after, err := inventory.ApplyChange(before, change)
	if err != nil {
		return nil, nil, err
	}
	inv, err := inventory.PolicyInventory(db)
	if err != nil {
		return nil, nil, err
	}
	active, _, err := s.active(db, inv, 0)
	if err != nil {
		return nil, nil, err
	}
	active = slices.Clone(active) // the cached rules are shared
	return policy.WhatIf(before, after, active, s.Now()), active, nil
}
