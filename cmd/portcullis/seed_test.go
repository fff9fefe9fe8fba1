package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/demo"
	drift "github.com/portcullis/portcullis/workflow/driftrules"
	"github.com/portcullis/portcullis/workflow/requests"
)

// seedCounts are the small organisation the tests seed.
var seedCounts = []string{"--requests", "600", "--audit-events", "7000", "--assets", "60", "--drift-items", "900"}

func TestSeedSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.db")
	checkSeed(t, path)
}

func TestSeedPostgres(t *testing.T) {
	dsn := throwawayPostgres(t)
	checkSeed(t, dsn)
}

// checkSeed seeds dsn and checks what a load test relies on.
func checkSeed(t *testing.T, dsn string) {
	ctx := context.Background()
	out, errOut, code := runCLI(t, noEnv, append([]string{"seed", "--db", dsn}, seedCounts...)...)
	if code != 0 {
		t.Fatalf("seed: exit %d\n%s%s", code, out, errOut)
	}
	db, err := models.Open(ctx, dsn, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeGorm(db) })
	count := func(model any, where string, args ...any) int64 {
		t.Helper()
		var n int64
		q := db.Model(model)
		if where != "" {
			q = q.Where(where, args...)
		}
		if err := q.Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range []struct {
		what  string
		model any
		want  int64
	}{
		{"requests", &models.Request{}, 600}, {"audit events", &models.AuditEvent{}, 7000},
		{"assets", &models.Asset{}, 60}, {"drift items", &models.DriftItem{}, 900},
	} {
		if got := count(c.model, ""); got != c.want {
			t.Errorf("%s: %d, want %d", c.what, got, c.want)
		}
	}

	// Requests: every lifecycle state, each request with a rule and a timeline.
	for _, st := range requests.AllStates {
		if count(&models.Request{}, "state = ?", string(st)) == 0 {
			t.Errorf("no request is %s", st)
		}
	}
	if n := count(&models.Request{}, "id NOT IN (SELECT request_id FROM rules)"); n != 0 {
		t.Errorf("%d requests have no rule", n)
	}
	if n := count(&models.Request{}, "id NOT IN (SELECT object_id FROM audit_events WHERE object_type = 'request' AND action = 'create')"); n != 0 {
		t.Errorf("%d requests have no creation in their timeline", n)
	}
	if count(&models.Review{}, "") == 0 || count(&models.Comment{}, "") == 0 || count(&models.Recertification{}, "") == 0 {
		t.Errorf("no reviews, comments or re-certification items")
	}
	// The timeline ends in the request's state.
	var last models.AuditEvent
	if err := db.Where("object_type = 'request' AND object_id = 1 AND to_state <> ''").Order("seq DESC").Take(&last).Error; err != nil {
		t.Fatal(err)
	}
	var first models.Request
	db.First(&first, 1)
	if last.ToState != first.State {
		t.Errorf("request 1 is %s but its timeline ends in %s", first.State, last.ToState)
	}

	// Drift: every kind, severity and state.
	for _, k := range drift.Kinds() {
		if count(&models.DriftItem{}, "kind = ?", string(k)) == 0 {
			t.Errorf("no drift item of kind %s", k)
		}
	}
	for _, v := range []string{"info", "low", "medium", "high", "critical"} {
		if count(&models.DriftItem{}, "severity = ?", v) == 0 {
			t.Errorf("no drift item of severity %s", v)
		}
	}
	for _, v := range []string{drift.StateOpen, drift.StateAcknowledged, drift.StateSuppressed, drift.StateResolved} {
		if count(&models.DriftItem{}, "state = ?", v) == 0 {
			t.Errorf("no drift item is %s", v)
		}
	}
	if n := count(&models.DriftItem{}, "request_id <> 0 AND NOT EXISTS (SELECT 1 FROM rules r WHERE r.id = drift_items.rule_id AND r.request_id = drift_items.request_id)"); n != 0 {
		t.Errorf("%d drift items cite a rule that is not their request's", n)
	}
	var liveDup int64
	db.Raw("SELECT COUNT(*) FROM (SELECT key FROM drift_items WHERE state <> 'resolved' GROUP BY key HAVING COUNT(*) > 1) d").Scan(&liveDup)
	if liveDup != 0 {
		t.Errorf("%d keys have more than one live drift item", liveDup)
	}

	// Zones: every classification, none with a scan schedule on.
	for _, c := range []string{"internet", "dmz", "transit", "low", "medium", "high"} {
		if count(&models.Zone{}, "classification = ?", c) == 0 {
			t.Errorf("no zone is %s", c)
		}
	}
	if n := count(&models.Zone{}, "id NOT IN (SELECT zone_id FROM scan_schedules WHERE daily_hour = -1 AND weekly_day = -1)"); n != 0 {
		t.Errorf("%d zones have a scan schedule", n)
	}
	svc := workflow.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if n, err := svc.Scans.ScheduleDue(ctx); err != nil || n != 0 {
		t.Errorf("a seeded server schedules %d scans (%v), want none", n, err)
	}
	if n := count(&models.ScanRun{}, "status IN ('queued', 'running')"); n != 0 {
		t.Errorf("%d seeded scans wait to run", n)
	}

	// Assets: loopback addresses inside 127.64.0.0/10 only.
	var addrs []string
	db.Model(&models.Asset{}).Pluck("address", &addrs)
	inside := netip.MustParsePrefix("127.64.0.0/10")
	for _, a := range addrs {
		if ip, err := netip.ParseAddr(a); err != nil || !inside.Contains(ip) {
			t.Errorf("asset %s is outside 127.64.0.0/10", a)
		}
	}

	// The demo accounts, registered under the demo issuer.
	for _, u := range demo.Users {
		var got models.User
		if err := db.Where("issuer = ? AND subject = ?", defaultDemoIssuer, u.Subject).Take(&got).Error; err != nil {
			t.Errorf("demo user %s: %v", u.Email, err)
			continue
		}
		if got.Email != u.Email || got.Team != u.Team || len(core.SplitRoles(got.Roles)) != len(u.Roles) {
			t.Errorf("demo user %s is %+v", u.Email, got)
		}
	}

	// The audit chain verifies offline.
	export := filepath.Join(t.TempDir(), "audit.json")
	out, errOut, code = runCLI(t, noEnv, "audit", "export", "--db", dsn)
	if code != 0 {
		t.Fatalf("audit export: exit %d: %s", code, errOut)
	}
	if err := os.WriteFile(export, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runCLI(t, noEnv, "audit", "verify", export)
	if code != 0 || !strings.Contains(out, "intact: 7000 events") {
		t.Fatalf("audit verify: exit %d\n%s%s", code, out, errOut)
	}

	// A synthetic database is seeded again from empty.
	closeGorm(db)
	out, errOut, code = runCLI(t, noEnv, "seed", "--db", dsn, "--requests", "20", "--audit-events", "500", "--assets", "10", "--drift-items", "30")
	if code != 0 {
		t.Fatalf("seed again: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "20 requests") || !strings.Contains(out, "500 audit events") {
		t.Errorf("seed again printed %q", out)
	}
}

func TestSeedRefusesRealData(t *testing.T) {
	path := seededDB(t) // the demo organisation, made through the workflow
	_, errOut, code := runCLI(t, noEnv, append([]string{"seed", "--db", path}, seedCounts...)...)
	if code != 2 || !strings.Contains(errOut, "holds data that seed did not make") {
		t.Fatalf("seed on a demo database: exit %d, %q; want 2 and a refusal", code, errOut)
	}
	svc, closeDB, err := openApp(context.Background(), path, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	var n int64
	svc.DB().Model(&models.Setting{}).Where(map[string]any{"key": syntheticMarker}).Count(&n)
	if n != 0 {
		t.Errorf("the refused database was marked synthetic")
	}
}

func TestSeedUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "u.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--requests", "-1"}, "--requests -1 is negative"},
		{[]string{"--requests", "100", "--audit-events", "10"}, "--audit-events 10 is too few"},
		{[]string{"--assets", "0", "--requests", "5"}, "need assets"},
		{[]string{"--bogus"}, "flag provided but not defined"},
		{[]string{"extra"}, "takes no arguments"},
	} {
		_, errOut, code := runCLI(t, noEnv, append([]string{"seed", "--db", db}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("seed %v: exit %d, %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
	out, errOut, code := runCLI(t, noEnv, "seed", "--help")
	if code != 0 || !strings.Contains(out+errOut, "--drift-items") {
		t.Errorf("seed --help: exit %d, %q", code, out+errOut)
	}
}

// TestSeedDemoLogin serves a seeded database with --demo and logs in as the
// demo requester through the identity provider's form: she sees her seeded request.
func TestSeedDemoLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "seed.db")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	idpAddr := ln.Addr().String()
	ln.Close()
	if _, errOut, code := runCLI(t, noEnv, append([]string{"seed", "--db", path, "--demo-issuer", "http://" + idpAddr}, seedCounts...)...); code != 0 {
		t.Fatalf("seed: %s", errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &btBuffer{}, &btBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--db", path, "--addr", "127.0.0.1:0", "--demo-idp-addr", idpAddr, "--log-level", "warn"}, noEnv, stdout, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Errorf("serve did not stop")
		}
	})
	var base string
	for deadline := time.Now().Add(30 * time.Second); base == ""; {
		if m := btServingLine.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve printed no URL\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := client.Get(base + "/auth/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	form := resp.Request.URL
	if form.Host != idpAddr || form.Path != "/authorize" {
		t.Fatalf("the login button led to %s", form)
	}
	values := form.Query()
	values.Set("username", "alice@demo.portcullis.test")
	values.Set("password", demo.Password)
	form.RawQuery = ""
	resp, err = client.PostForm(form.String(), values)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/" || resp.StatusCode != 200 {
		t.Fatalf("login ended at %s (%d)", resp.Request.URL, resp.StatusCode)
	}
	resp, err = client.Get(base + "/requests/1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "for payments, #1") {
		t.Fatalf("alice's seeded request #1: %d\n%s", resp.StatusCode, btTail(string(body), 2000))
	}
	// No second alice: the login found the seeded user.
	var n int64
	db, err := models.Open(context.Background(), path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer closeGorm(db)
	db.Model(&models.User{}).Where("email = ?", "alice@demo.portcullis.test").Count(&n)
	if n != 1 {
		t.Errorf("%d users are alice after her login, want 1", n)
	}
}

// throwawayPostgres creates an empty database on the PostgreSQL server the
// tests use (modelstest.PostgresURL) for one test and drops it afterwards;
// it skips the test when there is no server, except under CI=true.
func throwawayPostgres(t *testing.T) string {
	t.Helper()
	admin := modelstest.PostgresURL()
	db, err := gorm.Open(postgres.Open(admin), &gorm.Config{Logger: logger.Discard})
	if err == nil {
		sqlDB, _ := db.DB()
		// Generous: this only tells whether PostgreSQL is there, and on a
		// loaded CI machine (where a miss fails) a server that is there can be slow.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = sqlDB.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is not reachable at %s and CI=true: %v", admin, err)
		}
		t.Skipf("PostgreSQL is not reachable at %s (%v): skipping the Postgres variant", admin, err)
	}
	name := fmt.Sprintf("portcullis_seed_test_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000)
	if err := db.Exec("CREATE DATABASE " + name).Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
