package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/alerts/channels"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/drift"
	"github.com/portcullis/portcullis/workflow/identity"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/scans"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// serveOn plays a service on a loopback address until the test ends or stop is called.
func serveOn(t *testing.T, addr string, handle func(net.Conn)) (stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s (loopback addresses beyond 127.0.0.1 need Linux): %v", addr, err)
	}
	var once sync.Once
	stop = func() { once.Do(func() { ln.Close() }) }
	t.Cleanup(stop)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				handle(c)
			}()
		}
	}()
	return stop
}

func httpService(c net.Conn) {
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil || strings.TrimSpace(line) == "" {
			break
		}
	}
	io.WriteString(c, "HTTP/1.1 200 OK\r\nServer: test\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
}

func redisService(c net.Conn) {
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch {
		case strings.Contains(strings.ToUpper(line), "PING"):
			io.WriteString(c, "+PONG\r\n")
		case strings.Contains(strings.ToUpper(line), "INFO"):
			info := "# Server\r\nredis_version:7.2.4\r\n"
			fmt.Fprintf(c, "$%d\r\n%s\r\n", len(info), info)
		}
	}
}

// TestProofOnTheWire is the end-to-end check on loopback: listeners started
// here play the assets; an approved and implemented request is verified by a
// real scan; a listener on an unapproved port becomes an open drift item
// with one alert to a webhook (signature checked) and to syslog; when the
// listener stops, the next scan resolves the item.
func TestProofOnTheWire(t *testing.T) {
	ctx := context.Background()
	db := modelstest.SQLite(t)
	app := workflow.New(db, modelstest.Logger())
	app.Scans.SetScanner(scannerAdapter{}, scans.Policy{LoopbackOnly: true})
	if err := app.Inventory.EnsurePolicy(ctx); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var hooks []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := channels.VerifySignature("hook-secret", r.Header.Get(channels.HeaderTimestamp), body, r.Header.Get(channels.HeaderSignature), time.Now(), time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		mu.Lock()
		hooks = append(hooks, string(body))
		mu.Unlock()
	}))
	defer hook.Close()
	syslogConn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer syslogConn.Close()
	alerting, err := buildAlerting(alertsFileFor(hook.URL, syslogConn.LocalAddr().String()), func(k string) string {
		if k == "HOOK_SECRET" {
			return "hook-secret"
		}
		return ""
	}, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	app.Alerts.SetAlerting(alerting)

	admin := core.Actor{ID: 0, Email: "setup", Roles: []core.Role{core.RoleAdmin}}
	people := map[string]core.Actor{}
	for _, p := range []struct {
		name string
		role core.Role
	}{{"alice", core.RoleRequester}, {"rita", core.RoleReviewer}, {"ivan", core.RoleImplementer}} {
		a, err := app.Identity.Login(ctx, identity.Identity{Issuer: "https://idp.test", Subject: p.name, Email: p.name + "@example.test", Roles: []core.Role{p.role}})
		if err != nil {
			t.Fatal(err)
		}
		people[p.name] = a
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err = app.Inventory.SaveZone(ctx, admin, 0, inventory.ZoneInput{Name: "transit", Classification: "transit", CIDRs: "127.78.0.0/16"})
	must(err)
	_, err = app.Inventory.SaveZone(ctx, admin, 0, inventory.ZoneInput{Name: "apps", Classification: "medium", CIDRs: "127.77.0.0/16"})
	must(err)
	_, err = app.Inventory.SaveAsset(ctx, admin, 0, inventory.AssetInput{Address: "127.77.0.10", Hostname: "app1"})
	must(err)

	serveOn(t, "127.77.0.10:18443", httpService)
	req, err := app.Requests.Create(ctx, people["alice"], requests.Input{Title: "App front end", Justification: "users reach the app",
		Rules: []requests.RuleInput{{Source: "transit", Destination: "127.77.0.10", Protocol: "tcp", Ports: "18443", Service: "http"}}})
	must(err)
	_, err = app.Requests.Submit(ctx, people["alice"], req.ID)
	must(err)
	var checklist []requests.ChecklistAnswer
	for _, item := range requests.ChecklistFor(requests.FindingsOf(*req)) {
		checklist = append(checklist, requests.ChecklistAnswer{Item: item.ID, Result: "pass"})
	}
	_, err = app.Requests.Review(ctx, people["rita"], req.ID, requests.ReviewInput{Decision: requests.DecisionApprove, ZoneConfirmed: true, Checklist: checklist})
	must(err)
	_, err = app.Requests.Implement(ctx, people["ivan"], req.ID, "CHG-1", "")
	must(err)

	runAll := func() {
		t.Helper()
		w := workflowtest.World{App: app, Ctx: ctx}
		w.RunQueued(t)
	}
	runAll()
	d, err := app.Requests.Get(ctx, people["alice"], req.ID)
	must(err)
	if d.Request.State != string(requests.StateActive) {
		t.Fatalf("after the verification scan the request is %s; evidence %+v", d.Request.State, d.Evidence)
	}

	// A Redis without a password appears on a port nobody approved.
	stopRedis := serveOn(t, "127.77.0.10:16379", redisService)
	_, err = app.Scans.RequestScan(ctx, people["rita"], []string{"127.77.0.10"}, "common")
	must(err)
	runAll()
	items, err := app.Drift.List(ctx, people["rita"], drift.Filter{States: []string{drift.Open}})
	must(err)
	found := uint(0)
	for _, it := range items {
		if it.Port == 16379 && it.Kind == "open-unapproved" && it.Service == "redis" {
			found = it.ID
		}
	}
	if found == 0 {
		t.Fatalf("no open-unapproved drift for the Redis on 16379: %+v", items)
	}
	delivered := workflowtest.DeliverPending(t, app)
	if delivered < 2 {
		t.Fatalf("%d alerts delivered, want the webhook and syslog", delivered)
	}
	mu.Lock()
	gotHook := len(hooks) > 0 && strings.Contains(strings.Join(hooks, "\n"), `"port":16379`)
	mu.Unlock()
	if !gotHook {
		t.Fatalf("the webhook did not receive the Redis alert: %v", hooks)
	}
	buf := make([]byte, 8192)
	syslogConn.SetReadDeadline(time.Now().Add(3 * time.Second))
	seenSyslog := false
	for !seenSyslog {
		n, _, err := syslogConn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("syslog received nothing about 16379: %v", err)
		}
		seenSyslog = strings.Contains(string(buf[:n]), "16379")
	}

	// The listener stops: the next scan resolves the item.
	stopRedis()
	_, err = app.Scans.RequestScan(ctx, people["rita"], []string{"127.77.0.10"}, "common")
	must(err)
	runAll()
	item, err := app.Drift.Get(ctx, people["rita"], found)
	must(err)
	if item.State != drift.Resolved {
		t.Fatalf("after the listener stopped the item is %s", item.State)
	}
}

func alertsFileFor(hookURL, syslogAddr string) alertsFile {
	return alertsFile{
		Channels: []alertChannel{
			{Name: "soc-hook", Type: "webhook", URL: hookURL, SecretEnv: "HOOK_SECRET"},
			{Name: "siem", Type: "syslog", Network: "udp", Address: syslogAddr},
		},
		Routes: []alertRoute{{Channel: "siem"}, {Channel: "soc-hook", MinSeverity: "medium"}},
	}
}
