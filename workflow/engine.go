package workflow

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/policy"
)

// Finding is the policy engine's verdict on one rule.
type Finding = policy.Finding

// catalogCache keeps the parsed catalog until its text changes: parsing a
// hundred entries on every evaluation would be waste.
type catalogCache struct {
	mu      sync.Mutex
	sum     [32]byte
	catalog *policy.Catalog
}

func (c *catalogCache) get(text string) (*policy.Catalog, error) {
	sum := sha256.Sum256([]byte(text))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.catalog != nil && c.sum == sum {
		return c.catalog, nil
	}
	cat, err := policy.LoadCatalog([]byte(text))
	if err != nil {
		return nil, err
	}
	c.sum, c.catalog = sum, cat
	return cat, nil
}

// loadPolicy assembles the policy in force: the catalog and the matrix as
// admins edited them (or as shipped), and the settings.
func (s *Service) loadPolicy(tx *gorm.DB) (policy.Policy, error) {
	p := policy.Policy{Catalog: policy.DefaultCatalog(), Matrix: policy.DefaultMatrix()}
	var docs []models.PolicyDocument
	if err := tx.Find(&docs).Error; err != nil {
		return p, err
	}
	for _, d := range docs {
		switch d.Kind {
		case "catalog":
			cat, err := s.catalogs.get(d.Content)
			if err != nil {
				return p, fmt.Errorf("stored catalog: %w", err)
			}
			p.Catalog = cat
		case "matrix":
			if err := json.Unmarshal([]byte(d.Content), &p.Matrix); err != nil {
				return p, fmt.Errorf("stored matrix: %w", err)
			}
		}
	}
	st, err := loadSettings(tx)
	if err != nil {
		return p, err
	}
	p.Settings = st
	return p, nil
}

// policyInventory is the zones as the engine sees them.
func policyInventory(tx *gorm.DB) (*policy.Inventory, error) {
	var zones []models.Zone
	if err := tx.Order("id").Find(&zones).Error; err != nil {
		return nil, err
	}
	pz := make([]policy.Zone, 0, len(zones))
	for _, z := range zones {
		pz = append(pz, policy.Zone{Name: z.Name, Classification: policy.Classification(z.Classification), CIDRs: ZoneCIDRs(z)})
	}
	inv, err := policy.NewInventory(pz)
	if err != nil {
		return nil, fmt.Errorf("the zones cannot be judged: %w", err)
	}
	return inv, nil
}

func ruleSpec(r models.Rule, expires time.Time) policy.RuleSpec {
	return policy.RuleSpec{
		Source: r.Source, Destination: strings.Split(r.Destination, ","), Protocol: r.Protocol,
		Ports: r.Ports, Service: r.Service, Direction: r.Direction, ExpiresAt: expires,
	}
}

// activeRules are the approved rules in force, as the overlap check and
// the what-if preview need them; except leaves one request out (its own
// earlier approval must not count as a duplicate of itself).
func activeRules(tx *gorm.DB, inv *policy.Inventory, except uint) ([]policy.ActiveRule, error) {
	var reqs []models.Request
	if err := tx.Preload("Rules").Where("state IN ? AND id <> ?", RegisterStates, except).Find(&reqs).Error; err != nil {
		return nil, err
	}
	var out []policy.ActiveRule
	for _, r := range reqs {
		for _, ru := range r.Rules {
			resolved, err := inv.Resolve([]policy.RuleSpec{ruleSpec(ru, r.ExpiresAt)}, r.ExpiresAt)
			if err != nil {
				continue // a rule whose zone was since deleted cannot be compared
			}
			out = append(out, policy.ActiveRule{ProposedRule: resolved[0], ID: int64(ru.ID), RequestID: int64(r.ID), Label: r.Title})
		}
	}
	return out, nil
}

// judge evaluates a request's rules against the policy in force.
func (s *Service) judge(tx *gorm.DB, rules []models.Rule, expires time.Time, requestID uint) ([]Finding, error) {
	p, err := s.loadPolicy(tx)
	if err != nil {
		return nil, err
	}
	inv, err := policyInventory(tx)
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
	active, err := activeRules(tx, inv, requestID)
	if err != nil {
		return nil, err
	}
	return p.Evaluate(proposed, policy.NewActiveIndex(active), s.now()), nil
}

// rejudge evaluates a stored request afresh and records the findings and
// whether it needs two approvals.
func (s *Service) rejudge(tx *gorm.DB, r *models.Request) ([]Finding, error) {
	findings, err := s.judge(tx, r.Rules, r.ExpiresAt, r.ID)
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(findings)
	needs := policy.NeedsSecondApproval(findings, r.Exception)
	if err := tx.Model(&models.Request{}).Where("id = ?", r.ID).Updates(map[string]any{"findings": string(b), "needs_second_approval": needs}).Error; err != nil {
		return nil, err
	}
	r.Findings, r.NeedsSecondApproval = string(b), needs
	return findings, nil
}

// FindingsOf decodes a request's stored findings.
func FindingsOf(r models.Request) []Finding {
	var out []Finding
	_ = json.Unmarshal([]byte(r.Findings), &out)
	return out
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
	Incomplete FieldErrors
}

// Evaluate judges proposed rules against the policy in force without
// saving anything: the live preview of the form, POST /api/v1/evaluate and
// `portcullis policy check`. Rules that do not parse are reported in
// Incomplete and the others are judged.
func (s *Service) Evaluate(ctx context.Context, specs []policy.RuleSpec, expires time.Time) (*Evaluation, error) {
	db := s.db.WithContext(ctx)
	p, err := s.loadPolicy(db)
	if err != nil {
		return nil, err
	}
	inv, err := policyInventory(db)
	if err != nil {
		return nil, err
	}
	if expires.IsZero() {
		expires = s.now().Add(p.Settings.DefaultExpiry)
	}
	ev := &Evaluation{Findings: []Finding{}}
	var proposed []policy.ProposedRule
	var index []int
	for i, spec := range specs {
		r, err := inv.Resolve([]policy.RuleSpec{spec}, expires)
		if err != nil {
			var fe *policy.FieldError
			field, msg := fmt.Sprintf("rules[%d]", i), err.Error()
			if errors.As(err, &fe) {
				field, msg = strings.Replace(fe.Field, "rules[0]", fmt.Sprintf("rules[%d]", i), 1), fe.Message
			}
			ev.Incomplete = append(ev.Incomplete, &Error{Code: CodeInvalid, Field: field, Message: msg})
			continue
		}
		proposed = append(proposed, r[0])
		index = append(index, i)
	}
	active, err := activeRules(db, inv, 0)
	if err != nil {
		return nil, err
	}
	for _, f := range p.Evaluate(proposed, policy.NewActiveIndex(active), s.now()) {
		f.Rule = index[f.Rule]
		ev.Findings = append(ev.Findings, f)
	}
	return ev, nil
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
}

// ChecklistFor is the baseline checklist plus the controls the findings require.
func ChecklistFor(findings []Finding) []ChecklistItem {
	items := make([]ChecklistItem, 0, len(BaselineChecklist)+len(findings))
	for _, b := range BaselineChecklist {
		items = append(items, ChecklistItem{ID: b.ID, Text: b.Text})
	}
	seen := map[string]bool{}
	var controls []string
	for _, f := range findings {
		for _, c := range f.RequiredControls {
			if !seen[c] {
				seen[c] = true
				controls = append(controls, c)
			}
		}
	}
	sort.Strings(controls)
	for _, c := range controls {
		items = append(items, ChecklistItem{ID: controlID(c), Text: c, Required: true})
	}
	return items
}

// controlID makes a stable form-friendly id from a control's text.
func controlID(text string) string {
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

// Policy is what the admin's policy page shows.
type Policy struct {
	Matrix      policy.Matrix
	CatalogYAML string
	Catalog     *policy.Catalog
}

// GetPolicy returns the matrix and the catalog in force.
func (s *Service) GetPolicy(ctx context.Context) (*Policy, error) {
	db := s.db.WithContext(ctx)
	p, err := s.loadPolicy(db)
	if err != nil {
		return nil, err
	}
	out := &Policy{Matrix: p.Matrix, Catalog: p.Catalog, CatalogYAML: string(policy.CatalogYAML())}
	var doc models.PolicyDocument
	if err := db.Where("kind = ?", "catalog").First(&doc).Error; err == nil {
		out.CatalogYAML = doc.Content
	}
	return out, nil
}

// PolicyChange is an admin's proposed new matrix or catalog; nil parts stay as they are.
type PolicyChange struct {
	Matrix      *policy.Matrix
	CatalogYAML *string
}

// WhatIf lists the active approved rules that the changed policy would
// block and the current one does not. Nothing is saved.
func (s *Service) WhatIf(ctx context.Context, actor Actor, change PolicyChange) ([]policy.Violation, []policy.ActiveRule, error) {
	if !actor.Has(RoleAdmin) {
		return nil, nil, forbidden("you need the admin role to change the policy")
	}
	db := s.db.WithContext(ctx)
	before, err := s.loadPolicy(db)
	if err != nil {
		return nil, nil, err
	}
	after, err := applyChange(before, change)
	if err != nil {
		return nil, nil, err
	}
	inv, err := policyInventory(db)
	if err != nil {
		return nil, nil, err
	}
	active, err := activeRules(db, inv, 0)
	if err != nil {
		return nil, nil, err
	}
	return policy.WhatIf(before, after, active, s.now()), active, nil
}

func applyChange(p policy.Policy, change PolicyChange) (policy.Policy, error) {
	if change.Matrix != nil {
		p.Matrix = *change.Matrix
	}
	if change.CatalogYAML != nil {
		cat, err := policy.LoadCatalog([]byte(*change.CatalogYAML))
		if err != nil {
			return p, &Error{Code: CodeInvalid, Field: "catalog", Message: err.Error()}
		}
		p.Catalog = cat
	}
	return p, nil
}

// SavePolicy stores a changed matrix or catalog, audited with both versions.
func (s *Service) SavePolicy(ctx context.Context, actor Actor, change PolicyChange) error {
	if !actor.Has(RoleAdmin) {
		return forbidden("you need the admin role to change the policy")
	}
	return s.inTx(ctx, func(tx *gorm.DB) error {
		before, err := s.loadPolicy(tx)
		if err != nil {
			return err
		}
		if _, err := applyChange(before, change); err != nil {
			return err
		}
		save := func(kind, content, old string) error {
			doc := models.PolicyDocument{Kind: kind, Content: content, UpdatedBy: actor.Email, UpdatedAt: s.now()}
			if err := tx.Save(&doc).Error; err != nil {
				return err
			}
			return s.audit(tx, actor, "policy."+kind+".update", "policy", 0, "", "", map[string]string{"before": old, "after": content}, "")
		}
		if change.Matrix != nil {
			oldM, _ := json.Marshal(before.Matrix)
			newM, _ := json.Marshal(*change.Matrix)
			if err := save("matrix", string(newM), string(oldM)); err != nil {
				return err
			}
		}
		if change.CatalogYAML != nil {
			var old models.PolicyDocument
			oldText := string(policy.CatalogYAML())
			if tx.Where("kind = ?", "catalog").First(&old).Error == nil {
				oldText = old.Content
			}
			if err := save("catalog", *change.CatalogYAML, oldText); err != nil {
				return err
			}
		}
		return nil
	})
}

// EnsurePolicy loads the shipped catalog and matrix into the database the
// first time, so that admins edit them there and every later change is an
// audited edit of a stored document.
func (s *Service) EnsurePolicy(ctx context.Context) error {
	return s.inTx(ctx, func(tx *gorm.DB) error {
		seed := map[string]func() (string, error){
			"catalog": func() (string, error) { return string(policy.CatalogYAML()), nil },
			"matrix": func() (string, error) {
				b, err := json.Marshal(policy.DefaultMatrix())
				return string(b), err
			},
		}
		for _, kind := range []string{"catalog", "matrix"} {
			var n int64
			if err := tx.Model(&models.PolicyDocument{}).Where("kind = ?", kind).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			content, err := seed[kind]()
			if err != nil {
				return err
			}
			if err := tx.Create(&models.PolicyDocument{Kind: kind, Content: content, UpdatedBy: "system", UpdatedAt: s.now()}).Error; err != nil {
				return err
			}
			if err := s.audit(tx, SystemActor, "policy."+kind+".load", "policy", 0, "", "", map[string]string{"source": "shipped defaults"}, ""); err != nil {
				return err
			}
		}
		return nil
	})
}
