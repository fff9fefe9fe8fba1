package agents

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/scans"
)

// Chunk states.
const (
	chunkQueued = "queued"
	chunkLeased = "leased"
	chunkDone   = "done"
)

// Vantages: from inside the zone, or from the internet onto public addresses.
const (
	VantageInternal = "internal"
	VantageInternet = "internet"
)

// Split cuts targets into chunks of at most n hosts, in order.
func Split(targets []string, n int) [][]string {
	if n <= 0 {
		n = 1
	}
	var out [][]string
	for start := 0; start < len(targets); start += n {
		out = append(out, slices.Clone(targets[start:min(start+n, len(targets))]))
	}
	return out
}

// Chunk is a leased chunk as an agent receives it.
type Chunk struct {
	ID           uint     `json:"id"`
	Lease        int      `json:"lease"`
	RunID        uint     `json:"run_id"`
	Zone         string   `json:"zone"`
	Vantage      string   `json:"vantage"`
	Targets      []string `json:"targets"`
	TCPPorts     string   `json:"tcp_ports"`
	UDPPorts     string   `json:"udp_ports"`
	Profile      string   `json:"profile"`
	LeaseSeconds int      `json:"lease_seconds"`
}

// TakeChunk leases the next chunk of the agent's zones, or returns nil.
// A chunk is free when queued or when its lease ran out (its agent
// vanished); the agent's own leased chunk is handed back to it after a
// restart. The take is a conditional update on the lease read, so two
// agents never hold the same chunk.
func (s *Service) TakeChunk(ctx context.Context, agent *models.Agent) (*Chunk, error) {
	now := s.Now()
	// Most polls find nothing: a read first, so that an idle agent costs no
	// write transaction.
	var free int64
	if err := s.freeChunks(s.DB().WithContext(ctx), agent, now).Count(&free).Error; err != nil || free == 0 {
		return nil, err
	}
	var out *Chunk
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		var cands []models.ScanChunk
		if err := s.freeChunks(tx, agent, now).Select("c.*").Order("c.id").Limit(8).Find(&cands).Error; err != nil {
			return err
		}
		for _, c := range cands {
			until := now.Add(s.opts.HeartbeatTimeout)
			res := tx.Model(&models.ScanChunk{}).Where("id = ? AND lease = ? AND state = ?", c.ID, c.Lease, c.State).
				Updates(map[string]any{"state": chunkLeased, "agent_id": agent.ID, "lease": c.Lease + 1, "lease_until": until})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected != 1 {
				continue // another agent took it meanwhile
			}
			if c.State == chunkLeased && c.AgentID != nil && *c.AgentID != agent.ID {
				if err := s.Audit(tx, core.SystemActor, "scan.chunk_requeued", "scan", c.RunID, "", "",
					map[string]any{"chunk": c.ID, "from_agent": *c.AgentID, "to_agent": agent.ID, "reason": "no heartbeat within " + s.opts.HeartbeatTimeout.String()}, ""); err != nil {
					return err
				}
			}
			out = &Chunk{ID: c.ID, Lease: c.Lease + 1, RunID: c.RunID, Zone: c.Zone, Vantage: c.Vantage, Targets: strings.Split(c.Targets, ","),
				TCPPorts: c.TCPPorts, UDPPorts: c.UDPPorts, Profile: c.Profile, LeaseSeconds: int(s.opts.HeartbeatTimeout / time.Second)}
			return nil
		}
		return nil
	})
	return out, err
}

// freeChunks selects the chunks agent may take now: of running scans, in
// its zones (or its vantage), queued, or leased but expired, or its own.
func (s *Service) freeChunks(db *gorm.DB, agent *models.Agent, now time.Time) *gorm.DB {
	q := db.Table("scan_chunks c").Joins("JOIN scan_runs r ON r.id = c.run_id AND r.status = ?", string(scans.StateRunning))
	zones := ParseZones(agent.Zones)
	if slices.Contains(zones, InternetZone) {
		q = q.Where("c.vantage = ?", VantageInternet)
	} else {
		q = q.Where("c.vantage = ? AND c.zone IN ?", VantageInternal, zones)
	}
	return q.Where("c.state = ? OR (c.state = ? AND (c.lease_until < ? OR c.agent_id = ?))", chunkQueued, chunkLeased, now, agent.ID)
}

func leaseLost(c models.ScanChunk) error {
	return core.Conflict(core.M("err.agents.lease_lost", "chunk {{.ID}} is no longer this agent's (lease {{.Lease}} now): drop it", "ID", c.ID, "Lease", c.Lease))
}

// holds checks that agent holds chunk c under lease.
func holds(c models.ScanChunk, agent *models.Agent, lease int) bool {
	return c.AgentID != nil && *c.AgentID == agent.ID && c.Lease == lease
}

// Heartbeat extends the agent's lease on a chunk it is scanning; a
// conflict tells it the chunk went to another agent.
func (s *Service) Heartbeat(ctx context.Context, agent *models.Agent, chunkID uint, lease int, rate float64) error {
	return s.InTx(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		if err := tx.Model(&models.Agent{}).Where("id = ?", agent.ID).Update("ports_per_second", rate).Error; err != nil {
			return err
		}
		if chunkID == 0 {
			return nil
		}
		res := tx.Model(&models.ScanChunk{}).Where("id = ? AND agent_id = ? AND lease = ? AND state = ?", chunkID, agent.ID, lease, chunkLeased).
			Update("lease_until", now.Add(s.opts.HeartbeatTimeout))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			var c models.ScanChunk
			if err := tx.Take(&c, chunkID).Error; err != nil {
				return core.NotFound("chunk", chunkID)
			}
			return leaseLost(c)
		}
		return nil
	})
}

// Upload is one batch of finished hosts of a chunk. Seq counts the
// uploads of one lease from 1: the same (chunk, lease, seq) sent again
// after a cut is acknowledged without effect.
type Upload struct {
	ChunkID uint         `json:"chunk_id"`
	Lease   int          `json:"lease"`
	Seq     int          `json:"seq"`
	Hosts   []scans.Host `json:"hosts"`
	Done    bool         `json:"done"`
	Rate    float64      `json:"ports_per_second"`
}

// Ack answers an upload.
type Ack struct {
	Duplicate bool `json:"duplicate"`
	HostsDone int  `json:"hosts_done"`
}

// Results stores an upload's hosts in the run's results (the same rows the
// server's own scans write), records which agent sent each host, once,
// and finishes the chunk with the last upload.
func (s *Service) Results(ctx context.Context, agent *models.Agent, up Upload) (Ack, error) {
	var ack Ack
	if up.Seq < 1 {
		return ack, core.Invalid("seq", core.M("err.agents.seq", "seq counts uploads from 1"))
	}
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		var c models.ScanChunk
		if err := tx.Take(&c, up.ChunkID).Error; err != nil {
			return core.NotFound("chunk", up.ChunkID)
		}
		if !holds(c, agent, up.Lease) {
			return leaseLost(c)
		}
		ack.HostsDone = c.HostsDone
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&models.ScanChunkUpload{ChunkID: c.ID, Lease: up.Lease, Seq: up.Seq, Hosts: len(up.Hosts), At: now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			ack.Duplicate = true
			return nil
		}
		if c.State != chunkLeased {
			return core.Conflict(core.M("err.agents.chunk_finished", "chunk {{.ID}} is finished already", "ID", c.ID))
		}
		targets := strings.Split(c.Targets, ",")
		if len(up.Hosts) > len(targets) {
			return core.Invalid("hosts", core.M("err.agents.hosts_too_many", "an upload holds at most the chunk's {{.Count}} hosts", "Count", len(targets)))
		}
		added := 0
		for i, h := range up.Hosts {
			addr, err := netip.ParseAddr(h.Address)
			if err != nil || !slices.Contains(targets, addr.Unmap().String()) {
				return core.Invalid(fmt.Sprintf("hosts[%d].address", i), core.M("err.agents.not_target", "{{.Address}} is not a target of chunk {{.ID}}", "Address", strconv.Quote(h.Address), "ID", c.ID))
			}
			h.Address = addr.Unmap().String()
			if err := scans.StoreHost(tx, c.RunID, h); err != nil {
				return err
			}
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&models.ScanChunkHost{ChunkID: c.ID, Address: h.Address, AgentID: agent.ID, At: now})
			if res.Error != nil {
				return res.Error
			}
			added += int(res.RowsAffected)
		}
		set := map[string]any{"hosts_done": gorm.Expr("hosts_done + ?", added), "lease_until": now.Add(s.opts.HeartbeatTimeout)}
		if up.Done {
			set["state"], set["finished_at"], set["lease_until"] = chunkDone, now, nil
		}
		if err := tx.Model(&models.ScanChunk{}).Where("id = ? AND lease = ?", c.ID, up.Lease).Updates(set).Error; err != nil {
			return err
		}
		ack.HostsDone = c.HostsDone + added
		return tx.Model(&models.Agent{}).Where("id = ?", agent.ID).Update("ports_per_second", up.Rate).Error
	})
	return ack, err
}

// Refuse records, audited, the targets of a chunk an agent refused as
// outside its signed scope. They are not scanned by anyone: a server that
// asks an agent for them is misconfigured or worse, and that is the finding.
func (s *Service) Refuse(ctx context.Context, agent *models.Agent, chunkID uint, lease int, addrs []string) error {
	if len(addrs) == 0 {
		return core.Invalid("targets", core.M("err.agents.refused_none", "name the refused targets"))
	}
	return s.InTx(ctx, func(tx *gorm.DB) error {
		var c models.ScanChunk
		if err := tx.Take(&c, chunkID).Error; err != nil {
			return core.NotFound("chunk", chunkID)
		}
		if !holds(c, agent, lease) {
			return leaseLost(c)
		}
		targets := strings.Split(c.Targets, ",")
		for i, a := range addrs {
			if !slices.Contains(targets, a) {
				return core.Invalid(fmt.Sprintf("targets[%d]", i), core.M("err.agents.not_target", "{{.Address}} is not a target of chunk {{.ID}}", "Address", strconv.Quote(a), "ID", c.ID))
			}
		}
		if err := tx.Model(&models.ScanChunk{}).Where("id = ?", c.ID).Update("refused", strings.Join(addrs, ",")).Error; err != nil {
			return err
		}
		return s.Audit(tx, core.SystemActor, "agent.scope_refused", "agent", agent.ID, "", "",
			map[string]any{"agent": agent.Name, "scan": c.RunID, "chunk": c.ID, "targets": addrs}, "the agent refused targets outside its signed scope")
	})
}

// ChunkView is a chunk as GET /api/v1/scans/{id} names it.
type ChunkView struct {
	Position  int      `json:"position"`
	Zone      string   `json:"zone"`
	Vantage   string   `json:"vantage"`
	State     string   `json:"state"`
	Agent     string   `json:"agent,omitempty"`
	Hosts     int      `json:"hosts"`
	HostsDone int      `json:"hosts_done"`
	Refused   []string `json:"refused,omitempty"`
}

// ChunksOf lists a run's chunks and the agents that did them.
func (s *Service) ChunksOf(ctx context.Context, runID uint) ([]ChunkView, []string, error) {
	db := s.DB().WithContext(ctx)
	var rows []models.ScanChunk
	if err := db.Where("run_id = ?", runID).Order("vantage, position").Find(&rows).Error; err != nil {
		return nil, nil, err
	}
	if len(rows) == 0 {
		return nil, nil, nil
	}
	var agents []models.Agent
	if err := db.Select("id, name").Where("id IN (SELECT agent_id FROM scan_chunks WHERE run_id = ?)", runID).Find(&agents).Error; err != nil {
		return nil, nil, err
	}
	names := map[uint]string{}
	for _, a := range agents {
		names[a.ID] = a.Name
	}
	var views []ChunkView
	var did []string
	for _, c := range rows {
		v := ChunkView{Position: c.Position, Zone: c.Zone, Vantage: c.Vantage, State: c.State, Hosts: len(strings.Split(c.Targets, ",")), HostsDone: c.HostsDone}
		if c.AgentID != nil {
			v.Agent = names[*c.AgentID]
			if c.State == chunkDone && !slices.Contains(did, v.Agent) {
				did = append(did, v.Agent)
			}
		}
		if c.Refused != "" {
			v.Refused = strings.Split(c.Refused, ",")
		}
		views = append(views, v)
	}
	slices.Sort(did)
	return views, did, nil
}
