//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/identity"
	"github.com/portcullis/portcullis/workflow/inventory"
)

// agentNet is the test's network: a server namespace and a zone namespace
// joined by one veth pair (10.219.0.0/24); the zone's lab hosts are
// 10.219.1.0/24 inside the zone namespace, to which the server namespace
// has no route. Only the agent's outbound connection crosses.
type agentNet struct {
	server, zone string
	// zoneLink is the zone's end of the veth pair, cut to simulate an outage.
	zoneLink string
}

const (
	agentServerAddr = "10.219.0.1"
	agentZoneAddr   = "10.219.0.2"
)

// labAddrs are the zone's lab hosts.
var labAddrs = []string{"10.219.1.1", "10.219.1.2", "10.219.1.3", "10.219.1.4"}

func runIP(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// newAgentNet creates the namespaces; they are deleted when the test ends.
// hosts are lab addresses added to the zone namespace.
func newAgentNet(t testing.TB, hosts []string) *agentNet {
	if os.Geteuid() != 0 {
		t.Skip("skipped: the agent network test creates network namespaces and needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("skipped: the agent network test needs the ip command (iproute2)")
	}
	id := os.Getpid() % 100000
	vs, vz := fmt.Sprintf("agt%da", id), fmt.Sprintf("agt%db", id)
	n := &agentNet{server: fmt.Sprintf("agt%ds", id), zone: fmt.Sprintf("agt%dz", id), zoneLink: vz}
	exec.Command("ip", "netns", "del", n.server).Run()
	exec.Command("ip", "netns", "del", n.zone).Run()
	runIP(t, "netns", "add", n.server)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", n.server).Run() })
	runIP(t, "netns", "add", n.zone)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", n.zone).Run() })
	runIP(t, "link", "add", vs, "type", "veth", "peer", "name", vz)
	runIP(t, "link", "set", vs, "netns", n.server)
	runIP(t, "link", "set", vz, "netns", n.zone)
	runIP(t, "-n", n.server, "addr", "add", agentServerAddr+"/24", "dev", vs)
	runIP(t, "-n", n.server, "link", "set", vs, "up")
	runIP(t, "-n", n.server, "link", "set", "lo", "up")
	runIP(t, "-n", n.zone, "addr", "add", agentZoneAddr+"/24", "dev", vz)
	runIP(t, "-n", n.zone, "link", "set", vz, "up")
	runIP(t, "-n", n.zone, "link", "set", "lo", "up")
	for _, a := range hosts {
		runIP(t, "-n", n.zone, "addr", "add", a+"/32", "dev", "lo")
	}
	return n
}

// inNamespace runs fn on an OS thread moved into namespace ns; sockets it
// opens stay there. The thread is never given back (the goroutine ends
// locked, and Go retires the thread), so no other code runs in ns.
func inNamespace(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join("/var/run/netns", ns))
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// client is an HTTP client whose connections are opened in namespace ns.
func (n *agentNet) client(ns string) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := inNamespace(ns, func() error {
				var err error
				c, err = (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, network, addr)
				return err
			})
			return c, err
		},
	}}
}

// labHosts listens in the zone namespace: every host answers an SSH
// greeting on 22 at once; all but the first also hold silent ports from
// 100 open, which take the scanner a while to give up on.
func (n *agentNet) labHosts(t testing.TB, addrs []string, silent int) {
	var lns []net.Listener
	err := inNamespace(n.zone, func() error {
		for i, a := range addrs {
			ports := []int{22}
			if i > 0 {
				for p := 100; p < 100+silent; p++ {
					ports = append(ports, p)
				}
			}
			for _, p := range ports {
				ln, err := net.Listen("tcp", net.JoinHostPort(a, fmt.Sprint(p)))
				if err != nil {
					return err
				}
				lns = append(lns, ln)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	for _, ln := range lns {
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				if strings.HasSuffix(ln.Addr().String(), ":22") {
					c.Write([]byte("SSH-2.0-OpenSSH_9.6 lab\r\n"))
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}()
	}
	t.Cleanup(func() {
		for _, ln := range lns {
			ln.Close()
		}
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
}

// buildPortcullis builds the binary the processes run.
func buildPortcullis(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "portcullis")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is a process the test started in a namespace.
type proc struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan struct{}
	mu     sync.Mutex
}

type lockedBuffer struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (l lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func startIn(t testing.TB, ns string, env []string, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{stderr: &bytes.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command("ip", append([]string{"netns", "exec", ns, bin}, args...)...)
	p.cmd.Env = append(os.Environ(), env...)
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
			t.Logf("%s %s output:\n%s", filepath.Base(bin), args[0], p.output())
		}
	})
	return p
}

func (p *proc) output() string { p.mu.Lock(); defer p.mu.Unlock(); return p.stderr.String() }

// exited waits for the process to end and returns its exit code.
func (p *proc) exited(t testing.TB, within time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(within):
		t.Fatalf("process still running after %s; output:\n%s", within, p.output())
		return 0
	}
}

func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// agentLab is the whole set-up: database, server and namespaces.
type agentLab struct {
	t        testing.TB
	net      *agentNet
	bin, db  string
	app      *workflow.App
	api      *http.Client
	token    string
	url      string
	server   *proc
	srvFlags []string
	serverNS string
}

// newAgentLab sets up the lab; serverInZone runs the server inside the
// zone's namespace (the bench: the built-in scanner must reach the hosts).
func newAgentLab(t testing.TB, hosts []string, chunkHosts int, serverInZone bool) *agentLab {
	n := newAgentNet(t, hosts)
	l := &agentLab{t: t, net: n, bin: buildPortcullis(t), db: filepath.Join(t.TempDir(), "portcullis.db"), url: "http://" + agentServerAddr + ":8080", serverNS: n.server}
	if serverInZone {
		l.url, l.serverNS = "http://"+agentZoneAddr+":8080", n.zone
	}
	ctx := context.Background()
	db, err := models.Open(ctx, l.db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	l.app = workflow.New(db, slog.New(slog.DiscardHandler))
	admin, err := l.app.Identity.Login(ctx, identity.Identity{Issuer: "https://idp.test", Subject: "adam", Email: "adam@example.test", Name: "Adam", Roles: []core.Role{core.RoleAdmin, core.RoleReviewer}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.app.Inventory.SaveZone(ctx, admin, 0, inventory.ZoneInput{Name: "lab", Classification: "medium", CIDRs: "10.219.1.0/24"}); err != nil {
		t.Fatal(err)
	}
	for _, a := range hosts {
		if _, err := l.app.Inventory.SaveAsset(ctx, admin, 0, inventory.AssetInput{Address: a, Hostname: "lab-" + a}); err != nil {
			t.Fatal(err)
		}
	}
	if l.token, _, err = l.app.Identity.CreateToken(ctx, admin, admin.Email, "agent test"); err != nil {
		t.Fatal(err)
	}
	l.api = n.client(l.serverNS)
	l.srvFlags = []string{"serve", "--addr", strings.TrimPrefix(l.url, "http://"), "--db", l.db, "--public-url", l.url, "--log-level", "warn",
		"--oidc-issuer", "http://127.0.0.1:9", "--oidc-client-id", "portcullis", "--oidc-client-secret-file", writeSecret(t),
		"--agent-heartbeat-timeout", "3s", "--agent-chunk-hosts", fmt.Sprint(chunkHosts)}
	l.startServer()
	return l
}

func writeSecret(t testing.TB) string {
	f := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(f, []byte("not-used\n"), 0o600)
	return f
}

func (l *agentLab) startServer() {
	l.server = startIn(l.t, l.serverNS, nil, l.bin, l.srvFlags...)
	waitFor(l.t, 30*time.Second, "the server to answer", func() bool {
		resp, err := l.api.Get(l.url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// enrol runs "agent enroll" and returns the token, its last line.
func (l *agentLab) enrol(name, zones string) string {
	out, err := exec.Command(l.bin, "agent", "enroll", "--db", l.db, "--name", name, "--zones", zones).CombinedOutput()
	if err != nil {
		l.t.Fatalf("agent enroll: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

func (l *agentLab) startAgent(token, dir string) *proc {
	return startIn(l.t, l.net.zone, []string{"PORTCULLIS_TOKEN=" + token}, l.bin, "agent", "run", "--server", l.url, "--state-dir", dir,
		"--heartbeat", "500ms", "--poll-wait", "2s", "--log-level", "info")
}

func (l *agentLab) call(method, path string, body any, out any) int {
	l.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, l.url+"/api/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer "+l.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.api.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// TestBenchAgents scans a zone of 64 lab hosts with the built-in scanner,
// then with four agents, and reports wall time and chunk throughput.
// Not in CI: make bench-agents (AGENTS_BENCH=1, root).
func TestBenchAgents(t *testing.T) {
	if os.Getenv("AGENTS_BENCH") == "" {
		t.Skip("skipped: set AGENTS_BENCH=1 (make bench-agents) to run the agents bench")
	}
	hosts := make([]string, 64)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("10.219.1.%d", i+1)
	}
	const chunkHosts = 16
	l := newAgentLab(t, hosts, chunkHosts, true)
	l.net.labHosts(t, hosts, 1)

	start := time.Now()
	v := l.waitScan(l.scanLab(), 10*time.Minute)
	builtin := time.Since(start)
	if len(v.Chunks) != 0 || len(v.Report.Hosts) != len(hosts) {
		t.Fatalf("built-in run: %d chunks, %d hosts", len(v.Chunks), len(v.Report.Hosts))
	}
	for i := range 4 {
		name := fmt.Sprintf("bench-%d", i+1)
		l.startAgent(l.enrol(name, "lab"), filepath.Join(t.TempDir(), name))
	}
	waitFor(t, time.Minute, "four agents to connect", func() bool { return l.audited("agent.connect") >= 4 })
	start = time.Now()
	v = l.waitScan(l.scanLab(), 10*time.Minute)
	agents := time.Since(start)
	if len(v.Report.Hosts) != len(hosts) {
		t.Fatalf("agents run: %d hosts in the report, want %d", len(v.Report.Hosts), len(hosts))
	}
	t.Logf("zone of %d lab hosts, common profile, chunks of %d hosts", len(hosts), chunkHosts)
	t.Logf("%-22s %10s %8s %14s %12s", "scanned by", "wall", "chunks", "chunks/s", "hosts/s")
	t.Logf("%-22s %10s %8s %14s %12.1f", "built-in scanner", builtin.Round(time.Millisecond), "-", "-", float64(len(hosts))/builtin.Seconds())
	t.Logf("%-22s %10s %8d %14.2f %12.1f (agents: %s)", "four agents", agents.Round(time.Millisecond), len(v.Chunks),
		float64(len(v.Chunks))/agents.Seconds(), float64(len(hosts))/agents.Seconds(), strings.Join(v.Agents, ", "))
}

// scanLab starts a zone scan of the lab and returns its id.
func (l *agentLab) scanLab() uint {
	var run struct {
		ID uint `json:"id"`
	}
	if st := l.call(http.MethodPost, "/scans", map[string]any{"targets": []string{"lab"}, "profile": "common"}, &run); st != http.StatusAccepted {
		l.t.Fatalf("start scan: %d", st)
	}
	return run.ID
}

// scanView is what GET /api/v1/scans/{id} says.
type scanView struct {
	State  string   `json:"state"`
	Error  string   `json:"error"`
	Agents []string `json:"agents"`
	Chunks []struct {
		State string `json:"state"`
		Agent string `json:"agent"`
	} `json:"chunks"`
	Report struct {
		Hosts []struct {
			Address string `json:"address"`
			Ports   []struct {
				Port    int    `json:"port"`
				State   string `json:"state"`
				Service string `json:"service"`
			} `json:"ports"`
		} `json:"hosts"`
	} `json:"report"`
}

func (l *agentLab) waitScan(id uint, within time.Duration) scanView {
	var v scanView
	defer func() {
		if l.t.Failed() {
			var chunks []models.ScanChunk
			l.app.DB().Where("run_id = ?", id).Find(&chunks)
			for _, c := range chunks {
				l.t.Logf("scan %d chunk %d: %s, lease %d, hosts %s, done %d", id, c.ID, c.State, c.Lease, c.Targets, c.HostsDone)
			}
		}
	}()
	waitFor(l.t, within, fmt.Sprintf("scan %d to finish", id), func() bool {
		v = scanView{}
		l.call(http.MethodGet, fmt.Sprintf("/scans/%d", id), nil, &v)
		return v.State == "done" || v.State == "failed"
	})
	if v.State != "done" {
		l.t.Fatalf("scan %d: %s (%s)", id, v.State, v.Error)
	}
	return v
}

func (l *agentLab) audited(action string) int64 {
	var n int64
	l.app.DB().Model(&models.AuditEvent{}).Where("action = ?", action).Count(&n)
	return n
}

// TestAgentsInNetworkNamespaces runs the real binary: a server in one
// namespace, agents in a zone namespace the server cannot reach.
func TestAgentsInNetworkNamespaces(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: builds the binary and runs processes in network namespaces")
	}
	const silent = 6
	l := newAgentLab(t, labAddrs, 2, false)
	l.net.labHosts(t, labAddrs, silent)

	// The server's namespace has no route to the lab: only agents can scan it.
	err := inNamespace(l.net.server, func() error {
		c, err := net.DialTimeout("tcp", labAddrs[0]+":22", time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
	if err == nil {
		t.Fatal("the server's namespace reaches the lab; the test needs it not to")
	}

	tokenA, tokenB := l.enrol("lab-a", "lab"), l.enrol("lab-b", "lab")
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	agentA := l.startAgent(tokenA, dirA)
	waitFor(t, 30*time.Second, "agent lab-a to connect", func() bool { return l.audited("agent.connect") >= 1 })
	if st, err := os.Stat(filepath.Join(dirA, "agent.json")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("agent state: %v, mode %v; want a 0600 file", err, st.Mode())
	}

	// Scan 1: agent A takes the first chunk and is killed in the middle of it.
	id := l.scanLab()
	var a models.Agent
	l.app.DB().Where("name = ?", "lab-a").Take(&a)
	waitFor(t, 60*time.Second, "agent lab-a to send a host of a chunk it still holds", func() bool {
		var n int64
		l.app.DB().Model(&models.ScanChunk{}).Where("run_id = ? AND agent_id = ? AND state = ? AND hosts_done >= 1", id, a.ID, "leased").Count(&n)
		return n > 0
	})
	agentA.cmd.Process.Signal(syscall.SIGKILL)
	<-agentA.done
	agentB := l.startAgent(tokenB, dirB)
	v := l.waitScan(id, 90*time.Second)

	// Every lab host is in the report, with what the agents saw from inside the zone.
	seen := map[string]int{}
	for _, h := range v.Report.Hosts {
		for _, p := range h.Ports {
			if p.State == "open" {
				seen[h.Address]++
			}
		}
	}
	for i, addr := range labAddrs {
		want := 1
		if i > 0 {
			want += silent
		}
		if seen[addr] != want {
			t.Errorf("%s: %d open ports in the report, want %d", addr, seen[addr], want)
		}
	}
	if len(v.Chunks) != 2 || !strings.Contains(strings.Join(v.Agents, ","), "lab-b") {
		t.Errorf("scan names chunks %+v and agents %v; want two chunks, lab-b among the agents", v.Chunks, v.Agents)
	}
	// Exactly once: each host recorded once per run, counted once per chunk.
	var hostRows []struct {
		Address string
		N       int
	}
	l.app.DB().Raw("SELECT address, COUNT(*) AS n FROM scan_chunk_hosts h JOIN scan_chunks c ON c.id = h.chunk_id WHERE c.run_id = ? GROUP BY address", id).Scan(&hostRows)
	if len(hostRows) != len(labAddrs) {
		t.Errorf("chunk hosts %+v, want each of %d lab hosts once", hostRows, len(labAddrs))
	}
	for _, r := range hostRows {
		if r.N != 1 {
			t.Errorf("%s recorded %d times", r.Address, r.N)
		}
	}
	var doneHosts int64
	l.app.DB().Model(&models.ScanChunk{}).Where("run_id = ?", id).Select("COALESCE(SUM(hosts_done), 0)").Scan(&doneHosts)
	if doneHosts != int64(len(labAddrs)) {
		t.Errorf("hosts done over the chunks: %d, want %d", doneHosts, len(labAddrs))
	}
	if l.audited("scan.chunk_requeued") < 1 {
		t.Error("the killed agent's chunk was not requeued (no scan.chunk_requeued event)")
	}

	// The server restarts; agent B carries on with the next scan.
	l.server.cmd.Process.Signal(syscall.SIGTERM)
	if code := l.server.exited(t, 20*time.Second); code != 0 {
		t.Fatalf("server exit %d", code)
	}
	l.startServer()
	v = l.waitScan(l.scanLab(), 90*time.Second)
	if len(v.Agents) != 1 || v.Agents[0] != "lab-b" {
		t.Errorf("scan after the restart done by %v, want lab-b", v.Agents)
	}

	// The zone's link is cut for longer than a lease while agent B scans:
	// its uploads wait and retry, and it finishes the chunk when the link
	// is back, each host recorded once.
	id = l.scanLab()
	waitFor(t, 30*time.Second, "agent lab-b to take a chunk of the scan", func() bool {
		var n int64
		l.app.DB().Model(&models.ScanChunk{}).Where("run_id = ? AND state = ?", id, "leased").Count(&n)
		return n > 0
	})
	runIP(t, "-n", l.net.zone, "link", "set", l.net.zoneLink, "down")
	time.Sleep(4 * time.Second)
	runIP(t, "-n", l.net.zone, "link", "set", l.net.zoneLink, "up")
	v = l.waitScan(id, 90*time.Second)
	if len(v.Report.Hosts) != len(labAddrs) {
		t.Errorf("scan across the cut: %d hosts in the report, want %d", len(v.Report.Hosts), len(labAddrs))
	}
	l.app.DB().Model(&models.ScanChunk{}).Where("run_id = ?", id).Select("COALESCE(SUM(hosts_done), 0)").Scan(&doneHosts)
	if doneHosts != int64(len(labAddrs)) {
		t.Errorf("hosts done across the cut: %d, want %d", doneHosts, len(labAddrs))
	}

	// A chunk the server should never have made (a target outside the
	// zone's CIDRs) is refused by the agent, and the refusal is audited.
	now := time.Now().UTC()
	run := models.ScanRun{Kind: "on_demand", Profile: "common", Targets: "10.219.2.1", Status: "running", RequestedBy: "test", QueuedAt: now, StartedAt: &now, Progress: "{}"}
	l.app.DB().Create(&run)
	l.app.DB().Create(&models.ScanChunk{RunID: run.ID, Zone: "lab", Vantage: "internal", Targets: "10.219.2.1", TCPPorts: "22", Profile: "common", State: "queued"})
	waitFor(t, 30*time.Second, "the out-of-scope target to be refused", func() bool { return l.audited("agent.scope_refused") == 1 })
	var outside int64
	l.app.DB().Model(&models.ScanResult{}).Where("address = ?", "10.219.2.1").Count(&outside)
	if outside != 0 {
		t.Errorf("%d results for the out-of-scope target", outside)
	}

	// A reused enrolment token is refused: the agent exits non-zero.
	again := l.startAgent(tokenA, filepath.Join(t.TempDir(), "again"))
	if code := again.exited(t, 30*time.Second); code == 0 || !strings.Contains(again.output(), "enrolment refused") {
		t.Errorf("reused token: exit %d, output %q", code, again.output())
	}

	// Revoked, agent B is refused at its next call and stops.
	var b models.Agent
	l.app.DB().Where("name = ?", "lab-b").Take(&b)
	if err := l.app.Agents.Revoke(context.Background(), core.SystemActor, b.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if code := agentB.exited(t, 30*time.Second); code == 0 || !strings.Contains(agentB.output(), "revoked") {
		t.Errorf("revoked agent: exit %d, output %q", code, agentB.output())
	}
	if l.audited("agent.enrol") != 2 || l.audited("agent.enrolled") != 2 || l.audited("agent.revoke") != 1 || l.audited("agent.connect") < 2 {
		t.Errorf("audit: enrol %d, enrolled %d, revoke %d, connect %d", l.audited("agent.enrol"), l.audited("agent.enrolled"), l.audited("agent.revoke"), l.audited("agent.connect"))
	}
}
