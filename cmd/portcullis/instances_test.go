package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow/alerts/channels"
	"github.com/portcullis/portcullis/workflow/compliance"
)

// instance is one `portcullis serve` process.
type instance struct {
	cmd    *exec.Cmd
	url    string
	stderr *btBuffer
}

// startInstance runs serve and waits until it serves.
func startInstance(t *testing.T, bin string, env []string, args ...string) *instance {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	inst := &instance{cmd: cmd, stderr: &btBuffer{}}
	cmd.Stderr = inst.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "Portcullis is serving on "); ok {
				urls <- strings.TrimSpace(rest)
			}
		}
	}()
	select {
	case inst.url = <-urls:
	case <-time.After(60 * time.Second):
		t.Fatalf("instance did not serve within 60s:\n%s", btTail(inst.stderr.String(), 3000))
	}
	return inst
}

// deliveryReceiver is the SOC's webhook: it checks each signature and
// records each delivery id once, however often it is sent.
type deliveryReceiver struct {
	mu    sync.Mutex
	sends map[string]int
}

func (d *deliveryReceiver) handler(secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err := channels.VerifySignature(secret, r.Header.Get(channels.HeaderTimestamp), body, r.Header.Get(channels.HeaderSignature), time.Now(), time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		d.mu.Lock()
		d.sends[r.Header.Get(channels.HeaderDelivery)]++
		d.mu.Unlock()
	})
}

// TestKilledInstanceScanFinishesElsewhere: three instances on one fresh
// PostgreSQL database. A full scan of the demo's loopback hosts starts; the
// instance running it is killed with SIGKILL; another instance takes the
// run over and finishes it. Every host is recorded once, no run stays
// running, and every alert raised is recorded once at the SOC's webhook.
func TestKilledInstanceScanFinishesElsewhere(t *testing.T) {
	if testing.Short() {
		t.Skip("several server processes and a kill -9: not in -short")
	}
	dbURL := modelstest.PostgresDatabase(t)
	bin := buildPortcullis(t)
	dir := t.TempDir()

	keys, err := compliance.NewAuditKeys("river-test")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "audit.key")
	secretRaw := make([]byte, 16)
	rand.Read(secretRaw)
	secret := hex.EncodeToString(secretRaw)
	recv := &deliveryReceiver{sends: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hook := &http.Server{Handler: recv.handler(secret), ReadHeaderTimeout: 5 * time.Second}
	go hook.Serve(ln)
	defer hook.Close()
	alertsFile := filepath.Join(dir, "alerts.yaml")
	for path, body := range map[string]string{
		keyFile: keys.Signer + "\n",
		alertsFile: fmt.Sprintf("channels:\n  - {name: soc-hook, type: webhook, url: \"http://%s/alerts\", secret_env: RIVER_TEST_HOOK_SECRET}\nroutes:\n  - {channel: soc-hook}\n",
			ln.Addr()),
	} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"RIVER_TEST_HOOK_SECRET=" + secret}
	args := []string{"--demo", "--addr", "127.0.0.1:0", "--demo-idp-addr", "127.0.0.1:0", "--db", dbURL,
		"--audit-key-file", keyFile, "--alerts", alertsFile, "--scan-slice", "6s", "--log-level", "warn"}
	// One after the other: the first seeds the demo organisation.
	instances := []*instance{startInstance(t, bin, env, args...)}
	instances = append(instances, startInstance(t, bin, env, args...), startInstance(t, bin, env, args...))

	db, err := models.Open(context.Background(), dbURL, modelstest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	}()
	out, err := exec.Command(bin, "token", "create", "--user", "rita@demo.portcullis.test", "--db", dbURL).Output()
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	token := lines[len(lines)-1]

	hosts := []string{"127.10.0.10", "127.10.0.11", "127.20.0.5", "127.40.0.15", "127.40.0.16"}
	// The scanner does the demo's five hosts in about a second: a dozen
	// more loopback assets make the scan last well past the kill below.
	var apps models.Asset
	if err := db.Where("address = ?", "127.40.0.15").First(&apps).Error; err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 12; i++ {
		extra := models.Asset{Address: fmt.Sprintf("127.62.0.%d", i), ZoneID: apps.ZoneID}
		if err := db.Create(&extra).Error; err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, extra.Address)
	}
	body, _ := json.Marshal(map[string]any{"targets": hosts, "profile": "full"})
	req, _ := http.NewRequest(http.MethodPost, instances[1].url+"/api/v1/scans", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
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

	runOf := func() models.ScanRun {
		var run models.ScanRun
		if err := db.Omit("report").First(&run, started.ID).Error; err != nil {
			t.Fatal(err)
		}
		return run
	}
	waitFor := func(within time.Duration, what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for !cond() {
			if time.Now().After(deadline) {
				var logs strings.Builder
				for i, inst := range instances {
					fmt.Fprintf(&logs, "--- instance %d:\n%s\n", i+1, btTail(inst.stderr.String(), 1500))
				}
				t.Fatalf("not within %s: %s\n%s", within, what, logs.String())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// Well into the scan by a count, not a sleep: some hosts are recorded
	// (the run resumes on the rest) and most are not.
	hostsDone := func() int64 {
		var n int64
		if err := db.Model(&models.ScanResult{}).Where("run_id = ? AND protocol = '' AND port = 0", started.ID).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	const doneBeforeKill = 3
	waitFor(60*time.Second, fmt.Sprintf("the scan records %d hosts", doneBeforeKill), func() bool { return hostsDone() >= doneBeforeKill })
	// The holder is read right before the kill: a slice that ended may have
	// moved the run to another instance since it started, and between two
	// slices no instance holds it.
	var holder string
	waitFor(30*time.Second, "an instance holds the running scan", func() bool {
		run := runOf()
		if run.Status != "running" {
			t.Fatalf("the scan was %s before the kill: make it longer", run.Status)
		}
		holder = run.Holder
		return holder != ""
	})
	var victim *instance
	for _, inst := range instances {
		if strings.HasSuffix(holder, fmt.Sprintf("/%d", inst.cmd.Process.Pid)) {
			victim = inst
		}
	}
	if victim == nil {
		t.Fatalf("no instance is the run's holder %q", holder)
	}
	killedAt := time.Now()
	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	victim.cmd.Wait()
	recorded := hostsDone()
	if run := runOf(); run.Status != "running" || recorded >= int64(len(hosts)) {
		t.Fatalf("the scan was %s with %d of %d hosts recorded when its instance was killed: make it longer", run.Status, recorded, len(hosts))
	}
	t.Logf("killed the run's holder %s with %d of %d hosts recorded", holder, recorded, len(hosts))

	waitFor(150*time.Second, "the killed instance's scan finishes on another instance", func() bool { return runOf().Status == "done" })
	t.Logf("the run was done %s after its instance was killed", time.Since(killedAt).Round(time.Second))
	if run := runOf(); run.Holder == holder {
		t.Fatalf("the run was finished by the killed instance %q", holder)
	}
	var perHost []struct {
		Address string
		N       int
	}
	if err := db.Model(&models.ScanResult{}).Select("address, COUNT(*) AS n").Where("run_id = ? AND protocol = '' AND port = 0", started.ID).Group("address").Scan(&perHost).Error; err != nil {
		t.Fatal(err)
	}
	if len(perHost) != len(hosts) {
		t.Fatalf("%d hosts recorded, want %d: %+v", len(perHost), len(hosts), perHost)
	}
	for _, h := range perHost {
		if h.N != 1 {
			t.Fatalf("host %s recorded %d times", h.Address, h.N)
		}
	}
	waitFor(60*time.Second, "no scan run queued or running", func() bool {
		var n int64
		db.Model(&models.ScanRun{}).Where("status IN ?", []string{"queued", "running"}).Count(&n)
		return n == 0
	})
	var deliveries []models.AlertDelivery
	waitFor(60*time.Second, "every alert delivered", func() bool {
		deliveries = nil
		db.Find(&deliveries)
		for _, d := range deliveries {
			if d.Status != "delivered" {
				return false
			}
		}
		return len(deliveries) > 0
	})
	recv.mu.Lock()
	defer recv.mu.Unlock()
	if len(recv.sends) != len(deliveries) {
		t.Fatalf("the SOC recorded %d distinct deliveries, the server %d", len(recv.sends), len(deliveries))
	}
	for _, d := range deliveries {
		if recv.sends[fmt.Sprintf("drift-%d", d.DriftItemID)] == 0 {
			t.Fatalf("delivery %d (drift %d) never reached the SOC: %v", d.ID, d.DriftItemID, recv.sends)
		}
	}
	t.Logf("%d alerts, each recorded once at the SOC (sends per id: %v)", len(deliveries), recv.sends)
}
