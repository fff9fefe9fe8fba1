package scans

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"
	"gorm.io/plugin/dbresolver"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/paging"
	"github.com/portcullis/portcullis/workflow/policy"
)

// Job is what the server asks its scanner to do.
type Job struct {
	// RunID is the run the job belongs to (0: none), so that a scanner
	// that hands parts of it to agents can find them again.
	RunID    uint
	Targets  []netip.Addr
	Profile  string   // common | full | verification
	TCPPorts []uint16 // empty: the profile's
	UDPPorts []uint16
	// CheckCredentials are the targets in zones where an admin turned on the
	// default-credential checks.
	CheckCredentials []netip.Addr
	// SliceEnds is when the run's current slice of time ends (zero: never).
	// A scanner that waits on others (agents) gives up waiting then with
	// ErrSliceEnded, and the next slice waits on.
	SliceEnds time.Time
}

// Progress is a running scan's snapshot.
type Progress struct {
	HostsDone  int     `json:"hosts_done"`
	HostsTotal int     `json:"hosts_total"`
	PortsDone  int64   `json:"ports_done"`
	PortsTotal int64   `json:"ports_total"`
	Rate       float64 `json:"rate"`
	Remaining  float64 `json:"remaining_seconds"`
	Phase      string  `json:"phase"`
	Done       bool    `json:"done"`
	Status     string  `json:"status"`
}

// Scanner is how the workflow reaches the network scanner: it returns the
// report in the scan-report contract's JSON.
type Scanner interface {
	// Resolve fills in the ports of a job's profile, so the run records
	// exactly what it covered.
	Resolve(job Job) (Job, error)
	Scan(ctx context.Context, job Job, progress func(Progress)) ([]byte, error)
}

// Report is the scan-report contract, as the workflow reads it.
type Report struct {
	Schema     string    `json:"schema"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Profile    string    `json:"profile"`
	Hosts      []Host    `json:"hosts"`
}

// Host is one scanned address.
type Host struct {
	Address string `json:"address"`
	State   string `json:"state"`
	Tarpit  bool   `json:"tarpit"`
	Ports   []Port `json:"ports"`
}

// Port is one port seen.
type Port struct {
	Port     uint16    `json:"port"`
	Protocol string    `json:"protocol"`
	State    string    `json:"state"`
	Service  string    `json:"service"`
	Product  string    `json:"product"`
	Version  string    `json:"version"`
	TLS      bool      `json:"tls"`
	Banner   string    `json:"banner"`
	Findings []Finding `json:"findings"`
}

// Finding is a weak configuration confirmed on the wire.
type Finding struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Detail   string `json:"detail"`
}

// ParseReport reads a stored report.
func ParseReport(raw string) (*Report, error) {
	var r Report
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Policy bounds what the server scans.
type Policy struct {
	// LoopbackOnly refuses every address outside 127.0.0.0/8 and ::1: the
	// demo and the tests scan nothing else.
	LoopbackOnly bool
	// BatchHosts is how many hosts a scan job scans at once (0: 64).
	BatchHosts int
}

// progressHub fans a running scan's progress out to the browsers watching it.
type progressHub struct {
	mu   sync.Mutex
	subs map[uint]map[chan Progress]bool
}

// Watch subscribes to a run's progress on this instance; cancel unsubscribes.
func (s *Service) Watch(id uint) (<-chan Progress, func()) {
	h := &s.hub
	ch := make(chan Progress, 8)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[uint]map[chan Progress]bool{}
	}
	if h.subs[id] == nil {
		h.subs[id] = map[chan Progress]bool{}
	}
	h.subs[id][ch] = true
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs[id], ch)
		h.mu.Unlock()
	}
}

func (h *progressHub) publish(id uint, p Progress) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[id] {
		select {
		case ch <- p:
		default: // a slow watcher misses a snapshot, never blocks the scan
		}
	}
}

// SetScanner gives the service its scanner and the bounds it scans within.
func (s *Service) SetScanner(sc Scanner, p Policy) {
	s.scanner, s.scanPolicy = sc, p
}

func canScan(a core.Actor) error {
	if a.ID == 0 || a.Has(core.RoleReviewer, core.RoleApprover, core.RoleAdmin) {
		return nil
	}
	return core.Forbidden(core.M("err.scans.start_role", "you need the reviewer, approver or admin role to start a scan"))
}

// scanTargets resolves targets (asset addresses or zone names) to inventory
// addresses: the server scans nothing else.
func (s *Service) scanTargets(tx *gorm.DB, targets []string) ([]string, error) {
	var assets []models.Asset
	if err := tx.Preload("Zone").Find(&assets).Error; err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	for i, t := range targets {
		t = strings.TrimSpace(t)
		field := fmt.Sprintf("targets[%d]", i)
		if addr, err := netip.ParseAddr(t); err == nil {
			found := false
			for _, a := range assets {
				if a.Address == addr.Unmap().String() {
					found = true
				}
			}
			if !found {
				return nil, core.Invalid(field, core.M("err.scans.not_asset", "{{.Target}} is not an inventory asset: the server scans inventory addresses only", "Target", t))
			}
			add(addr.Unmap().String())
			continue
		}
		matched := false
		for _, a := range assets {
			if a.Zone != nil && strings.EqualFold(a.Zone.Name, t) {
				add(a.Address)
				matched = true
			}
		}
		if !matched {
			return nil, core.Invalid(field, core.M("err.scans.target_unknown", "{{.Target}} is neither an inventory asset address nor a zone with assets", "Target", strconv.Quote(t)))
		}
	}
	if len(out) == 0 {
		return nil, core.Invalid("targets", core.M("err.scans.targets_none", "give at least one asset address or zone"))
	}
	if s.scanPolicy.LoopbackOnly {
		for _, a := range out {
			if addr, _ := netip.ParseAddr(a); !addr.IsLoopback() {
				return nil, core.Invalid("targets", core.M("err.scans.not_loopback", "{{.Address}} is not a loopback address: this server (demo or test) scans loopback addresses only", "Address", a))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// RequestScan queues an on-demand scan of inventory assets.
func (s *Service) RequestScan(ctx context.Context, actor core.Actor, targets []string, profile string) (*models.ScanRun, error) {
	if err := canScan(actor); err != nil {
		return nil, err
	}
	if profile == "" {
		profile = "common"
	}
	if profile != "common" && profile != "full" {
		return nil, core.Invalid("profile", core.M("err.scans.profile", "profile {{.Profile}} is not common or full", "Profile", strconv.Quote(profile)))
	}
	var run *models.ScanRun
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		addrs, err := s.scanTargets(tx, targets)
		if err != nil {
			return err
		}
		// Scans asked for by hand are capped, as the command-line scanner
		// is; the scheduled zone scans (schedule.go) are not.
		if limit := inventory.ScanMaxTargets(tx); len(addrs) > limit {
			return core.Invalid("targets", core.M("err.scans.too_many_targets", "the targets cover {{.Count}} addresses and a scan asked for by hand covers at most {{.Max}} (an admin sets this limit): scan fewer zones or addresses at a time", "Count", len(addrs), "Max", limit))
		}
		run, err = s.enqueue(tx, actor, models.ScanRun{Kind: "on_demand", Profile: profile, Targets: strings.Join(addrs, ",")})
		return err
	})
	return run, err
}

func (s *Service) enqueue(tx *gorm.DB, actor core.Actor, run models.ScanRun) (*models.ScanRun, error) {
	run.Status, run.RequestedBy, run.QueuedAt = "queued", actor.Email, s.Now()
	if run.Progress == "" {
		run.Progress = "{}"
	}
	if err := tx.Create(&run).Error; err != nil {
		return nil, err
	}
	detail := map[string]any{"kind": run.Kind, "profile": run.Profile, "targets": run.Targets}
	if err := s.Audit(tx, actor, "scan.queue", "scan", run.ID, "", "", detail, ""); err != nil {
		return nil, err
	}
	opts := &river.InsertOpts{Queue: QueueScans, MaxAttempts: runJobAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
	if err := s.Enqueue(tx, RunArgs{RunID: run.ID}, opts); err != nil {
		return nil, err
	}
	return &run, nil
}

// RunArgs is the River job that runs one scan run. It is inserted in the
// transaction that queues the run; unique by run, so a run is never queued
// twice, whichever instance asks.
type RunArgs struct {
	RunID uint `json:"run_id"`
}

// Kind names the job.
func (RunArgs) Kind() string { return "scan_run" }

// QueueScans is the River queue of every scan job.
const QueueScans = "scans"

// runJobAttempts is how many times a run's job is tried (an instance killed
// under it, a database error) before the run is failed; slices that end on
// time do not count.
const runJobAttempts = 10

// ErrSliceEnded says a run's slice of time ended before its scan did: the
// hosts finished so far are stored, and the next slice scans the rest.
var ErrSliceEnded = errors.New("the scan's time slice ended; the rest of its hosts are scanned next")

// Run does one slice of work on run id as holder (the instance): the queued
// run is started, a running one (left by a slice that ended, or by an
// instance that died) is resumed on the hosts it has no results for yet. A
// run already finished or cancelled is left as it is. slice bounds the
// scanning (0: none): ErrSliceEnded then asks to be called again. This is
// the one function the job engine calls to run a scan.
func (s *Service) Run(ctx context.Context, id uint, holder string, slice time.Duration) error {
	var run models.ScanRun
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Omit("report").First(&run, id).Error; err != nil {
			return fmt.Errorf("scan %d: %w", id, err)
		}
		switch State(run.Status) {
		case StateQueued:
			now := s.Now()
			if err := s.fire(tx, core.SystemActor, &run, EventStart, map[string]any{"holder": holder, "started_at": &now}, map[string]string{"holder": holder}, ""); err != nil {
				return err
			}
			run.Holder, run.StartedAt = holder, &now
		case StateRunning:
			if run.Holder != holder {
				if err := tx.Model(&models.ScanRun{}).Where("id = ?", id).Update("holder", holder).Error; err != nil {
					return err
				}
				run.Holder = holder
			}
		}
		return nil
	})
	if err != nil || State(run.Status) != StateRunning {
		return err
	}
	return s.Execute(ctx, &run, slice)
}

// RequeueOrphans gives a job to every queued or running run that has none
// waiting or running (a run queued by a release before the job engine, or
// whose job was given up while the run was left running). Jobs are unique
// by run: a run that has one is left alone. It returns how many it asked for.
func (s *Service) RequeueOrphans(ctx context.Context) (int, error) {
	var ids []uint
	if err := s.DB().WithContext(ctx).Model(&models.ScanRun{}).Where("status IN ?", []string{string(StateQueued), string(StateRunning)}).Order("id").Pluck("id", &ids).Error; err != nil {
		return 0, err
	}
	for _, id := range ids {
		err := s.InTx(ctx, func(tx *gorm.DB) error {
			return s.Enqueue(tx, RunArgs{RunID: id}, &river.InsertOpts{Queue: QueueScans, MaxAttempts: runJobAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}})
		})
		if err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// FailRun fails a running run whose job has run out of attempts, audited,
// so that no run stays running for ever.
func (s *Service) FailRun(ctx context.Context, id uint, cause error) error {
	return s.InTx(ctx, func(tx *gorm.DB) error {
		var run models.ScanRun
		if err := tx.Omit("report").First(&run, id).Error; err != nil {
			return err
		}
		if State(run.Status) != StateRunning {
			return nil
		}
		now := s.Now()
		msg := "gave up: " + cause.Error()
		return s.fire(tx, core.SystemActor, &run, EventFail, map[string]any{"error": msg, "finished_at": &now}, map[string]any{"error": msg}, "")
	})
}

// hostsDone are the addresses a run already has results for.
func hostsDone(db *gorm.DB, runID uint) (map[string]bool, error) {
	var addrs []string
	if err := db.Model(&models.ScanResult{}).Where("run_id = ? AND protocol = '' AND port = 0", runID).Pluck("address", &addrs).Error; err != nil {
		return nil, err
	}
	done := make(map[string]bool, len(addrs))
	for _, a := range addrs {
		done[a] = true
	}
	return done, nil
}

// Execute scans what a running run still lacks, stores each host's results
// as the host is done, and, when nothing is left, records the report and
// draws the consequences: a verification's verdict, and drift. A cancelled
// ctx (the instance stops) leaves the run running for the next slice.
func (s *Service) Execute(ctx context.Context, run *models.ScanRun, slice time.Duration) error {
	if s.scanner == nil {
		return errors.New("no scanner is configured")
	}
	done, err := hostsDone(s.DB().WithContext(ctx).Clauses(dbresolver.Write), run.ID)
	if err != nil {
		return err
	}
	job := Job{Profile: run.Profile, RunID: run.ID}
	for _, a := range strings.Split(run.Targets, ",") {
		addr, err := netip.ParseAddr(a)
		if err != nil {
			return s.finishRun(ctx, run, nil, nil, fmt.Errorf("target %q: %w", a, err))
		}
		if s.scanPolicy.LoopbackOnly && !addr.IsLoopback() {
			return s.finishRun(ctx, run, nil, nil, fmt.Errorf("%s is not a loopback address; this server scans loopback only", addr))
		}
		if !done[addr.String()] {
			job.Targets = append(job.Targets, addr)
		}
	}
	for _, spec := range []struct {
		text string
		dst  *[]uint16
	}{{run.TCPPorts, &job.TCPPorts}, {run.UDPPorts, &job.UDPPorts}} {
		if spec.text == "" {
			continue
		}
		ps, err := policy.ParsePorts(spec.text)
		if err != nil {
			return s.finishRun(ctx, run, nil, nil, err)
		}
		for _, r := range ps {
			for p := int(r.First); p <= int(r.Last); p++ {
				*spec.dst = append(*spec.dst, uint16(p))
			}
		}
	}
	credTargets, err := s.credentialTargets(ctx, job.Targets)
	if err != nil {
		return s.finishRun(ctx, run, nil, nil, err)
	}
	job.CheckCredentials = credTargets
	job, err = s.scanner.Resolve(job)
	if err != nil {
		return s.finishRun(ctx, run, nil, nil, err)
	}
	run.TCPPorts, run.UDPPorts = portSpec(job.TCPPorts), portSpec(job.UDPPorts)
	if err := s.DB().WithContext(ctx).Model(&models.ScanRun{}).Where("id = ?", run.ID).
		Updates(map[string]any{"tcp_ports": run.TCPPorts, "udp_ports": run.UDPPorts}).Error; err != nil {
		return err
	}
	if len(job.Targets) == 0 {
		// Every host was scanned by earlier slices: only the conclusion is left.
		report, err := s.reportFromRows(ctx, run, nil)
		if err != nil {
			return err
		}
		return s.finishRun(ctx, run, report, allHosts(run), nil)
	}
	total, offset := len(strings.Split(run.Targets, ",")), len(done)
	var lastWrite time.Time
	progress := func(p Progress) {
		p.Status = "running"
		p.HostsDone += offset
		p.HostsTotal = total
		s.hub.publish(run.ID, p)
		if time.Since(lastWrite) > time.Second {
			lastWrite = time.Now()
			b, _ := json.Marshal(p)
			s.DB().Model(&models.ScanRun{}).Where("id = ?", run.ID).Update("progress", string(b))
		}
	}
	// The hosts are scanned a batch at a time; between batches the slice's
	// time is checked, so a slice ends with every host it started recorded.
	batchSize := s.scanPolicy.BatchHosts
	if batchSize <= 0 {
		batchSize = defaultBatchHosts
	}
	started := time.Now()
	var report []byte
	batches := 0
	for len(job.Targets) > 0 {
		if slice > 0 && batches > 0 && time.Since(started) >= slice {
			return ErrSliceEnded
		}
		batch := job
		if slice > 0 {
			batch.SliceEnds = started.Add(slice)
		}
		n := min(len(job.Targets), batchSize)
		batch.Targets, job.Targets = job.Targets[:n:n], job.Targets[n:]
		rep, scanErr := s.scanBatch(ctx, run, batch, progress)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(scanErr, errNotStored), errors.Is(scanErr, ErrSliceEnded):
			// Not failed: the run goes on from the hosts it has, at its next
			// try or in its next slice.
			return scanErr
		case scanErr != nil:
			return s.finishRun(ctx, run, nil, nil, scanErr)
		}
		report, offset = rep, offset+n
		batches++
	}
	if len(done) > 0 || batches > 1 {
		// The hosts were scanned in parts: the report is every host's stored rows.
		if report, err = s.reportFromRows(ctx, run, report); err != nil {
			return err
		}
	}
	return s.finishRun(ctx, run, report, allHosts(run), nil)
}

// errNotStored says a host's results could not be written.
var errNotStored = errors.New("scan results not stored")

// defaultBatchHosts is how many hosts a scan job scans at once: a full
// scan of that many fits well inside a slice at the scanner's rates.
const defaultBatchHosts = 64

// scanBatch scans some of a run's hosts and stores each host's rows, in one
// transaction, as the host is done when the scanner streams (otherwise from
// its report): a host is recorded whole or not at all, and a later slice
// skips it.
func (s *Service) scanBatch(ctx context.Context, run *models.ScanRun, job Job, progress func(Progress)) ([]byte, error) {
	store := func(h Host) error {
		return s.InTx(context.WithoutCancel(ctx), func(tx *gorm.DB) error { return storeHost(tx, run.ID, h) })
	}
	hs, ok := s.scanner.(HostScanner)
	if !ok {
		report, err := s.scanner.Scan(ctx, job, progress)
		if err != nil {
			return nil, err
		}
		parsed, err := ParseReport(string(report))
		if err != nil {
			return nil, fmt.Errorf("scan %d: the report does not parse: %w", run.ID, err)
		}
		for _, h := range parsed.Hosts {
			if err := store(h); err != nil {
				return nil, err
			}
		}
		return report, nil
	}
	var mu sync.Mutex
	var storeErr error
	report, err := hs.ScanHosts(ctx, job, progress, func(h Host) {
		if err := store(h); err != nil {
			mu.Lock()
			storeErr = errors.Join(storeErr, fmt.Errorf("%s: %w", h.Address, err))
			mu.Unlock()
		}
	})
	if err != nil {
		return nil, err
	}
	if storeErr != nil {
		return nil, fmt.Errorf("%w: %w", errNotStored, storeErr)
	}
	return report, nil
}

// allHosts marks every target of a run as stored.
func allHosts(run *models.ScanRun) map[string]bool {
	out := map[string]bool{}
	for _, a := range strings.Split(run.Targets, ",") {
		out[a] = true
	}
	return out
}

// reportFromRows is the report of a run scanned in several slices: the
// hosts from its stored rows; the other fields from last (the last slice's
// report) when given.
func (s *Service) reportFromRows(ctx context.Context, run *models.ScanRun, last []byte) ([]byte, error) {
	var rows []models.ScanResult
	if err := s.DB().WithContext(ctx).Clauses(dbresolver.Write).Where("run_id = ?", run.ID).Order("address, protocol, port").Find(&rows).Error; err != nil {
		return nil, err
	}
	rep := map[string]any{}
	if len(last) > 0 {
		if err := json.Unmarshal(last, &rep); err != nil {
			return nil, fmt.Errorf("scan %d: the report does not parse: %w", run.ID, err)
		}
	} else {
		rep["schema"], rep["profile"] = "portcullis.scan/v1", run.Profile
	}
	if run.StartedAt != nil {
		rep["started_at"] = run.StartedAt
	}
	rep["finished_at"] = s.Now()
	var hosts []Host
	for _, r := range rows {
		if r.Protocol == "" && r.Port == 0 {
			hosts = append(hosts, Host{Address: r.Address, State: r.State, Tarpit: r.Tarpit, Ports: []Port{}})
			continue
		}
		if n := len(hosts); n > 0 && hosts[n-1].Address == r.Address {
			hosts[n-1].Ports = append(hosts[n-1].Ports, portOf(r))
		}
	}
	sort.Slice(hosts, func(i, j int) bool {
		a, _ := netip.ParseAddr(hosts[i].Address)
		b, _ := netip.ParseAddr(hosts[j].Address)
		return a.Less(b)
	})
	rep["hosts"] = hosts
	return json.Marshal(rep)
}

// credentialTargets picks the targets whose zone has the credential checks on.
func (s *Service) credentialTargets(ctx context.Context, targets []netip.Addr) ([]netip.Addr, error) {
	ix, err := inventory.LoadZoneIndex(s.DB().WithContext(ctx))
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, a := range targets {
		if z := ix.Lookup(a); z != nil && z.CheckCredentials {
			out = append(out, a)
		}
	}
	if len(out) > 0 {
		s.Log().Info("scan tries default credentials", "hosts", len(out), "targets", len(targets))
	}
	return out, nil
}

// finishRun records how a run ended; streamed are the hosts whose rows
// were written while it ran.
func (s *Service) finishRun(ctx context.Context, run *models.ScanRun, report []byte, streamed map[string]bool, scanErr error) error {
	now := s.Now()
	status, errText := "done", ""
	if scanErr != nil {
		status, errText = "failed", scanErr.Error()
	}
	final := Progress{Done: true, Status: status, Phase: "finished"}
	b, _ := json.Marshal(final)
	err := s.InTx(context.WithoutCancel(ctx), func(tx *gorm.DB) error {
		updates := map[string]any{"status": status, "error": errText, "finished_at": &now, "progress": string(b), "report": string(report)}
		summary := ""
		if status == "done" && run.RequestID != nil {
			parsed, err := ParseReport(string(report))
			if err != nil {
				return fmt.Errorf("scan %d: the report does not parse: %w", run.ID, err)
			}
			summary, err = s.concludeVerification(tx, *run.RequestID, run.ID, parsed)
			if core.ErrorCodeOf(err) == core.CodeConflict {
				// The request moved meanwhile (revoked, say): the scan stands, its verdict does not apply.
				summary, err = "verification not applied: "+err.Error()+"\n", nil
			}
			if err != nil {
				return err
			}
		}
		if status == "done" {
			parsed, err := ParseReport(string(report))
			if err != nil {
				return fmt.Errorf("scan %d: the report does not parse: %w", run.ID, err)
			}
			for _, h := range parsed.Hosts {
				if streamed[h.Address] {
					continue
				}
				if err := storeHost(tx, run.ID, h); err != nil {
					return err
				}
			}
			opened, resolved, err := s.drift.Record(tx, run, parsed)
			if err != nil {
				return err
			}
			if opened+resolved > 0 {
				summary += fmt.Sprintf("drift: %d new, %d resolved\n", opened, resolved)
			}
		}
		updates["summary"] = summary
		// The table writes the status: done or failed, from running only.
		ev := map[string]Event{"done": EventComplete, "failed": EventFail}[status]
		return s.fire(tx, core.SystemActor, run, ev, updates, map[string]any{"error": errText, "summary": summary}, "")
	})
	s.hub.publish(run.ID, final)
	if err != nil {
		return err
	}
	if status == "done" && (run.Kind == "daily" || run.Kind == "weekly") && s.afterScheduled != nil {
		if err := s.afterScheduled(context.WithoutCancel(ctx), run.ID); err != nil {
			s.Log().Warn("after the scheduled scan", "run", run.ID, "err", err)
		}
	}
	return scanErr
}

// Get reads a run.
func (s *Service) Get(ctx context.Context, actor core.Actor, id uint) (*models.ScanRun, error) {
	if !actor.SeesAllRequests() && actor.ID != 0 {
		return nil, core.Forbidden(core.M("err.scans.results_roles", "scan results are for security, operations, auditors and admins"))
	}
	var run models.ScanRun
	if err := s.DB().WithContext(ctx).First(&run, id).Error; err != nil {
		return nil, core.NotFound("scan", id)
	}
	return &run, nil
}

// List returns one page of runs, newest first.
func (s *Service) List(ctx context.Context, actor core.Actor, req paging.Request[RunKey]) (paging.Page[models.ScanRun], error) {
	if !actor.SeesAllRequests() {
		return paging.Page[models.ScanRun]{}, core.Forbidden(core.M("err.scans.results_roles", "scan results are for security, operations, auditors and admins"))
	}
	q := s.DB().WithContext(ctx)
	if req.After != nil {
		q = q.Where("id < ?", req.After.ID)
	}
	runs, err := findRuns(q.Order("id DESC").Limit(req.Fetch()), req.Fetch())
	if err != nil {
		return paging.Page[models.ScanRun]{}, err
	}
	return paging.Cut(req, runs, func(r models.ScanRun) RunKey { return RunKey{r.ID} }), nil
}

// PortChange is a difference between two runs.
type PortChange struct {
	Address, Protocol string
	Port              uint16
	Change            string // opened | closed | service changed
	Before, After     string // services
}

func diffHost(addr string, before, after []Port) []PortChange {
	key := func(p Port) string { return fmt.Sprintf("%s/%d", p.Protocol, p.Port) }
	open := func(ps []Port) map[string]Port {
		m := map[string]Port{}
		for _, p := range ps {
			if p.State == "open" {
				m[key(p)] = p
			}
		}
		return m
	}
	b, a := open(before), open(after)
	var out []PortChange
	for k, p := range a {
		if old, ok := b[k]; !ok {
			out = append(out, PortChange{Address: addr, Protocol: p.Protocol, Port: p.Port, Change: "opened", After: p.Service})
		} else if old.Service != p.Service {
			out = append(out, PortChange{Address: addr, Protocol: p.Protocol, Port: p.Port, Change: "service changed", Before: old.Service, After: p.Service})
		}
	}
	for k, p := range b {
		if _, ok := a[k]; !ok {
			out = append(out, PortChange{Address: addr, Protocol: p.Protocol, Port: p.Port, Change: "closed", Before: p.Service})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Port != out[j].Port {
			return out[i].Port < out[j].Port
		}
		return out[i].Protocol < out[j].Protocol
	})
	return out
}

// portSpec writes a port list compactly ("22,80,8000-8100").
func portSpec(ports []uint16) string {
	if len(ports) == 0 {
		return ""
	}
	set := make(policy.PortSet, 0, len(ports))
	for _, p := range ports {
		set = append(set, policy.PortRange{First: p, Last: p})
	}
	parsed, err := policy.ParsePorts(set.String())
	if err != nil {
		return ""
	}
	return parsed.String()
}
