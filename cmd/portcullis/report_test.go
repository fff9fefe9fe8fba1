package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/workflow/periodic"
	"github.com/portcullis/portcullis/workflow/scans"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// scannedDB is the demo organisation after two mornings of scheduled
// scans: on the second, 8443 opened on the CRM's cache host. It returns the
// database and a time just after the second scan.
func scannedDB(t *testing.T) (string, time.Time) {
	t.Helper()
	path := seededDB(t)
	app, closeDB, err := openApp(context.Background(), path, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	redis := scans.Port{Port: 6379, Protocol: "tcp", State: "open", Service: "redis"}
	at := workflowtest.ScanMornings(t, app,
		map[string][]scans.Port{"127.40.0.16": {redis}},
		map[string][]scans.Port{"127.40.0.16": {redis, {Port: 8443, Protocol: "tcp", State: "open", Service: "http"}}})
	return path, at.Add(time.Hour)
}

func TestReportCommand(t *testing.T) {
	db, at := scannedDB(t)
	out, errOut, code := runCLI(t, noEnv, "report", "daily", "--db", db, "--zone", "apps", "--at", at.Format(time.RFC3339))
	var r periodic.Report
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("report daily: exit %d, %q %q", code, out, errOut)
	}
	if !strings.Contains(out, `"newly_closed": []`) {
		t.Errorf("an empty list is not [] in the JSON:\n%s", out)
	}
	if r.Zone != "apps" || r.Kind != periodic.Daily || len(r.Opened) != 1 || r.Opened[0].Port != 8443 || r.Opened[0].Address != "127.40.0.16" {
		t.Errorf("the daily report of apps: %+v", r)
	}
	// The team's report; the weekly one has no weekly scan to read yet.
	out, _, code = runCLI(t, noEnv, "report", "daily", "--db", db, "--zone", "apps", "--team", "sales", "--at", at.Format(time.RFC3339))
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Team != "sales" || len(r.Opened) != 1 {
		t.Errorf("sales' report: exit %d, %+v", code, r)
	}
	out, _, code = runCLI(t, noEnv, "report", "weekly", "--db", db, "--zone", "apps", "--at", at.Format(time.RFC3339))
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Kind != periodic.Weekly || r.Scan != nil || len(r.Notes) == 0 {
		t.Errorf("weekly report without a weekly scan: exit %d, %+v", code, r)
	}

	out, errOut, code = runCLI(t, noEnv, "report", "daily", "--db", db, "--zone", "apps", "--format", "pdf", "--at", at.Format(time.RFC3339))
	if code != 0 {
		if strings.Contains(errOut, "fonts-wqy-microhei") {
			t.Skipf("no PDF font installed: %s", errOut)
		}
		t.Fatalf("pdf: exit %d %q", code, errOut)
	}
	if !strings.HasPrefix(out, "%PDF-") {
		t.Fatalf("pdf output starts %q", out[:min(20, len(out))])
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Log("pdftotext (poppler-utils) is not installed: the PDF's text is not checked")
	} else {
		cmd := exec.Command("pdftotext", "-", "-")
		cmd.Stdin = strings.NewReader(out)
		text, err := cmd.Output()
		if err != nil || !strings.Contains(string(text), "zone apps") || !strings.Contains(string(text), "tcp/8443") {
			t.Errorf("the PDF reads (%v):\n%s", err, text)
		}
	}
}

func TestReportCommandUsage(t *testing.T) {
	db, _ := scannedDB(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report"}, "usage: portcullis report daily|weekly"},
		{[]string{"report", "monthly", "--zone", "apps"}, `report "monthly": the reports are daily and weekly`},
		{[]string{"report", "daily", "--db", db}, "--zone is required"},
		{[]string{"report", "daily", "--db", db, "--zone", "apps", "--format", "xml"}, `--format "xml" is not json or pdf`},
		{[]string{"report", "daily", "--db", db, "--zone", "apps", "--at", "yesterday"}, `--at "yesterday" is not`},
		{[]string{"report", "daily", "--db", db, "--zone", "atlantis"}, `--zone: there is no zone "atlantis"`},
		{[]string{"report", "daily", "--db", db, "--zone", "apps", "--team", "nobody"}, `--team: no asset of zone apps is owned by team "nobody"`},
		{[]string{"report", "daily", "--db", db, "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"report", "daily", "--db", db, "--zone", "apps", "extra"}, "takes no arguments"},
	} {
		out, errOut, code := runCLI(t, noEnv, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, out, errOut, tc.want)
		}
	}
	for _, args := range [][]string{{"report", "--help"}, {"report", "weekly", "--help"}} {
		out, errOut, code := runCLI(t, noEnv, args...)
		if code != 0 || !strings.Contains(out+errOut, "report daily|weekly") {
			t.Errorf("%v: exit %d, %q", args, code, out+errOut)
		}
	}
	if _, errOut, _ := runCLI(t, noEnv, "report", "weekly", "--help"); !strings.Contains(errOut, "-zone") || !strings.Contains(errOut, "7 days") {
		t.Errorf("report weekly --help lists no flags: %q", errOut)
	}
}
