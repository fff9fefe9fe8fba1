package agents_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/agents"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/scans"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// builtinScanner is the server's own scanner in these tests: it sees
// port 80 open on every host it is given and records what it was given.
type builtinScanner struct {
	workflowtest.FakeScanner
	scanned chan []string
}

func (b *builtinScanner) ScanHosts(ctx context.Context, job scans.Job, progress func(scans.Progress), host func(scans.Host)) ([]byte, error) {
	rep := scans.Report{Schema: "portcullis.scan/v1", StartedAt: time.Now(), FinishedAt: time.Now(), Profile: job.Profile}
	var addrs []string
	for _, a := range job.Targets {
		h := scans.Host{Address: a.String(), State: "up", Ports: []scans.Port{{Port: 80, Protocol: "tcp", State: "open", Service: "http"}}}
		host(h)
		rep.Hosts = append(rep.Hosts, h)
		addrs = append(addrs, a.String())
	}
	b.scanned <- addrs
	return json.Marshal(rep)
}

func TestZoneScanIsSplitAmongItsAgentsAndTheRestScannedHere(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	w.App.Agents.SetOptions(agents.Options{HeartbeatTimeout: 10 * time.Second, ChunkHosts: 2})
	builtin := &builtinScanner{scanned: make(chan []string, 4)}
	d := w.App.Agents.Dispatcher(builtin)
	d.Poll = 10 * time.Millisecond
	w.App.Scans.SetScanner(d, scans.Policy{})
	a1 := agentOf(t, w, enrol(t, w, "apps-1", "apps"))
	a2 := agentOf(t, w, enrol(t, w, "apps-2", "apps"))

	run, err := w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{"apps", "10.10.0.10"}, "common")
	workflowtest.Must(t, err)
	done := make(chan error, 1)
	go func() { done <- w.App.Scans.Run(w.Ctx, run.ID, "test", 0) }()

	// The dmz host has no agent: the built-in scanner gets it, alone.
	if got := <-builtin.scanned; !slices.Equal(got, []string{"10.10.0.10"}) {
		t.Fatalf("built-in scanner got %v, want the dmz host only", got)
	}
	// The two agents share the apps zone's three hosts, two chunks.
	served := map[string]int{}
	deadline := time.Now().Add(10 * time.Second)
	for len(served) < 3 && time.Now().Before(deadline) {
		for i, ag := range []agentRef{{"apps-1", a1}, {"apps-2", a2}} {
			c, err := w.App.Agents.TakeChunk(w.Ctx, ag.agent)
			workflowtest.Must(t, err)
			if c == nil {
				continue
			}
			for seq, addr := range c.Targets {
				h := scans.Host{Address: addr, State: "up", Ports: []scans.Port{{Port: 22, Protocol: "tcp", State: "open", Service: "ssh"}}}
				_, err := w.App.Agents.Results(w.Ctx, ag.agent, agents.Upload{ChunkID: c.ID, Lease: c.Lease, Seq: seq + 1, Hosts: []scans.Host{h}})
				workflowtest.Must(t, err)
				served[addr] = i
			}
			_, err = w.App.Agents.Results(w.Ctx, ag.agent, agents.Upload{ChunkID: c.ID, Lease: c.Lease, Seq: len(c.Targets) + 1, Done: true})
			workflowtest.Must(t, err)
		}
	}
	select {
	case err := <-done:
		workflowtest.Must(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the run did not finish after its chunks did")
	}
	got, err := w.App.Scans.Get(w.Ctx, w.Rita, run.ID)
	workflowtest.Must(t, err)
	if got.Status != "done" {
		t.Fatalf("run %s: %s", got.Status, got.Error)
	}
	rep, err := scans.ParseReport(got.Report)
	workflowtest.Must(t, err)
	ports := map[string]uint16{}
	for _, h := range rep.Hosts {
		if len(h.Ports) == 1 {
			ports[h.Address] = h.Ports[0].Port
		}
	}
	want := map[string]uint16{"10.10.0.10": 80, "10.40.0.15": 22, "10.40.0.16": 22, "2001:db8:40::15": 22}
	if len(ports) != len(want) {
		t.Fatalf("report hosts %v, want %v", ports, want)
	}
	for a, p := range want {
		if ports[a] != p {
			t.Errorf("host %s: port %d in the report, want %d", a, ports[a], p)
		}
	}
	views, did, err := w.App.Agents.ChunksOf(w.Ctx, run.ID)
	workflowtest.Must(t, err)
	if len(views) != 2 || len(did) == 0 {
		t.Fatalf("chunks %+v agents %v: want two chunks named with their agents", views, did)
	}
}

type agentRef struct {
	name  string
	agent *models.Agent
}

func TestInternetVantageFindsPortsExposedExternally(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	builtin := &builtinScanner{scanned: make(chan []string, 4)}
	d := w.App.Agents.Dispatcher(builtin)
	d.Poll = 10 * time.Millisecond
	w.App.Scans.SetScanner(d, scans.Policy{})
	var asset models.Asset
	workflowtest.Must(t, w.App.DB().Where("address = ?", "10.40.0.15").Take(&asset).Error)
	_, err := w.App.Inventory.SaveAsset(w.Ctx, w.Adam, asset.ID, inventory.AssetInput{Address: asset.Address, Hostname: asset.Hostname, PublicAddress: "203.0.113.15"})
	workflowtest.Must(t, err)
	outside := enrol(t, w, "outside-1", agents.InternetZone)
	serverKey, _ := agents.DecodePublicKey(outside.ServerKey)
	scope, err := outside.Scope.Open(serverKey, outside.AgentID)
	workflowtest.Must(t, err)
	if !scope.Allows(netip.MustParseAddr("203.0.113.15")) || scope.Allows(netip.MustParseAddr("10.40.0.15")) {
		t.Fatalf("internet scope %+v: want the public address only", scope)
	}
	ag := agentOf(t, w, outside)

	run, err := w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{"10.40.0.15"}, "common")
	workflowtest.Must(t, err)
	done := make(chan error, 1)
	go func() { done <- w.App.Scans.Run(w.Ctx, run.ID, "test", 0) }()
	// The asset itself is scanned from inside, by the server.
	if got := <-builtin.scanned; !slices.Equal(got, []string{"10.40.0.15"}) {
		t.Fatalf("built-in scanner got %v", got)
	}
	var c *agents.Chunk
	waitUntil(t, func() bool { c, err = w.App.Agents.TakeChunk(w.Ctx, ag); return err != nil || c != nil })
	workflowtest.Must(t, err)
	if c.Vantage != agents.VantageInternet || !slices.Equal(c.Targets, []string{"203.0.113.15"}) {
		t.Fatalf("internet chunk %+v", c)
	}
	h := scans.Host{Address: "203.0.113.15", State: "up", Ports: []scans.Port{{Port: 8080, Protocol: "tcp", State: "open", Service: "http"}}}
	_, err = w.App.Agents.Results(w.Ctx, ag, agents.Upload{ChunkID: c.ID, Lease: c.Lease, Seq: 1, Hosts: []scans.Host{h}, Done: true})
	workflowtest.Must(t, err)
	workflowtest.Must(t, <-done)

	var items []models.DriftItem
	workflowtest.Must(t, w.App.DB().Where("kind = ?", "exposed-externally").Find(&items).Error)
	if len(items) != 1 || items[0].Address != "203.0.113.15" || items[0].Port != 8080 || items[0].Severity != "critical" {
		t.Fatalf("exposed-externally items %+v, want port 8080 on 203.0.113.15, critical (nothing approves it)", items)
	}
	got, err := w.App.Scans.Get(w.Ctx, w.Rita, run.ID)
	workflowtest.Must(t, err)
	rep, err := scans.ParseReport(got.Report)
	workflowtest.Must(t, err)
	for _, h := range rep.Hosts {
		if h.Address == "203.0.113.15" {
			t.Fatal("the public address is not an inventory host: it stays out of the run's report")
		}
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A zone scan larger than one batch of the scan job: every batch's hosts
// go to the zone's agents, not only the first batch's.
func TestZoneScanInSeveralBatchesStaysWithItsAgents(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	w.App.Agents.SetOptions(agents.Options{HeartbeatTimeout: 10 * time.Second, ChunkHosts: 1})
	builtin := &builtinScanner{scanned: make(chan []string, 4)}
	d := w.App.Agents.Dispatcher(builtin)
	d.Poll = 10 * time.Millisecond
	w.App.Scans.SetScanner(d, scans.Policy{BatchHosts: 2})
	ag := agentOf(t, w, enrol(t, w, "apps-1", "apps"))

	run, err := w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{"apps"}, "common")
	workflowtest.Must(t, err)
	done := make(chan error, 1)
	go func() { done <- w.App.Scans.Run(w.Ctx, run.ID, "test", 0) }()
	var served []string
	deadline := time.Now().Add(10 * time.Second)
	for finished := false; !finished; {
		if time.Now().After(deadline) {
			t.Fatalf("the run did not finish; the agent served %v", served)
		}
		select {
		case got := <-builtin.scanned:
			t.Fatalf("the built-in scanner got %v: the zone's hosts are its agent's", got)
		case err := <-done:
			workflowtest.Must(t, err)
			finished = true
			continue
		default:
		}
		c, err := w.App.Agents.TakeChunk(w.Ctx, ag)
		workflowtest.Must(t, err)
		if c == nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		h := scans.Host{Address: c.Targets[0], State: "up", Ports: []scans.Port{{Port: 22, Protocol: "tcp", State: "open", Service: "ssh"}}}
		_, err = w.App.Agents.Results(w.Ctx, ag, agents.Upload{ChunkID: c.ID, Lease: c.Lease, Seq: 1, Hosts: []scans.Host{h}, Done: true})
		workflowtest.Must(t, err)
		served = append(served, c.Targets...)
	}
	slices.Sort(served)
	if want := []string{"10.40.0.15", "10.40.0.16", "2001:db8:40::15"}; !slices.Equal(served, want) {
		t.Fatalf("the agent served %v, want %v", served, want)
	}
	got, err := w.App.Scans.Get(w.Ctx, w.Rita, run.ID)
	workflowtest.Must(t, err)
	if got.Status != "done" {
		t.Fatalf("run %s: %s", got.Status, got.Error)
	}
}

// A run waiting on its agents past its slice of time hands the wait to the
// next slice (the job engine times out a job that never returns), and the
// next slice finds what the agents sent in between.
func TestWaitOnAgentsEndsWithTheSlice(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	w.App.Agents.SetOptions(agents.Options{HeartbeatTimeout: 10 * time.Second, ChunkHosts: 3})
	builtin := &builtinScanner{scanned: make(chan []string, 4)}
	d := w.App.Agents.Dispatcher(builtin)
	d.Poll = 10 * time.Millisecond
	w.App.Scans.SetScanner(d, scans.Policy{})
	ag := agentOf(t, w, enrol(t, w, "apps-1", "apps"))

	run, err := w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{"apps"}, "common")
	workflowtest.Must(t, err)
	if err := w.App.Scans.Run(w.Ctx, run.ID, "test", 50*time.Millisecond); !errors.Is(err, scans.ErrSliceEnded) {
		t.Fatalf("a slice spent waiting on a silent agent ended with %v, want ErrSliceEnded", err)
	}
	if got, _ := w.App.Scans.Get(w.Ctx, w.Rita, run.ID); got.Status != "running" {
		t.Fatalf("after its slice the run is %s, want running", got.Status)
	}
	c, err := w.App.Agents.TakeChunk(w.Ctx, ag)
	workflowtest.Must(t, err)
	if c == nil {
		t.Fatal("no chunk for the zone's agent")
	}
	for seq, addr := range c.Targets {
		h := scans.Host{Address: addr, State: "up", Ports: []scans.Port{{Port: 22, Protocol: "tcp", State: "open", Service: "ssh"}}}
		_, err := w.App.Agents.Results(w.Ctx, ag, agents.Upload{ChunkID: c.ID, Lease: c.Lease, Seq: seq + 1, Hosts: []scans.Host{h}, Done: seq == len(c.Targets)-1})
		workflowtest.Must(t, err)
	}
	workflowtest.Must(t, w.App.Scans.Run(w.Ctx, run.ID, "test", time.Minute))
	got, err := w.App.Scans.Get(w.Ctx, w.Rita, run.ID)
	workflowtest.Must(t, err)
	if got.Status != "done" {
		t.Fatalf("run %s: %s", got.Status, got.Error)
	}
	rep, err := scans.ParseReport(got.Report)
	workflowtest.Must(t, err)
	if len(rep.Hosts) != 3 {
		t.Fatalf("report has %d hosts, want the zone's 3", len(rep.Hosts))
	}
	select {
	case got := <-builtin.scanned:
		t.Fatalf("the built-in scanner got %v: the zone's hosts are its agent's", got)
	default:
	}
}
