//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/compliance"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/identity"
	"github.com/portcullis/portcullis/workflow/inventory"
)

// instanceBalancer stands in front of the instances as a load balancer
// does: each request goes to the next instance, and to the one after when
// an instance refuses the connection (it was killed). A request an
// instance took and then dropped is answered 502, which agents retry.
type instanceBalancer struct {
	mu       sync.Mutex
	next     int
	backends []string
	client   *http.Client
}

func (b *instanceBalancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	first := b.next
	b.next++
	b.mu.Unlock()
	for i := range b.backends {
		backend := b.backends[(first+i)%len(b.backends)]
		req, err := http.NewRequestWithContext(r.Context(), r.Method, backend+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := b.client.Do(req)
		var opErr *net.OpError
		if err != nil && errors.As(err, &opErr) && opErr.Op == "dial" {
			continue
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
		resp.Body.Close()
		return
	}
	http.Error(w, "no instance answers", http.StatusBadGateway)
}

// zoneHosts listens on loopback addresses as a zone's hosts: each greets
// on 22; every second one (odd index) also holds silent ports from 100
// open, which the scanner waits on, so a chunk of two finishes one host
// well before the other.
func zoneHosts(t *testing.T, addrs []string, silent int) {
	t.Helper()
	var lns []net.Listener
	var mu sync.Mutex
	var conns []net.Conn
	for i, a := range addrs {
		ports := []int{22}
		if i%2 == 1 {
			for p := 100; p < 100+silent; p++ {
				ports = append(ports, p)
			}
		}
		for _, port := range ports {
			ln, err := net.Listen("tcp", net.JoinHostPort(a, fmt.Sprint(port)))
			if err != nil {
				t.Fatal(err)
			}
			lns = append(lns, ln)
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					if port == 22 {
						c.Write([]byte("SSH-2.0-OpenSSH_9.6 zone\r\n"))
					}
					mu.Lock()
					conns = append(conns, c)
					mu.Unlock()
				}
			}()
		}
	}
	t.Cleanup(func() {
		for _, ln := range lns {
			ln.Close()
		}
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
}

// TestInstancesAndAgentsSurviveKill9OnPostgres: three instances on one
// fresh PostgreSQL database behind a balancer, four agents of one zone. A
// zone scan is split into chunks; one agent is killed with SIGKILL in the
// middle of a chunk, and so is the instance running the scan's job. The
// run ends done on another instance; every host is recorded once, every
// chunk finished once, every alert recorded as one delivery and received
// under its delivery id; no run is left queued or running.
func TestInstancesAndAgentsSurviveKill9OnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: three server processes, four agents and two kill -9s")
	}
	dbURL := modelstest.PostgresDatabase(t)
	bin := buildPortcullis(t)
	dir := t.TempDir()

	const silent = 6
	hosts := make([]string, 12)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("127.77.0.%d", i+1)
	}
	zoneHosts(t, hosts, silent)

	keys, err := compliance.NewAuditKeys("kill-test")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "audit.key")
	secretRaw := make([]byte, 16)
	rand.Read(secretRaw)
	secret := hex.EncodeToString(secretRaw)
	recv := &deliveryReceiver{sends: map[string]int{}}
	hookLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hook := &http.Server{Handler: recv.handler(secret), ReadHeaderTimeout: 5 * time.Second}
	go hook.Serve(hookLn)
	defer hook.Close()
	alertsFile := filepath.Join(dir, "alerts.yaml")
	for path, body := range map[string]string{
		keyFile: keys.Signer + "\n",
		alertsFile: fmt.Sprintf("channels:\n  - {name: soc-hook, type: webhook, url: \"http://%s/alerts\", secret_env: KILL_TEST_HOOK_SECRET}\nroutes:\n  - {channel: soc-hook}\n",
			hookLn.Addr()),
	} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"KILL_TEST_HOOK_SECRET=" + secret}
	args := []string{"--demo", "--addr", "127.0.0.1:0", "--demo-idp-addr", "127.0.0.1:0", "--db", dbURL,
		"--audit-key-file", keyFile, "--alerts", alertsFile, "--scan-slice", "6s", "--log-level", "warn",
		"--agent-heartbeat-timeout", "3s", "--agent-chunk-hosts", "2"}
	instances := []*instance{startInstance(t, bin, env, args...)}
	instances = append(instances, startInstance(t, bin, env, args...), startInstance(t, bin, env, args...))
	balancer := &instanceBalancer{client: &http.Client{Timeout: 60 * time.Second}}
	for _, inst := range instances {
		balancer.backends = append(balancer.backends, inst.url)
	}
	lbLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lb := &http.Server{Handler: balancer, ReadHeaderTimeout: 5 * time.Second}
	go lb.Serve(lbLn)
	defer lb.Close()
	lbURL := "http://" + lbLn.Addr().String()

	ctx := context.Background()
	db, err := models.Open(ctx, dbURL, modelstest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	}()
	app := workflow.New(db, modelstest.Logger())
	admin, err := app.Identity.Login(ctx, identity.Identity{Issuer: "https://idp.test", Subject: "kim", Email: "kim@example.test", Name: "Kim", Roles: []core.Role{core.RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Inventory.SaveZone(ctx, admin, 0, inventory.ZoneInput{Name: "killzone", Classification: "medium", CIDRs: "127.77.0.0/24"}); err != nil {
		t.Fatal(err)
	}
	for _, a := range hosts {
		if _, err := app.Inventory.SaveAsset(ctx, admin, 0, inventory.AssetInput{Address: a, Hostname: "kz-" + a}); err != nil {
			t.Fatal(err)
		}
	}
	apiToken, _, err := app.Identity.CreateToken(ctx, admin, admin.Email, "kill test")
	if err != nil {
		t.Fatal(err)
	}

	agentProcs := map[string]*proc{}
	for i := range 4 {
		name := fmt.Sprintf("kz-agent-%d", i+1)
		out, err := exec.Command(bin, "agent", "enroll", "--db", dbURL, "--name", name, "--zones", "killzone").CombinedOutput()
		if err != nil {
			t.Fatalf("agent enroll: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		p := &proc{stderr: &bytes.Buffer{}, done: make(chan struct{})}
		p.cmd = exec.Command(bin, "agent", "run", "--server", lbURL, "--state-dir", filepath.Join(dir, name),
			"--heartbeat", "500ms", "--poll-wait", "2s", "--log-level", "info")
		p.cmd.Env = append(os.Environ(), "PORTCULLIS_TOKEN="+lines[len(lines)-1])
		p.cmd.Stdout = lockedBuffer{&p.mu, p.stderr}
		p.cmd.Stderr = lockedBuffer{&p.mu, p.stderr}
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { p.cmd.Wait(); close(p.done) }()
		t.Cleanup(func() {
			p.cmd.Process.Kill()
			<-p.done
			if t.Failed() {
				t.Logf("agent %s output:\n%s", name, btTail(p.output(), 3000))
			}
		})
		agentProcs[name] = p
	}
	dump := func() string {
		var logs strings.Builder
		for i, inst := range instances {
			fmt.Fprintf(&logs, "--- instance %d:\n%s\n", i+1, btTail(inst.stderr.String(), 1500))
		}
		return logs.String()
	}
	waitFor(t, 60*time.Second, "four agents to connect", func() bool {
		var n int64
		db.Model(&models.AuditEvent{}).Where("action = ?", "agent.connect").Count(&n)
		return n >= 4
	})

	body, _ := json.Marshal(map[string]any{"targets": []string{"killzone"}, "profile": "common"})
	req, _ := http.NewRequest(http.MethodPost, lbURL+"/api/v1/scans", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var started struct {
		ID uint `json:"id"`
	}
	json.NewDecoder(resp.Body).Decode(&started)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || started.ID == 0 {
		t.Fatalf("start scan: %d (run %d)", resp.StatusCode, started.ID)
	}
	scanStart := time.Now()
	runOf := func() models.ScanRun {
		var run models.ScanRun
		if err := db.Omit("report").First(&run, started.ID).Error; err != nil {
			t.Fatal(err)
		}
		return run
	}

	// An agent holding a chunk it has sent part of is killed, and so is the
	// instance whose job waits on the run's chunks.
	var victimChunk models.ScanChunk
	waitFor(t, 60*time.Second, "an agent to send one host of a chunk of two it still holds", func() bool {
		return db.Where("run_id = ? AND state = ? AND hosts_done = 1", started.ID, "leased").Take(&victimChunk).Error == nil
	})
	var victimAgent models.Agent
	if err := db.Take(&victimAgent, *victimChunk.AgentID).Error; err != nil {
		t.Fatal(err)
	}
	run := runOf()
	if run.Status != "running" || run.Holder == "" {
		t.Fatalf("run %s, holder %q before the kills: make the scan longer", run.Status, run.Holder)
	}
	var victim *instance
	for _, inst := range instances {
		if strings.HasSuffix(run.Holder, fmt.Sprintf("/%d", inst.cmd.Process.Pid)) {
			victim = inst
		}
	}
	if victim == nil {
		t.Fatalf("no instance is the run's holder %q", run.Holder)
	}
	killedAt := time.Now()
	agentProcs[victimAgent.Name].cmd.Process.Signal(syscall.SIGKILL)
	victim.cmd.Process.Signal(syscall.SIGKILL)
	<-agentProcs[victimAgent.Name].done
	victim.cmd.Wait()
	t.Logf("%.1fs into the scan: killed agent %s (chunk %d, %d of its hosts sent) and the run's instance %s",
		killedAt.Sub(scanStart).Seconds(), victimAgent.Name, victimChunk.ID, victimChunk.HostsDone, run.Holder)

	waitFor(t, 100*time.Second, "the run to end", func() bool {
		s := runOf().Status
		return s == "done" || s == "failed"
	})
	run = runOf()
	if run.Status != "done" {
		t.Fatalf("run %s: %s\n%s", run.Status, run.Error, dump())
	}
	t.Logf("the run was done %s after the kills (%s after it started), finished by %s",
		time.Since(killedAt).Round(100*time.Millisecond), time.Since(scanStart).Round(100*time.Millisecond), run.Holder)
	if run.Holder == victim.url || strings.HasSuffix(run.Holder, fmt.Sprintf("/%d", victim.cmd.Process.Pid)) {
		t.Errorf("the run was finished by the killed instance %q", run.Holder)
	}

	// Each host once in the run's results, each chunk done once with each
	// of its hosts counted once, the killed agent's chunk taken over.
	var perHost []struct {
		Address string
		N       int
	}
	db.Model(&models.ScanResult{}).Select("address, COUNT(*) AS n").Where("run_id = ? AND protocol = '' AND port = 0", started.ID).Group("address").Scan(&perHost)
	if len(perHost) != len(hosts) {
		t.Errorf("%d hosts recorded, want %d: %+v", len(perHost), len(hosts), perHost)
	}
	for _, h := range perHost {
		if h.N != 1 {
			t.Errorf("host %s recorded %d times", h.Address, h.N)
		}
	}
	var openPorts []struct {
		Address string
		N       int
	}
	db.Model(&models.ScanResult{}).Select("address, COUNT(*) AS n").Where("run_id = ? AND protocol = 'tcp' AND state = 'open'", started.ID).Group("address").Scan(&openPorts)
	open := map[string]int{}
	for _, h := range openPorts {
		open[h.Address] = h.N
	}
	for i, a := range hosts {
		if want := 1 + silent*(i%2); open[a] != want {
			t.Errorf("host %s: %d open port rows, want %d", a, open[a], want)
		}
	}
	var chunks []models.ScanChunk
	db.Where("run_id = ?", started.ID).Order("position").Find(&chunks)
	if len(chunks) != len(hosts)/2 {
		t.Errorf("%d chunks, want %d", len(chunks), len(hosts)/2)
	}
	byAgent := map[uint]int{}
	for _, c := range chunks {
		if c.State != "done" || c.HostsDone != len(strings.Split(c.Targets, ",")) {
			t.Errorf("chunk %d: %s with %d of its hosts %s", c.ID, c.State, c.HostsDone, c.Targets)
		}
		if c.AgentID != nil {
			byAgent[*c.AgentID]++
		}
		if c.ID == victimChunk.ID && (c.AgentID == nil || *c.AgentID == victimAgent.ID) {
			t.Errorf("chunk %d was finished by the killed agent", c.ID)
		}
	}
	var chunkHosts []struct {
		Address string
		N       int
	}
	db.Raw("SELECT address, COUNT(*) AS n FROM scan_chunk_hosts h JOIN scan_chunks c ON c.id = h.chunk_id WHERE c.run_id = ? GROUP BY address", started.ID).Scan(&chunkHosts)
	if len(chunkHosts) != len(hosts) {
		t.Errorf("chunk hosts %+v, want each of %d hosts once", chunkHosts, len(hosts))
	}
	for _, h := range chunkHosts {
		if h.N != 1 {
			t.Errorf("chunk host %s recorded %d times", h.Address, h.N)
		}
	}
	var requeued int64
	db.Model(&models.AuditEvent{}).Where("action = ?", "scan.chunk_requeued").Count(&requeued)
	if requeued < 1 {
		t.Error("the killed agent's chunk was not requeued (no scan.chunk_requeued event)")
	}

	waitFor(t, 30*time.Second, "no scan run queued or running", func() bool {
		var n int64
		db.Model(&models.ScanRun{}).Where("status IN ?", []string{"queued", "running"}).Count(&n)
		return n == 0
	})

	// One delivery per alert in the database, each received under its id.
	var deliveries []models.AlertDelivery
	waitFor(t, 60*time.Second, "every alert delivered", func() bool {
		deliveries = nil
		db.Find(&deliveries)
		for _, d := range deliveries {
			if d.Status != "delivered" {
				return false
			}
		}
		return len(deliveries) > 0
	})
	var drift int64
	db.Model(&models.DriftItem{}).Count(&drift)
	perAlert := map[uint]int{}
	for _, d := range deliveries {
		perAlert[d.DriftItemID]++
	}
	for id, n := range perAlert {
		if n != 1 {
			t.Errorf("drift %d has %d deliveries recorded", id, n)
		}
	}
	recv.mu.Lock()
	defer recv.mu.Unlock()
	if len(recv.sends) != len(deliveries) {
		t.Errorf("the receiver got %d distinct delivery ids, the server recorded %d deliveries", len(recv.sends), len(deliveries))
	}
	repeats := 0
	for _, d := range deliveries {
		n := recv.sends[fmt.Sprintf("drift-%d", d.DriftItemID)]
		if n == 0 {
			t.Errorf("delivery %d (drift %d) never reached the receiver: %v", d.ID, d.DriftItemID, recv.sends)
		}
		repeats += max(n-1, 0)
	}
	t.Logf("%d hosts in %d chunks by %d agents, each recorded once; %d drift items, %d deliveries recorded, %d sends repeated (dropped by id)",
		len(perHost), len(chunks), len(byAgent), drift, len(deliveries), repeats)
}
