package handlers

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/scans"
)

// gatedScanner reports progress, then waits for the test before finishing.
type gatedScanner struct{ release chan struct{} }

func (g gatedScanner) Resolve(job scans.Job) (scans.Job, error) {
	job.TCPPorts = []uint16{22, 443}
	return job, nil
}

func (g gatedScanner) Scan(ctx context.Context, job scans.Job, progress func(scans.Progress)) ([]byte, error) {
	for i := 0; ; i++ {
		progress(scans.Progress{HostsTotal: 1, PortsDone: int64(i % 20), PortsTotal: 20, Phase: "tcp"})
		select {
		case <-g.release:
			return json.Marshal(scans.Report{Schema: "portcullis.scan/v1", Hosts: []scans.Host{{Address: job.Targets[0].String(), State: "up",
				Ports: []scans.Port{{Port: 22, Protocol: "tcp", State: "open", Service: "ssh", Banner: "SSH-2.0-OpenSSH_9.2p1"}}}}})
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestScanProgressStreamsAndRunPage(t *testing.T) {
	a := newApp(t)
	gate := gatedScanner{release: make(chan struct{})}
	a.svc.Scans.SetScanner(gate, scans.Policy{LoopbackOnly: true})
	rita := a.as("rita")
	// The demo's verification scans wait in the queue: set them aside so this test's scan is the one claimed.
	a.svc.DB().Model(&models.ScanRun{}).Where("status = ?", "queued").Update("status", "failed")
	r := a.post(rita, "/scans", map[string][]string{"targets": {"127.20.0.5"}, "profile": {"common"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("start scan: %d %s", r.StatusCode, a.body(r))
	}
	page := r.Header.Get("Location")
	if r := a.post(rita, "/scans", map[string][]string{"targets": {"192.0.2.1"}}); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("scan outside the inventory: %d", r.StatusCode)
	}
	runID := a.queuedScan(t)
	done := make(chan error, 1)
	go func() { done <- a.svc.Scans.Run(context.Background(), runID, "test", 0) }()

	req, _ := http.NewRequest(http.MethodGet, a.url+page+"/events", nil)
	resp, err := rita.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	var running, finished bool
	deadline := time.AfterFunc(10*time.Second, func() { resp.Body.Close() })
	defer deadline.Stop()
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "data: ") {
			continue
		}
		var p scans.Progress
		json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &p)
		if p.Status == "running" && p.PortsTotal == 20 && !running {
			running = true
			close(gate.release) // seen live: let the scan finish
		}
		if p.Done {
			finished = p.Status == "done"
			break
		}
	}
	if !running || !finished {
		t.Fatalf("stream: saw running=%v finished=%v", running, finished)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	body := a.body(a.get(rita, page))
	for _, want := range []string{`id="scan-ports"`, "SSH-2.0-OpenSSH_9.2p1", "127.20.0.5", `id="no-changes"`} {
		if !strings.Contains(body, want) {
			t.Errorf("run page lacks %q", want)
		}
	}
	// The drift it opened is on the dashboard and the drift page.
	if dash := a.body(a.get(rita, "/dashboard")); !strings.Contains(dash, `id="heat-map"`) || !strings.Contains(dash, `id="trend-chart"`) {
		t.Error("dashboard lacks its heat map or trend chart")
	}
	var drift struct {
		Drift []struct{ Kind, Asset string }
	}
	if st := a.api("rita", http.MethodGet, "/drift?state=open", nil, &drift); st != http.StatusOK {
		t.Fatalf("drift API: %d", st)
	}
	var scan map[string]any
	if st := a.api("rita", http.MethodGet, "/scans/"+strings.TrimPrefix(page, "/scans/"), nil, &scan); st != http.StatusOK || scan["state"] != "done" || scan["report"] == nil {
		t.Fatalf("scan API: %d %v", st, scan["state"])
	}
}
