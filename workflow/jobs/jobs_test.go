package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/alerts"
	"github.com/portcullis/portcullis/workflow/alerts/channels"
	"github.com/portcullis/portcullis/workflow/compliance"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/jobs"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/scans"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// runEngine works the world's jobs until the test ends.
func runEngine(t *testing.T, w *workflowtest.World, deps jobs.Deps, opts jobs.Options) {
	t.Helper()
	if opts.PollInterval == 0 {
		opts.PollInterval = 200 * time.Millisecond
	}
	if opts.ID == "" {
		opts.ID = "test-instance"
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.App.Jobs.Run(ctx, deps, opts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("engine: %v", err)
		}
	})
}

// eventually waits for cond, failing the test after within.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func runStatus(t *testing.T, w *workflowtest.World, id uint) string {
	var run models.ScanRun
	workflowtest.Must(t, w.App.DB().Select("status").First(&run, id).Error)
	return run.Status
}

func TestScanRunJobRunsTheQueuedScan(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	sc := &workflowtest.FakeScanner{Open: map[string][]scans.Port{"10.50.0.10": {{Port: 443, Protocol: "tcp", State: "open", Service: "http"}}}}
	w.App.Scans.SetScanner(sc, scans.Policy{})
	run, err := w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{"10.50.0.10"}, "common")
	workflowtest.Must(t, err)
	runEngine(t, w, w.App.JobDeps(nil, nil), jobs.Options{})
	eventually(t, 20*time.Second, "the scan run is done", func() bool { return runStatus(t, w, run.ID) == "done" })
	var rows int64
	w.App.DB().Model(&models.ScanResult{}).Where("run_id = ? AND port = 443", run.ID).Count(&rows)
	if rows != 1 {
		t.Fatalf("%d result rows for 443, want 1", rows)
	}
}

// TestRunWithoutAJobGetsOne: a run queued without a job (by a release
// before the job engine) is given one when an instance starts, and runs.
func TestRunWithoutAJobGetsOne(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	w.App.Scans.SetScanner(&workflowtest.FakeScanner{}, scans.Policy{})
	run := models.ScanRun{Kind: "on_demand", Profile: "common", Targets: "10.50.0.10", Status: "queued", RequestedBy: "rita@example.test", Progress: "{}", QueuedAt: time.Now().UTC()}
	workflowtest.Must(t, w.App.DB().Create(&run).Error)
	runEngine(t, w, w.App.JobDeps(nil, nil), jobs.Options{})
	eventually(t, 20*time.Second, "the orphan run is done", func() bool { return runStatus(t, w, run.ID) == "done" })
	var n int64
	w.App.DB().Table("river_job").Where("kind = ?", scans.RunArgs{}.Kind()).Count(&n)
	if n != 1 {
		t.Fatalf("%d scan jobs, want 1", n)
	}
}

func TestVerificationScanJobVerifiesTheRequest(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	w.App.Scans.SetScanner(&workflowtest.FakeScanner{Open: map[string][]scans.Port{
		"10.50.0.10": {{Port: 443, Protocol: "tcp", State: "open", Service: "http"}},
	}}, scans.Policy{})
	id := w.Implemented(t, workflowtest.LowRisk())
	runEngine(t, w, w.App.JobDeps(nil, nil), jobs.Options{})
	eventually(t, 20*time.Second, "the implemented request is verified and active", func() bool { return w.State(t, id) == requests.StateActive })
}

// slowStreamer hands over one host every step, as a real scan of many hosts
// does, and records the targets and the slice (by its end) of every call.
type slowStreamer struct {
	step   time.Duration
	mu     sync.Mutex
	calls  [][]netip.Addr
	slices []time.Time
}

func (s *slowStreamer) Resolve(job scans.Job) (scans.Job, error) {
	job.TCPPorts = []uint16{22}
	return job, nil
}

func (s *slowStreamer) Scan(ctx context.Context, job scans.Job, progress func(scans.Progress)) ([]byte, error) {
	return s.ScanHosts(ctx, job, progress, func(scans.Host) {})
}

func (s *slowStreamer) ScanHosts(ctx context.Context, job scans.Job, progress func(scans.Progress), host func(scans.Host)) ([]byte, error) {
	s.mu.Lock()
	s.calls = append(s.calls, job.Targets)
	s.slices = append(s.slices, job.SliceEnds)
	s.mu.Unlock()
	rep := scans.Report{Schema: "portcullis.scan/v1", StartedAt: time.Now(), Profile: job.Profile}
	for _, a := range job.Targets {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(s.step):
		}
		h := scans.Host{Address: a.String(), State: "up", Ports: []scans.Port{{Port: 22, Protocol: "tcp", State: "open", Service: "ssh"}}}
		host(h)
		rep.Hosts = append(rep.Hosts, h)
	}
	rep.FinishedAt = time.Now()
	return json.Marshal(rep)
}

// TestLongScanRunsInSlicesAndRecordsEachHostOnce: a scan longer than a
// slice stores the hosts it finished, yields, and the next slice scans only
// the rest; the run ends done with one row per host and a report of all.
func TestLongScanRunsInSlicesAndRecordsEachHostOnce(t *testing.T) {
	// The slice is also River's timeout for every other job, and a job
	// running past 5/4 of it is rescued as stuck: a 2 s slice leaves a slow
	// machine room, where 700 ms could see a live slice rescued. A slice
	// starts batches for at most slice/step = 20 hosts (each takes at least
	// a step, whatever the load), so 24 hosts always need several slices;
	// one host a batch keeps a slice's overrun past 2 s to about a step.
	const (
		slice = 2 * time.Second
		step  = 100 * time.Millisecond
		hosts = 24
	)
	w := workflowtest.SQLiteWorld(t)
	w.App.Inventory.RefuseLoopbackAssets(false)
	var targets []string
	for i := 1; i <= hosts; i++ {
		a := fmt.Sprintf("10.40.1.%d", i)
		_, err := w.App.Inventory.SaveAsset(w.Ctx, w.Adam, 0, inventory.AssetInput{Address: a, Hostname: "slice-" + a})
		workflowtest.Must(t, err)
		targets = append(targets, a)
	}
	sc := &slowStreamer{step: step}
	w.App.Scans.SetScanner(sc, scans.Policy{BatchHosts: 1})
	run, err := w.App.Scans.RequestScan(w.Ctx, w.Rita, targets, "common")
	workflowtest.Must(t, err)
	runEngine(t, w, w.App.JobDeps(nil, nil), jobs.Options{ScanSlice: slice})
	eventually(t, 60*time.Second, "the sliced run is done", func() bool { return runStatus(t, w, run.ID) == "done" })
	// Counted from what the scanner was handed, not from timing: the calls
	// of one slice share its end, and no host is handed over twice (each
	// slice scans only the hosts left).
	sc.mu.Lock()
	slices := map[int64]bool{}
	for _, end := range sc.slices {
		slices[end.UnixNano()] = true
	}
	handed := map[string]int{}
	scanned := 0
	for _, c := range sc.calls {
		for _, a := range c {
			handed[a.String()]++
			scanned++
		}
	}
	sc.mu.Unlock()
	if len(slices) < 2 {
		t.Fatalf("the scan ran in %d slice(s), want several", len(slices))
	}
	if scanned != len(targets) || len(handed) != len(targets) {
		t.Fatalf("the scanner was handed %d hosts (%d distinct) over %d slices, want each of %d once", scanned, len(handed), len(slices), len(targets))
	}
	t.Logf("%d hosts in %d slices", len(targets), len(slices))
	var perHost []struct {
		Address string
		N       int
	}
	workflowtest.Must(t, w.App.DB().Model(&models.ScanResult{}).Select("address, COUNT(*) AS n").Where("run_id = ? AND protocol = ''", run.ID).Group("address").Scan(&perHost).Error)
	if len(perHost) != len(targets) {
		t.Fatalf("%d hosts recorded, want %d", len(perHost), len(targets))
	}
	for _, h := range perHost {
		if h.N != 1 {
			t.Fatalf("host %s recorded %d times", h.Address, h.N)
		}
	}
	got, err := w.App.Scans.Get(w.Ctx, w.Rita, run.ID)
	workflowtest.Must(t, err)
	rep, err := scans.ParseReport(got.Report)
	workflowtest.Must(t, err)
	if len(rep.Hosts) != len(targets) || len(rep.Hosts[0].Ports) != 1 {
		t.Fatalf("report of %d hosts (first %+v), want %d with their port", len(rep.Hosts), rep.Hosts, len(targets))
	}
}

// TestScheduleJobQueuesEachSlotOnce: the periodic job finds the daily slots
// due; their slot jobs queue one run per zone, and running the schedule
// again (as a second instance would) queues nothing more.
func TestScheduleJobQueuesEachSlotOnce(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	w.App.Scans.SetScanner(&workflowtest.FakeScanner{}, scans.Policy{})
	created := time.Now().UTC()
	w.App.SetClock(func() time.Time {
		return time.Date(created.Year(), created.Month(), created.Day(), 2, 30, 0, 0, time.UTC).AddDate(0, 0, 1)
	})
	count := func() int64 {
		var n int64
		w.App.DB().Model(&models.ScanRun{}).Where("kind = ?", "daily").Count(&n)
		return n
	}
	runEngine(t, w, w.App.JobDeps(nil, nil), jobs.Options{})
	eventually(t, 20*time.Second, "three daily runs (dmz, apps, pci)", func() bool { return count() == 3 })
	_, err := w.App.Scans.ScheduleDue(w.Ctx)
	workflowtest.Must(t, err)
	time.Sleep(time.Second)
	if n := count(); n != 3 {
		t.Fatalf("%d daily runs after the schedule ran again, want 3", n)
	}
	var undone int64
	eventually(t, 20*time.Second, "every daily run done", func() bool {
		w.App.DB().Model(&models.ScanRun{}).Where("kind = ? AND status <> ?", "daily", "done").Count(&undone)
		return undone == 0
	})
}

// TestAlertDeliveryJobRetriesWithBackoff: the receiver refuses the first
// two sends; the job retries after the channel's backoff and the third is
// recorded delivered, every send carrying the same delivery id.
func TestAlertDeliveryJobRetriesWithBackoff(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	var mu sync.Mutex
	var ids []string
	var sends atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ids = append(ids, r.Header.Get(channels.HeaderDelivery))
		mu.Unlock()
		if sends.Add(1) <= 2 {
			http.Error(rw, "busy", http.StatusServiceUnavailable)
		}
	}))
	defer hook.Close()
	webhook := &channels.Webhook{URL: hook.URL, Secret: "s3cret", Label: "soc"}
	router, err := channels.NewRouter(channels.Route{Name: "all", Channel: webhook})
	workflowtest.Must(t, err)
	w.App.Alerts.SetAlerting(&alerts.Alerting{Router: router, Channels: map[string]channels.Channel{webhook.Name(): webhook},
		Dispatcher: &channels.Dispatcher{BaseDelay: 200 * time.Millisecond, MaxDelay: time.Second}})
	w.App.Scans.SetScanner(&workflowtest.FakeScanner{Open: map[string][]scans.Port{
		"10.50.0.10": {{Port: 3306, Protocol: "tcp", State: "open", Service: "mysql"}},
	}}, scans.Policy{})
	_, err = w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{"10.50.0.10"}, "common")
	workflowtest.Must(t, err)
	runEngine(t, w, w.App.JobDeps(nil, nil), jobs.Options{})
	var d models.AlertDelivery
	eventually(t, 30*time.Second, "the delivery is recorded delivered", func() bool {
		return w.App.DB().Where("status = ?", "delivered").Take(&d).Error == nil
	})
	mu.Lock()
	defer mu.Unlock()
	if d.Attempts != 3 || len(ids) != 3 || ids[0] == "" || ids[0] != ids[1] || ids[1] != ids[2] {
		t.Fatalf("attempts %d, delivery ids sent %q: want 3 sends of one id", d.Attempts, ids)
	}
}

// TestExpiryJobExpiresLapsedOpenings: an active opening past its expiry is
// expired by the periodic job.
func TestExpiryJobExpiresLapsedOpenings(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	w.App.Scans.SetScanner(&workflowtest.FakeScanner{Open: map[string][]scans.Port{
		"10.50.0.10": {{Port: 443, Protocol: "tcp", State: "open", Service: "http"}},
	}}, scans.Policy{})
	id := w.Implemented(t, workflowtest.LowRisk())
	w.RunQueued(t)
	if w.State(t, id) != requests.StateActive {
		t.Fatalf("state %s, want active", w.State(t, id))
	}
	w.App.SetClock(func() time.Time { return time.Now().UTC().AddDate(2, 0, 0) })
	runEngine(t, w, w.App.JobDeps(nil, nil), jobs.Options{})
	eventually(t, 20*time.Second, "the opening is expired", func() bool { return w.State(t, id) == requests.StateExpired })
}

// reminderMail counts the reminders sent.
type reminderMail struct{ sent atomic.Int32 }

func (m *reminderMail) SendText(context.Context, []string, string, string, string) error {
	m.sent.Add(1)
	return nil
}

// TestPeriodicJobsRunOnStart: reminders, the reports' catch-up, audit
// checkpoints, access checks and session clean-up each run once the engine starts (the leader runs
// them at start, then at their interval).
func TestPeriodicJobsRunOnStart(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	keys, err := compliance.NewAuditKeys("test")
	workflowtest.Must(t, err)
	w.App.Compliance.SetAuditKeys(keys)
	mail := &reminderMail{}
	w.App.Recert.SetMailer(mail, "http://portcullis.test")
	var checks, cleans atomic.Int32
	deps := w.App.JobDeps(
		func(context.Context) error { checks.Add(1); return nil },
		func(context.Context) error { cleans.Add(1); return nil })
	runEngine(t, w, deps, jobs.Options{AccessCheckEvery: time.Hour})
	eventually(t, 20*time.Second, "an audit checkpoint, an access check and a session clean-up", func() bool {
		var cps int64
		w.App.DB().Model(&models.AuditCheckpoint{}).Count(&cps)
		return cps > 0 && checks.Load() > 0 && cleans.Load() > 0
	})
	for _, kind := range []string{jobs.RecertRemindersArgs{}.Kind(), jobs.PeriodicReportsArgs{}.Kind()} {
		eventually(t, 20*time.Second, "the "+kind+" job completed", func() bool {
			var n int64
			w.App.DB().Table("river_job").Where("kind = ? AND state = ?", kind, "completed").Count(&n)
			return n == 1
		})
	}
	if checks.Load() != 1 {
		t.Fatalf("%d access checks within the hour, want 1", checks.Load())
	}
}

// TestJobsAndAppShareTheSQLiteWriter: while the engine works a hundred
// scan runs, eight goroutines write audit events; no write fails (no
// "database is locked") and every run ends done.
func TestJobsAndAppShareTheSQLiteWriter(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	w.App.Scans.SetScanner(&workflowtest.FakeScanner{}, scans.Policy{})
	const runs, writers, writes = 100, 8, 50
	start := time.Now()
	for i := 0; i < runs; i++ {
		_, err := w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{"10.40.0.15"}, "common")
		workflowtest.Must(t, err)
	}
	runEngine(t, w, w.App.JobDeps(nil, nil), jobs.Options{})
	var wg sync.WaitGroup
	var failed atomic.Int32
	var firstErr atomic.Value
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < writes; i++ {
				if err := w.App.AuditNow(w.Ctx, core.SystemActor, "test.write", "test", uint(i), nil); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	wg.Wait()
	writesDone := time.Since(start)
	eventually(t, 60*time.Second, "every run done", func() bool {
		var n int64
		w.App.DB().Model(&models.ScanRun{}).Where("status = ?", "done").Count(&n)
		return n == runs
	})
	if failed.Load() > 0 {
		t.Fatalf("%d of %d app writes failed beside the job engine, first: %v", failed.Load(), writers*writes, firstErr.Load())
	}
	t.Logf("%d app writes beside the engine in %s; %d scan jobs done in %s", writers*writes, writesDone.Round(time.Millisecond), runs, time.Since(start).Round(time.Millisecond))
}

// TestTwoInstancesQueueEachSlotOnceOnPostgres: two instances on one
// PostgreSQL database find the same slots due at the same moment, each
// through its own engine and by a direct call besides; each zone's daily
// run is queued once and run once.
func TestTwoInstancesQueueEachSlotOnceOnPostgres(t *testing.T) {
	url := modelstest.PostgresSchema(t)
	open := func() *gorm.DB {
		db, err := models.Open(context.Background(), url, modelstest.Logger())
		workflowtest.Must(t, err)
		t.Cleanup(func() {
			if sqlDB, err := db.DB(); err == nil {
				sqlDB.Close()
			}
		})
		return db
	}
	w := workflowtest.NewWorld(t, open())
	second := &workflowtest.World{App: workflow.New(open(), modelstest.Logger()), Ctx: context.Background()}
	created := time.Now().UTC()
	slot := func() time.Time {
		return time.Date(created.Year(), created.Month(), created.Day(), 2, 30, 0, 0, time.UTC).AddDate(0, 0, 1)
	}
	for i, inst := range []*workflowtest.World{w, second} {
		inst.App.SetClock(slot)
		inst.App.Scans.SetScanner(&workflowtest.FakeScanner{}, scans.Policy{})
		runEngine(t, inst, inst.App.JobDeps(nil, nil), jobs.Options{ID: fmt.Sprintf("instance-%d", i+1), PostgresURL: url})
	}
	var wg sync.WaitGroup
	for _, inst := range []*workflowtest.World{w, second, w, second} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := inst.App.Scans.ScheduleDue(inst.Ctx); err != nil {
				t.Errorf("schedule: %v", err)
			}
		}()
	}
	wg.Wait()
	count := func(where string, args ...any) int64 {
		var n int64
		w.App.DB().Model(&models.ScanRun{}).Where(where, args...).Count(&n)
		return n
	}
	eventually(t, 30*time.Second, "three daily runs done", func() bool { return count("kind = ? AND status = ?", "daily", "done") == 3 })
	time.Sleep(2 * time.Second) // room for a duplicate to appear
	if n := count("kind = ?", "daily"); n != 3 {
		t.Fatalf("%d daily runs, want 3 (one per zone with assets)", n)
	}
	var starts int64
	w.App.DB().Model(&models.AuditEvent{}).Where("action = ?", "scan.start").Count(&starts)
	if starts != 3 {
		t.Fatalf("%d runs started, want 3", starts)
	}
	// The engines work on riverpgxv5: their pgx pools hold connections
	// (at least the one listening for new jobs) under the engine's name.
	var engineConns int64
	workflowtest.Must(t, w.App.DB().Raw("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = ?", jobs.EngineApplicationName).Scan(&engineConns).Error)
	if engineConns < 2 {
		t.Errorf("%d connections named %q, want the two engines' riverpgxv5 pools", engineConns, jobs.EngineApplicationName)
	}
}
