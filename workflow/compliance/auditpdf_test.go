package compliance_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/compliance"
	"github.com/portcullis/portcullis/workflow/driftrules"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// pdfLayoutText is the PDF's text as pdftotext lays it out, pages split on
// form feeds; CI must have poppler-utils, elsewhere the test is skipped.
func pdfLayoutText(t *testing.T, pdf []byte) []string {
	t.Helper()
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext (poppler-utils) is missing on CI")
		}
		t.Skip("pdftotext (Debian poppler-utils) is not installed: PDF text not checked")
	}
	path := filepath.Join(t.TempDir(), "audit.pdf")
	workflowtest.Must(t, os.WriteFile(path, pdf, 0o644))
	out, err := exec.Command(tool, "-layout", "-enc", "UTF-8", path, "-").Output()
	workflowtest.Must(t, err)
	return strings.Split(string(out), "\f")
}

// Issue 13 item 7: the audit log's PDF printed each event as a block of
// its own, three to a page. It is a table: one header line with every
// column, and one line (or a few) per event, many to a page.
func TestAuditLogPDFIsATable(t *testing.T) {
	w, id := exportWorld(t)
	for i := range 60 {
		_, err := w.App.Requests.AddComment(w.Ctx, w.Alice, id, fmt.Sprintf("follow-up note %d", i))
		workflowtest.Must(t, err)
	}
	pages := pdfLayoutText(t, export(t, w, "audit", "pdf", compliance.ExportFilter{}))
	header := regexp.MustCompile(`Seq\s+At\s+Actor\s+Action\s+Object\s+From\s+To\s+Comment\s+Detail\s+Hash`)
	// An event's line begins with its sequence number and its time.
	event := regexp.MustCompile(`(?m)^\s*\d+\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ`)
	var tablePages, events, most int
	for _, page := range pages[1:] {
		n := len(event.FindAllString(page, -1))
		if n == 0 {
			continue
		}
		tablePages++
		events += n
		most = max(most, n)
		if !header.MatchString(page) {
			t.Errorf("a page of events lacks the column header on one line:\n%s", page)
		}
	}
	if events < 60 {
		t.Fatalf("the PDF shows %d event lines, want at least the 60 comments:\n%s", events, strings.Join(pages, "\f"))
	}
	if most < 12 {
		t.Errorf("at most %d events on a page (%d pages): not a table", most, tablePages)
	}
	if !strings.Contains(strings.Join(pages, ""), "follow-up note 59") {
		t.Error("the last comment is not in the PDF")
	}
}

// Issue 13 item 7: the drift export showed the evidence as raw JSON.
func TestDriftExportEvidenceIsReadable(t *testing.T) {
	w, _ := exportWorld(t)
	ev, err := json.Marshal(driftrules.Evidence{State: "open", Product: "nginx", Version: "1.25.3", Banner: "HTTP/1.1 200 OK\r\nServer: nginx", TLS: true, Findings: []string{"tls-1.0"}})
	workflowtest.Must(t, err)
	workflowtest.Must(t, w.App.DB().Create(&models.DriftItem{Key: "open-unapproved|10.40.0.16|tcp|8080", Kind: "open-unapproved", Severity: "high", Address: "10.40.0.16",
		Protocol: "tcp", Port: 8080, State: "open", Evidence: string(ev), FirstSeen: w.App.Now(), LastSeen: w.App.Now()}).Error)
	out := string(export(t, w, "drift", "csv", compliance.ExportFilter{}))
	if !strings.Contains(out, "Port state: open; Product: nginx 1.25.3; Banner: HTTP/1.1 200 OK Server: nginx; TLS: yes; Weak configuration: tls-1.0") {
		t.Errorf("the drift export lacks readable evidence:\n%s", out)
	}
	if strings.Contains(out, `"State"`) || strings.Contains(out, `{""`) {
		t.Errorf("the drift export still holds raw JSON evidence:\n%s", out)
	}
}
