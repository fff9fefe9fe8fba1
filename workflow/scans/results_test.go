package scans_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/paging"
	"github.com/portcullis/portcullis/workflow/scans"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// streamingScanner hands each host over as it is done and, before handing
// the next, checks that the previous host's rows are already in the database.
type streamingScanner struct {
	workflowtest.FakeScanner
	t       *testing.T
	w       *workflowtest.World
	rowsMid []int64 // rows in the table when each host was handed over
}

func (s *streamingScanner) ScanHosts(ctx context.Context, job scans.Job, progress func(scans.Progress), host func(scans.Host)) ([]byte, error) {
	rep := scans.Report{Schema: "portcullis.scan/v1", StartedAt: time.Now(), FinishedAt: time.Now(), Profile: job.Profile}
	for _, a := range job.Targets {
		var n int64
		s.w.App.DB().Model(&models.ScanResult{}).Count(&n)
		s.rowsMid = append(s.rowsMid, n)
		h := scans.Host{Address: a.String(), State: "up", Ports: s.Open[a.String()]}
		host(h)
		rep.Hosts = append(rep.Hosts, h)
	}
	return json.Marshal(rep)
}

func scanNow(t *testing.T, w *workflowtest.World, targets ...string) *models.ScanRun {
	t.Helper()
	run, err := w.App.Scans.RequestScan(w.Ctx, w.Rita, targets, "common")
	workflowtest.Must(t, err)
	w.RunQueued(t)
	got, err := w.App.Scans.Get(w.Ctx, w.Rita, run.ID)
	workflowtest.Must(t, err)
	return got
}

func TestResultsAreStoredPerHostAsTheyArrive(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	sc := &streamingScanner{t: t, w: w}
	sc.Open = map[string][]scans.Port{
		"10.40.0.15": {{Port: 22, Protocol: "tcp", State: "open", Service: "ssh"}},
		"10.40.0.16": {{Port: 6379, Protocol: "tcp", State: "open", Service: "redis", Findings: []scans.Finding{{ID: "redis-no-auth", Severity: "critical"}}}},
	}
	w.App.Scans.SetScanner(sc, scans.Policy{})
	run := scanNow(t, w, "10.40.0.15", "10.40.0.16")
	// The first host's two rows (host, port) were written before the second host came.
	if len(sc.rowsMid) != 2 || sc.rowsMid[0] != 0 || sc.rowsMid[1] != 2 {
		t.Fatalf("rows in the table as hosts arrived: %v, want [0 2]", sc.rowsMid)
	}
	page, err := w.App.Scans.PortsOf(w.Ctx, run, paging.First[scans.ResultKey]())
	workflowtest.Must(t, err)
	if len(page.Items) != 2 || page.Items[1].Service != "redis" || page.Items[1].Findings == "[]" {
		t.Fatalf("ports of the run: %+v", page.Items)
	}
	// The report is still kept whole for the API.
	if rep, err := scans.ParseReport(run.Report); err != nil || len(rep.Hosts) != 2 {
		t.Fatalf("report %v %+v", err, rep)
	}
}

func TestChangesAndTheAssetViewComeFromRows(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) { changesFromRows(t, workflowtest.NewWorld(t, db)) })
}

func changesFromRows(t *testing.T, w *workflowtest.World) {
	sc := &workflowtest.FakeScanner{Open: map[string][]scans.Port{
		"10.40.0.15": {{Port: 22, Protocol: "tcp", State: "open", Service: "ssh"}, {Port: 80, Protocol: "tcp", State: "open", Service: "http"}},
	}}
	w.App.Scans.SetScanner(sc, scans.Policy{})
	first := scanNow(t, w, "10.40.0.15")
	// Another host's run in between: it does not count as 10.40.0.15's previous run.
	scanNow(t, w, "10.40.0.16")
	sc.Open["10.40.0.15"] = []scans.Port{{Port: 22, Protocol: "tcp", State: "open", Service: "telnet"}, {Port: 3306, Protocol: "tcp", State: "open", Service: "mysql"}}
	// A verification of one port in between, seeing only 22 open: not the
	// same scope, so it is not what the next common scan compares with.
	verification := models.ScanRun{Kind: "verification", Profile: "common", Targets: "10.40.0.15", TCPPorts: "22", Status: "done", RequestedBy: "x", Progress: "{}", QueuedAt: time.Now().UTC(), FinishedAt: new(time.Now().UTC())}
	rep, _ := json.Marshal(scans.Report{Schema: "portcullis.scan/v1", Hosts: []scans.Host{{Address: "10.40.0.15", State: "up", Ports: []scans.Port{{Port: 22, Protocol: "tcp", State: "open", Service: "ssh"}}}}})
	verification.Report = string(rep)
	workflowtest.Must(t, w.App.DB().Create(&verification).Error)
	_, err := w.App.Scans.PortsOf(w.Ctx, &verification, paging.First[scans.ResultKey]())
	workflowtest.Must(t, err)
	second := scanNow(t, w, "10.40.0.15")
	// Blank the stored reports: what follows can only come from rows.
	workflowtest.Must(t, w.App.DB().Model(&models.ScanRun{}).Where("id IN ?", []uint{first.ID, second.ID}).Update("report", "").Error)
	second.Report = ""
	changes, err := w.App.Scans.Changes(w.Ctx, second)
	workflowtest.Must(t, err)
	want := map[uint16]string{22: "service changed", 80: "closed", 3306: "opened"}
	if len(changes) != len(want) {
		t.Fatalf("changes %+v", changes)
	}
	for _, c := range changes {
		if want[c.Port] != c.Change || c.Address != "10.40.0.15" {
			t.Fatalf("change %+v, want %s", c, want[c.Port])
		}
	}
	latest, err := w.App.Scans.LatestOf(w.Ctx, "10.40.0.15")
	workflowtest.Must(t, err)
	if latest == nil || latest.Run.ID != second.ID {
		t.Fatalf("latest run of the host: %+v", latest)
	}
	// Read in one statement by a column reader: the same as gorm reads the
	// run (but its report) and the host row.
	var run models.ScanRun
	var host models.ScanResult
	workflowtest.Must(t, w.App.DB().Omit("report").First(&run, second.ID).Error)
	workflowtest.Must(t, w.App.DB().Where("run_id = ? AND address = ? AND protocol = '' AND port = 0", second.ID, "10.40.0.15").First(&host).Error)
	if diff := cmp.Diff(scans.HostResult{Run: run, Host: host}, *latest); diff != "" {
		t.Fatalf("latest run of the host, read in one statement (-gorm +read):\n%s", diff)
	}
	// The list of runs and a host's history read by a column reader what
	// gorm reads of each run but its report.
	var viaFind []models.ScanRun
	workflowtest.Must(t, w.App.DB().Omit("report").Order("id DESC").Find(&viaFind).Error)
	listed, err := w.App.Scans.List(w.Ctx, w.Rita, paging.Request[scans.RunKey]{Limit: 100})
	workflowtest.Must(t, err)
	if diff := cmp.Diff(viaFind, listed.Items); diff != "" {
		t.Fatalf("runs listed (-gorm +read):\n%s", diff)
	}
	history, err := w.App.Scans.HistoryOf(w.Ctx, "10.40.0.15", paging.Request[scans.RunKey]{Limit: 100})
	workflowtest.Must(t, err)
	var historyViaFind []models.ScanRun
	workflowtest.Must(t, w.App.DB().Omit("report").Where("id IN ?", []uint{first.ID, verification.ID, second.ID}).Order("id DESC").Find(&historyViaFind).Error)
	if diff := cmp.Diff(historyViaFind, history.Items); diff != "" {
		t.Fatalf("history of 10.40.0.15 (-gorm +read):\n%s", diff)
	}
	ports, err := w.App.Scans.HostPorts(w.Ctx, second.ID, "10.40.0.15", paging.Request[scans.PortKey]{Limit: 1})
	workflowtest.Must(t, err)
	if len(ports.Items) != 1 || ports.Items[0].Port != 22 || ports.Next == "" {
		t.Fatalf("first page of ports %+v", ports)
	}
	// What listens there comes from the latest broad scan, not from a
	// one-port verification run after it.
	later := verification
	later.ID = 0
	workflowtest.Must(t, w.App.DB().Create(&later).Error)
	_, err = w.App.Scans.PortsOf(w.Ctx, &later, paging.First[scans.ResultKey]())
	workflowtest.Must(t, err)
	listening, err := w.App.Scans.ListeningOn(w.Ctx, "10.40.0.15")
	workflowtest.Must(t, err)
	if listening == nil || listening.RunID != second.ID || len(listening.Ports) != 2 || listening.Ports[0].Port != 22 || listening.Ports[1].Port != 3306 {
		t.Fatalf("listening on 10.40.0.15: %+v", listening)
	}
	if none, err := w.App.Scans.ListeningOn(w.Ctx, "10.40.0.99"); err != nil || none != nil {
		t.Fatalf("a host no scan recorded: %+v, %v", none, err)
	}
	history, err = w.App.Scans.HistoryOf(w.Ctx, "10.40.0.15", paging.First[scans.RunKey]())
	workflowtest.Must(t, err)
	if len(history.Items) != 4 || history.Items[0].ID != later.ID || history.Items[1].ID != second.ID || history.Items[2].ID != verification.ID || history.Items[3].ID != first.ID {
		t.Fatalf("history %+v", history.Items)
	}
}

// A finished run stored with a report only (before rows existed, or by a
// tool that writes reports) gets its rows when first read.
func TestRunsWithOnlyAReportGetRowsWhenRead(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	rep := scans.Report{Schema: "portcullis.scan/v1", Hosts: []scans.Host{
		{Address: "10.50.0.10", State: "up", Ports: []scans.Port{{Port: 443, Protocol: "tcp", State: "open", Service: "http", TLS: true}}},
		{Address: "10.50.0.11", State: "down"},
	}}
	raw, _ := json.Marshal(rep)
	now := time.Now().UTC()
	run := models.ScanRun{Kind: "on_demand", Profile: "common", Targets: "10.50.0.10,10.50.0.11", Status: "done", RequestedBy: "x", Progress: "{}", Report: string(raw), QueuedAt: now, FinishedAt: &now}
	workflowtest.Must(t, w.App.DB().Create(&run).Error)
	page, err := w.App.Scans.PortsOf(w.Ctx, &run, paging.First[scans.ResultKey]())
	workflowtest.Must(t, err)
	if len(page.Items) != 1 || !page.Items[0].TLS {
		t.Fatalf("ports %+v", page.Items)
	}
	down, n, err := w.App.Scans.HostsDown(w.Ctx, &run, 10)
	workflowtest.Must(t, err)
	if n != 1 || len(down) != 1 || down[0] != "10.50.0.11" {
		t.Fatalf("hosts down %v %d", down, n)
	}
	// Reading again writes nothing twice.
	_, err = w.App.Scans.PortsOf(w.Ctx, &run, paging.First[scans.ResultKey]())
	workflowtest.Must(t, err)
	var rows int64
	w.App.DB().Model(&models.ScanResult{}).Where("run_id = ?", run.ID).Count(&rows)
	if rows != 3 {
		t.Fatalf("%d rows, want 3 (two hosts, one port)", rows)
	}
}
