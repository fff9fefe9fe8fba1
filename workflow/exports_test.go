package workflow

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/portcullis/portcullis/workflow/report"
)

// exportWorld has a request with a Chinese title, an exception, a
// formula-looking justification, verification evidence and a drift item.
func exportWorld(t *testing.T) (*world, uint) {
	w := sqliteWorld(t)
	sc := &fakeScanner{open: map[string][]ScanPort{"10.40.0.16": {{Port: 3306, Protocol: "tcp", State: "open", Service: "mysql"}}}}
	w.svc.SetScanner(sc, ScanPolicy{})
	in := databaseFromInternet()
	in.Title = "支付网关 vendor access"
	in.Justification = "=HYPERLINK(\"http://evil\") the vendor reads settlements"
	r := w.submitted(t, in)
	d, _ := w.svc.GetRequest(w.ctx, w.rita, r.ID)
	controls := map[string]string{}
	for _, f := range FindingsOf(d.Request) {
		if f.Blocking {
			controls[FindingKey(f)] = "Source pinned to the vendor's two addresses; TLS client certificates"
		}
	}
	_, err := w.svc.Review(w.ctx, w.rita, r.ID, ReviewInput{Decision: DecisionApprove, ZoneConfirmed: true, Checklist: fullChecklist(&d.Request), CompensatingControls: controls})
	must(t, err)
	_, err = w.svc.SecondApproval(w.ctx, w.lee, r.ID, DecisionApprove, "accepted")
	must(t, err)
	_, err = w.svc.Implement(w.ctx, w.ivan, r.ID, "CHG-88", "")
	must(t, err)
	w.runQueued(t)
	return w, r.ID
}

func export(t *testing.T, w *world, kind, format string, f ExportFilter) []byte {
	t.Helper()
	var buf bytes.Buffer
	rw, err := report.New(format, &buf, report.Options{CSVSections: kind == "drift"})
	must(t, err)
	must(t, w.svc.ExportReport(w.ctx, w.aude, kind, f, rw))
	return buf.Bytes()
}

func TestExportsCSVAndJSON(t *testing.T) {
	w, id := exportWorld(t)
	out := export(t, w, "changes", "csv", ExportFilter{})
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(out, []byte("\ufeff")))).ReadAll()
	must(t, err)
	if len(recs) < 2 || recs[0][0] != "Request" {
		t.Fatalf("change record: %v", recs)
	}
	var row []string
	for _, r := range recs[1:] {
		if r[0] == strings.TrimSpace(string(rune('0'+id))) || strings.Contains(r[1], "支付网关") {
			row = r
		}
	}
	if row == nil {
		t.Fatalf("the request is not in the change record: %v", recs)
	}
	text := strings.Join(row, "|")
	for _, want := range []string{"支付网关", "'=HYPERLINK", "internet-high-risk", "CHG-88", "rita@example.test", "lee@example.test", "Source pinned", "yes"} {
		if !strings.Contains(text, want) {
			t.Errorf("change record row lacks %q: %s", want, text)
		}
	}
	// The insecure-services register lists mysql from the internet with its controls.
	var doc struct {
		Tables []struct {
			Key  string
			Rows []map[string]string
		}
	}
	must(t, json.Unmarshal(export(t, w, "insecure", "json", ExportFilter{}), &doc))
	if len(doc.Tables) != 1 || len(doc.Tables[0].Rows) != 1 || !strings.Contains(doc.Tables[0].Rows[0]["why"], "mysql") || !strings.Contains(doc.Tables[0].Rows[0]["controls"], "compensating") {
		t.Fatalf("insecure register: %+v", doc)
	}
	// Filters: another team's period sees nothing.
	out = export(t, w, "changes", "csv", ExportFilter{Team: "nobody"})
	if recs, _ := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(out, []byte("\ufeff")))).ReadAll(); len(recs) != 1 {
		t.Fatalf("team filter kept %d rows", len(recs)-1)
	}
	// Drift and scans come as two sections.
	out = export(t, w, "drift", "csv", ExportFilter{})
	if !bytes.Contains(out, []byte("# Drift items")) || !bytes.Contains(out, []byte("# Scans")) {
		t.Fatalf("drift export: %s", out)
	}
	_, err = report.New("csv", &bytes.Buffer{}, report.Options{})
	must(t, err)
	rw, _ := report.New("csv", &bytes.Buffer{}, report.Options{})
	err = w.svc.ExportReport(w.ctx, w.alice, "changes", ExportFilter{}, rw)
	mustCode(t, err, CodeForbidden)
	err = w.svc.ExportReport(w.ctx, w.aude, "secrets", ExportFilter{}, rw)
	mustCode(t, err, CodeInvalid)
}

func TestExportsXLSXAndPDF(t *testing.T) {
	w, _ := exportWorld(t)
	out := export(t, w, "rules", "xlsx", ExportFilter{})
	f, err := excelize.OpenReader(bytes.NewReader(out))
	must(t, err)
	defer f.Close()
	rows, err := f.GetRows("rules")
	must(t, err)
	if len(rows) != 2 || rows[0][0] != "Request" || !strings.Contains(strings.Join(rows[1], "|"), "3306") {
		t.Fatalf("rule register sheet: %v", rows)
	}
	pdf := export(t, w, "changes", "pdf", ExportFilter{})
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext (poppler-utils) is missing on CI")
		}
		t.Skip("pdftotext (Debian poppler-utils) is not installed: PDF text not checked")
	}
	cmd := exec.Command("pdftotext", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	text, err := cmd.Output()
	must(t, err)
	for _, want := range []string{"Change record", "支付网关", "CHG-88", "internet-high-risk"} {
		if !bytes.Contains(text, []byte(want)) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
}
