package agents_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/agents"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/paging"
	"github.com/portcullis/portcullis/workflow/scans"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// agentWorld is the test organisation with a clock the test moves.
func agentWorld(t *testing.T) (*workflowtest.World, *fakeClock) {
	return agentWorldOn(t, modelstest.SQLite(t))
}

func agentWorldOn(t *testing.T, db *gorm.DB) (*workflowtest.World, *fakeClock) {
	w := workflowtest.NewWorld(t, db)
	clock := &fakeClock{now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	w.App.SetClock(clock.Now)
	return w, clock
}

// enrolled is an agent that exchanged its token: its id and key.
type enrolled struct {
	agents.Enrolled
	key ed25519.PrivateKey
}

func enrol(t *testing.T, w *workflowtest.World, name string, zones ...string) enrolled {
	t.Helper()
	_, token, err := w.App.Agents.Enrol(w.Ctx, w.Adam, name, zones, 0)
	workflowtest.Must(t, err)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	out, err := w.App.Agents.Exchange(w.Ctx, token, pub, "test")
	workflowtest.Must(t, err)
	return enrolled{Enrolled: *out, key: priv}
}

// agentOf authenticates a signed call of e, as every agent request is.
func agentOf(t *testing.T, w *workflowtest.World, e enrolled) *models.Agent {
	t.Helper()
	body := []byte(`{}`)
	h := agents.Sign(e.key, e.AgentID, "POST", "/api/v1/agent/work", body, w.App.Now(), agents.NewNonce())
	a, err := w.App.Agents.Authenticate(w.Ctx, h, "POST", "/api/v1/agent/work", body)
	workflowtest.Must(t, err)
	return a
}

func TestSignedRequestsVerifyOnlyUnchanged(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"chunk_id":3}`)
	header := agents.Sign(priv, 7, "POST", "/api/v1/agent/results", body, now, agents.NewNonce())
	for _, tc := range []struct {
		name         string
		key          ed25519.PublicKey
		method, path string
		body         []byte
		at           time.Time
		ok           bool
	}{
		{"as signed", pub, "POST", "/api/v1/agent/results", body, now, true},
		{"within the window", pub, "POST", "/api/v1/agent/results", body, now.Add(agents.ReplayWindow - time.Second), true},
		{"after the window", pub, "POST", "/api/v1/agent/results", body, now.Add(agents.ReplayWindow + time.Second), false},
		{"before the window", pub, "POST", "/api/v1/agent/results", body, now.Add(-agents.ReplayWindow - time.Second), false},
		{"another body", pub, "POST", "/api/v1/agent/results", []byte(`{"chunk_id":4}`), now, false},
		{"another path", pub, "POST", "/api/v1/agent/heartbeat", body, now, false},
		{"another method", pub, "PUT", "/api/v1/agent/results", body, now, false},
		{"another key", other, "POST", "/api/v1/agent/results", body, now, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := agents.ParseSigned(header)
			workflowtest.Must(t, err)
			if s.AgentID != 7 {
				t.Fatalf("agent = %d, want 7", s.AgentID)
			}
			err = s.Verify(tc.key, tc.method, tc.path, tc.body, tc.at)
			if (err == nil) != tc.ok {
				t.Fatalf("verify = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestParseSignedRefusesMalformedHeaders(t *testing.T) {
	sig := strings.Repeat("A", 86)
	for _, h := range []string{
		"",
		"agent=1, ts=1800000000, nonce=00112233445566778899aabbccddeeff",
		"agent=0, ts=1800000000, nonce=00112233445566778899aabbccddeeff, sig=" + sig,
		"agent=1, ts=-5, nonce=00112233445566778899aabbccddeeff, sig=" + sig,
		"agent=1, ts=1800000000, nonce=short, sig=" + sig,
		"agent=1, ts=1800000000, nonce=zz112233445566778899aabbccddeeff, sig=" + sig,
		"agent=1, ts=1800000000, nonce=00112233445566778899aabbccddeeff, sig=notbase64!",
		"agent=1, agent=2, ts=1800000000, nonce=00112233445566778899aabbccddeeff, sig=" + sig,
		"agent=1, ts=1800000000, nonce=00112233445566778899aabbccddeeff, sig=" + sig + ", extra=1",
		strings.Repeat("a", 600),
	} {
		if _, err := agents.ParseSigned(h); err == nil {
			t.Errorf("ParseSigned(%q) accepted", h)
		}
	}
}

func TestReplayedRequestIsRefused(t *testing.T) {
	w, _ := agentWorld(t)
	e := enrol(t, w, "apps-1", "apps")
	body := []byte(`{"wait_seconds":1}`)
	h := agents.Sign(e.key, e.AgentID, "POST", "/api/v1/agent/work", body, w.App.Now(), agents.NewNonce())
	if _, err := w.App.Agents.Authenticate(w.Ctx, h, "POST", "/api/v1/agent/work", body); err != nil {
		t.Fatal(err)
	}
	_, err := w.App.Agents.Authenticate(w.Ctx, h, "POST", "/api/v1/agent/work", body)
	workflowtest.MustCode(t, err, core.CodeUnauthorized)
	if !strings.Contains(err.Error(), "replayed") {
		t.Fatalf("err = %v, want a replay refusal", err)
	}
}

func TestEnrolmentTokenIsOneTimeAndExpires(t *testing.T) {
	w, clock := agentWorld(t)
	_, token, err := w.App.Agents.Enrol(w.Ctx, w.Adam, "apps-1", []string{"apps"}, 0)
	workflowtest.Must(t, err)
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := w.App.Agents.Exchange(w.Ctx, token, pub, "v1"); err != nil {
		t.Fatal(err)
	}
	_, err = w.App.Agents.Exchange(w.Ctx, token, pub, "v1")
	workflowtest.MustCode(t, err, core.CodeUnauthorized)

	_, late, err := w.App.Agents.Enrol(w.Ctx, w.Adam, "apps-2", []string{"apps"}, time.Hour)
	workflowtest.Must(t, err)
	clock.Advance(time.Hour + time.Second)
	_, err = w.App.Agents.Exchange(w.Ctx, late, pub, "v1")
	workflowtest.MustCode(t, err, core.CodeUnauthorized)

	var refusals int64
	w.App.DB().Model(&models.AuditEvent{}).Where("action = ?", "agent.enrol_refused").Count(&refusals)
	if refusals != 2 {
		t.Fatalf("refused enrolments audited: %d, want 2", refusals)
	}
	var stored models.Agent
	w.App.DB().Where("name = ?", "apps-2").Take(&stored)
	if stored.TokenHash == "" || strings.Contains(stored.TokenHash, late) {
		t.Fatalf("token hash %q: the token is kept hashed", stored.TokenHash)
	}
}

func TestEnrolmentRefusesBadInput(t *testing.T) {
	w, _ := agentWorld(t)
	for _, tc := range []struct {
		name, agent string
		zones       []string
		ttl         time.Duration
		field       string
	}{
		{"bad name", "has space", []string{"apps"}, 0, "name"},
		{"no zones", "a1", nil, 0, "zones"},
		{"unknown zone", "a1", []string{"nowhere"}, 0, "zones"},
		{"internet with others", "a1", []string{"internet", "apps"}, 0, "zones"},
		{"ttl too long", "a1", []string{"apps"}, 31 * 24 * time.Hour, "ttl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := w.App.Agents.Enrol(w.Ctx, w.Adam, tc.agent, tc.zones, tc.ttl)
			var e *core.Error
			if core.ErrorCodeOf(err) != core.CodeInvalid || !asError(err, &e) || e.Field != tc.field {
				t.Fatalf("err = %v, want invalid %s", err, tc.field)
			}
		})
	}
	_, _, err := w.App.Agents.Enrol(w.Ctx, w.Rita, "a1", []string{"apps"}, 0)
	workflowtest.MustCode(t, err, core.CodeForbidden)
}

func asError(err error, target **core.Error) bool {
	e, ok := err.(*core.Error)
	if ok {
		*target = e
	}
	return ok
}

func TestRevokedAgentIsRefusedAtItsNextCall(t *testing.T) {
	w, _ := agentWorld(t)
	e := enrol(t, w, "apps-1", "apps")
	agentOf(t, w, e)
	workflowtest.Must(t, w.App.Agents.Revoke(w.Ctx, w.Adam, e.AgentID, "host decommissioned"))
	body := []byte(`{}`)
	h := agents.Sign(e.key, e.AgentID, "POST", "/api/v1/agent/work", body, w.App.Now(), agents.NewNonce())
	_, err := w.App.Agents.Authenticate(w.Ctx, h, "POST", "/api/v1/agent/work", body)
	workflowtest.MustCode(t, err, core.CodeUnauthorized)
	if workflowtest.AuditCount(t, w.App.DB(), "agent", e.AgentID) < 3 { // enrol, enrolled, revoke
		t.Fatal("enrolment and revocation are audited")
	}
}

func TestScopeIsSignedAndReissuedWhenTheZoneChanges(t *testing.T) {
	w, clock := agentWorld(t)
	e := enrol(t, w, "apps-1", "apps")
	serverKey, err := agents.DecodePublicKey(e.ServerKey)
	workflowtest.Must(t, err)
	scope, err := e.Scope.Open(serverKey, e.AgentID)
	workflowtest.Must(t, err)
	for addr, want := range map[string]bool{"10.40.1.2": true, "2001:db8:40::9": true, "10.50.0.10": false, "192.0.2.1": false} {
		if got := scope.Allows(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Allows(%s) = %v, want %v", addr, got, want)
		}
	}
	// Another agent's scope, or a forged one, is refused.
	if _, err := e.Scope.Open(serverKey, e.AgentID+1); err == nil {
		t.Error("a scope for another agent was accepted")
	}
	forged := e.Scope
	forgedDoc := strings.Replace(string(mustDecode(t, forged.Document)), "10.40.0.0/16", "0.0.0.0/0", 1)
	forged.Document = base64.StdEncoding.EncodeToString([]byte(forgedDoc))
	if _, err := forged.Open(serverKey, e.AgentID); err == nil {
		t.Error("a changed scope document was accepted")
	}

	// An admin widens the zone: the next scope is a new issue, audited.
	var z models.Zone
	w.App.DB().Where("name = ?", "apps").Take(&z)
	clock.Advance(time.Minute)
	_, err = w.App.Inventory.SaveZone(w.Ctx, w.Adam, z.ID, inventory.ZoneInput{Name: "apps", Classification: "medium", CIDRs: "10.40.0.0/16, 10.41.0.0/16"})
	workflowtest.Must(t, err)
	a := agentOf(t, w, e)
	ss, err := w.App.Agents.ScopeFor(w.Ctx, a)
	workflowtest.Must(t, err)
	fresh, err := ss.Open(serverKey, e.AgentID)
	workflowtest.Must(t, err)
	if !fresh.IssuedAt.After(scope.IssuedAt) || !fresh.Allows(netip.MustParseAddr("10.41.0.1")) {
		t.Fatalf("re-issued scope %+v: want a later issue covering 10.41.0.0/16", fresh)
	}
	var issued int64
	w.App.DB().Model(&models.AuditEvent{}).Where("action = ? AND object_id = ?", "agent.scope_issued", e.AgentID).Count(&issued)
	if issued != 2 {
		t.Fatalf("scope issues audited: %d, want 2", issued)
	}
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		n    int
		in   []string
		want string
	}{
		{2, []string{"a", "b", "c", "d", "e"}, "a,b|c,d|e"},
		{5, []string{"a", "b"}, "a,b"},
		{1, []string{"a", "b"}, "a|b"},
		{0, []string{"a", "b"}, "a|b"},
		{3, nil, ""},
	} {
		var parts []string
		for _, c := range agents.Split(tc.in, tc.n) {
			parts = append(parts, strings.Join(c, ","))
		}
		if got := strings.Join(parts, "|"); got != tc.want {
			t.Errorf("Split(%v, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// runningChunk makes a running zone scan with one queued chunk of targets.
func runningChunk(t *testing.T, w *workflowtest.World, zone string, targets ...string) (models.ScanRun, models.ScanChunk) {
	t.Helper()
	now := w.App.Now()
	run := models.ScanRun{Kind: "on_demand", Profile: "common", Targets: strings.Join(targets, ","), Status: "running", RequestedBy: "test", QueuedAt: now, StartedAt: &now, Progress: "{}"}
	workflowtest.Must(t, w.App.DB().Create(&run).Error)
	chunk := models.ScanChunk{RunID: run.ID, Zone: zone, Vantage: agents.VantageInternal, Targets: strings.Join(targets, ","), TCPPorts: "22,443", Profile: "common", State: "queued"}
	workflowtest.Must(t, w.App.DB().Create(&chunk).Error)
	return run, chunk
}

func TestVanishedAgentsChunkIsRequeuedAfterTheHeartbeatTimeout(t *testing.T) {
	w, clock := agentWorld(t)
	w.App.Agents.SetOptions(agents.Options{HeartbeatTimeout: 10 * time.Second, ChunkHosts: 4})
	a := agentOf(t, w, enrol(t, w, "apps-1", "apps"))
	b := agentOf(t, w, enrol(t, w, "apps-2", "apps"))
	_, chunk := runningChunk(t, w, "apps", "10.40.0.15", "10.40.0.16")

	got, err := w.App.Agents.TakeChunk(w.Ctx, a)
	workflowtest.Must(t, err)
	if got == nil || got.ID != chunk.ID || got.Lease != 1 {
		t.Fatalf("a took %+v, want chunk %d lease 1", got, chunk.ID)
	}
	if other, _ := w.App.Agents.TakeChunk(w.Ctx, b); other != nil {
		t.Fatalf("b took %+v while a holds it", other)
	}
	// Heartbeats keep it a's.
	clock.Advance(8 * time.Second)
	workflowtest.Must(t, w.App.Agents.Heartbeat(w.Ctx, a, got.ID, got.Lease, 100))
	clock.Advance(8 * time.Second)
	if other, _ := w.App.Agents.TakeChunk(w.Ctx, b); other != nil {
		t.Fatalf("b took %+v within a's renewed lease", other)
	}
	// a vanishes: after the timeout the chunk is b's, and a's lease is gone.
	clock.Advance(11 * time.Second)
	second, err := w.App.Agents.TakeChunk(w.Ctx, b)
	workflowtest.Must(t, err)
	if second == nil || second.ID != chunk.ID || second.Lease != 2 {
		t.Fatalf("b took %+v, want chunk %d lease 2", second, chunk.ID)
	}
	workflowtest.MustCode(t, w.App.Agents.Heartbeat(w.Ctx, a, got.ID, got.Lease, 1), core.CodeConflict)
	_, err = w.App.Agents.Results(w.Ctx, a, agents.Upload{ChunkID: got.ID, Lease: got.Lease, Seq: 1, Hosts: []scans.Host{{Address: "10.40.0.15", State: "up"}}})
	workflowtest.MustCode(t, err, core.CodeConflict)
	var requeued int64
	w.App.DB().Model(&models.AuditEvent{}).Where("action = ?", "scan.chunk_requeued").Count(&requeued)
	if requeued != 1 {
		t.Fatalf("requeues audited: %d, want 1", requeued)
	}
}

func TestTwoAgentsNeverHoldOneChunk(t *testing.T) {
	w, _ := agentWorld(t)
	var held []*models.Agent
	for _, n := range []string{"apps-1", "apps-2", "apps-3", "apps-4"} {
		held = append(held, agentOf(t, w, enrol(t, w, n, "apps")))
	}
	runningChunk(t, w, "apps", "10.40.0.15")
	var mu sync.Mutex
	taken := 0
	var wg sync.WaitGroup
	for _, a := range held {
		wg.Go(func() {
			c, err := w.App.Agents.TakeChunk(context.Background(), a)
			if err != nil {
				t.Error(err)
			}
			if c != nil {
				mu.Lock()
				taken++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if taken != 1 {
		t.Fatalf("%d agents took the chunk, want 1", taken)
	}
}

func TestResultUploadsAreIdempotent(t *testing.T) {
	w, clock := agentWorld(t)
	w.App.Agents.SetOptions(agents.Options{HeartbeatTimeout: 10 * time.Second, ChunkHosts: 4})
	a := agentOf(t, w, enrol(t, w, "apps-1", "apps"))
	b := agentOf(t, w, enrol(t, w, "apps-2", "apps"))
	run, _ := runningChunk(t, w, "apps", "10.40.0.15", "10.40.0.16")
	c, err := w.App.Agents.TakeChunk(w.Ctx, a)
	workflowtest.Must(t, err)
	host15 := scans.Host{Address: "10.40.0.15", State: "up", Ports: []scans.Port{{Port: 22, Protocol: "tcp", State: "open", Service: "ssh"}}}
	up := agents.Upload{ChunkID: c.ID, Lease: c.Lease, Seq: 1, Hosts: []scans.Host{host15}}
	ack, err := w.App.Agents.Results(w.Ctx, a, up)
	workflowtest.Must(t, err)
	if ack.Duplicate || ack.HostsDone != 1 {
		t.Fatalf("first upload ack %+v", ack)
	}
	// The answer was lost in a cut: the agent sends the same upload again.
	ack, err = w.App.Agents.Results(w.Ctx, a, up)
	workflowtest.Must(t, err)
	if !ack.Duplicate || ack.HostsDone != 1 {
		t.Fatalf("resend ack %+v, want a duplicate with 1 host done", ack)
	}
	// A host outside the chunk is refused, naming the field.
	_, err = w.App.Agents.Results(w.Ctx, a, agents.Upload{ChunkID: c.ID, Lease: c.Lease, Seq: 2, Hosts: []scans.Host{{Address: "10.50.0.10"}}})
	workflowtest.MustCode(t, err, core.CodeInvalid)

	// a vanishes; b scans the whole chunk again, host 15 included.
	clock.Advance(11 * time.Second)
	c2, err := w.App.Agents.TakeChunk(w.Ctx, b)
	workflowtest.Must(t, err)
	host16 := scans.Host{Address: "10.40.0.16", State: "up", Ports: []scans.Port{{Port: 443, Protocol: "tcp", State: "open", Service: "http", TLS: true}}}
	for i, h := range []scans.Host{host15, host16} {
		_, err := w.App.Agents.Results(w.Ctx, b, agents.Upload{ChunkID: c2.ID, Lease: c2.Lease, Seq: i + 1, Hosts: []scans.Host{h}})
		workflowtest.Must(t, err)
	}
	ack, err = w.App.Agents.Results(w.Ctx, b, agents.Upload{ChunkID: c2.ID, Lease: c2.Lease, Seq: 3, Done: true})
	workflowtest.Must(t, err)
	if ack.HostsDone != 2 {
		t.Fatalf("hosts done %d, want 2: each host counted once", ack.HostsDone)
	}
	var rows int64
	w.App.DB().Model(&models.ScanResult{}).Where("run_id = ?", run.ID).Count(&rows)
	if rows != 4 { // two hosts, one port each
		t.Fatalf("%d result rows, want 4 (each host and port once)", rows)
	}
	views, did, err := w.App.Agents.ChunksOf(w.Ctx, run.ID)
	workflowtest.Must(t, err)
	if len(views) != 1 || views[0].State != "done" || views[0].Agent != "apps-2" || len(did) != 1 || did[0] != "apps-2" {
		t.Fatalf("chunks %+v, agents %v", views, did)
	}
}

func TestRefusalIsAudited(t *testing.T) {
	w, _ := agentWorld(t)
	a := agentOf(t, w, enrol(t, w, "apps-1", "apps"))
	_, chunk := runningChunk(t, w, "apps", "10.40.0.15", "10.50.0.10")
	c, err := w.App.Agents.TakeChunk(w.Ctx, a)
	workflowtest.Must(t, err)
	workflowtest.Must(t, w.App.Agents.Refuse(w.Ctx, a, c.ID, c.Lease, []string{"10.50.0.10"}))
	var ev models.AuditEvent
	workflowtest.Must(t, w.App.DB().Where("action = ?", "agent.scope_refused").Take(&ev).Error)
	if !strings.Contains(ev.Detail, "10.50.0.10") {
		t.Fatalf("refusal detail %s", ev.Detail)
	}
	var stored models.ScanChunk
	w.App.DB().Take(&stored, chunk.ID)
	if stored.Refused != "10.50.0.10" {
		t.Fatalf("chunk refused = %q", stored.Refused)
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	workflowtest.Must(t, err)
	return b
}

func TestConnectionIsAuditedOncePerAgentStart(t *testing.T) {
	w, clock := agentWorld(t)
	e := enrol(t, w, "apps-1", "apps")
	started := clock.Now().Add(-time.Minute)
	for range 3 {
		workflowtest.Must(t, w.App.Agents.Contact(w.Ctx, agentOf(t, w, e), "v1", started))
	}
	workflowtest.Must(t, w.App.Agents.Contact(w.Ctx, agentOf(t, w, e), "v1", started.Add(30*time.Second)))
	var n int64
	w.App.DB().Model(&models.AuditEvent{}).Where("action = ?", "agent.connect").Count(&n)
	if n != 2 {
		t.Fatalf("connections audited: %d, want 2 (one per start)", n)
	}
}

// TestChunkQueueOnEachDatabase runs the queue's conditional updates, the
// nonce table and the idempotent uploads on SQLite and PostgreSQL.
func TestChunkQueueOnEachDatabase(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		w, clock := agentWorldOn(t, db)
		w.App.Agents.SetOptions(agents.Options{HeartbeatTimeout: 10 * time.Second, ChunkHosts: 4})
		ea := enrol(t, w, "apps-1", "apps")
		a := agentOf(t, w, ea)
		b := agentOf(t, w, enrol(t, w, "apps-2", "apps"))
		workflowtest.Must(t, w.App.Agents.Contact(w.Ctx, a, "v1", clock.Now()))
		run, _ := runningChunk(t, w, "apps", "10.40.0.15")
		c, err := w.App.Agents.TakeChunk(w.Ctx, a)
		workflowtest.Must(t, err)
		if c == nil {
			t.Fatal("no chunk")
		}
		clock.Advance(11 * time.Second)
		c2, err := w.App.Agents.TakeChunk(w.Ctx, b)
		workflowtest.Must(t, err)
		if c2 == nil || c2.Lease != 2 {
			t.Fatalf("requeued chunk %+v", c2)
		}
		up := agents.Upload{ChunkID: c2.ID, Lease: c2.Lease, Seq: 1, Hosts: []scans.Host{{Address: "10.40.0.15", State: "up", Ports: []scans.Port{{Port: 22, Protocol: "tcp", State: "open"}}}}, Done: true}
		for i := range 2 {
			ack, err := w.App.Agents.Results(w.Ctx, b, up)
			workflowtest.Must(t, err)
			if ack.Duplicate != (i == 1) || ack.HostsDone != 1 {
				t.Fatalf("upload %d: %+v", i, ack)
			}
		}
		var rows int64
		w.App.DB().Model(&models.ScanResult{}).Where("run_id = ?", run.ID).Count(&rows)
		if rows != 2 {
			t.Fatalf("%d rows, want 2", rows)
		}
		workflowtest.Must(t, w.App.Agents.Revoke(w.Ctx, w.Adam, ea.AgentID, ""))
		body := []byte(`{}`)
		h := agents.Sign(ea.key, ea.AgentID, "POST", "/api/v1/agent/work", body, w.App.Now(), agents.NewNonce())
		_, err = w.App.Agents.Authenticate(w.Ctx, h, "POST", "/api/v1/agent/work", body)
		workflowtest.MustCode(t, err, core.CodeUnauthorized)
	})
}

// TestCurrentWorkFollowsTheLease: the Agents page's current work and ports
// per second are those of the chunk an agent holds under a live lease; an
// agent that vanished shows none once another took its chunk over, and
// one that finished shows none either.
func TestCurrentWorkFollowsTheLease(t *testing.T) {
	w, clock := agentWorld(t)
	w.App.Agents.SetOptions(agents.Options{HeartbeatTimeout: 10 * time.Second, ChunkHosts: 4})
	a := agentOf(t, w, enrol(t, w, "apps-1", "apps"))
	b := agentOf(t, w, enrol(t, w, "apps-2", "apps"))
	run, chunk := runningChunk(t, w, "apps", "10.40.0.15", "10.40.0.16")
	work := func() map[string]string {
		page, err := w.App.Agents.List(w.Ctx, w.Adam, paging.Request[agents.AgentKey]{Limit: 10})
		workflowtest.Must(t, err)
		out := map[string]string{}
		for _, v := range page.Items {
			out[v.Name] = fmt.Sprintf("%s @%g", v.Work.String(), v.PortsPerSecond)
		}
		return out
	}
	want := fmt.Sprintf("scan %d, chunk 1 (2 hosts)", run.ID)
	got, err := w.App.Agents.TakeChunk(w.Ctx, a)
	workflowtest.Must(t, err)
	workflowtest.Must(t, w.App.Agents.Heartbeat(w.Ctx, a, got.ID, got.Lease, 120))
	if now := work(); now["apps-1"] != want+" @120" || now["apps-2"] != " @0" {
		t.Fatalf("while apps-1 scans: %v", now)
	}
	clock.Advance(11 * time.Second)
	if now := work(); now["apps-1"] != " @0" {
		t.Fatalf("apps-1's lease ran out, yet it shows %q", now["apps-1"])
	}
	second, err := w.App.Agents.TakeChunk(w.Ctx, b)
	workflowtest.Must(t, err)
	if second == nil || second.ID != chunk.ID {
		t.Fatalf("b took %+v, want chunk %d", second, chunk.ID)
	}
	_, err = w.App.Agents.Results(w.Ctx, b, agents.Upload{ChunkID: second.ID, Lease: second.Lease, Seq: 1, Rate: 80,
		Hosts: []scans.Host{{Address: "10.40.0.15", State: "up"}}})
	workflowtest.Must(t, err)
	if now := work(); now["apps-1"] != " @0" || now["apps-2"] != want+" @80" {
		t.Fatalf("after the take-over: %v", now)
	}
	_, err = w.App.Agents.Results(w.Ctx, b, agents.Upload{ChunkID: second.ID, Lease: second.Lease, Seq: 2, Done: true, Rate: 80,
		Hosts: []scans.Host{{Address: "10.40.0.16", State: "up"}}})
	workflowtest.Must(t, err)
	if now := work(); now["apps-2"] != " @0" {
		t.Fatalf("apps-2 finished its chunk, yet it shows %q", now["apps-2"])
	}
}
