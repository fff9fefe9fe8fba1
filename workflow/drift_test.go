package workflow

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/alerts/channels"
)

func TestDriftLifecycleAndAlerts(t *testing.T) {
	w := sqliteWorld(t)
	sc := &fakeScanner{open: map[string][]ScanPort{
		"10.50.0.10": {{Port: 443, Protocol: "tcp", State: "open", Service: "http", TLS: true}},
	}}
	w.svc.SetScanner(sc, ScanPolicy{})

	// A webhook receiver that checks the signature, and a syslog receiver.
	var mu sync.Mutex
	var hooks []string
	hook := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := channels.VerifySignature("s3cret", r.Header.Get(channels.HeaderTimestamp), body, r.Header.Get(channels.HeaderSignature), time.Now(), time.Minute); err != nil {
			http.Error(rw, err.Error(), http.StatusUnauthorized)
			return
		}
		mu.Lock()
		hooks = append(hooks, string(body))
		mu.Unlock()
	}))
	defer hook.Close()
	syslogConn, err := net.ListenPacket("udp", "127.0.0.1:0")
	must(t, err)
	defer syslogConn.Close()
	webhook := &channels.Webhook{URL: hook.URL, Secret: "s3cret", Label: "soc-webhook"}
	syslog := &channels.Syslog{Network: channels.NetworkUDP, Address: syslogConn.LocalAddr().String(), Format: channels.FormatCEF, Label: "siem"}
	router, err := channels.NewRouter(
		channels.Route{Name: "everything", Channel: syslog},
		channels.Route{Name: "serious", MinSeverity: "high", Channel: webhook},
	)
	must(t, err)
	w.svc.SetAlerting(&Alerting{Router: router, Channels: map[string]channels.Channel{webhook.Name(): webhook, syslog.Name(): syslog},
		Dispatcher: &channels.Dispatcher{}, Link: func(id uint) string { return "http://portcullis.test/drift/" }})

	id := w.implemented(t, lowRisk())
	w.runQueued(t)
	if got := w.state(t, id); got != StateActive {
		t.Fatalf("state %s", got)
	}
	// A database port opens on the payments gateway without approval.
	sc.open["10.50.0.10"] = append(sc.open["10.50.0.10"], ScanPort{Port: 3306, Protocol: "tcp", State: "open", Service: "mysql", Banner: "5.7.0"})
	for i := 0; i < 2; i++ { // twice: one item, one alert, not one per scan
		_, err := w.svc.RequestScan(w.ctx, w.rita, []string{"10.50.0.10"}, "common")
		must(t, err)
		w.runQueued(t)
	}
	items, err := w.svc.ListDrift(w.ctx, w.rita, DriftFilter{States: []string{DriftOpen}})
	must(t, err)
	if len(items) != 1 || items[0].Kind != "open-unapproved" || items[0].Port != 3306 || items[0].Severity != "high" && items[0].Severity != "critical" {
		t.Fatalf("drift %+v", items)
	}
	var queued int64
	w.svc.db.Model(&models.AlertDelivery{}).Count(&queued)
	if queued != 2 {
		t.Fatalf("%d deliveries queued, want 2 (webhook and syslog, once)", queued)
	}
	n, err := w.svc.DeliverAlerts(w.ctx)
	must(t, err)
	if n != 2 || len(hooks) != 1 || !strings.Contains(hooks[0], `"port":3306`) {
		t.Fatalf("delivered %d, webhook got %v", n, hooks)
	}
	buf := make([]byte, 4096)
	syslogConn.SetReadDeadline(time.Now().Add(2 * time.Second))
	m, _, err := syslogConn.ReadFrom(buf)
	must(t, err)
	if !strings.Contains(string(buf[:m]), "CEF:0|Portcullis") || !strings.Contains(string(buf[:m]), "3306") {
		t.Fatalf("syslog got %q", buf[:m])
	}
	// Acknowledge; then the port closes and the next scan resolves the item.
	_, err = w.svc.AcknowledgeDrift(w.ctx, w.alice, items[0].ID, "")
	mustCode(t, err, CodeForbidden)
	_, err = w.svc.AcknowledgeDrift(w.ctx, w.rita, items[0].ID, "looking")
	must(t, err)
	sc.open["10.50.0.10"] = sc.open["10.50.0.10"][:1]
	_, err = w.svc.RequestScan(w.ctx, w.rita, []string{"10.50.0.10"}, "common")
	must(t, err)
	w.runQueued(t)
	d, err := w.svc.GetDrift(w.ctx, w.aude, items[0].ID)
	must(t, err)
	if d.State != DriftResolved || d.ResolvedAt == nil {
		t.Fatalf("item after the port closed: %s", d.State)
	}
}

func TestDriftSuppressionAndPrefill(t *testing.T) {
	w := sqliteWorld(t)
	sc := &fakeScanner{open: map[string][]ScanPort{"10.40.0.15": {{Port: 33890, Protocol: "tcp", State: "open", Service: "rdp"}}}}
	w.svc.SetScanner(sc, ScanPolicy{})
	_, err := w.svc.RequestScan(w.ctx, w.rita, []string{"10.40.0.15"}, "full")
	must(t, err)
	w.runQueued(t)
	items, _ := w.svc.ListDrift(w.ctx, w.rita, DriftFilter{})
	if len(items) != 1 || items[0].Service != "rdp" {
		t.Fatalf("drift %+v", items)
	}
	in, err := w.svc.DriftPrefill(w.ctx, w.adam, items[0].ID)
	must(t, err)
	if len(in.Rules) != 1 || in.Rules[0].Ports != "33890" || in.Rules[0].Service != "rdp" || in.Rules[0].Destination != "10.40.0.15" {
		t.Fatalf("prefill %+v", in)
	}
	_, err = w.svc.SuppressDrift(w.ctx, w.rita, items[0].ID, "lab", time.Now().Add(time.Hour))
	mustCode(t, err, CodeForbidden)
	_, err = w.svc.SuppressDrift(w.ctx, w.lee, items[0].ID, "", time.Now().Add(time.Hour))
	mustCode(t, err, CodeInvalid)
	_, err = w.svc.SuppressDrift(w.ctx, w.lee, items[0].ID, "vendor lab host, decommissioned next week", time.Now().Add(24*time.Hour))
	must(t, err)
	// Still seen while suppressed: no new item.
	_, err = w.svc.RequestScan(w.ctx, w.rita, []string{"10.40.0.15"}, "full")
	must(t, err)
	w.runQueued(t)
	items, _ = w.svc.ListDrift(w.ctx, w.rita, DriftFilter{})
	if len(items) != 1 || items[0].State != DriftSuppressed {
		t.Fatalf("suppressed drift reopened: %+v", items)
	}
}

func TestLinkDriftRequestGuards(t *testing.T) {
	w := sqliteWorld(t)
	sc := &fakeScanner{open: map[string][]ScanPort{"10.40.0.15": {{Port: 8080, Protocol: "tcp", State: "open", Service: "http"}}}}
	w.svc.SetScanner(sc, ScanPolicy{})
	_, err := w.svc.RequestScan(w.ctx, w.rita, []string{"10.40.0.15"}, "common")
	must(t, err)
	w.runQueued(t)
	items, _ := w.svc.ListDrift(w.ctx, w.rita, DriftFilter{})
	if len(items) != 1 {
		t.Fatalf("drift %+v", items)
	}
	mine := w.create(t, w.alice, lowRisk())
	theirs := w.create(t, w.bob, lowRisk())
	mustCode(t, w.svc.LinkDriftRequest(w.ctx, w.alice, items[0].ID, theirs.ID), CodeForbidden)
	mustCode(t, w.svc.LinkDriftRequest(w.ctx, w.rita, items[0].ID, mine.ID), CodeForbidden)
	mustCode(t, w.svc.LinkDriftRequest(w.ctx, w.alice, 999, mine.ID), CodeNotFound)
	must(t, w.svc.LinkDriftRequest(w.ctx, w.alice, items[0].ID, mine.ID))
	mustCode(t, w.svc.LinkDriftRequest(w.ctx, w.alice, items[0].ID, mine.ID), CodeConflict)
}
