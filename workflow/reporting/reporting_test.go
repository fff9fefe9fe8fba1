package reporting_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/alerts/channels"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/paging"
	"github.com/portcullis/portcullis/workflow/periodic"
	"github.com/portcullis/portcullis/workflow/report"
	"github.com/portcullis/portcullis/workflow/reporting"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/scans"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// org is the world with owner teams on the apps zone, two approvals on
// payments' host (expiring in 10 and 20 days from the second scan), and a
// fake scanner answering as each day's network does.
type org struct {
	*workflowtest.World
	scanner *workflowtest.FakeScanner
	now     time.Time
	// day1 and day2 are the mornings of the first two daily scans.
	day1, day2 time.Time
	soon, late uint // the requests expiring in 10 and 20 days
}

func newOrg(t *testing.T) *org { return newOrgOn(t, modelstest.SQLite(t)) }

func newOrgOn(t *testing.T, db *gorm.DB) *org {
	t.Helper()
	w := workflowtest.NewWorld(t, db)
	o := &org{World: w, scanner: &workflowtest.FakeScanner{Open: map[string][]scans.Port{}}}
	created := time.Now().UTC()
	o.day1 = time.Date(created.Year(), created.Month(), created.Day(), 2, 30, 0, 0, time.UTC).AddDate(0, 0, 1)
	o.day2 = o.day1.AddDate(0, 0, 1)
	o.now = created
	w.App.SetClock(func() time.Time { return o.now })
	w.App.Scans.SetScanner(o.scanner, scans.Policy{})
	for _, a := range []inventory.AssetInput{
		{Address: "10.40.0.20", Hostname: "pay-api", OwnerTeam: "payments"},
		{Address: "10.40.0.21", Hostname: "crm", OwnerTeam: "sales"},
	} {
		if _, err := w.App.Inventory.SaveAsset(w.Ctx, w.Adam, 0, a); err != nil {
			t.Fatal(err)
		}
	}
	// Daily scans only: the weekly ones are tested through the CLI's window.
	zones, err := w.App.Inventory.ListZones(w.Ctx)
	workflowtest.Must(t, err)
	for _, z := range zones {
		workflowtest.Must(t, w.App.Scans.SaveSchedule(w.Ctx, w.Adam, z.ID, 2, -1, 3))
	}
	approve := func(title, ports string, expires time.Time) uint {
		in := requests.Input{Title: title, Justification: "the payment API serves the shop", ExpiresAt: expires,
			Rules: []requests.RuleInput{{Source: "transit", Destination: "10.40.0.20", Protocol: "tcp", Ports: ports, Service: "http"}}}
		return w.Implemented(t, in)
	}
	o.soon = approve("Payment API", "443", o.day2.AddDate(0, 0, 10))
	o.late = approve("Payment API admin", "8080", o.day2.AddDate(0, 0, 20))
	w.RunQueued(t) // the verification scans
	return o
}

// scanDay runs the daily scans of the morning of day with the network
// answering open.
func (o *org) scanDay(t *testing.T, day time.Time, open map[string][]scans.Port) {
	t.Helper()
	o.now = day
	o.scanner.Open = open
	n, err := o.ScheduleDue(t)
	workflowtest.Must(t, err)
	if n == 0 {
		t.Fatalf("no scan queued at %s", day)
	}
	o.RunQueued(t)
	o.now = day.Add(10 * time.Minute)
}

func tcp(port uint16, service string, findings ...scans.Finding) scans.Port {
	return scans.Port{Port: port, Protocol: "tcp", State: "open", Service: service, Findings: findings}
}

// network is the apps zone as the scanner sees it: day 1, then day 2 with
// 8443 opened on pay-api and 22 closed on crm.
func network(day int) map[string][]scans.Port {
	m := map[string][]scans.Port{
		"10.40.0.20": {tcp(443, "http"), tcp(8080, "http")},
		"10.40.0.21": {tcp(22, "ssh")},
		"10.40.0.16": {tcp(6379, "redis", scans.Finding{ID: "redis-no-auth", Severity: "critical", Detail: "Redis answers without a password"})},
	}
	if day >= 2 {
		m["10.40.0.20"] = append(m["10.40.0.20"], tcp(8443, "http"))
		m["10.40.0.21"] = nil
	}
	return m
}

func stored(t *testing.T, o *org, zone, team, period string) periodic.Report {
	t.Helper()
	return storedOf(t, o, periodic.Daily, zone, team, period)
}

func storedOf(t *testing.T, o *org, kind periodic.Kind, zone, team, period string) periodic.Report {
	t.Helper()
	var row models.PeriodicReport
	if err := o.App.DB().Where("kind = ? AND zone = ? AND team = ? AND period = ?", kind, zone, team, period).Take(&row).Error; err != nil {
		t.Fatalf("report %s/%s/%s: %v", zone, team, period, err)
	}
	_, r, err := o.App.Reports.Get(o.Ctx, o.Aude, row.ID)
	workflowtest.Must(t, err)
	return r
}

func hasPort(cs []periodic.PortChange, addr string, port uint16) bool {
	return slices.ContainsFunc(cs, func(c periodic.PortChange) bool { return c.Address == addr && c.Port == port })
}

func hasDrift(ds []periodic.DriftLine, addr string, port int) bool {
	return slices.ContainsFunc(ds, func(d periodic.DriftLine) bool { return d.Address == addr && d.Port == port })
}

// On SQLite and, when reachable, PostgreSQL.
func TestDailyReportsFollowTheScans(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) { dailyReportsFollowTheScans(t, newOrgOn(t, db)) })
}

func dailyReportsFollowTheScans(t *testing.T, o *org) {
	en := o.App.Language("", "")
	o.scanDay(t, o.day1, network(1))
	first := stored(t, o, "apps", "", periodic.Daily.Period(o.day1))
	if first.NothingNew || first.Previous != nil || len(first.Opened) != 0 || len(first.Notes) == 0 {
		t.Fatalf("the first report is the baseline: %+v", first)
	}

	// Someone scans the zone by hand in the afternoon and sees 8443 already:
	// the next daily report still compares with the previous daily scan.
	o.now, o.scanner.Open = o.day1.Add(12*time.Hour), network(2)
	_, err := o.App.Scans.RequestScan(o.Ctx, o.Rita, []string{"apps"}, "common")
	workflowtest.Must(t, err)
	o.RunQueued(t)

	o.scanDay(t, o.day2, network(2))
	period := periodic.Daily.Period(o.day2)
	zone := stored(t, o, "apps", "", period)
	pay := stored(t, o, "apps", "payments", period)
	sales := stored(t, o, "apps", "sales", period)

	if zone.Previous == nil || zone.Previous.RunID != first.Scan.RunID {
		t.Errorf("day 2 compared with %+v, want the first daily scan #%d", zone.Previous, first.Scan.RunID)
	}
	if !hasPort(pay.Opened, "10.40.0.20", 8443) || !hasPort(zone.Opened, "10.40.0.20", 8443) {
		t.Errorf("8443 opened since yesterday is not in the newly opened ports: team %+v, zone %+v", pay.Opened, zone.Opened)
	}
	if hasPort(pay.Opened, "10.40.0.20", 443) {
		t.Errorf("443, open both days, is listed as newly opened")
	}
	if !hasPort(zone.Closed, "10.40.0.21", 22) || !hasPort(sales.Closed, "10.40.0.21", 22) || hasPort(pay.Closed, "10.40.0.21", 22) {
		t.Errorf("22 closed on crm: zone %+v, sales %+v, payments %+v", zone.Closed, sales.Closed, pay.Closed)
	}
	if !hasDrift(zone.Resolved, "10.40.0.21", 22) || !hasDrift(sales.Resolved, "10.40.0.21", 22) {
		t.Errorf("the unapproved 22 that closed is not resolved: %+v", zone.Resolved)
	}
	if !hasDrift(zone.Unapproved, "10.40.0.20", 8443) || !hasDrift(pay.Unapproved, "10.40.0.20", 8443) || hasDrift(zone.Unapproved, "10.40.0.20", 443) {
		t.Errorf("unapproved open ports: %+v", zone.Unapproved)
	}
	var expiring []uint
	for _, e := range pay.Expiring {
		expiring = append(expiring, e.RequestID)
	}
	if !slices.Contains(expiring, o.soon) || slices.Contains(expiring, o.late) {
		t.Errorf("expiring approvals %v: want #%d (10 days), not #%d (20 days)", expiring, o.soon, o.late)
	}
	if len(pay.Expiring) > 0 && pay.Expiring[0].DaysLeft != 10 {
		t.Errorf("days left %d, want 10", pay.Expiring[0].DaysLeft)
	}
	if len(zone.Weak) != 1 || zone.Weak[0].Finding != "redis-no-auth" || len(zone.HighRisk) == 0 || zone.HighRisk[0].Service != "redis" {
		t.Errorf("weak %+v, high-risk %+v", zone.Weak, zone.HighRisk)
	}
	if len(pay.Weak) != 0 {
		t.Errorf("payments' report shows another team's weak configuration: %+v", pay.Weak)
	}
	if zone.NothingNew || zone.Headline(en) == "nothing new" {
		t.Errorf("a day with changes reads as nothing new")
	}

	// A third day like the second: the short form.
	o.scanDay(t, o.day2.AddDate(0, 0, 1), network(2))
	quiet := stored(t, o, "apps", "", periodic.Daily.Period(o.day2.AddDate(0, 0, 1)))
	if !quiet.NothingNew || quiet.Headline(en) != "nothing new" || len(quiet.Sections(en)) != 0 || !strings.Contains(quiet.Text(en, ""), "Nothing new in zone apps") {
		t.Errorf("an unchanged day: nothing new %v, headline %q, %d sections\n%s", quiet.NothingNew, quiet.Headline(en), len(quiet.Sections(en)), quiet.Text(en, ""))
	}

	// Generating again for the same run, or a catch-up, makes nothing more.
	var before, after int64
	o.App.DB().Model(&models.PeriodicReport{}).Count(&before)
	var runs []models.ScanRun
	o.App.DB().Where("kind = ?", "daily").Find(&runs)
	for _, r := range runs {
		workflowtest.Must(t, o.App.Reports.GenerateAfterScan(o.Ctx, r.ID))
	}
	n, err := o.App.Reports.GenerateMissing(o.Ctx)
	workflowtest.Must(t, err)
	o.App.DB().Model(&models.PeriodicReport{}).Count(&after)
	if after != before || n != 0 {
		t.Errorf("reports %d then %d (%d made by the catch-up): generation is not once per period", before, after, n)
	}
	// A server that stopped between the scans and their reports catches up:
	// that morning's three zones (dmz, apps, pci) are reported again.
	last := periodic.Daily.Period(o.day2.AddDate(0, 0, 1))
	workflowtest.Must(t, o.App.DB().Where("period = ?", last).Delete(&models.PeriodicReport{}).Error)
	n, err = o.App.Reports.GenerateMissing(o.Ctx)
	workflowtest.Must(t, err)
	o.App.DB().Model(&models.PeriodicReport{}).Count(&after)
	if n != 3 || after != before {
		t.Errorf("the catch-up made reports for %d runs, %d reports now, want 3 and %d", n, after, before)
	}
}

// The weekly full scan has its weekly report, compared with the previous
// weekly scan, not with the daily scans between.
func TestWeeklyReportsFollowTheFullScans(t *testing.T) {
	o := newOrg(t)
	zones, err := o.App.Inventory.ListZones(o.Ctx)
	workflowtest.Must(t, err)
	for _, z := range zones {
		workflowtest.Must(t, o.App.Scans.SaveSchedule(o.Ctx, o.Adam, z.ID, 2, int(o.day1.Weekday()), 2))
	}
	o.scanDay(t, o.day1, network(1))
	o.scanDay(t, o.day2, network(2)) // a daily scan sees 8443 first
	week2 := o.day1.AddDate(0, 0, 7)
	o.scanDay(t, week2, network(2))
	first := storedOf(t, o, periodic.Weekly, "apps", "", periodic.Weekly.Period(o.day1))
	r := storedOf(t, o, periodic.Weekly, "apps", "payments", periodic.Weekly.Period(week2))
	if first.Scan == nil || r.Previous == nil || r.Previous.RunID != first.Scan.RunID {
		t.Fatalf("the weekly report compared with %+v, want the previous weekly scan %+v", r.Previous, first.Scan)
	}
	if !hasPort(r.Opened, "10.40.0.20", 8443) || r.Period != periodic.Weekly.Period(week2) || !r.From.Equal(r.To.Add(-7*24*time.Hour)) {
		t.Errorf("weekly report: period %s, window %s to %s, opened %+v", r.Period, r.From, r.To, r.Opened)
	}
	var runKinds []string
	o.App.DB().Model(&models.ScanRun{}).Where("id = ?", r.Scan.RunID).Pluck("kind", &runKinds)
	if len(runKinds) != 1 || runKinds[0] != "weekly" {
		t.Errorf("the weekly report follows a %v run", runKinds)
	}
}

// The report computed on demand (the command line) is the stored one's.
func TestComputeOnDemandMatchesTheScans(t *testing.T) {
	o := newOrg(t)
	o.scanDay(t, o.day1, network(1))
	o.scanDay(t, o.day2, network(2))
	r, err := o.App.Reports.Compute(o.Ctx, core.SystemActor, periodic.Daily, "apps", "payments", o.now)
	workflowtest.Must(t, err)
	if !hasPort(r.Opened, "10.40.0.20", 8443) || r.Team != "payments" {
		t.Fatalf("on demand: %+v", r)
	}
	_, err = o.App.Reports.Compute(o.Ctx, core.SystemActor, periodic.Daily, "apps", "nobody", o.now)
	workflowtest.MustCode(t, err, core.CodeInvalid)
	_, err = o.App.Reports.Compute(o.Ctx, core.SystemActor, periodic.Daily, "atlantis", "", o.now)
	workflowtest.MustCode(t, err, core.CodeInvalid)
	_, err = o.App.Reports.Compute(o.Ctx, o.Alice, periodic.Daily, "apps", "", o.now)
	workflowtest.MustCode(t, err, core.CodeForbidden)
	// A week later no daily scan lies in the window: said so, not "nothing new".
	late, err := o.App.Reports.Compute(o.Ctx, core.SystemActor, periodic.Daily, "apps", "", o.now.AddDate(0, 0, 7))
	workflowtest.Must(t, err)
	if late.NothingNew || len(late.Opened) != 0 || len(late.Notes) == 0 || !strings.Contains(late.Notes[0], "No daily scan") {
		t.Errorf("a stale window: %+v", late)
	}
}

// pdfText extracts a PDF's text with poppler's pdftotext.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext (poppler-utils) is missing on CI")
		}
		t.Skip("pdftotext (Debian poppler-utils) is not installed: the PDF's text is not checked")
	}
	cmd := exec.Command("pdftotext", "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// requireFont skips (on CI: fails) without the PDF's font.
func requireFont(t *testing.T) {
	t.Helper()
	for _, p := range report.DefaultFontPaths {
		if _, err := os.Stat(p); err == nil {
			return
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no PDF font on CI: install fonts-wqy-microhei")
	}
	t.Skip("no PDF font (Debian fonts-wqy-microhei) installed: the PDF is not made")
}

func TestReportPDFReadsBack(t *testing.T) {
	requireFont(t)
	o := newOrg(t)
	o.scanDay(t, o.day1, network(1))
	o.scanDay(t, o.day2, network(2))
	r := stored(t, o, "apps", "payments", periodic.Daily.Period(o.day2))
	var b bytes.Buffer
	workflowtest.Must(t, r.PDF(o.App.Language("", ""), &b, report.Options{}))
	text := pdfText(t, b.Bytes())
	for _, want := range []string{"Daily port report: zone apps, team payments", "Newly opened ports", "tcp/8443", "10.40.0.20", "Approvals expiring"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF does not read %q:\n%s", want, text)
		}
	}
	// The zone's report reads every section, and the port that closed on crm
	// (its drift item resolved) under "Resolved", the last of them.
	zone := stored(t, o, "apps", "", periodic.Daily.Period(o.day2))
	b.Reset()
	workflowtest.Must(t, zone.PDF(o.App.Language("", ""), &b, report.Options{}))
	text = pdfText(t, b.Bytes())
	for _, want := range []string{"Newly opened ports", "Newly closed ports", "Unapproved open ports", "High-risk exposures (internet-facing first)",
		"Weak configurations", "redis-no-auth", "Approvals expiring within 14 days"} {
		if !strings.Contains(text, want) {
			t.Errorf("the zone's PDF does not read %q:\n%s", want, text)
		}
	}
	if i := strings.LastIndex(text, "Resolved"); i < 0 || !strings.Contains(text[i:], "10.40.0.21") || !strings.Contains(text[i:], "tcp/22") {
		t.Errorf("the zone's PDF does not list crm's closed tcp/22 under Resolved:\n%s", text)
	}
	// The short form is one page of figures.
	o.scanDay(t, o.day2.AddDate(0, 0, 1), network(2))
	quiet := stored(t, o, "apps", "", periodic.Daily.Period(o.day2.AddDate(0, 0, 1)))
	b.Reset()
	workflowtest.Must(t, quiet.PDF(o.App.Language("", ""), &b, report.Options{}))
	if text := pdfText(t, b.Bytes()); !strings.Contains(text, "Nothing new in zone apps") || strings.Contains(text, "Newly opened ports") {
		t.Errorf("the nothing-new PDF:\n%s", text)
	}
}

func TestSubscriptions(t *testing.T) {
	o := newOrg(t)
	ctx := context.Background()
	// Owners are subscribed to their own team's reports by default.
	subs, err := o.App.Reports.Subscriptions(ctx, o.Alice)
	workflowtest.Must(t, err)
	if len(subs) != 1 || subs[0].Team != "payments" || !subs[0].Default || !subs[0].Active {
		t.Fatalf("alice's subscriptions: %+v", subs)
	}
	// Security's own team owns no asset: no default line, nothing to offer but zones and teams.
	if subs, _ := o.App.Reports.Subscriptions(ctx, o.Rita); len(subs) != 0 {
		t.Errorf("rita's subscriptions: %+v", subs)
	}
	if _, teams, _ := o.App.Reports.Choices(ctx, o.Bob); !slices.Equal(teams, []string{"sales"}) {
		t.Errorf("bob may subscribe to %v", teams)
	}
	for _, tc := range []struct {
		who        core.Actor
		zone, team string
		code       core.ErrorCode
	}{
		{o.Alice, "apps", "", core.CodeForbidden},   // a zone's report is not an owner's
		{o.Alice, "", "sales", core.CodeForbidden},  // nor another team's
		{o.Rita, "", "", core.CodeInvalid},          // nothing chosen
		{o.Rita, "apps", "sales", core.CodeInvalid}, // both chosen
		{o.Rita, "atlantis", "", core.CodeInvalid},  // no such zone
		{o.Aude, "", "nobody", core.CodeInvalid},    // no such team
		{o.Rita, "apps", "", ""},                    // security subscribes to a zone
		{o.Aude, "", "sales", ""},                   // an auditor to a team
		{o.Bob, "", "sales", ""},                    // bob confirms his own
		{core.SystemActor, "apps", "", core.CodeForbidden},
	} {
		err := o.App.Reports.Subscribe(ctx, tc.who, tc.zone, tc.team, true)
		if core.ErrorCodeOf(err) != tc.code || (tc.code == "" && err != nil) {
			t.Errorf("%s subscribes to %q/%q: %v, want %q", tc.who.Email, tc.zone, tc.team, err, tc.code)
		}
	}
	workflowtest.Must(t, o.App.Reports.Subscribe(ctx, o.Alice, "", "payments", false))
	subs, _ = o.App.Reports.Subscriptions(ctx, o.Alice)
	if len(subs) != 1 || subs[0].Active {
		t.Fatalf("alice unsubscribed: %+v", subs)
	}
	pay, err := reporting.Recipients(o.App.DB(), "apps", "payments")
	workflowtest.Must(t, err)
	sales, err := reporting.Recipients(o.App.DB(), "apps", "sales")
	workflowtest.Must(t, err)
	zone, err := reporting.Recipients(o.App.DB(), "apps", "")
	workflowtest.Must(t, err)
	if len(pay) != 0 || !slices.Equal(sales, []string{"aude@example.test", "bob@example.test"}) || !slices.Equal(zone, []string{"rita@example.test"}) {
		t.Errorf("recipients: payments %v, sales %v, zone %v", pay, sales, zone)
	}
	// A disabled person gets nothing.
	workflowtest.Must(t, o.App.Identity.DisableUser(ctx, o.Adam, o.Aude.ID, "left the company"))
	if sales, _ := reporting.Recipients(o.App.DB(), "apps", "sales"); !slices.Equal(sales, []string{"bob@example.test"}) {
		t.Errorf("sales' recipients after aude left: %v", sales)
	}
	// History: an owner sees their own team's reports only.
	o.scanDay(t, o.day1, network(1))
	mine, err := o.App.Reports.List(ctx, o.Bob, reporting.Filter{}, paging.First[reporting.Key]())
	workflowtest.Must(t, err)
	all, err := o.App.Reports.List(ctx, o.Rita, reporting.Filter{}, paging.First[reporting.Key]())
	workflowtest.Must(t, err)
	if len(mine.Items) != 1 || mine.Items[0].Team != "sales" || len(all.Items) <= len(mine.Items) {
		t.Errorf("bob sees %d reports, rita %d", len(mine.Items), len(all.Items))
	}
	for _, r := range all.Items {
		_, _, err := o.App.Reports.Get(ctx, o.Bob, r.ID)
		if (r.Team == "sales") != (err == nil) {
			t.Errorf("bob reads report %d (zone %s, team %q): %v", r.ID, r.Zone, r.Team, err)
		}
	}
}

var _ reporting.Mailer = (*channels.Email)(nil)

// TestReportPDFInChinese: the PDF asked for in Chinese reads its title,
// headings and figures in Chinese, with the data (addresses, ports) as found.
func TestReportPDFInChinese(t *testing.T) {
	requireFont(t)
	o := newOrg(t)
	o.scanDay(t, o.day1, network(1))
	o.scanDay(t, o.day2, network(2))
	r := stored(t, o, "apps", "payments", periodic.Daily.Period(o.day2))
	var b bytes.Buffer
	workflowtest.Must(t, r.PDF(o.App.Language("zh-CN", "Asia/Shanghai"), &b, report.Options{}))
	text := pdfText(t, b.Bytes())
	for _, want := range []string{"每日端口报表：区域 apps，团队 payments", "新开放的端口", "tcp/8443", "10.40.0.20", "天内到期的审批"} {
		if !strings.Contains(text, want) {
			t.Errorf("the Chinese PDF does not read %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Newly opened ports") || strings.Contains(text, "periodic.") {
		t.Errorf("the Chinese PDF has English headings or message ids:\n%s", text)
	}
}

// TestHistoryHeadlineInTheReadersLanguage: the history's one line is kept
// as figures and said in each reader's language, with the same counts; the
// English reads as the report's own headline, and a report stored before
// the figures were kept shows its line as recorded.
func TestHistoryHeadlineInTheReadersLanguage(t *testing.T) {
	o := newOrg(t)
	en, zh := o.App.Language("en", ""), o.App.Language("zh-CN", "")
	o.scanDay(t, o.day1, network(1))
	o.scanDay(t, o.day2, network(2))
	period := periodic.Daily.Period(o.day2)
	var row models.PeriodicReport
	workflowtest.Must(t, o.App.DB().Where("kind = ? AND zone = ? AND team = '' AND period = ?", periodic.Daily, "apps", period).Take(&row).Error)
	rep := stored(t, o, "apps", "", period)
	if got, want := reporting.Headline(row, en), rep.Headline(en); got != want || got != row.Headline {
		t.Errorf("English headline %q, want the report's %q (stored %q)", got, want, row.Headline)
	}
	chinese := reporting.Headline(row, zh)
	for _, want := range []string{
		fmt.Sprintf("新开放 %d 个", len(rep.Opened)), fmt.Sprintf("新关闭 %d 个", len(rep.Closed)),
		fmt.Sprintf("未经批准开放 %d 个", len(rep.Unapproved)), fmt.Sprintf("已解决 %d 项", len(rep.Resolved)),
	} {
		if !strings.Contains(chinese, want) {
			t.Errorf("Chinese headline %q lacks %q", chinese, want)
		}
	}
	if strings.ContainsFunc(chinese, func(r rune) bool { return r >= 'a' && r <= 'z' }) {
		t.Errorf("Chinese headline holds English: %q", chinese)
	}
	// A quiet day says so in each language.
	o.scanDay(t, o.day2.AddDate(0, 0, 1), network(2))
	var quiet models.PeriodicReport
	workflowtest.Must(t, o.App.DB().Where("kind = ? AND zone = ? AND team = '' AND period = ?", periodic.Daily, "apps", periodic.Daily.Period(o.day2.AddDate(0, 0, 1))).Take(&quiet).Error)
	if got := reporting.Headline(quiet, zh); got != "无新变化" {
		t.Errorf("a quiet day in Chinese reads %q", got)
	}
	old := row
	old.HeadlineFacts = ""
	if got := reporting.Headline(old, zh); got != row.Headline {
		t.Errorf("a report without figures reads %q, want its recorded %q", got, row.Headline)
	}
}
