package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/credentials"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/scans"
)

// passwordRedis plays a Redis that wants AUTH, counting the attempts.
func passwordRedis(password string, auths *atomic.Int32) func(net.Conn) {
	return func(c net.Conn) {
		r := bufio.NewReader(c)
		for {
			var n int
			if _, err := fmt.Fscanf(r, "*%d\r\n", &n); err != nil {
				return
			}
			var args []string
			for range n {
				var l int
				if _, err := fmt.Fscanf(r, "$%d\r\n", &l); err != nil {
					return
				}
				b := make([]byte, l+2)
				if _, err := io.ReadFull(r, b); err != nil {
					return
				}
				args = append(args, string(b[:l]))
			}
			switch strings.ToUpper(args[0]) {
			case "AUTH":
				auths.Add(1)
				if args[len(args)-1] == password {
					io.WriteString(c, "+OK\r\n")
				} else {
					io.WriteString(c, "-WRONGPASS invalid username-password pair or user is disabled.\r\n")
				}
			case "QUIT":
				return
			default:
				io.WriteString(c, "-NOAUTH Authentication required.\r\n")
			}
		}
	}
}

// TestServerScansTryCredentialsWhereTheZoneSaysSo: the server's scan of a zone
// with the switch on tries the admin's sealed list on the wire and reports the
// match by its entry; the same service in a zone without the switch sees no
// attempt; the password shows in no report, audit event or log.
func TestServerScansTryCredentialsWhereTheZoneSaysSo(t *testing.T) {
	const secret = "Corp-Redis-Secret-4471"
	ctx := context.Background()
	db := modelstest.SQLite(t)
	var logs bytes.Buffer
	app := workflow.New(db, slog.New(slog.NewJSONHandler(&logs, nil)))
	key, err := credentials.KeyFrom([]byte("an audit signing key for the test"))
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Credentials.SetKey(key); err != nil {
		t.Fatal(err)
	}
	app.Credentials.SetParser(parseCredentialList)
	app.Scans.SetScanner(scannerAdapter{credentials: app.Credentials.Load, log: app.Log()}, scans.Policy{LoopbackOnly: true})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(app.Inventory.EnsurePolicy(ctx))
	admin := core.Actor{ID: 0, Email: "setup", Roles: []core.Role{core.RoleAdmin}}
	_, err = app.Inventory.SaveZone(ctx, admin, 0, inventory.ZoneInput{Name: "checked", Classification: "medium", CIDRs: "127.79.0.0/16", CheckCredentials: true})
	must(err)
	_, err = app.Inventory.SaveZone(ctx, admin, 0, inventory.ZoneInput{Name: "unchecked", Classification: "medium", CIDRs: "127.80.0.0/16"})
	must(err)
	for _, a := range []string{"127.79.0.10", "127.80.0.10"} {
		_, err = app.Inventory.SaveAsset(ctx, admin, 0, inventory.AssetInput{Address: a})
		must(err)
	}
	must(app.Credentials.Save(ctx, admin, "redis - not-it-either\nredis - "+secret+"\n"))

	var checkedAuths, uncheckedAuths atomic.Int32
	serveOn(t, "127.79.0.10:6379", passwordRedis(secret, &checkedAuths))
	serveOn(t, "127.80.0.10:6379", passwordRedis(secret, &uncheckedAuths))

	run, err := app.Scans.RequestScan(ctx, admin, []string{"127.79.0.10", "127.80.0.10"}, "common")
	must(err)
	must(app.Scans.Run(ctx, run.ID, "test", 0))
	var done models.ScanRun
	must(db.First(&done, run.ID).Error)
	rep, err := scans.ParseReport(done.Report)
	must(err)
	findings := map[string][]scans.Finding{}
	for _, h := range rep.Hosts {
		for _, p := range h.Ports {
			if p.Port == 6379 {
				findings[h.Address] = p.Findings
			}
		}
	}
	f := findings["127.79.0.10"]
	if len(f) != 1 || f[0].ID != "default-credentials" || f[0].Severity != "critical" || !strings.Contains(f[0].Detail, "admin-list#2") {
		t.Fatalf("checked zone: findings %+v, want default-credentials naming admin-list#2 (report %s)", f, done.Report)
	}
	if checkedAuths.Load() != 2 {
		t.Errorf("the checked Redis saw %d AUTH attempts, want 2", checkedAuths.Load())
	}
	if len(findings["127.80.0.10"]) != 0 || uncheckedAuths.Load() != 0 {
		t.Errorf("unchecked zone: findings %+v, %d AUTH attempts; want none", findings["127.80.0.10"], uncheckedAuths.Load())
	}
	var events []models.AuditEvent
	must(db.Find(&events).Error)
	var trail strings.Builder
	for _, e := range events {
		trail.WriteString(e.Detail)
	}
	for where, text := range map[string]string{"report": done.Report, "log": logs.String(), "audit trail": trail.String()} {
		if strings.Contains(text, secret) || strings.Contains(text, "not-it-either") {
			t.Errorf("the %s shows a password", where)
		}
	}
	if !strings.Contains(logs.String(), `"entry":"admin-list#1"`) {
		t.Errorf("the attempts are not logged by entry:\n%s", logs.String())
	}
}
