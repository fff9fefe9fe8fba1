package compliance

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/drift"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/recert"
	"github.com/portcullis/portcullis/workflow/report"
	"github.com/portcullis/portcullis/workflow/requests"
)

// Reports are the compliance exports auditors download.
var Reports = []struct{ Kind, Title, Regime string }{
	{"changes", "Change record", "PCI DSS 1.2.2, NIST 800-53 CM-3"},
	{"rules", "Rule register", "PCI DSS 1.2.5, NIST 800-53 CM-7"},
	{"insecure", "Insecure-services register", "PCI DSS 1.2.6, 2.2.5"},
	{"drift", "Drift and scan evidence", "PCI DSS 11.3, NIST 800-53 CM-7"},
	{"recertification", "Re-certification record", "PCI DSS 1.2.7"},
	{"audit", "Audit log", "PCI DSS 10.2, NIST 800-53 AU-9"},
}

// ExportFilter narrows an export: a period (UTC, inclusive from, exclusive
// to), and optionally a zone, an owner team and a request state.
type ExportFilter struct {
	From, To   time.Time
	Zone, Team string
	State      string
}

func (f ExportFilter) fields() []report.Field {
	period := "all time"
	switch {
	case !f.From.IsZero() && !f.To.IsZero():
		period = f.From.Format(time.DateOnly) + " to " + f.To.Add(-time.Second).Format(time.DateOnly)
	case !f.From.IsZero():
		period = "from " + f.From.Format(time.DateOnly)
	case !f.To.IsZero():
		period = "until " + f.To.Add(-time.Second).Format(time.DateOnly)
	}
	out := []report.Field{{Name: "Period", Value: period}}
	for _, kv := range [][2]string{{"Zone", f.Zone}, {"Team", f.Team}, {"State", f.State}} {
		if kv[1] != "" {
			out = append(out, report.Field{Name: kv[0], Value: kv[1]})
		}
	}
	return out
}

func between(q *gorm.DB, column string, f ExportFilter) *gorm.DB {
	if !f.From.IsZero() {
		q = q.Where(column+" >= ?", f.From)
	}
	if !f.To.IsZero() {
		q = q.Where(column+" < ?", f.To)
	}
	return q
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func tsp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return ts(*t)
}

// requestsInZone narrows requests to those reaching a zone (a rule's
// destination is the zone or one of its assets).
func requestsInZone(tx *gorm.DB, q *gorm.DB, zone string) *gorm.DB {
	if zone == "" {
		return q
	}
	var addrs []string
	tx.Model(&models.Asset{}).Joins("JOIN zones ON zones.id = assets.zone_id").Where("LOWER(zones.name) = LOWER(?)", zone).Pluck("assets.address", &addrs)
	ids := tx.Model(&models.Rule{}).Select("request_id").Where("LOWER(destination) = LOWER(?)", zone)
	for _, a := range addrs {
		ids = ids.Or("(',' || destination || ',') LIKE ?", "%,"+a+",%")
	}
	return q.Where("id IN (?)", ids)
}

// ExportReport streams one compliance report through w, in batches: a year
// of history is never held in memory.
func (s *Service) ExportReport(ctx context.Context, actor core.Actor, kind string, f ExportFilter, w report.Writer) error {
	if err := canAudit(actor); err != nil {
		return err
	}
	var title, regime string
	for _, r := range Reports {
		if r.Kind == kind {
			title, regime = r.Title, r.Regime
		}
	}
	if title == "" {
		return core.Invalid("kind", core.M("err.compliance.kind", "report {{.Kind}} is not one of changes, rules, insecure, drift, recertification, audit", "Kind", strconv.Quote(kind)))
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return core.Invalid("to", core.M("err.compliance.period", "the end of the period must come after its start"))
	}
	db := s.DB().WithContext(ctx)
	doc := report.Document{
		Title: title, Subtitle: "Portcullis — " + regime, GeneratedAt: s.Now(), GeneratedBy: actor.Email,
		Filters: f.fields(), Notes: []string{"Timestamps are UTC.", "Generated from the live database; the audit log's hash chain can be verified with 'portcullis audit verify'."},
	}
	switch kind {
	case "changes":
		return s.exportChanges(db, f, doc, w)
	case "rules", "insecure":
		return s.exportRules(db, f, doc, w, kind == "insecure")
	case "drift":
		return s.exportDrift(db, f, doc, w)
	case "recertification":
		return s.exportRecertification(db, f, doc, w)
	default:
		return s.exportAuditTable(db, f, doc, w)
	}
}

func cols(spec ...string) []report.Column {
	var out []report.Column
	for _, s := range spec {
		key, title, _ := strings.Cut(s, "|")
		width := 1.0
		if strings.Contains("justification|detail|findings|decisions|comments|evidence|controls|summary|rules", key) {
			width = 3
		}
		out = append(out, report.Column{Key: key, Title: title, Width: width})
	}
	return out
}

func (s *Service) requestQuery(db *gorm.DB, f ExportFilter) *gorm.DB {
	q := between(db.Model(&models.Request{}), "created_at", f)
	if f.Team != "" {
		q = q.Where("team = ?", f.Team)
	}
	if f.State != "" {
		q = q.Where("state = ?", f.State)
	}
	return requestsInZone(db, q, f.Zone)
}

func (s *Service) exportChanges(db *gorm.DB, f ExportFilter, doc report.Document, w report.Writer) error {
	var total, exceptions, innovation int64
	s.requestQuery(db, f).Count(&total)
	s.requestQuery(db, f).Where("exception = ?", true).Count(&exceptions)
	s.requestQuery(db, f).Where("innovation = ?", true).Count(&innovation)
	doc.Summary = []report.Field{{Name: "Requests", Value: strconv.FormatInt(total, 10)}, {Name: "Policy exceptions", Value: strconv.FormatInt(exceptions, 10)},
		{Name: "Innovation-tier requests", Value: strconv.FormatInt(innovation, 10)}}
	if err := w.Begin(doc); err != nil {
		return err
	}
	if err := w.StartTable(report.Table{Key: "changes", Title: "Every request in the period", Columns: cols(
		"id|Request", "title|Title", "state|State", "requester|Requester", "team|Team", "justification|Business justification",
		"rules|Rules", "findings|Policy findings", "exception|Exception", "controls|Compensating controls", "decisions|Review decisions (independent of the requester)",
		"comments|Comments", "created|Created", "submitted|Submitted", "approved|Approved", "change_ref|Implementation reference",
		"implemented|Implemented", "verification|Verification", "evidence|Evidence",
		"innovation|Innovation tier", "assessment|Security assessment")}); err != nil {
		return err
	}
	var batch []models.Request
	err := s.requestQuery(db, f).Preload("Requester").Preload("Rules").Order("id").FindInBatches(&batch, 200, func(tx *gorm.DB, _ int) error {
		ids := make([]uint, len(batch))
		for i, r := range batch {
			ids[i] = r.ID
		}
		var reviews []models.Review
		db.Preload("Reviewer").Where("request_id IN ?", ids).Order("id").Find(&reviews)
		var comments []models.Comment
		db.Preload("Author").Where("request_id IN ?", ids).Order("id").Find(&comments)
		var runs []models.ScanRun
		db.Omit("report").Where("request_id IN ? AND kind = ?", ids, "verification").Order("id").Find(&runs)
		byReq := func(id uint) (rv []string, cm []string, ver, ev string) {
			for _, r := range reviews {
				if r.RequestID == id {
					v := fmt.Sprintf("%s %s by %s at %s", strings.ReplaceAll(r.Kind, "_", " "), r.Decision, r.Reviewer.Email, ts(r.CreatedAt))
					if r.Comment != "" {
						v += ": " + r.Comment
					}
					if r.Voided {
						v += " (voided by a later edit)"
					}
					rv = append(rv, v)
				}
			}
			for _, c := range comments {
				if c.RequestID == id {
					cm = append(cm, fmt.Sprintf("%s at %s: %s", c.Author.Email, ts(c.CreatedAt), c.Body))
				}
			}
			for _, r := range runs {
				if *r.RequestID == id {
					ver, ev = fmt.Sprintf("scan #%d %s %s", r.ID, r.Status, tsp(r.FinishedAt)), strings.TrimSpace(r.Summary)
				}
			}
			return
		}
		for _, r := range batch {
			rv, cm, ver, ev := byReq(r.ID)
			var rules, findings, controls []string
			for _, ru := range r.Rules {
				rules = append(rules, fmt.Sprintf("%s → %s %s/%s %s %s", ru.Source, ru.Destination, ru.Protocol, ru.Ports, ru.Service, ru.Direction))
			}
			for _, fd := range requests.FindingsOf(r) {
				findings = append(findings, fmt.Sprintf("rule %d %s (%s%s)", fd.Rule+1, fd.Code, fd.Severity, map[bool]string{true: ", blocking"}[fd.Blocking]))
			}
			for k, c := range requests.ControlsOf(r) {
				controls = append(controls, k+": "+c)
			}
			if err := w.Row(strconv.FormatUint(uint64(r.ID), 10), r.Title, r.State, r.Requester.Email, r.Team, r.Justification,
				strings.Join(rules, "\n"), strings.Join(findings, "\n"), yesNo(r.Exception), strings.Join(controls, "\n"), strings.Join(rv, "\n"),
				strings.Join(cm, "\n"), ts(r.CreatedAt), tsp(r.SubmittedAt), tsp(r.ApprovedAt), r.ChangeRef, tsp(r.ImplementedAt), ver, ev,
				yesNo(r.Innovation), assessmentText(requests.AssessmentOf(r))); err != nil {
				return err
			}
		}
		return nil
	}).Error
	return finish(w, err)
}

// assessmentText is a request's security assessment in one cell: each
// question with its answer.
func assessmentText(a *requests.Assessment) string {
	if a == nil {
		return ""
	}
	lines := make([]string, 0, len(a.Questions))
	for _, q := range a.Questions {
		lines = append(lines, q.Text+" "+a.Answers[q.ID])
	}
	return strings.Join(lines, "\n")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// zonePath names where a rule goes: source zone → destination zone.
func zonePath(zones *inventory.ZoneIndex, ru models.Rule) string {
	src := ru.Source
	if src != "internet" && strings.ContainsAny(src, "/:.") {
		if p, err := policy.ParseCIDR(strings.Split(src, ",")[0]); err == nil {
			if z := zones.Lookup(p.Addr()); z != nil {
				src = z.Name
			} else {
				src = "internet"
			}
		}
	}
	dst := ru.Destination
	if p, err := policy.ParseCIDR(strings.Split(dst, ",")[0]); err == nil {
		if z := zones.Lookup(p.Addr()); z != nil {
			dst = z.Name
		}
	}
	return src + " → " + dst
}

func (s *Service) exportRules(db *gorm.DB, f ExportFilter, doc report.Document, w report.Writer, insecureOnly bool) error {
	zones, err := inventory.LoadZoneIndex(db)
	if err != nil {
		return err
	}
	p, err := s.inventory.LoadPolicy(db)
	if err != nil {
		return err
	}
	// The register is the policy in force now; the period filter does not apply.
	f.From, f.To = time.Time{}, time.Time{}
	q := s.requestQuery(db, f).Where("state IN ?", requests.InForceStates)
	if insecureOnly {
		doc.Notes = append(doc.Notes, "Every approved cleartext or high-risk service, with the controls recorded for it.")
	}
	var count int64
	q.Count(&count)
	doc.Summary = []report.Field{{Name: "Requests in force", Value: strconv.FormatInt(count, 10)}}
	doc.Filters = append([]report.Field{{Name: "As of", Value: ts(s.Now())}}, doc.Filters[1:]...)
	if err := w.Begin(doc); err != nil {
		return err
	}
	spec := []string{"request|Request", "rule|Rule", "protocol|Protocol", "ports|Ports", "service|Service", "source|Source", "destination|Destination",
		"zone_path|Zone path", "justification|Business justification", "approvers|Approved by", "state|State", "expires|Expires", "exception|Exception",
		"innovation|Innovation tier"}
	if insecureOnly {
		spec = append(spec, "why|Why it is insecure", "controls|Compensating controls and required controls")
	}
	if err := w.StartTable(report.Table{Key: map[bool]string{true: "insecure", false: "rules"}[insecureOnly], Title: doc.Title, Columns: cols(spec...)}); err != nil {
		return err
	}
	var batch []models.Request
	err = s.requestQuery(db, f).Where("state IN ?", requests.InForceStates).Preload("Rules").Order("id").FindInBatches(&batch, 200, func(tx *gorm.DB, _ int) error {
		ids := make([]uint, len(batch))
		for i, r := range batch {
			ids[i] = r.ID
		}
		var reviews []models.Review
		db.Preload("Reviewer").Where("request_id IN ? AND voided = ? AND decision = ?", ids, false, requests.DecisionApprove).Find(&reviews)
		for _, r := range batch {
			var approvers []string
			for _, rv := range reviews {
				if rv.RequestID == r.ID {
					approvers = append(approvers, rv.Reviewer.Email)
				}
			}
			findings := requests.FindingsOf(r)
			for i, ru := range r.Rules {
				row := []string{strconv.FormatUint(uint64(r.ID), 10), strconv.Itoa(i + 1), ru.Protocol, ru.Ports, ru.Service, ru.Source, ru.Destination,
					zonePath(zones, ru), r.Justification, strings.Join(approvers, ", "), r.State, ts(r.ExpiresAt), yesNo(r.Exception), yesNo(r.Innovation)}
				if insecureOnly {
					why := insecurity(p.Catalog, ru)
					if why == "" {
						continue
					}
					var controls []string
					for k, c := range requests.ControlsOf(r) {
						if strings.HasPrefix(k, strconv.Itoa(i)+":") {
							controls = append(controls, "compensating: "+c)
						}
					}
					for _, fd := range findings {
						if fd.Rule == i {
							for _, c := range fd.RequiredControls {
								controls = append(controls, "required: "+c)
							}
						}
					}
					row = append(row, why, strings.Join(controls, "\n"))
				}
				if err := w.Row(row...); err != nil {
					return err
				}
			}
		}
		return nil
	}).Error
	return finish(w, err)
}

// insecurity says why a rule's service is insecure (cleartext or high
// risk), by the service named or the ports opened; "" when it is not.
func insecurity(cat *policy.Catalog, ru models.Rule) string {
	var reasons []string
	seen := map[string]bool{}
	consider := func(svc policy.Service) {
		if seen[svc.Name] {
			return
		}
		seen[svc.Name] = true
		if svc.Cleartext {
			r := svc.Name + " is cleartext"
			if svc.SecureAlternative != "" {
				r += " (use " + svc.SecureAlternative + ")"
			}
			reasons = append(reasons, r)
		} else if svc.Risk == "high" {
			reasons = append(reasons, svc.Name+" is high-risk")
		}
	}
	if ru.Service != "" {
		if svc, ok := cat.Lookup(ru.Service); ok {
			consider(svc)
		}
	}
	if ports, err := policy.ParsePorts(ru.Ports); err == nil && ports.Count() <= 1024 {
		for _, svc := range cat.OnPorts(policy.Protocol(ru.Protocol), ports) {
			consider(svc)
		}
	}
	return strings.Join(reasons, "; ")
}

func (s *Service) exportDrift(db *gorm.DB, f ExportFilter, doc report.Document, w report.Writer) error {
	items := between(db.Model(&models.DriftItem{}), "first_seen", f)
	if f.Zone != "" {
		items = items.Where("zone = ?", f.Zone)
	}
	scans := between(db.Model(&models.ScanRun{}), "queued_at", f)
	if f.Zone != "" {
		scans = scans.Where("zone = ? OR zone = ''", f.Zone)
	}
	var nItems, nOpen, nScans int64
	items.Session(&gorm.Session{}).Count(&nItems)
	items.Session(&gorm.Session{}).Where("state IN ?", []string{drift.Open, drift.Acknowledged}).Count(&nOpen)
	scans.Session(&gorm.Session{}).Count(&nScans)
	doc.Summary = []report.Field{{Name: "Drift items", Value: strconv.FormatInt(nItems, 10)}, {Name: "Still open", Value: strconv.FormatInt(nOpen, 10)}, {Name: "Scans", Value: strconv.FormatInt(nScans, 10)}}
	if err := w.Begin(doc); err != nil {
		return err
	}
	if err := w.StartTable(report.Table{Key: "drift", Title: "Drift items", Columns: cols("id|Item", "kind|Kind", "severity|Severity", "asset|Asset", "zone|Zone",
		"port|Port", "service|Service", "state|State", "first_seen|First seen", "last_seen|Last seen", "resolved|Resolved", "request|Request", "detail|Detail", "evidence|Evidence")}); err != nil {
		return err
	}
	var batch []models.DriftItem
	err := items.Session(&gorm.Session{}).Order("id").FindInBatches(&batch, 1000, func(tx *gorm.DB, _ int) error {
		for _, d := range batch {
			port := ""
			if d.Protocol != "" {
				port = fmt.Sprintf("%s/%d", d.Protocol, d.Port)
			}
			req := ""
			if d.RequestID != 0 {
				req = strconv.FormatUint(uint64(d.RequestID), 10)
			}
			if err := w.Row(strconv.FormatUint(uint64(d.ID), 10), d.Kind, d.Severity, d.Address, d.Zone, port, d.Service, d.State,
				ts(d.FirstSeen), ts(d.LastSeen), tsp(d.ResolvedAt), req, d.Detail, drift.EvidenceText(drift.EvidenceOf(d))); err != nil {
				return err
			}
		}
		return nil
	}).Error
	if err != nil {
		return err
	}
	if err := w.EndTable(); err != nil {
		return err
	}
	if err := w.StartTable(report.Table{Key: "scans", Title: "Scans", Columns: cols("id|Scan", "kind|Kind", "profile|Profile", "targets|Targets",
		"status|Status", "started|Started", "finished|Finished", "summary|Summary")}); err != nil {
		return err
	}
	var runs []models.ScanRun
	err = scans.Session(&gorm.Session{}).Omit("report").Order("id").FindInBatches(&runs, 500, func(tx *gorm.DB, _ int) error {
		for _, r := range runs {
			if err := w.Row(strconv.FormatUint(uint64(r.ID), 10), r.Kind, r.Profile, r.Targets, r.Status, tsp(r.StartedAt), tsp(r.FinishedAt), strings.TrimSpace(r.Summary+" "+r.Error)); err != nil {
				return err
			}
		}
		return nil
	}).Error
	return finish(w, err)
}

func (s *Service) exportRecertification(db *gorm.DB, f ExportFilter, doc report.Document, w report.Writer) error {
	camps := between(db.Model(&models.RecertCampaign{}), "created_at", f).Select("id")
	q := db.Model(&models.Recertification{}).Where("campaign_id IN (?)", camps)
	if f.Team != "" {
		q = q.Where("team = ?", f.Team)
	}
	var total, done int64
	q.Session(&gorm.Session{}).Count(&total)
	q.Session(&gorm.Session{}).Where("status <> ?", recert.RecertPending).Count(&done)
	doc.Summary = []report.Field{{Name: "Openings due", Value: strconv.FormatInt(total, 10)}, {Name: "Decided", Value: strconv.FormatInt(done, 10)}}
	if err := w.Begin(doc); err != nil {
		return err
	}
	if err := w.StartTable(report.Table{Key: "recertification", Title: "Re-certification decisions", Columns: cols("campaign|Campaign", "due|Deadline",
		"request|Request", "title|Title", "team|Owner team", "status|Decision", "by|Decided by", "at|Decided at", "justification|Fresh justification", "expires|New expiry")}); err != nil {
		return err
	}
	var batch []models.Recertification
	err := q.Session(&gorm.Session{}).Preload("Campaign").Preload("Request").Order("id").FindInBatches(&batch, 500, func(tx *gorm.DB, _ int) error {
		for _, r := range batch {
			if err := w.Row(r.Campaign.Name, ts(r.Campaign.DueBy), strconv.FormatUint(uint64(r.RequestID), 10), r.Request.Title, r.Team, r.Status,
				r.DecidedBy, tsp(r.DecidedAt), r.Justification, tsp(r.NewExpiresAt)); err != nil {
				return err
			}
		}
		return nil
	}).Error
	return finish(w, err)
}

func (s *Service) exportAuditTable(db *gorm.DB, f ExportFilter, doc report.Document, w report.Writer) error {
	var total int64
	between(db.Model(&models.AuditEvent{}), "at", f).Count(&total)
	doc.Summary = []report.Field{{Name: "Events", Value: strconv.FormatInt(total, 10)}}
	if err := w.Begin(doc); err != nil {
		return err
	}
	// Widths for the PDF's grid: one event a line or a few, many to a page.
	columns := []report.Column{{Key: "seq", Title: "Seq", Width: 0.5}, {Key: "at", Title: "At", Width: 2.2}, {Key: "actor", Title: "Actor", Width: 1.8},
		{Key: "action", Title: "Action", Width: 1.4}, {Key: "object", Title: "Object", Width: 1.1}, {Key: "from", Title: "From", Width: 0.9},
		{Key: "to", Title: "To", Width: 0.9}, {Key: "comment", Title: "Comment", Width: 2.2}, {Key: "detail", Title: "Detail", Width: 2.3}, {Key: "hash", Title: "Hash", Width: 3.6}}
	if err := w.StartTable(report.Table{Key: "audit", Title: "Audit events", Columns: columns, Grid: true}); err != nil {
		return err
	}
	err := s.eachEvent(context.Background(), AuditFilter{From: f.From, To: f.To}, func(e models.ChainedEvent) error {
		return w.Row(strconv.FormatUint(e.Seq, 10), ts(e.At), e.Actor, e.Action, fmt.Sprintf("%s %d", e.ObjectType, e.ObjectID), e.FromState, e.ToState, e.Comment, e.Detail, e.Hash)
	})
	return finish(w, err)
}

// finish ends the last table and the document, unless streaming failed.
func finish(w report.Writer, err error) error {
	if err != nil {
		return err
	}
	if err := w.EndTable(); err != nil {
		return err
	}
	return w.Close()
}
