package agents

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/paging"
)

// Options tune the chunk queue.
type Options struct {
	// HeartbeatTimeout is how long a chunk's lease lasts without a
	// heartbeat; after it the chunk goes back to the queue.
	HeartbeatTimeout time.Duration
	// ChunkHosts is how many hosts one chunk holds.
	ChunkHosts int
}

// DefaultOptions: 30 s leases, 16 hosts a chunk.
var DefaultOptions = Options{HeartbeatTimeout: 30 * time.Second, ChunkHosts: 16}

// Service runs the agents' use cases over the shared store.
type Service struct {
	*core.Store
	opts     Options
	external ExternalDrift
}

// New makes the service.
func New(st *core.Store) *Service { return &Service{Store: st, opts: DefaultOptions} }

// SetOptions replaces the options; zero fields keep the defaults.
func (s *Service) SetOptions(o Options) {
	if o.HeartbeatTimeout <= 0 {
		o.HeartbeatTimeout = DefaultOptions.HeartbeatTimeout
	}
	if o.ChunkHosts <= 0 {
		o.ChunkHosts = DefaultOptions.ChunkHosts
	}
	s.opts = o
}

// Options are the options in force.
func (s *Service) Options() Options { return s.opts }

// Agent states.
const (
	StateEnrolling = "enrolling"
	StateActive    = "active"
	StateRevoked   = "revoked"
)

// DefaultTokenTTL is how long an enrolment token is valid unless told.
const DefaultTokenTTL = 24 * time.Hour

var agentName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func canAdminister(a core.Actor) error {
	if a.ID == 0 || a.Has(core.RoleAdmin) {
		return nil
	}
	return core.Forbidden(core.M("err.agents.admin", "you need the admin role to enrol or revoke agents"))
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ParseZones reads a comma-separated zone list.
func ParseZones(text string) []string {
	var out []string
	for _, z := range strings.Split(text, ",") {
		if z = strings.TrimSpace(z); z != "" && !slices.Contains(out, z) {
			out = append(out, z)
		}
	}
	return out
}

// Enrol creates an agent and its one-time enrolment token, which is
// returned once and kept only as a hash.
func (s *Service) Enrol(ctx context.Context, actor core.Actor, name string, zones []string, ttl time.Duration) (*models.Agent, string, error) {
	if err := canAdminister(actor); err != nil {
		return nil, "", err
	}
	name = strings.TrimSpace(name)
	if !agentName.MatchString(name) {
		return nil, "", core.Invalid("name", core.M("err.agents.name", "the agent's name is 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit"))
	}
	if len(zones) == 0 {
		return nil, "", core.Invalid("zones", core.M("err.agents.zones_none", "name at least one zone (or {{.Internet}} for an internet-vantage agent)", "Internet", strconv.Quote(InternetZone)))
	}
	if slices.Contains(zones, InternetZone) && len(zones) > 1 {
		return nil, "", core.Invalid("zones", core.M("err.agents.internet_alone", "an internet-vantage agent scans from outside: {{.Internet}} goes alone", "Internet", strconv.Quote(InternetZone)))
	}
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	if ttl < time.Minute || ttl > 30*24*time.Hour {
		return nil, "", core.Invalid("ttl", core.M("err.agents.ttl", "the token's lifetime is from 1m to 720h, not {{.TTL}}", "TTL", ttl.String()))
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	token := "pca_" + base64.RawURLEncoding.EncodeToString(raw)
	var agent models.Agent
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		for _, z := range zones {
			if z == InternetZone {
				continue
			}
			var n int64
			if err := tx.Model(&models.Zone{}).Where("name = ?", z).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return core.Invalid("zones", core.M("err.agents.no_zone", "there is no zone {{.Zone}}", "Zone", strconv.Quote(z)))
			}
		}
		var n int64
		if err := tx.Model(&models.Agent{}).Where("name = ?", name).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return core.Invalid("name", core.M("err.agents.name_taken", "an agent named {{.Name}} exists already", "Name", strconv.Quote(name)))
		}
		now := s.Now()
		agent = models.Agent{Name: name, Zones: strings.Join(zones, ","), State: StateEnrolling, TokenHash: hashToken(token),
			TokenExpiresAt: now.Add(ttl), CreatedBy: actor.Email, CreatedAt: now}
		if err := tx.Create(&agent).Error; err != nil {
			return err
		}
		return s.Audit(tx, actor, "agent.enrol", "agent", agent.ID, "", StateEnrolling,
			map[string]any{"name": name, "zones": zones, "token_expires_at": agent.TokenExpiresAt}, "")
	})
	if err != nil {
		return nil, "", err
	}
	return &agent, token, nil
}

// Enrolled is what an agent receives for its token.
type Enrolled struct {
	AgentID   uint        `json:"agent_id"`
	Name      string      `json:"name"`
	Scope     SignedScope `json:"scope"`
	ServerKey string      `json:"server_key"`
}

var errTokenRefused = core.Unauthorized(core.M("err.agents.token_refused", "the enrolment token is refused: unknown, already used or expired (ask an admin for a new one)"))

// Exchange trades a valid enrolment token, once, for the agent's pinned
// public key; the agent gets its id, its signed scope and the server's key.
func (s *Service) Exchange(ctx context.Context, token string, pub ed25519.PublicKey, version string) (*Enrolled, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, core.Invalid("public_key", core.M("err.agents.public_key", "the public key is not an Ed25519 key"))
	}
	var agent models.Agent
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		if err := tx.Where("token_hash = ? AND state = ?", hashToken(token), StateEnrolling).Take(&agent).Error; err != nil {
			return errTokenRefused
		}
		if !agent.TokenExpiresAt.After(now) {
			return errTokenRefused
		}
		// The conditional update is what makes the token single-use: of two
		// exchanges at once, one changes the row and the other finds it gone.
		res := tx.Model(&models.Agent{}).Where("id = ? AND state = ? AND token_hash = ?", agent.ID, StateEnrolling, agent.TokenHash).
			Updates(map[string]any{"state": StateActive, "token_hash": "", "public_key": EncodeKey(pub), "version": version, "enrolled_at": now, "last_seen_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return errTokenRefused
		}
		agent.State, agent.PublicKey, agent.Version = StateActive, EncodeKey(pub), version
		return s.Audit(tx, core.SystemActor, "agent.enrolled", "agent", agent.ID, StateEnrolling, StateActive,
			map[string]any{"name": agent.Name, "version": version, "key_sha256": keyFingerprint(pub)}, "")
	})
	if err != nil {
		if errors.Is(err, errTokenRefused) {
			s.AuditNow(ctx, core.AnonymousActor, "agent.enrol_refused", "agent", agent.ID, map[string]any{"reason": "token unknown, used or expired"})
		}
		return nil, err
	}
	scope, err := s.ScopeFor(ctx, &agent)
	if err != nil {
		return nil, err
	}
	key, err := s.serverKey(ctx)
	if err != nil {
		return nil, err
	}
	return &Enrolled{AgentID: agent.ID, Name: agent.Name, Scope: scope, ServerKey: EncodeKey(key.Public().(ed25519.PublicKey))}, nil
}

func keyFingerprint(pub []byte) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// Authenticate checks a signed agent request: the agent exists and is
// active, the signature is its key's over this request, the time is inside
// the replay window and the nonce was never seen. The nonce is remembered.
func (s *Service) Authenticate(ctx context.Context, header, method, path string, body []byte) (*models.Agent, error) {
	signed, err := ParseSigned(header)
	if err != nil {
		return nil, core.Unauthorized(core.M("err.agents.signature", "{{.Reason}}", "Reason", core.Plain(err.Error())))
	}
	var agent models.Agent
	if err := s.DB().WithContext(ctx).Take(&agent, signed.AgentID).Error; err != nil {
		return nil, core.Unauthorized(core.M("err.agents.not_enrolled", "agent {{.ID}} is not enrolled", "ID", signed.AgentID))
	}
	switch agent.State {
	case StateRevoked:
		return nil, core.Unauthorized(core.M("err.agents.revoked_by", "agent {{.Name}} was revoked by {{.By}}", "Name", strconv.Quote(agent.Name), "By", agent.RevokedBy))
	case StateActive:
	default:
		return nil, core.Unauthorized(core.M("err.agents.enrolment_incomplete", "agent {{.Name}} has not completed its enrolment", "Name", strconv.Quote(agent.Name)))
	}
	pub, err := DecodePublicKey(agent.PublicKey)
	if err != nil {
		return nil, core.Unauthorized(core.M("err.agents.no_key", "agent {{.Name}} has no key", "Name", strconv.Quote(agent.Name)))
	}
	now := s.Now()
	if err := signed.Verify(pub, method, path, body, now); err != nil {
		return nil, core.Unauthorized(core.M("err.agents.signature", "{{.Reason}}", "Reason", core.Plain(err.Error())))
	}
	err = s.InTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("agent_id = ? AND seen_at < ?", agent.ID, now.Add(-2*ReplayWindow)).Delete(&models.AgentNonce{}).Error; err != nil {
			return err
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&models.AgentNonce{AgentID: agent.ID, Nonce: signed.Nonce, SeenAt: now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return core.Unauthorized(core.M("err.agents.replayed", "the request was replayed (its nonce was used before)"))
		}
		// Revocation and the last contact in the same step: a revoke that
		// committed first leaves nothing to update, and the call is refused.
		res = tx.Model(&models.Agent{}).Where("id = ? AND state = ?", agent.ID, StateActive).Update("last_seen_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return core.Unauthorized(core.M("err.agents.revoked", "agent {{.Name}} was revoked", "Name", strconv.Quote(agent.Name)))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	agent.LastSeenAt = &now
	return &agent, nil
}

// Contact records what an agent says of itself at each poll: its version,
// and when it started; a new start is a new connection, audited once.
func (s *Service) Contact(ctx context.Context, agent *models.Agent, version string, startedAt time.Time) error {
	if startedAt.IsZero() {
		return core.Invalid("started_at", core.M("err.agents.started_at", "started_at is required"))
	}
	startedAt = startedAt.UTC().Truncate(time.Millisecond)
	if agent.StartedAt != nil && agent.StartedAt.Equal(startedAt) && agent.Version == version {
		return nil
	}
	return s.InTx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&models.Agent{}).Where("id = ? AND (started_at IS NULL OR started_at <> ?)", agent.ID, startedAt).
			Updates(map[string]any{"started_at": startedAt, "version": version})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		agent.StartedAt, agent.Version = &startedAt, version
		return s.Audit(tx, core.SystemActor, "agent.connect", "agent", agent.ID, "", "",
			map[string]any{"name": agent.Name, "version": version, "started_at": startedAt, "from": core.ClientAddr(ctx)}, "")
	})
}

// Revoke ends an agent's credential at once and puts its chunks back in
// the queue.
func (s *Service) Revoke(ctx context.Context, actor core.Actor, id uint, reason string) error {
	if err := canAdminister(actor); err != nil {
		return err
	}
	if err := core.CheckLength("reason", core.M("err.field.reason", "the reason"), reason, core.Limits.Reason); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *gorm.DB) error {
		var a models.Agent
		if err := tx.Take(&a, id).Error; err != nil {
			return core.NotFound("agent", id)
		}
		now := s.Now()
		res := tx.Model(&models.Agent{}).Where("id = ? AND state <> ?", id, StateRevoked).
			Updates(map[string]any{"state": StateRevoked, "revoked_at": now, "revoked_by": actor.Email, "token_hash": ""})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return core.Conflict(core.M("err.agents.revoked_already", "agent {{.Name}} is revoked already", "Name", strconv.Quote(a.Name)))
		}
		if err := tx.Model(&models.ScanChunk{}).Where("agent_id = ? AND state = ?", id, chunkLeased).
			Updates(map[string]any{"state": chunkQueued, "lease_until": nil}).Error; err != nil {
			return err
		}
		return s.Audit(tx, actor, "agent.revoke", "agent", id, a.State, StateRevoked, map[string]any{"name": a.Name}, reason)
	})
}

// View is an agent as the Agents page and the API show it.
type View struct {
	models.Agent
	// Status is enrolling, online, offline or revoked.
	Status string
	// Work is the chunk the agent holds under a live lease; nil when idle,
	// gone (its lease ran out) or revoked.
	Work *Work
}

// Work is a chunk an agent is scanning: its scan, its place in the scan
// (from 1) and how many hosts it holds.
type Work struct {
	RunID uint
	Chunk int
	Hosts int
}

// String is the work in English, as the API and the command line say it.
func (w *Work) String() string {
	if w == nil {
		return ""
	}
	return fmt.Sprintf("scan %d, chunk %d (%d hosts)", w.RunID, w.Chunk, w.Hosts)
}

// Status says whether an agent is heard from: online within three
// heartbeat timeouts of its last call.
func (s *Service) status(a models.Agent) string {
	switch {
	case a.State != StateActive:
		return a.State
	case a.LastSeenAt != nil && s.Now().Sub(*a.LastSeenAt) < 3*s.opts.HeartbeatTimeout:
		return "online"
	}
	return "offline"
}

// AgentKey orders agents by name.
type AgentKey struct {
	Name string `json:"n"`
}

// List is one page of the agents, by name.
func (s *Service) List(ctx context.Context, actor core.Actor, req paging.Request[AgentKey]) (paging.Page[View], error) {
	if actor.ID != 0 && !actor.Has(core.RoleAdmin, core.RoleAuditor) {
		return paging.Page[View]{}, core.Forbidden(core.M("err.agents.list_roles", "the agents are for admins and auditors"))
	}
	q := s.DB().WithContext(ctx)
	if req.After != nil {
		q = q.Where("name > ?", req.After.Name)
	}
	var rows []models.Agent
	if err := q.Order("name").Limit(req.Fetch()).Find(&rows).Error; err != nil {
		return paging.Page[View]{}, err
	}
	work, err := s.workOf(s.DB().WithContext(ctx), rows)
	if err != nil {
		return paging.Page[View]{}, err
	}
	views := make([]View, len(rows))
	for i, a := range rows {
		a.TokenHash = ""
		if work[a.ID] == nil {
			a.PortsPerSecond = 0 // a rate is of the work in hand
		}
		views[i] = View{Agent: a, Status: s.status(a), Work: work[a.ID]}
	}
	return paging.Cut(req, views, func(v View) AgentKey { return AgentKey{v.Name} }), nil
}

// workOf reads each agent's current work from the chunks it holds under a
// lease still running, so that an agent that vanished, lost its lease or
// was revoked shows none, whoever took the chunk over.
func (s *Service) workOf(db *gorm.DB, agents []models.Agent) (map[uint]*Work, error) {
	ids := make([]uint, len(agents))
	for i, a := range agents {
		ids[i] = a.ID
	}
	out := map[uint]*Work{}
	if len(ids) == 0 {
		return out, nil
	}
	var held []models.ScanChunk
	if err := db.Select("id, run_id, position, targets, agent_id").
		Where("agent_id IN ? AND state = ? AND lease_until >= ?", ids, chunkLeased, s.Now()).Order("id").Find(&held).Error; err != nil {
		return nil, err
	}
	for _, c := range held {
		if c.AgentID != nil && out[*c.AgentID] == nil {
			out[*c.AgentID] = &Work{RunID: c.RunID, Chunk: c.Position + 1, Hosts: len(strings.Split(c.Targets, ","))}
		}
	}
	return out, nil
}

// serverKey is the server's scope-signing key, made on first use and
// shared by every instance through the database.
func (s *Service) serverKey(ctx context.Context) (ed25519.PrivateKey, error) {
	db := s.DB().WithContext(ctx)
	var row models.AgentServerKey
	err := db.Order("id").Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		seed := make([]byte, ed25519.SeedSize)
		rand.Read(seed)
		err = s.InTx(ctx, func(tx *gorm.DB) error {
			var n int64
			if err := tx.Model(&models.AgentServerKey{}).Count(&n).Error; err != nil || n > 0 {
				return err
			}
			return tx.Create(&models.AgentServerKey{PrivateKey: base64.StdEncoding.EncodeToString(seed), CreatedAt: s.Now()}).Error
		})
		if err == nil {
			err = db.Order("id").Take(&row).Error
		}
	}
	if err != nil {
		return nil, err
	}
	return DecodePrivateKey(row.PrivateKey)
}

// ScopeFor signs the agent's current scope: its zones' CIDRs (for the
// internet vantage, the assets' public addresses). When they changed since
// the last document, the scope is re-issued, audited, with a new issue time.
func (s *Service) ScopeFor(ctx context.Context, agent *models.Agent) (SignedScope, error) {
	key, err := s.serverKey(ctx)
	if err != nil {
		return SignedScope{}, err
	}
	scope, err := s.currentScope(s.DB().WithContext(ctx), agent)
	if err != nil {
		return SignedScope{}, err
	}
	hash := scope.contentHash()
	if hash != agent.ScopeHash || agent.ScopeIssuedAt == nil {
		now := s.Now().Truncate(time.Second)
		err := s.InTx(ctx, func(tx *gorm.DB) error {
			res := tx.Model(&models.Agent{}).Where("id = ? AND scope_hash = ?", agent.ID, agent.ScopeHash).
				Updates(map[string]any{"scope_hash": hash, "scope_issued_at": now})
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
			return s.Audit(tx, core.SystemActor, "agent.scope_issued", "agent", agent.ID, "", "", map[string]any{"name": agent.Name, "zones": scope.Zones}, "")
		})
		if err != nil {
			return SignedScope{}, err
		}
		var fresh models.Agent
		if err := s.DB().WithContext(ctx).Take(&fresh, agent.ID).Error; err != nil {
			return SignedScope{}, err
		}
		agent.ScopeHash, agent.ScopeIssuedAt = fresh.ScopeHash, fresh.ScopeIssuedAt
	}
	scope.IssuedAt = agent.ScopeIssuedAt.UTC()
	return SignScope(key, scope)
}

// ServerPublicKey is the key agents check scope documents with.
func (s *Service) ServerPublicKey(ctx context.Context) (ed25519.PublicKey, error) {
	k, err := s.serverKey(ctx)
	if err != nil {
		return nil, err
	}
	return k.Public().(ed25519.PublicKey), nil
}

func (s *Service) currentScope(db *gorm.DB, agent *models.Agent) (Scope, error) {
	scope := Scope{AgentID: agent.ID, Agent: agent.Name, Zones: []ZoneScope{}}
	zones := ParseZones(agent.Zones)
	if slices.Contains(zones, InternetZone) {
		var addrs []string
		if err := db.Model(&models.Asset{}).Where("public_address <> ''").Order("public_address").Pluck("public_address", &addrs).Error; err != nil {
			return scope, err
		}
		zs := ZoneScope{Name: InternetZone, CIDRs: []netip.Prefix{}}
		for _, a := range addrs {
			if addr, err := netip.ParseAddr(a); err == nil {
				zs.CIDRs = append(zs.CIDRs, netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()))
			}
		}
		scope.Zones = append(scope.Zones, zs)
		return scope, nil
	}
	var rows []models.Zone
	if err := db.Where("name IN ?", zones).Order("name").Find(&rows).Error; err != nil {
		return scope, err
	}
	for _, z := range rows {
		zs := ZoneScope{Name: z.Name, CIDRs: []netip.Prefix{}}
		for _, line := range strings.FieldsFunc(z.CIDRs, func(r rune) bool { return r == '\n' || r == ',' || r == ' ' || r == '\r' }) {
			if p, err := netip.ParsePrefix(line); err == nil {
				zs.CIDRs = append(zs.CIDRs, p.Masked())
			}
		}
		scope.Zones = append(scope.Zones, zs)
	}
	return scope, nil
}
