package main

// The synthetic organisation `portcullis seed` writes: everything is derived
// from the counts and a random seed, planned in memory in a compact form and
// written in large batches inside one transaction, so that a million audit
// events take seconds, not hours, and a failure leaves nothing half-written.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/demo"
	drift "github.com/portcullis/portcullis/workflow/driftrules"
)

// seedZone is a synthetic zone: its classification and, for internal zones,
// the /16 inside 127.64.0.0/10 its assets live in.
type seedZone struct {
	name, class, owner, desc, app string
}

var seedInternalZones = []seedZone{
	{"dmz-web", "dmz", "network", "Public web front ends", "Web front end"},
	{"dmz-mail", "dmz", "it", "Mail relays and gateways", "Mail relay"},
	{"dmz-partner", "dmz", "network", "Partner APIs and file drops", "Partner gateway"},
	{"transit-core", "transit", "network", "Checked-on-entry hop between zones", "Jump host"},
	{"transit-vpn", "transit", "network", "Remote-access concentrators", "VPN concentrator"},
	{"office-paris", "low", "it", "Staff workstations, Paris", "Workstation"},
	{"office-lyon", "low", "it", "Staff workstations, Lyon", "Workstation"},
	{"office-berlin", "low", "it", "Staff workstations, Berlin", "Workstation"},
	{"guest-wifi", "low", "it", "Visitors' network", "Kiosk"},
	{"lab", "low", "research", "Test benches", "Test bench"},
	{"apps-crm", "medium", "sales", "Customer relationship management", "CRM"},
	{"apps-hr", "medium", "hr", "Human resources applications", "HR portal"},
	{"apps-erp", "medium", "finance", "Enterprise resource planning", "ERP"},
	{"apps-intranet", "medium", "platform", "Intranet and wikis", "Intranet"},
	{"apps-build", "medium", "platform", "Build and artefact servers", "CI runner"},
	{"apps-monitoring", "medium", "platform", "Metrics and logs", "Monitoring"},
	{"apps-logistics", "medium", "logistics", "Warehouse applications", "Warehouse app"},
	{"apps-analytics", "medium", "data", "Reporting and analytics", "Analytics"},
	{"pci-payments", "high", "payments", "Cardholder data environment (PCI DSS)", "Payment gateway"},
	{"pci-vault", "high", "payments", "Tokenisation vault (PCI DSS)", "Token vault"},
	{"core-db", "high", "data", "Core databases", "Database"},
	{"identity", "high", "identity", "Directory and single sign-on", "Directory"},
	{"backup", "high", "platform", "Backups", "Backup server"},
	{"trading", "high", "trading", "Trading systems", "Trading engine"},
}

// maxSeedAssets is how many addresses the synthetic zones hold: 254 hosts
// in each of the 256 /24s of each zone's /16.
const maxSeedAssets = 24 * 256 * 254

var seedTeams = []string{"payments", "web", "sales", "hr", "finance", "data", "logistics", "mobile", "search", "billing",
	"identity", "marketing", "support", "research", "legal", "risk", "trading", "media", "platform", "it"}

var seedFirstNames = []string{"Ada", "Bruno", "Chloé", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Keiko", "Louis", "Mina", "Noah", "Olga", "Pavel", "Quentin", "Rosa", "Sami", "Tess"}
var seedLastNames = []string{"Martin", "Bernard", "Dubois", "Schmidt", "Rossi", "Garcia", "Novak", "Silva", "Jensen", "Kowalski", "Moreau", "Costa", "Weber", "Fischer", "Laurent"}

// seedService is an opening's shape: ports, protocol and expected service.
type seedService struct{ ports, proto, service string }

var seedServices = []seedService{
	{"443", "tcp", "http"}, {"80,443", "tcp", "http"}, {"8443", "tcp", "http"}, {"22", "tcp", "ssh"},
	{"5432", "tcp", "postgresql"}, {"3306", "tcp", "mysql"}, {"6379", "tcp", "redis"}, {"25", "tcp", "smtp"},
	{"389", "tcp", "ldap"}, {"9200", "tcp", "elasticsearch"}, {"5672", "tcp", "amqp"}, {"1883", "tcp", "mqtt"},
	{"53", "udp", "dns"}, {"123", "udp", "ntp"}, {"8000-8010", "tcp", "http"}, {"3389", "tcp", "rdp"},
}

var seedPartnerCIDRs = []string{"203.0.113.0/28", "198.51.100.16/28", "192.0.2.64/27", "203.0.113.128/26"}

var seedChecklist = []string{"patched", "unprivileged", "authentication", "only-requested-ports", "secure-protocol", "logging"}

// Final states of the requests and how often each is drawn (in 1/100).
var seedStateWeights = []struct {
	state  string
	weight int
}{
	{"draft", 4}, {"submitted", 6}, {"in_review", 5}, {"changes_requested", 3}, {"rejected", 6}, {"approved", 4},
	{"implemented", 3}, {"verified", 1}, {"verification_failed", 2}, {"active", 40}, {"expired", 14}, {"revoked", 6}, {"cancelled", 6},
}

// seedRequest is one request's plan: who files, reviews, approves and
// implements it, and where it ends.
type seedRequest struct {
	final                                    string
	requester, reviewer, approver, implement int // user indexes
	second                                   bool
	firstOnly                                bool // in review with its first approval recorded
	submitBeforeCancel                       bool
	comments                                 int
	rules                                    int
}

// orgPlan is the whole organisation before it is written.
type orgPlan struct {
	cfg                                                 seedConfig
	now, start                                          time.Time
	users                                               []models.User
	requesters, reviewers, approvers, implementers, adm []int
	reqs                                                []seedRequest
	scanRuns                                            int
}

func planOrganisation(cfg seedConfig) *orgPlan {
	p := &orgPlan{cfg: cfg, now: time.Now().UTC().Truncate(time.Second)}
	p.start = p.now.AddDate(-2, 0, 0)
	rng := rand.New(rand.NewPCG(uint64(cfg.RandomSeed), 1))
	// The demo accounts come first, registered under the demo issuer as if
	// each had logged in once, so that `serve --demo` logs them in as these users.
	for _, u := range demo.Users {
		roles := make([]string, len(u.Roles))
		for i, r := range u.Roles {
			roles[i] = string(r)
		}
		p.users = append(p.users, models.User{Issuer: cfg.DemoIssuer, Subject: u.Subject, Email: u.Email, Name: u.Name, Team: u.Team, Roles: strings.Join(roles, " ")})
	}
	demoIndex := func(subject string) int {
		for i, u := range demo.Users {
			if u.Subject == subject {
				return i
			}
		}
		panic("no demo user " + subject)
	}
	alice, pat, rita, lee, ivan, adam := demoIndex("demo-alice"), demoIndex("demo-pat"), demoIndex("demo-rita"), demoIndex("demo-lee"), demoIndex("demo-ivan"), demoIndex("demo-adam")
	addUser := func(role, team string) int {
		n := len(p.users)
		first, last := seedFirstNames[n%len(seedFirstNames)], seedLastNames[(n/len(seedFirstNames))%len(seedLastNames)]
		p.users = append(p.users, models.User{
			Issuer: "https://idp.synthetic.portcullis.test", Subject: fmt.Sprintf("seed-%d", n),
			Email: fmt.Sprintf("%s.%s.%d@synthetic.portcullis.test", strings.ToLower(first), strings.ToLower(last), n),
			Name:  first + " " + last, Team: team, Roles: role,
		})
		return n
	}
	for _, t := range seedTeams {
		for range 3 {
			p.requesters = append(p.requesters, addUser("requester", t))
		}
	}
	for range 10 {
		p.reviewers = append(p.reviewers, addUser("reviewer", "security"))
	}
	for range 3 {
		p.approvers = append(p.approvers, addUser("approver", "security"))
	}
	for range 6 {
		p.implementers = append(p.implementers, addUser("implementer", "netops"))
	}
	addUser("auditor", "audit")
	addUser("auditor", "audit")
	p.adm = []int{adam, addUser("admin", "platform")}

	total := 0
	for _, w := range seedStateWeights {
		total += w.weight
	}
	for i := range cfg.Requests {
		var r seedRequest
		pick := rng.IntN(total)
		for _, w := range seedStateWeights {
			if pick < w.weight {
				r.final = w.state
				break
			}
			pick -= w.weight
		}
		switch {
		case i%40 == 0:
			r.requester = alice
		case i%97 == 0:
			r.requester = pat
		default:
			r.requester = p.requesters[rng.IntN(len(p.requesters))]
		}
		r.reviewer = p.reviewers[rng.IntN(len(p.reviewers))]
		if i%10 == 0 {
			r.reviewer = rita
		}
		r.approver = p.approvers[rng.IntN(len(p.approvers))]
		if i%5 == 0 {
			r.approver = lee
		}
		r.implement = p.implementers[rng.IntN(len(p.implementers))]
		if i%8 == 0 {
			r.implement = ivan
		}
		r.second = rng.IntN(4) == 0
		r.firstOnly = r.final == "in_review" && r.second && rng.IntN(2) == 0
		r.submitBeforeCancel = rng.IntN(2) == 0
		if i%3 == 0 {
			r.comments++
		}
		if i%9 == 0 {
			r.comments++
		}
		r.rules = 1
		if i%5 == 0 {
			r.rules++
		}
		if i%17 == 0 {
			r.rules++
		}
		p.reqs = append(p.reqs, r)
	}
	p.scanRuns = min(5000, 1+cfg.DriftItems/100+cfg.Requests/1000)
	return p
}

// step is one entry of a request's timeline.
type step struct {
	action, from, to string
	actor            int // user index; -1 is the system
	review           string
	comment          string
}

// story is the lifecycle of a request, from its creation to its final state.
func (p *orgPlan) story(r seedRequest) []step {
	s := []step{{action: "create", to: "draft", actor: r.requester}}
	add := func(action, from, to string, actor int, review, comment string) {
		s = append(s, step{action, from, to, actor, review, comment})
	}
	if r.final == "draft" {
		return s
	}
	if r.final == "cancelled" {
		from := "draft"
		if r.submitBeforeCancel {
			add("submit", "draft", "submitted", r.requester, "", "")
			from = "submitted"
		}
		add("cancel", from, "cancelled", r.requester, "", "no longer needed")
		return s
	}
	add("submit", "draft", "submitted", r.requester, "", "")
	if r.final == "submitted" {
		return s
	}
	add("claim", "submitted", "in_review", r.reviewer, "", "")
	switch r.final {
	case "in_review":
		if r.firstOnly {
			add("first_approve", "in_review", "in_review", r.reviewer, "approve", "Baseline checked; awaiting the security lead.")
		}
		return s
	case "changes_requested":
		add("request_changes", "in_review", "changes_requested", r.reviewer, "changes_requested", "Name the source hosts rather than a whole zone.")
		return s
	case "rejected":
		add("reject", "in_review", "rejected", r.reviewer, "reject", "Cleartext protocol: use the encrypted alternative.")
		return s
	}
	if r.second {
		add("first_approve", "in_review", "in_review", r.reviewer, "approve", "Baseline checked.")
		add("second_approve", "in_review", "approved", r.approver, "second", "Accepted: exposure limited to the stated sources.")
	} else {
		add("approve", "in_review", "approved", r.reviewer, "approve", "Baseline checked.")
	}
	if r.final == "approved" {
		return s
	}
	add("implement", "approved", "implemented", r.implement, "", "Rule added on the firewall cluster.")
	switch r.final {
	case "implemented":
		return s
	case "verification_failed":
		add("fail_verification", "implemented", "verification_failed", -1, "", "1 of 1 approved ports are not as approved")
		return s
	}
	add("verify", "implemented", "verified", -1, "", "every approved port answers as approved")
	if r.final == "verified" {
		return s
	}
	add("activate", "verified", "active", -1, "", "verified on the wire; the opening is in force")
	switch r.final {
	case "expired":
		add("expire", "active", "expired", -1, "", "not re-certified before its expiry")
	case "revoked":
		add("revoke", "active", "revoked", r.reviewer, "", "The service was decommissioned.")
	}
	return s
}

// timelineEvents is how many audit events the requests' timelines take.
func (p *orgPlan) timelineEvents() int {
	n := 0
	for _, r := range p.reqs {
		n += len(p.story(r)) + r.comments
	}
	return n
}

// seedStats counts what was written.
type seedStats struct {
	Users, Zones, Assets, Requests, Rules, Reviews, Comments, AuditEvents, ScanRuns, DriftItems, Recerts int
}

// batch gathers rows of one table and inserts them many at a time.
type batch[T any] struct {
	tx   *gorm.DB
	rows []T
	size int
	n    *int
}

func newBatch[T any](tx *gorm.DB, columns int, n *int) *batch[T] {
	// SQLite allows 32766 bound parameters in a statement.
	size := max(1, 30000/columns)
	return &batch[T]{tx: tx, size: size, n: n, rows: make([]T, 0, size)}
}

func (b *batch[T]) add(row T) error {
	b.rows = append(b.rows, row)
	if len(b.rows) >= b.size {
		return b.flush()
	}
	return nil
}

func (b *batch[T]) flush() error {
	if len(b.rows) == 0 {
		return nil
	}
	if err := b.tx.Omit(clause.Associations).Create(&b.rows).Error; err != nil {
		return err
	}
	*b.n += len(b.rows)
	b.rows = b.rows[:0]
	return nil
}

// zoneOfAsset and assetAddress place asset a: round-robin over the
// internal zones, then host by host inside the zone's /16.
func zoneOfAsset(a int) int { return a % len(seedInternalZones) }

func assetAddress(a int) string {
	z, j := zoneOfAsset(a), a/len(seedInternalZones)
	return fmt.Sprintf("127.%d.%d.%d", 64+z, j/254, j%254+1)
}

// us keeps times at the precision PostgreSQL stores, so hashes survive the round trip.
func us(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// write puts the organisation into the database in one transaction.
func (p *orgPlan) write(ctx context.Context, db *gorm.DB) (seedStats, error) {
	var st seedStats
	err := db.WithContext(ctx).Session(&gorm.Session{SkipDefaultTransaction: true}).Transaction(func(tx *gorm.DB) error {
		if tx.Dialector.Name() == "postgres" {
			if err := tx.Exec("SET LOCAL synchronous_commit = off").Error; err != nil {
				return err
			}
		}
		w := &orgWriter{p: p, tx: tx, st: &st}
		return w.run()
	})
	return st, err
}

// orgWriter writes a plan inside one transaction.
type orgWriter struct {
	p  *orgPlan
	tx *gorm.DB
	st *seedStats

	events    *batch[models.AuditEvent]
	prevHash  string
	seq       uint64
	fillers   int // filler events written so far
	fillerAll int
	firstRule []uint // by request index: the id of its first rule, which drift items cite
}

func (w *orgWriter) run() error {
	p, tx := w.p, w.tx
	marker := fmt.Sprintf("synthetic organisation by `portcullis seed` at %s: requests=%d audit-events=%d assets=%d drift-items=%d random-seed=%d",
		p.now.Format(time.RFC3339), p.cfg.Requests, p.cfg.AuditEvents, p.cfg.Assets, p.cfg.DriftItems, p.cfg.RandomSeed)
	if err := tx.Create(&models.Setting{Key: syntheticMarker, Value: marker, UpdatedAt: p.now}).Error; err != nil {
		return err
	}
	// Users.
	for i := range p.users {
		p.users[i].ID = uint(i + 1)
		p.users[i].CreatedAt = p.start
	}
	if err := tx.CreateInBatches(&p.users, 500).Error; err != nil {
		return err
	}
	w.st.Users = len(p.users)
	// Zones: the internet, then the internal zones, each with its schedule switched off.
	zones := []models.Zone{{ID: 1, Name: "internet", Classification: "internet", Owner: "network", Description: "Everything outside the organisation", CreatedAt: p.start, UpdatedAt: p.start}}
	for k, z := range seedInternalZones {
		zones = append(zones, models.Zone{ID: uint(k + 2), Name: z.name, Classification: z.class, CIDRs: fmt.Sprintf("127.%d.0.0/16", 64+k),
			Owner: z.owner, Description: z.desc, CreatedAt: p.start, UpdatedAt: p.start})
	}
	if err := tx.Create(&zones).Error; err != nil {
		return err
	}
	w.st.Zones = len(zones)
	var schedules []models.ScanSchedule
	for _, z := range zones {
		schedules = append(schedules, models.ScanSchedule{ZoneID: z.ID, DailyHour: -1, WeeklyDay: -1, WeeklyHour: 3, UpdatedAt: p.start})
	}
	if err := tx.Omit(clause.Associations).Create(&schedules).Error; err != nil {
		return err
	}
	// Assets.
	assets := newBatch[models.Asset](tx, 9, &w.st.Assets)
	for a := range p.cfg.Assets {
		z := zoneOfAsset(a)
		zid := uint(z + 2)
		sz := seedInternalZones[z]
		if err := assets.add(models.Asset{ID: uint(a + 1), Address: assetAddress(a), Hostname: fmt.Sprintf("%s-%05d.%s.synthetic.test", strings.ToLower(strings.Fields(sz.app)[0]), a/len(seedInternalZones), sz.name),
			OwnerTeam: seedTeams[a%len(seedTeams)], Application: sz.app, ZoneID: &zid, CreatedAt: p.start, UpdatedAt: p.start}); err != nil {
			return err
		}
	}
	if err := assets.flush(); err != nil {
		return err
	}
	// Re-certification campaigns: two closed, one open.
	closed := us(p.now.AddDate(0, -6, 0))
	campaigns := []models.RecertCampaign{
		{ID: 1, Name: "Six-monthly review, first half", DueBy: p.now.AddDate(-1, 0, 0), CreatedBy: p.users[p.adm[0]].Email, CreatedAt: p.now.AddDate(-1, -1, 0), ClosedAt: &closed},
		{ID: 2, Name: "Six-monthly review, second half", DueBy: p.now.AddDate(0, -6, 0), CreatedBy: p.users[p.adm[0]].Email, CreatedAt: p.now.AddDate(0, -7, 0), ClosedAt: &closed},
		{ID: 3, Name: "Six-monthly review, current", DueBy: p.now.AddDate(0, 0, 30), CreatedBy: p.users[p.adm[0]].Email, CreatedAt: p.now.AddDate(0, 0, -14)},
	}
	if err := tx.Create(&campaigns).Error; err != nil {
		return err
	}

	// Requests and the audit log, in time order: each request has a slot
	// of the two years, holding its timeline and its share of the other events.
	w.events = newBatch[models.AuditEvent](tx, 16, &w.st.AuditEvents)
	w.prevHash = models.GenesisHash
	w.fillerAll = p.cfg.AuditEvents - p.timelineEvents()
	if err := w.requests(); err != nil {
		return err
	}
	if err := w.events.flush(); err != nil {
		return err
	}
	if w.st.AuditEvents != p.cfg.AuditEvents {
		return fmt.Errorf("wrote %d audit events, planned %d", w.st.AuditEvents, p.cfg.AuditEvents)
	}
	if err := w.scans(); err != nil {
		return err
	}
	if err := w.drift(); err != nil {
		return err
	}
	if tx.Dialector.Name() == "postgres" {
		// Rows were given their ids: move each sequence past them.
		for _, t := range []string{"users", "zones", "assets", "requests", "rules", "reviews", "comments", "audit_events", "recert_campaigns", "recertifications", "scan_runs", "drift_items"} {
			if err := tx.Exec(fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', 'id'), GREATEST(1, (SELECT COALESCE(MAX(id), 0) FROM %s)))`, t, t)).Error; err != nil {
				return fmt.Errorf("sequence of %s: %w", t, err)
			}
		}
	}
	return nil
}

// event appends one event to the chain, hashed by the models' own function.
func (w *orgWriter) event(at time.Time, actor int, action, objectType string, objectID uint, from, to, detail, comment string) error {
	w.seq++
	e := models.AuditEvent{ID: uint(w.seq), Seq: w.seq, At: us(at), Action: action, ObjectType: objectType, ObjectID: objectID,
		FromState: from, ToState: to, Detail: detail, Comment: comment, PrevHash: w.prevHash, Actor: "system"}
	if actor >= 0 {
		u := w.p.users[actor]
		e.Actor, e.ActorID = u.Email, &u.ID
	}
	e.Hash = e.Chained().ComputeHash()
	w.prevHash = e.Hash
	return w.events.add(e)
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// filler writes the f-th event that is not part of a request's timeline:
// drift sightings, logins, scans and inventory edits.
func (w *orgWriter) filler(at time.Time, f int) error {
	p := w.p
	switch k := f % 10; {
	case k < 4 && p.cfg.DriftItems > 0:
		id := (f/10*4+k)%p.cfg.DriftItems + 1
		d := w.driftItem(id - 1)
		return w.event(at, -1, "drift.open", "drift", uint(id), "", "open", jsonText(map[string]any{"scan_id": d.LastScanID, "key": d.Key, "severity": d.Severity}), d.Detail)
	case k < 7 || (k < 9 && p.scanRuns == 0) || p.cfg.Assets == 0:
		u := f % len(p.users)
		return w.event(at, u, "user.login", "user", uint(u+1), "", "", jsonText(map[string]any{"roles": p.users[u].Roles, "team": p.users[u].Team}), "")
	case k < 9:
		id := f%p.scanRuns + 1
		return w.event(at, -1, "scan.done", "scan", uint(id), "", "", jsonText(map[string]any{"error": "", "summary": "scan finished"}), "")
	default:
		a := f % p.cfg.Assets
		return w.event(at, p.adm[f%len(p.adm)], "asset.update", "asset", uint(a+1), "", "", jsonText(map[string]any{"address": assetAddress(a), "owner_team": seedTeams[a%len(seedTeams)]}), "")
	}
}

func (w *orgWriter) requests() error {
	p, tx := w.p, w.tx
	// Flushed together every 1,000 requests, before any of them fills up.
	reqs := newBatch[models.Request](tx, 26, &w.st.Requests)
	rules := newBatch[models.Rule](tx, 9, &w.st.Rules)
	reviews := newBatch[models.Review](tx, 10, &w.st.Reviews)
	comments := newBatch[models.Comment](tx, 5, &w.st.Comments)
	recerts := newBatch[models.Recertification](tx, 11, &w.st.Recerts)
	flushAll := func() error {
		for _, f := range []func() error{reqs.flush, rules.flush, reviews.flush, comments.flush, recerts.flush} {
			if err := f(); err != nil {
				return err
			}
		}
		return nil
	}
	w.firstRule = make([]uint, len(p.reqs))
	slots := max(1, len(p.reqs))
	slot := p.now.Add(-time.Hour).Sub(p.start) / time.Duration(slots)
	rng := rand.New(rand.NewPCG(uint64(p.cfg.RandomSeed), 2))
	var ruleID, reviewID, commentID, recertID uint
	for i := range slots {
		fillers := (i+1)*w.fillerAll/slots - i*w.fillerAll/slots
		var steps []step
		var r seedRequest
		if i < len(p.reqs) {
			r = p.reqs[i]
			steps = p.story(r)
		}
		n := len(steps) + r.comments + fillers
		gap := slot / time.Duration(n+1)
		base := p.start.Add(time.Duration(i) * slot)
		k := 0
		next := func() time.Time { k++; return us(base.Add(time.Duration(k) * gap)) }
		// The slot's other events come first, then the request's story.
		for range fillers {
			if err := w.filler(next(), w.fillers); err != nil {
				return err
			}
			w.fillers++
		}
		if i >= len(p.reqs) {
			continue
		}
		id := uint(i + 1)
		requester := p.users[r.requester]
		svc := seedServices[rng.IntN(len(seedServices))]
		req := models.Request{ID: id, State: r.final, Version: len(steps), RequesterID: requester.ID, Team: requester.Team,
			NeedsSecondApproval: r.second, Findings: "[]", CompensatingControls: "{}",
			Title:         fmt.Sprintf("%s (%s %s) for %s, #%d", strings.ToUpper(svc.service[:1])+svc.service[1:], svc.proto, svc.ports, requester.Team, id),
			Justification: fmt.Sprintf("The %s team needs %s on port %s/%s for its service; without it the service stops.", requester.Team, svc.service, svc.ports, svc.proto),
		}
		if r.second {
			req.Findings = jsonText([]map[string]any{{"rule": 0, "code": "internet-exposure", "severity": "high", "blocking": true,
				"message": "The internet reaches a port other than the public ones: whitelist the sources.", "required_controls": []string{}}})
		}
		// Rules.
		for pos := range r.rules {
			a := rng.IntN(p.cfg.Assets)
			z := seedInternalZones[zoneOfAsset(a)]
			rs := svc
			if pos > 0 {
				rs = seedServices[rng.IntN(len(seedServices))]
			}
			rule := models.Rule{RequestID: id, Position: pos, Destination: assetAddress(a), Protocol: rs.proto, Ports: rs.ports, Service: rs.service, Direction: "ingress"}
			switch {
			case rng.IntN(12) == 0:
				rule.Direction, rule.Source, rule.Destination = "egress", z.name, seedPartnerCIDRs[rng.IntN(len(seedPartnerCIDRs))]
			case z.class == "dmz" && rs.service == "http":
				rule.Source = "internet"
			case rng.IntN(3) == 0:
				rule.Source = seedPartnerCIDRs[rng.IntN(len(seedPartnerCIDRs))]
			default:
				rule.Source = seedInternalZones[rng.IntN(len(seedInternalZones))].name
			}
			ruleID++
			rule.ID = ruleID
			if pos == 0 {
				w.firstRule[i] = ruleID
			}
			if err := rules.add(rule); err != nil {
				return err
			}
		}
		// The timeline, with the reviews and comments it records.
		commentAt := min(2, len(steps))
		written := 0
		for s := 0; s <= len(steps); s++ {
			if s == commentAt {
				for c := range r.comments {
					at := next()
					author, body := r.reviewer, "Which hosts exactly need this, and since when?"
					if c == 1 {
						author, body = r.requester, "The two application servers of the service; the list is in the rules."
					}
					commentID++
					if err := comments.add(models.Comment{ID: commentID, RequestID: id, AuthorID: uint(author + 1), Body: body, CreatedAt: at}); err != nil {
						return err
					}
					if err := w.event(at, author, "comment", "request", id, "", "", jsonText(map[string]uint{"comment_id": commentID}), body); err != nil {
						return err
					}
				}
			}
			if s == len(steps) {
				break
			}
			st := steps[s]
			at := next()
			detail := "{}"
			switch st.action {
			case "create":
				req.CreatedAt = at
				detail = jsonText(map[string]any{"title": req.Title, "rules": r.rules})
			case "submit":
				req.SubmittedAt = &at
				n := 0
				if r.second {
					n = 1
				}
				detail = jsonText(map[string]int{"findings": n, "blocking": n})
			case "approve", "second_approve":
				req.ApprovedAt, req.CertifiedAt = &at, &at
			case "implement":
				req.ImplementedAt = &at
				req.ChangeRef, req.ImplementNote = fmt.Sprintf("CHG-%06d", id), st.comment
				implementer := p.users[st.actor].ID
				req.ImplementerID = &implementer
				detail = jsonText(map[string]string{"change_ref": req.ChangeRef})
			case "reject", "expire", "revoke", "cancel":
				req.ClosedAt = &at
			}
			if st.review != "" {
				rv := models.Review{RequestID: id, ReviewerID: uint(st.actor + 1), Kind: "review", Decision: st.review, Comment: st.comment, ZoneConfirmed: true, Checklist: "[]", CreatedAt: at}
				switch st.review {
				case "second":
					rv.Kind, rv.Decision = "second_approval", "approve"
				case "approve":
					answers := make([]map[string]string, len(seedChecklist))
					for c, item := range seedChecklist {
						answers[c] = map[string]string{"item": item, "result": "pass", "note": ""}
					}
					rv.Checklist = jsonText(answers)
				}
				reviewID++
				rv.ID = reviewID
				if err := reviews.add(rv); err != nil {
					return err
				}
			}
			if err := w.event(at, st.actor, st.action, "request", id, st.from, st.to, detail, st.comment); err != nil {
				return err
			}
			req.UpdatedAt = at
			written++
		}
		if written != len(steps) {
			return fmt.Errorf("request %d: wrote %d of %d steps", id, written, len(steps))
		}
		switch r.final {
		case "expired":
			req.ExpiresAt = *req.ClosedAt
		case "approved", "implemented", "verified", "verification_failed", "active":
			// In the future, so a seeded server does not expire thousands at start-up.
			req.ExpiresAt = p.now.AddDate(0, 0, 30+rng.IntN(365))
		default:
			req.ExpiresAt = req.CreatedAt.AddDate(0, 0, 90)
		}
		req.ExpiresAt = us(req.ExpiresAt)
		if err := reqs.add(req); err != nil {
			return err
		}
		// Re-certification items: the current campaign holds a third of the
		// active openings; an earlier one holds lapsed items of expired ones.
		switch {
		case r.final == "active" && i%3 == 0:
			rc := models.Recertification{CampaignID: 3, RequestID: id, RequesterID: req.RequesterID, Team: req.Team, Status: "pending"}
			if i%2 == 0 {
				at := us(p.now.AddDate(0, 0, -rng.IntN(14)))
				exp := us(p.now.AddDate(0, 6, 0))
				rc.Status, rc.Justification, rc.NewExpiresAt, rc.DecidedBy, rc.DecidedAt = "recertified", "Still serves customers.", &exp, requester.Email, &at
			}
			recertID++
			rc.ID = recertID
			if err := recerts.add(rc); err != nil {
				return err
			}
		case r.final == "expired" && i%4 == 0:
			at := *req.ClosedAt
			recertID++
			if err := recerts.add(models.Recertification{ID: recertID, CampaignID: 2, RequestID: id, RequesterID: req.RequesterID, Team: req.Team, Status: "lapsed", DecidedBy: "system", DecidedAt: &at}); err != nil {
				return err
			}
		}
		// Rules, reviews and comments point at requests: requests go first.
		if len(reqs.rows) >= 1000 {
			if err := flushAll(); err != nil {
				return err
			}
		}
	}
	return flushAll()
}

// scans writes the finished (and a few failed) scan runs the drift items cite.
func (w *orgWriter) scans() error {
	p := w.p
	runs := newBatch[models.ScanRun](w.tx, 21, &w.st.ScanRuns)
	kinds := []string{"daily", "daily", "daily", "weekly", "on_demand", "verification"}
	var results []models.ScanResult
	span := 30 * 24 * time.Hour
	for k := range p.scanRuns {
		z := k % len(seedInternalZones)
		queued := us(p.now.Add(-span + time.Duration(k)*span/time.Duration(p.scanRuns)))
		started, finished := us(queued.Add(5*time.Second)), us(queued.Add(3*time.Minute))
		run := models.ScanRun{ID: uint(k + 1), Kind: kinds[k%len(kinds)], Profile: "common", Zone: seedInternalZones[z].name, Status: "done",
			RequestedBy: "system", Progress: "{}", QueuedAt: queued, StartedAt: &started, FinishedAt: &finished}
		if run.Kind == "weekly" {
			run.Profile = "full"
		}
		if run.Kind == "on_demand" {
			run.RequestedBy = p.users[p.reviewers[k%len(p.reviewers)]].Email
		}
		if run.Kind == "verification" && p.cfg.Requests > 0 {
			rid := uint(k%p.cfg.Requests + 1)
			run.RequestID = &rid
		}
		var targets []string
		var hosts []map[string]any
		for j := 0; j < 20 && z+j*len(seedInternalZones) < p.cfg.Assets; j++ {
			addr := assetAddress(z + j*len(seedInternalZones))
			targets = append(targets, addr)
			if j < 3 {
				hosts = append(hosts, map[string]any{"address": addr, "state": "up", "tarpit": false, "ports": []map[string]any{
					{"port": 443, "protocol": "tcp", "state": "open", "service": "http", "product": "nginx", "version": "", "tls": true, "banner": "", "findings": []any{}},
				}})
			}
		}
		run.Targets = strings.Join(targets, ",")
		if k%20 == 19 {
			run.Status, run.Error, run.Summary = "failed", "the scanner stopped: the scan took longer than its time limit", ""
		} else {
			if hosts == nil {
				hosts = []map[string]any{}
			}
			run.Report = jsonText(map[string]any{"schema": "portcullis.scan/v1", "started_at": started, "finished_at": finished, "profile": run.Profile, "method": "connect", "hosts": hosts})
			run.Summary = fmt.Sprintf("%d hosts scanned, %d up", len(targets), len(hosts))
			// The per-host and per-port rows the server writes as it scans.
			for _, h := range hosts {
				addr := h["address"].(string)
				results = append(results, models.ScanResult{RunID: run.ID, Address: addr, State: "up"},
					models.ScanResult{RunID: run.ID, Address: addr, Protocol: "tcp", Port: 443, State: "open", Service: "http", Product: "nginx", TLS: true, Findings: "[]"})
			}
		}
		if err := runs.add(run); err != nil {
			return err
		}
	}
	if err := runs.flush(); err != nil {
		return err
	}
	// After their runs: each row names its run.
	written := 0
	rows := newBatch[models.ScanResult](w.tx, 13, &written)
	for _, r := range results {
		if err := rows.add(r); err != nil {
			return err
		}
	}
	return rows.flush()
}

// Drift states and how often each is drawn (in 1/100).
var seedDriftStates = []struct {
	state  string
	weight int
}{{drift.StateOpen, 25}, {drift.StateAcknowledged, 10}, {drift.StateSuppressed, 5}, {drift.StateResolved, 60}}

var seedDriftPorts = []int{8080, 23, 3389, 6379, 9200, 5900, 21, 445, 11211, 27017, 161, 5432, 3306, 2222, 8443, 1883, 873, 389, 25, 53}

// driftItem is the i-th drift item, derived from i alone so that the audit
// events citing it are written before it. Live items never share a key:
// asset and port change with i.
func (w *orgWriter) driftItem(i int) models.DriftItem {
	p := w.p
	rng := rand.New(rand.NewPCG(uint64(p.cfg.RandomSeed), uint64(i)+1000))
	kinds := drift.Kinds()
	kind := kinds[i%len(kinds)]
	a, j := i%p.cfg.Assets, i/p.cfg.Assets
	if kind == drift.KindTarpit && j > 0 {
		kind = drift.KindOpenUnapproved
	}
	port := 10000 + j
	if j < len(seedDriftPorts) {
		port = seedDriftPorts[j]
	}
	z := seedInternalZones[zoneOfAsset(a)]
	severities := []string{"info", "low", "medium", "high", "critical"}
	d := models.DriftItem{ID: uint(i + 1), Kind: string(kind), Severity: severities[(i/len(kinds))%len(severities)], Address: assetAddress(a),
		Protocol: "tcp", Port: port, LastPort: port, Service: "unknown", Zone: z.name, Classification: z.class, Evidence: "{}"}
	if port == 161 || port == 53 {
		d.Protocol = "udp"
	}
	if kind == drift.KindTarpit {
		d.Key = string(kind) + "|" + d.Address
		d.Protocol, d.Port, d.LastPort = "", 0, 0
		d.Detail = "the host completes the handshake on ports where nothing listens"
	} else {
		d.Key = fmt.Sprintf("%s|%s|%s|%d", kind, d.Address, d.Protocol, port)
		d.Detail = fmt.Sprintf("%s on %s port %d/%s", kind, d.Address, port, d.Protocol)
	}
	switch kind {
	case drift.KindApprovedClosed, drift.KindServiceMismatch, drift.KindExpiredOpen, drift.KindWeakConfig:
		if p.cfg.Requests > 0 {
			d.RequestID = uint(rng.IntN(p.cfg.Requests) + 1)
			d.ApprovedService = "http"
		}
	}
	if kind == drift.KindApprovedClosed && d.RequestID != 0 {
		d.Key += fmt.Sprintf("|request-%d", d.RequestID)
	}
	if kind == drift.KindServiceMismatch {
		d.Service = "ssh"
	}
	d.FirstSeen = us(p.now.Add(-time.Duration(rng.IntN(60*24)) * time.Hour))
	d.LastSeen = us(d.FirstSeen.Add(time.Duration(rng.Int64N(int64(p.now.Sub(d.FirstSeen)) + 1))))
	if p.scanRuns > 0 {
		d.LastScanID = uint(rng.IntN(p.scanRuns) + 1)
	}
	pick := rng.IntN(100)
	for _, s := range seedDriftStates {
		if pick < s.weight {
			d.State = s.state
			break
		}
		pick -= s.weight
	}
	switch d.State {
	case drift.StateResolved:
		at := d.LastSeen
		d.ResolvedAt = &at
	case drift.StateAcknowledged:
		d.AcknowledgedBy = p.users[p.reviewers[i%len(p.reviewers)]].Email
	case drift.StateSuppressed:
		until := us(p.now.AddDate(0, 1, 0))
		d.SuppressedUntil, d.SuppressReason = &until, "Known test service; the owner removes it this month."
		d.AcknowledgedBy = p.users[p.approvers[i%len(p.approvers)]].Email
	}
	return d
}

func (w *orgWriter) drift() error {
	items := newBatch[models.DriftItem](w.tx, 25, &w.st.DriftItems)
	for i := range w.p.cfg.DriftItems {
		d := w.driftItem(i)
		if d.RequestID != 0 {
			d.RuleID = w.firstRule[d.RequestID-1]
		}
		if err := items.add(d); err != nil {
			return err
		}
	}
	return items.flush()
}
