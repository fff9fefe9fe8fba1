package scans

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/paging"
)

// HostScanner is a Scanner that hands over each host's result as soon as the
// host is done, so that the run's rows are written while it runs. It still
// returns the whole report, which is kept for the API.
type HostScanner interface {
	Scanner
	ScanHosts(ctx context.Context, job Job, progress func(Progress), host func(Host)) ([]byte, error)
}

// resultRows are one host's rows: the host's own (protocol "", port 0) and
// one per port it listed.
func resultRows(runID uint, h Host) []models.ScanResult {
	state := h.State
	if state == "" {
		state = "up"
	}
	rows := []models.ScanResult{{RunID: runID, Address: h.Address, State: state, Tarpit: h.Tarpit}}
	for _, p := range h.Ports {
		findings := "[]"
		if len(p.Findings) > 0 {
			b, _ := json.Marshal(p.Findings)
			findings = string(b)
		}
		rows = append(rows, models.ScanResult{RunID: runID, Address: h.Address, Protocol: p.Protocol, Port: int(p.Port), State: p.State,
			Tarpit: h.Tarpit, Service: p.Service, Product: p.Product, Version: p.Version, TLS: p.TLS, Banner: p.Banner, Findings: findings})
	}
	return rows
}

// storeHost writes one host's rows. Writing a host twice changes nothing.
func storeHost(db *gorm.DB, runID uint, h Host) error {
	return db.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(resultRows(runID, h), 100).Error
}

// StoreHost writes one host's rows for a run, as a scanner agent sends
// them; writing a host twice changes nothing.
func StoreHost(db *gorm.DB, runID uint, h Host) error { return storeHost(db, runID, h) }

// HostsOf reads back, from the rows, the hosts a run recorded among addrs,
// by address: what agents sent, assembled into the run's report.
func HostsOf(db *gorm.DB, runID uint, addrs []string) ([]Host, error) {
	byAddr := map[string]*Host{}
	var order []string
	for start := 0; start < len(addrs); start += resultChunk {
		var rows []models.ScanResult
		if err := db.Where("run_id = ? AND address IN ?", runID, addrs[start:min(start+resultChunk, len(addrs))]).
			Order("address, protocol, port").Find(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			h := byAddr[r.Address]
			if h == nil {
				h = &Host{Address: r.Address, Ports: []Port{}}
				byAddr[r.Address] = h
				order = append(order, r.Address)
			}
			if r.Protocol == "" {
				h.State, h.Tarpit = r.State, r.Tarpit
				continue
			}
			h.Ports = append(h.Ports, portOf(r))
		}
	}
	out := make([]Host, 0, len(order))
	for _, a := range order {
		out = append(out, *byAddr[a])
	}
	return out, nil
}

// portOf reads a port row back as the report's Port.
func portOf(r models.ScanResult) Port {
	p := Port{Port: uint16(r.Port), Protocol: r.Protocol, State: r.State, Service: r.Service, Product: r.Product, Version: r.Version, TLS: r.TLS, Banner: r.Banner}
	if r.Findings != "" && r.Findings != "[]" {
		json.Unmarshal([]byte(r.Findings), &p.Findings)
	}
	return p
}

// ensureRows writes the rows of a finished run that has a report but none
// yet: a run recorded before rows existed, or written by a tool that only
// stores reports. Once per run; later reads find the rows.
func (s *Service) ensureRows(ctx context.Context, run *models.ScanRun) error {
	if run.Status != "done" {
		return nil
	}
	db := s.DB().WithContext(ctx)
	var some []uint
	if err := db.Model(&models.ScanResult{}).Where("run_id = ?", run.ID).Limit(1).Pluck("id", &some).Error; err != nil || len(some) > 0 {
		return err
	}
	raw := run.Report
	if raw == "" {
		if err := db.Model(&models.ScanRun{}).Where("id = ?", run.ID).Pluck("report", &raw).Error; err != nil {
			return err
		}
	}
	if raw == "" {
		return nil
	}
	rep, err := ParseReport(raw)
	if err != nil {
		return nil // an unreadable report has no rows to give
	}
	return s.InTx(ctx, func(tx *gorm.DB) error {
		for _, h := range rep.Hosts {
			if err := storeHost(tx, run.ID, h); err != nil {
				return err
			}
		}
		return nil
	})
}

// ResultKey orders a run's port rows: by address, protocol and port.
type ResultKey struct {
	Address  string `json:"a"`
	Protocol string `json:"p"`
	Port     int    `json:"n"`
}

// PortsOf is one page of the ports a run listed, by address, protocol and port.
func (s *Service) PortsOf(ctx context.Context, run *models.ScanRun, req paging.Request[ResultKey]) (paging.Page[models.ScanResult], error) {
	if err := s.ensureRows(ctx, run); err != nil {
		return paging.Page[models.ScanResult]{}, err
	}
	q := s.DB().WithContext(ctx).Where("run_id = ? AND protocol <> ''", run.ID)
	if req.After != nil {
		q = q.Where("(address, protocol, port) > (?, ?, ?)", req.After.Address, req.After.Protocol, req.After.Port)
	}
	var rows []models.ScanResult
	if err := q.Order("address, protocol, port").Limit(req.Fetch()).Find(&rows).Error; err != nil {
		return paging.Page[models.ScanResult]{}, err
	}
	return paging.Cut(req, rows, func(r models.ScanResult) ResultKey { return ResultKey{r.Address, r.Protocol, r.Port} }), nil
}

// HostsDown lists, up to limit, the hosts a run found down, and how many there were.
func (s *Service) HostsDown(ctx context.Context, run *models.ScanRun, limit int) ([]string, int64, error) {
	if err := s.ensureRows(ctx, run); err != nil {
		return nil, 0, err
	}
	q := s.DB().WithContext(ctx).Model(&models.ScanResult{}).Where("run_id = ? AND protocol = '' AND port = 0 AND state = ?", run.ID, "down")
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return nil, 0, err
	}
	var out []string
	err := q.Order("address").Limit(limit).Pluck("address", &out).Error
	return out, n, err
}

// previousRuns maps each host of a run to the latest earlier finished run
// of the same scope (profile and port lists) that recorded it: one query,
// each host answered from the index on (address, protocol, port, run_id),
// walking back from the run. A run of another scope would misread every
// port it did not probe: a verification scan of one port made a full scan
// report everything else as newly opened.
func (s *Service) previousRuns(db *gorm.DB, run *models.ScanRun) (map[string]uint, error) {
	var rows []struct {
		Address string
		Prev    *uint
	}
	err := db.Raw(`SELECT h.address, (SELECT p.run_id FROM scan_results p JOIN scan_runs r ON r.id = p.run_id
		WHERE p.address = h.address AND p.protocol = '' AND p.port = 0 AND p.run_id < h.run_id AND r.status = 'done'
		AND r.profile = ? AND r.tcp_ports = ? AND r.udp_ports = ?
		ORDER BY p.run_id DESC LIMIT 1) AS prev
		FROM scan_results h WHERE h.run_id = ? AND h.protocol = '' AND h.port = 0`,
		run.Profile, run.TCPPorts, run.UDPPorts, run.ID).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make(map[string]uint, len(rows))
	for _, r := range rows {
		if r.Prev != nil {
			out[r.Address] = *r.Prev
		}
	}
	return out, nil
}

// resultChunk bounds the addresses of one IN list.
const resultChunk = 500

// openPorts reads the open ports a run recorded on addrs (all its hosts when addrs is nil).
func openPorts(db *gorm.DB, runID uint, addrs []string) (map[string][]Port, error) {
	out := map[string][]Port{}
	read := func(q *gorm.DB) error {
		var rows []models.ScanResult
		if err := q.Where("run_id = ? AND protocol <> '' AND state = ?", runID, "open").Find(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			out[r.Address] = append(out[r.Address], portOf(r))
		}
		return nil
	}
	if addrs == nil {
		return out, read(db)
	}
	for start := 0; start < len(addrs); start += resultChunk {
		if err := read(db.Where("address IN ?", addrs[start:min(start+resultChunk, len(addrs))])); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Changes compares a finished run with, for each of its hosts, the previous
// finished run of the same scope that recorded that host; from rows, never
// reports.
func (s *Service) Changes(ctx context.Context, run *models.ScanRun) ([]PortChange, error) {
	if run.Status != "done" {
		return nil, nil
	}
	if err := s.ensureRows(ctx, run); err != nil {
		return nil, err
	}
	db := s.DB().WithContext(ctx)
	prev, err := s.previousRuns(db, run)
	if err != nil {
		return nil, err
	}
	if len(prev) == 0 {
		return nil, nil
	}
	cur, err := openPorts(db, run.ID, nil)
	if err != nil {
		return nil, err
	}
	byRun := map[uint][]string{}
	for addr, id := range prev {
		byRun[id] = append(byRun[id], addr)
	}
	var out []PortChange
	for id, addrs := range byRun {
		sort.Strings(addrs)
		before, err := openPorts(db, id, addrs)
		if err != nil {
			return nil, err
		}
		for _, a := range addrs {
			out = append(out, diffHost(a, before[a], cur[a])...)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Address != out[j].Address {
			return out[i].Address < out[j].Address
		}
		if out[i].Protocol != out[j].Protocol {
			return out[i].Protocol < out[j].Protocol
		}
		return out[i].Port < out[j].Port
	})
	return out, nil
}

// HostResult is what the latest finished run that recorded a host saw there.
type HostResult struct {
	Run  models.ScanRun
	Host models.ScanResult
}

// LatestOf returns the latest finished run that recorded address, with
// the host's row; nil when no finished run has.
//
// The host row and its run (without its report) come in one statement: a
// round trip fewer on PostgreSQL for the asset page, which reads it on
// every view.
func (s *Service) LatestOf(ctx context.Context, address string) (*HostResult, error) {
	found, err := models.ReadRows(latestHost(s.DB().WithContext(ctx), address, false).Select(latestColumns).Limit(1), 1, scanLatest)
	if err != nil || len(found) == 0 {
		return nil, err
	}
	return &found[0], nil
}

// latestColumns are a host row's columns and its run's but the report, in
// the order scanLatest reads them.
var latestColumns = slices.Concat(prefixed("p.", hostColumns), prefixed("r.", runColumns))

func scanLatest(rows *sql.Rows, l *HostResult) error {
	return rows.Scan(slices.Concat(hostFields(&l.Host), runFields(&l.Run))...)
}

// hostColumns are every column of a host row, in the order of hostFields.
var hostColumns = []string{"id", "run_id", "address", "protocol", "port", "state", "tarpit", "service", "product", "version", "tls", "banner", "findings"}

func hostFields(h *models.ScanResult) []any {
	return []any{models.Uint(&h.ID), models.Uint(&h.RunID), &h.Address, &h.Protocol, &h.Port, &h.State, &h.Tarpit, &h.Service, &h.Product, &h.Version, &h.TLS, &h.Banner, &h.Findings}
}

// runColumns are every column of a run but its report (a whole scan's
// findings, read only where one run is shown), in the order of runFields.
var runColumns = []string{
	"id", "kind", "profile", "targets", "tcp_ports", "udp_ports", "zone", "request_id", "status", "holder", "requested_by",
	"progress", "error", "summary", "queued_at", "started_at", "finished_at",
}

func runFields(r *models.ScanRun) []any {
	return []any{models.Uint(&r.ID), &r.Kind, &r.Profile, &r.Targets, &r.TCPPorts, &r.UDPPorts, &r.Zone, &r.RequestID, &r.Status, &r.Holder, &r.RequestedBy,
		&r.Progress, &r.Error, &r.Summary, &r.QueuedAt, &r.StartedAt, &r.FinishedAt}
}

// findRuns reads the runs of q but their reports, through a column reader
// rather than gorm's reflected Find: the scan lists read 50 at a time.
func findRuns(q *gorm.DB, capacity int) ([]models.ScanRun, error) {
	return models.ReadRows(q.Model(&models.ScanRun{}).Select(runColumns), capacity, func(rows *sql.Rows, r *models.ScanRun) error {
		return rows.Scan(runFields(r)...)
	})
}

func prefixed(prefix string, columns []string) []string {
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = prefix + c
	}
	return out
}

// latestHost is the host rows (p) that finished runs (r) recorded of
// address, newest run first (with broadOnly, leaving out verification
// runs, which probe only their request's ports).
func latestHost(db *gorm.DB, address string, broadOnly bool) *gorm.DB {
	q := db.Table("scan_results p").Joins("JOIN scan_runs r ON r.id = p.run_id").
		Where("p.address = ? AND p.protocol = '' AND p.port = 0 AND r.status = ?", address, "done")
	if broadOnly {
		q = q.Where("r.kind <> ?", "verification")
	}
	return q.Order("p.run_id DESC")
}

// latestHostRow is the host row of the latest finished run that recorded
// address (see latestHost); nil when there is none.
func latestHostRow(db *gorm.DB, address string, broadOnly bool) (*models.ScanResult, error) {
	var host models.ScanResult
	err := latestHost(db, address, broadOnly).Select("p.*").Take(&host).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &host, nil
}

// PortKey orders one host's ports.
type PortKey struct {
	Protocol string `json:"p"`
	Port     int    `json:"n"`
}

// HostPorts is one page of the ports a run recorded on one host.
func (s *Service) HostPorts(ctx context.Context, runID uint, address string, req paging.Request[PortKey]) (paging.Page[Port], error) {
	q := s.DB().WithContext(ctx).Where("run_id = ? AND address = ? AND protocol <> ''", runID, address)
	if req.After != nil {
		q = q.Where("(protocol, port) > (?, ?)", req.After.Protocol, req.After.Port)
	}
	var rows []models.ScanResult
	if err := q.Order("protocol, port").Limit(req.Fetch()).Find(&rows).Error; err != nil {
		return paging.Page[Port]{}, err
	}
	ports := make([]Port, len(rows))
	for i, r := range rows {
		ports[i] = portOf(r)
	}
	return paging.Cut(req, ports, func(p Port) PortKey { return PortKey{p.Protocol, int(p.Port)} }), nil
}

// RunKey orders runs newest first.
type RunKey struct {
	ID uint `json:"id"`
}

// HistoryOf is one page of the runs that recorded address, newest first.
func (s *Service) HistoryOf(ctx context.Context, address string, req paging.Request[RunKey]) (paging.Page[models.ScanRun], error) {
	db := s.DB().WithContext(ctx)
	q := db.Model(&models.ScanResult{}).Where("address = ? AND protocol = '' AND port = 0", address)
	if req.After != nil {
		q = q.Where("run_id < ?", req.After.ID)
	}
	// The page's run ids, from the host rows' index, and their runs in one
	// statement: one round trip on PostgreSQL, not two.
	runs, err := findRuns(db.Where("id IN (?)", q.Select("run_id").Order("run_id DESC").Limit(req.Fetch())).Order("id DESC"), req.Fetch())
	if err != nil {
		return paging.Page[models.ScanRun]{}, err
	}
	return paging.Cut(req, runs, func(r models.ScanRun) RunKey { return RunKey{r.ID} }), nil
}

// Listening is what the latest broad scan of a host found open there.
type Listening struct {
	RunID uint
	At    time.Time
	Ports []Port
}

// ListeningOn returns, for address, the open ports of the latest finished
// scan that looked at more than a request's ports (verification runs
// probe only those), or nil when no such scan recorded it: what a
// requester needs to see before asking for a port nothing answers on.
func (s *Service) ListeningOn(ctx context.Context, address string) (*Listening, error) {
	db := s.DB().WithContext(ctx)
	host, err := latestHostRow(db, address, true)
	if host == nil || err != nil {
		return nil, err
	}
	var run models.ScanRun
	if err := db.Select("id, queued_at, finished_at").First(&run, host.RunID).Error; err != nil {
		return nil, err
	}
	open, err := openPorts(db, run.ID, []string{address})
	if err != nil {
		return nil, err
	}
	l := &Listening{RunID: run.ID, At: run.QueuedAt, Ports: open[address]}
	if run.FinishedAt != nil {
		l.At = *run.FinishedAt
	}
	sort.Slice(l.Ports, func(i, j int) bool {
		if l.Ports[i].Protocol != l.Ports[j].Protocol {
			return l.Ports[i].Protocol < l.Ports[j].Protocol
		}
		return l.Ports[i].Port < l.Ports[j].Port
	})
	return l, nil
}
