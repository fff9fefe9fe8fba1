package drift_test

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
	"github.com/portcullis/portcullis/workflow/alerts"
	"github.com/portcullis/portcullis/workflow/alerts/channels"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/drift"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/scans"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

func TestDriftLifecycleAndAlerts(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	sc := &workflowtest.FakeScanner{Open: map[string][]scans.Port{
		"10.50.0.10": {{Port: 443, Protocol: "tcp", State: "open", Service: "http", TLS: true}},
	}}
	w.App.Scans.SetScanner(sc, scans.Policy{})

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
	workflowtest.Must(t, err)
	defer syslogConn.Close()
	webhook := &channels.Webhook{URL: hook.URL, Secret: "s3cret", Label: "soc-webhook"}
	syslog := &channels.Syslog{Network: channels.NetworkUDP, Address: syslogConn.LocalAddr().String(), Format: channels.FormatCEF, Label: "siem"}
	router, err := channels.NewRouter(
		channels.Route{Name: "everything", Channel: syslog},
		channels.Route{Name: "serious", MinSeverity: "high", Channel: webhook},
	)
	workflowtest.Must(t, err)
	w.App.Alerts.SetAlerting(&alerts.Alerting{Router: router, Channels: map[string]channels.Channel{webhook.Name(): webhook, syslog.Name(): syslog},
		Dispatcher: &channels.Dispatcher{}, Link: func(id uint) string { return "http://portcullis.test/drift/" }})

	id := w.Implemented(t, workflowtest.LowRisk())
	w.RunQueued(t)
	if got := w.State(t, id); got != requests.StateActive {
		t.Fatalf("state %s", got)
	}
	// A database port opens on the payments gateway without approval.
	sc.Open["10.50.0.10"] = append(sc.Open["10.50.0.10"], scans.Port{Port: 3306, Protocol: "tcp", State: "open", Service: "mysql", Banner: "5.7.0"})
	for i := 0; i < 2; i++ { // twice: one item, one alert, not one per scan
		_, err := w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{"10.50.0.10"}, "common")
		workflowtest.Must(t, err)
		w.RunQueued(t)
	}
	items, err := w.App.Drift.List(w.Ctx, w.Rita, drift.Filter{States: []string{drift.Open}})
	workflowtest.Must(t, err)
	if len(items) != 1 || items[0].Kind != "open-unapproved" || items[0].Port != 3306 || items[0].Severity != "high" && items[0].Severity != "critical" {
		t.Fatalf("drift %+v", items)
	}
	var queued int64
	w.App.DB().Model(&models.AlertDelivery{}).Count(&queued)
	if queued != 2 {
		t.Fatalf("%d deliveries queued, want 2 (webhook and syslog, once)", queued)
	}
	n := workflowtest.DeliverPending(t, w.App)
	if n != 2 || len(hooks) != 1 || !strings.Contains(hooks[0], `"port":3306`) {
		t.Fatalf("delivered %d, webhook got %v", n, hooks)
	}
	buf := make([]byte, 4096)
	syslogConn.SetReadDeadline(time.Now().Add(2 * time.Second))
	m, _, err := syslogConn.ReadFrom(buf)
	workflowtest.Must(t, err)
	if !strings.Contains(string(buf[:m]), "CEF:0|Portcullis") || !strings.Contains(string(buf[:m]), "3306") {
		t.Fatalf("syslog got %q", buf[:m])
	}
	// Acknowledge; then the port closes and the next scan resolves the item.
	_, err = w.App.Drift.Acknowledge(w.Ctx, w.Alice, items[0].ID, "")
	workflowtest.MustCode(t, err, core.CodeForbidden)
	_, err = w.App.Drift.Acknowledge(w.Ctx, w.Rita, items[0].ID, "looking")
	workflowtest.Must(t, err)
	sc.Open["10.50.0.10"] = sc.Open["10.50.0.10"][:1]
	_, err = w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{"10.50.0.10"}, "common")
	workflowtest.Must(t, err)
	w.RunQueued(t)
	d, err := w.App.Drift.Get(w.Ctx, w.Aude, items[0].ID)
	workflowtest.Must(t, err)
	if d.State != drift.Resolved || d.ResolvedAt == nil {
		t.Fatalf("item after the port closed: %s", d.State)
	}
}

func TestDriftSuppressionAndPrefill(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	sc := &workflowtest.FakeScanner{Open: map[string][]scans.Port{"10.40.0.15": {{Port: 33890, Protocol: "tcp", State: "open", Service: "rdp"}}}}
	w.App.Scans.SetScanner(sc, scans.Policy{})
	_, err := w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{"10.40.0.15"}, "full")
	workflowtest.Must(t, err)
	w.RunQueued(t)
	items, _ := w.App.Drift.List(w.Ctx, w.Rita, drift.Filter{})
	if len(items) != 1 || items[0].Service != "rdp" {
		t.Fatalf("drift %+v", items)
	}
	in, err := w.App.Drift.Prefill(w.Ctx, w.Adam, items[0].ID)
	workflowtest.Must(t, err)
	if len(in.Rules) != 1 || in.Rules[0].Ports != "33890" || in.Rules[0].Service != "rdp" || in.Rules[0].Destination != "10.40.0.15" {
		t.Fatalf("prefill %+v", in)
	}
	_, err = w.App.Drift.Suppress(w.Ctx, w.Rita, items[0].ID, "lab", time.Now().Add(time.Hour))
	workflowtest.MustCode(t, err, core.CodeForbidden)
	_, err = w.App.Drift.Suppress(w.Ctx, w.Lee, items[0].ID, "", time.Now().Add(time.Hour))
	workflowtest.MustCode(t, err, core.CodeInvalid)
	_, err = w.App.Drift.Suppress(w.Ctx, w.Lee, items[0].ID, "vendor lab host, decommissioned next week", time.Now().Add(24*time.Hour))
	workflowtest.Must(t, err)
	// Still seen while suppressed: no new item.
	_, err = w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{"10.40.0.15"}, "full")
	workflowtest.Must(t, err)
	w.RunQueued(t)
	items, _ = w.App.Drift.List(w.Ctx, w.Rita, drift.Filter{})
	if len(items) != 1 || items[0].State != drift.Suppressed {
		t.Fatalf("suppressed drift reopened: %+v", items)
	}
}

func TestLinkDriftRequestGuards(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	sc := &workflowtest.FakeScanner{Open: map[string][]scans.Port{"10.40.0.15": {{Port: 8080, Protocol: "tcp", State: "open", Service: "http"}}}}
	w.App.Scans.SetScanner(sc, scans.Policy{})
	_, err := w.App.Scans.RequestScan(w.Ctx, w.Rita, []string{"10.40.0.15"}, "common")
	workflowtest.Must(t, err)
	w.RunQueued(t)
	items, _ := w.App.Drift.List(w.Ctx, w.Rita, drift.Filter{})
	if len(items) != 1 {
		t.Fatalf("drift %+v", items)
	}
	opens := requests.Input{Title: "Keep 8080", Justification: "the build dashboard", Rules: []requests.RuleInput{
		{Source: "transit", Destination: "10.40.0.15", Protocol: "tcp", Ports: "8000-8100", Service: "http"}}}
	mine := w.Create(t, w.Pat, opens)
	unrelated := w.Create(t, w.Pat, workflowtest.LowRisk())
	theirs := w.Create(t, w.Bob, opens)
	alices := w.Create(t, w.Alice, opens)
	workflowtest.MustCode(t, w.App.Drift.LinkRequest(w.Ctx, w.Pat, items[0].ID, theirs.ID), core.CodeForbidden)
	workflowtest.MustCode(t, w.App.Drift.LinkRequest(w.Ctx, w.Rita, items[0].ID, mine.ID), core.CodeForbidden)
	workflowtest.MustCode(t, w.App.Drift.LinkRequest(w.Ctx, w.Pat, 999, mine.ID), core.CodeNotFound)
	// Issue 12 item 4: a requester who cannot see drift cannot link an
	// item, and a request that does not open what the item found cannot
	// be linked to it.
	workflowtest.MustCode(t, w.App.Drift.LinkRequest(w.Ctx, w.Alice, items[0].ID, alices.ID), core.CodeForbidden)
	workflowtest.MustCode(t, w.App.Drift.CheckLink(w.Ctx, w.Alice, items[0].ID, opens.Rules), core.CodeForbidden)
	workflowtest.MustCode(t, w.App.Drift.LinkRequest(w.Ctx, w.Pat, items[0].ID, unrelated.ID), core.CodeInvalid)
	workflowtest.MustCode(t, w.App.Drift.CheckLink(w.Ctx, w.Pat, items[0].ID, workflowtest.LowRisk().Rules), core.CodeInvalid)
	udp := []requests.RuleInput{{Source: "transit", Destination: "10.40.0.15", Protocol: "udp", Ports: "8080"}}
	workflowtest.MustCode(t, w.App.Drift.CheckLink(w.Ctx, w.Pat, items[0].ID, udp), core.CodeInvalid)
	workflowtest.Must(t, w.App.Drift.CheckLink(w.Ctx, w.Pat, items[0].ID, opens.Rules))
	workflowtest.Must(t, w.App.Drift.LinkRequest(w.Ctx, w.Pat, items[0].ID, mine.ID))
	workflowtest.MustCode(t, w.App.Drift.LinkRequest(w.Ctx, w.Pat, items[0].ID, mine.ID), core.CodeConflict)
}
