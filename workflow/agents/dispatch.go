package agents

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/driftrules"
	"github.com/portcullis/portcullis/workflow/policy"
	"github.com/portcullis/portcullis/workflow/scans"
)

// ExternalDrift judges what the internet vantage saw (drift.Service).
type ExternalDrift interface {
	RecordExternal(tx *gorm.DB, runID uint, scope driftrules.PortScope, hosts []scans.Host, publicOf map[string]string) (opened, resolved int, err error)
}

// SetExternalDrift gives the service what records exposed-externally drift.
func (s *Service) SetExternalDrift(d ExternalDrift) { s.external = d }

// Dispatcher is the scanner the scan service runs: the hosts of zones that
// have live agents are split into chunks for those agents; the rest are
// scanned by the built-in scanner inside the server, as before agents. The
// run's report holds both.
type Dispatcher struct {
	svc     *Service
	builtin scans.HostScanner
	// Poll is how often a run waiting on its chunks looks at them.
	Poll time.Duration
}

// Dispatcher wraps the built-in scanner.
func (s *Service) Dispatcher(builtin scans.HostScanner) *Dispatcher {
	return &Dispatcher{svc: s, builtin: builtin, Poll: 500 * time.Millisecond}
}

// Resolve is the built-in scanner's: the profiles' ports are the same everywhere.
func (d *Dispatcher) Resolve(job scans.Job) (scans.Job, error) { return d.builtin.Resolve(job) }

// Scan runs the job without streaming hosts.
func (d *Dispatcher) Scan(ctx context.Context, job scans.Job, progress func(scans.Progress)) ([]byte, error) {
	return d.ScanHosts(ctx, job, progress, func(scans.Host) {})
}

// plan splits a job's targets: by zone, those whose zone has a live
// agent; the rest for the built-in scanner; and, when an internet-vantage
// agent is live, the public addresses of the targets' assets.
func (s *Service) plan(db *gorm.DB, targets []netip.Addr) (byZone map[string][]string, builtin []netip.Addr, public []string, err error) {
	var live []models.Agent
	since := s.Now().Add(-3 * s.opts.HeartbeatTimeout)
	if err := db.Where("state = ? AND last_seen_at > ?", StateActive, since).Find(&live).Error; err != nil {
		return nil, nil, nil, err
	}
	served := map[string]bool{}
	for _, a := range live {
		for _, z := range ParseZones(a.Zones) {
			served[z] = true
		}
	}
	if len(served) == 0 {
		return nil, targets, nil, nil
	}
	addrs := make([]string, len(targets))
	for i, t := range targets {
		addrs[i] = t.String()
	}
	var assets []models.Asset
	for start := 0; start < len(addrs); start += 500 {
		var part []models.Asset
		if err := db.Preload("Zone").Where("address IN ?", addrs[start:min(start+500, len(addrs))]).Find(&part).Error; err != nil {
			return nil, nil, nil, err
		}
		assets = append(assets, part...)
	}
	zoneOf := map[string]string{}
	for _, a := range assets {
		if a.Zone != nil {
			zoneOf[a.Address] = a.Zone.Name
		}
		if served[InternetZone] && a.PublicAddress != "" {
			public = append(public, a.PublicAddress)
		}
	}
	byZone = map[string][]string{}
	for _, t := range targets {
		if z := zoneOf[t.String()]; z != "" && served[z] {
			byZone[z] = append(byZone[z], t.String())
			continue
		}
		builtin = append(builtin, t)
	}
	slices.Sort(public)
	return byZone, builtin, slices.Compact(public), nil
}

// enqueue adds chunks for the hosts and public addresses of a run that no
// chunk holds yet: a run executed again (its instance stopped) finds its
// chunks, and what agents sent for them, in place, and each later batch of
// the run adds its own hosts.
func (s *Service) enqueue(ctx context.Context, job scans.Job, byZone map[string][]string, public []string) error {
	return s.InTx(ctx, func(tx *gorm.DB) error {
		held, existing, err := chunkedTargets(tx, job.RunID)
		if err != nil {
			return err
		}
		tcp, udp := portList(job.TCPPorts), portList(job.UDPPorts)
		zones := make([]string, 0, len(byZone))
		for z := range byZone {
			zones = append(zones, z)
		}
		slices.Sort(zones)
		pos := existing
		add := func(zone, vantage string, part []string) error {
			pos++
			return tx.Create(&models.ScanChunk{RunID: job.RunID, Position: pos - 1, Zone: zone, Vantage: vantage, Targets: strings.Join(part, ","),
				TCPPorts: tcp, UDPPorts: udp, Profile: job.Profile, State: chunkQueued}).Error
		}
		for _, z := range zones {
			for _, part := range Split(notHeld(byZone[z], held[VantageInternal]), s.opts.ChunkHosts) {
				if err := add(z, VantageInternal, part); err != nil {
					return err
				}
			}
		}
		newPublic := notHeld(public, held[VantageInternet])
		for _, part := range Split(newPublic, s.opts.ChunkHosts) {
			if err := add(InternetZone, VantageInternet, part); err != nil {
				return err
			}
		}
		if pos == existing {
			return nil
		}
		return s.Audit(tx, core.SystemActor, "scan.chunked", "scan", job.RunID, "", "",
			map[string]any{"chunks": pos - existing, "zones": zones, "public_addresses": len(newPublic)}, "")
	})
}

// chunkedTargets are the addresses a run's chunks hold, by vantage, and
// how many chunks it has.
func chunkedTargets(db *gorm.DB, runID uint) (map[string]map[string]bool, int, error) {
	var chunks []models.ScanChunk
	if err := db.Select("targets, vantage").Where("run_id = ?", runID).Find(&chunks).Error; err != nil {
		return nil, 0, err
	}
	held := map[string]map[string]bool{VantageInternal: {}, VantageInternet: {}}
	for _, c := range chunks {
		if held[c.Vantage] == nil {
			held[c.Vantage] = map[string]bool{}
		}
		for _, t := range strings.Split(c.Targets, ",") {
			held[c.Vantage][t] = true
		}
	}
	return held, len(chunks), nil
}

// notHeld is addrs without those held.
func notHeld(addrs []string, held map[string]bool) []string {
	var out []string
	for _, a := range addrs {
		if !held[a] {
			out = append(out, a)
		}
	}
	return out
}

// portList writes sorted ports compactly, runs as ranges ("1-1024,3306"):
// the spec agents parse.
func portList(ports []uint16) string {
	ports = slices.Clone(ports)
	slices.Sort(ports)
	ports = slices.Compact(ports)
	var parts []string
	for i := 0; i < len(ports); {
		j := i
		for j+1 < len(ports) && ports[j+1] == ports[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, fmt.Sprint(ports[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", ports[i], ports[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// ScanHosts scans the job: its agent zones' hosts by chunks, the rest here.
func (d *Dispatcher) ScanHosts(ctx context.Context, job scans.Job, progress func(scans.Progress), host func(scans.Host)) ([]byte, error) {
	s := d.svc
	if job.RunID == 0 {
		return d.builtin.ScanHosts(ctx, job, progress, host)
	}
	byZone, builtin, public, err := s.plan(s.DB().WithContext(ctx), job.Targets)
	if err != nil {
		return nil, err
	}
	held, existing, err := chunkedTargets(s.DB().WithContext(ctx), job.RunID)
	if err != nil {
		return nil, err
	}
	if len(byZone) == 0 && len(public) == 0 && existing == 0 {
		return d.builtin.ScanHosts(ctx, job, progress, host)
	}
	// A run started again keeps its first split: the chunked hosts stay
	// with the agents, whatever agents are live now.
	var here []netip.Addr
	for _, t := range builtin {
		if !held[VantageInternal][t.String()] {
			here = append(here, t)
		}
	}
	builtin = here
	if err := s.enqueue(ctx, job, byZone, public); err != nil {
		return nil, err
	}
	// This batch's chunks: those holding its targets or their public addresses.
	ours := map[string]bool{}
	for _, t := range job.Targets {
		ours[VantageInternal+" "+t.String()] = true
	}
	for _, a := range public {
		ours[VantageInternet+" "+a] = true
	}
	type result struct {
		report []byte
		err    error
	}
	local := make(chan result, 1)
	var localProgress scans.Progress
	progressCh := make(chan scans.Progress, 1)
	if len(builtin) > 0 {
		lj := job
		lj.Targets = builtin
		go func() {
			r, err := d.builtin.ScanHosts(ctx, lj, func(p scans.Progress) {
				select {
				case progressCh <- p:
				default:
				}
			}, host)
			local <- result{r, err}
		}()
	} else {
		local <- result{}
	}
	var localRes *result
	tick := time.NewTicker(d.Poll)
	defer tick.Stop()
	for {
		if localRes == nil {
			select {
			case r := <-local:
				localRes = &r
				if r.err != nil {
					return nil, r.err
				}
			default:
			}
		}
		var all, chunks []models.ScanChunk
		if err := s.DB().WithContext(ctx).Select("id, state, targets, hosts_done, vantage").Where("run_id = ?", job.RunID).Find(&all).Error; err != nil {
			return nil, err
		}
		for _, c := range all {
			if slices.ContainsFunc(strings.Split(c.Targets, ","), func(t string) bool { return ours[c.Vantage+" "+t] }) {
				chunks = append(chunks, c)
			}
		}
		p := scans.Progress{Phase: "agents"}
		done := true
		for _, c := range chunks {
			p.HostsTotal += len(strings.Split(c.Targets, ","))
			p.HostsDone += c.HostsDone
			done = done && c.State == chunkDone
		}
		select {
		case localProgress = <-progressCh:
		default:
		}
		p.HostsDone += localProgress.HostsDone
		p.HostsTotal += len(builtin)
		p.Rate = localProgress.Rate
		progress(p)
		if done && localRes != nil {
			if err := s.recordExternal(ctx, job, chunks); err != nil {
				return nil, err
			}
			return d.report(ctx, job, chunks, localRes.report, host)
		}
		// Past the slice's end the wait is left to the next slice, which finds
		// the agents' hosts stored and waits on the rest; the hosts scanned
		// here have finished by then (they are few and near).
		if localRes != nil && !job.SliceEnds.IsZero() && time.Now().After(job.SliceEnds) {
			return nil, scans.ErrSliceEnded
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// recordExternal hands what the internet vantage saw to drift: each public
// address with the asset behind it.
func (s *Service) recordExternal(ctx context.Context, job scans.Job, chunks []models.ScanChunk) error {
	var public []string
	for _, c := range chunks {
		if c.Vantage == VantageInternet {
			public = append(public, strings.Split(c.Targets, ",")...)
		}
	}
	if len(public) == 0 || s.external == nil {
		return nil
	}
	return s.InTx(ctx, func(tx *gorm.DB) error {
		hosts, err := scans.HostsOf(tx, job.RunID, public)
		if err != nil {
			return err
		}
		var assets []models.Asset
		if err := tx.Select("address, public_address").Where("public_address IN ?", public).Find(&assets).Error; err != nil {
			return err
		}
		publicOf := map[string]string{}
		for _, a := range assets {
			publicOf[a.PublicAddress] = a.Address
		}
		scope := driftrules.PortScope{}
		for _, p := range job.TCPPorts {
			scope.TCP = append(scope.TCP, policy.PortRange{First: p, Last: p})
		}
		for _, p := range job.UDPPorts {
			scope.UDP = append(scope.UDP, policy.PortRange{First: p, Last: p})
		}
		_, _, err = s.external.RecordExternal(tx, job.RunID, scope, hosts, publicOf)
		return err
	})
}

// report merges the built-in scanner's report with the hosts the agents
// sent from inside their zones. The internet vantage's hosts are public
// addresses, not inventory: they stay in the run's rows and the chunks.
func (d *Dispatcher) report(ctx context.Context, job scans.Job, chunks []models.ScanChunk, local []byte, host func(scans.Host)) ([]byte, error) {
	var addrs []string
	for _, c := range chunks {
		if c.Vantage == VantageInternal {
			addrs = append(addrs, strings.Split(c.Targets, ",")...)
		}
	}
	hosts, err := scans.HostsOf(d.svc.DB().WithContext(ctx), job.RunID, addrs)
	if err != nil {
		return nil, err
	}
	for _, h := range hosts {
		host(h)
	}
	doc := map[string]json.RawMessage{}
	var localHosts []json.RawMessage
	if len(local) > 0 {
		if err := json.Unmarshal(local, &doc); err != nil {
			return nil, fmt.Errorf("the built-in scanner's report: %w", err)
		}
		if raw, ok := doc["hosts"]; ok && string(raw) != "null" {
			if err := json.Unmarshal(raw, &localHosts); err != nil {
				return nil, fmt.Errorf("the built-in scanner's report: %w", err)
			}
		}
	} else {
		now := d.svc.Now()
		doc["schema"], _ = json.Marshal("portcullis.scan/v1")
		doc["started_at"], _ = json.Marshal(now)
		doc["finished_at"], _ = json.Marshal(now)
		doc["profile"], _ = json.Marshal(job.Profile)
		doc["method"], _ = json.Marshal("agents")
	}
	type keyed struct {
		addr netip.Addr
		raw  json.RawMessage
	}
	var all []keyed
	for _, raw := range localHosts {
		var h struct{ Address string }
		json.Unmarshal(raw, &h)
		a, _ := netip.ParseAddr(h.Address)
		all = append(all, keyed{a, raw})
	}
	for _, h := range hosts {
		raw, err := json.Marshal(h)
		if err != nil {
			return nil, err
		}
		a, _ := netip.ParseAddr(h.Address)
		all = append(all, keyed{a, raw})
	}
	slices.SortFunc(all, func(a, b keyed) int { return a.addr.Compare(b.addr) })
	merged := make([]json.RawMessage, len(all))
	for i, k := range all {
		merged[i] = k.raw
	}
	doc["hosts"], err = json.Marshal(merged)
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}
