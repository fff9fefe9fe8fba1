package compliance_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/portcullis/portcullis/workflow/compliance"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/report"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/scans"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// exportWorld has a request with a Chinese title, an exception, a
// formula-looking justification, verification evidence and a drift item.
func exportWorld(t *testing.T) (*workflowtest.World, uint) {
	w := workflowtest.SQLiteWorld(t)
	sc := &workflowtest.FakeScanner{Open: map[string][]scans.Port{"10.40.0.16": {{Port: 3306, Protocol: "tcp", State: "open", Service: "mysql"}}}}
	w.App.Scans.SetScanner(sc, scans.Policy{})
	in := workflowtest.DatabaseFromInternet()
	in.Title = "支付网关 vendor access"
	in.Justification = "=HYPERLINK(\"http://evil\") the vendor reads settlements"
	r := w.Submitted(t, in)
	d, _ := w.App.Requests.Get(w.Ctx, w.Rita, r.ID)
	controls := map[string]string{}
	for _, f := range requests.FindingsOf(d.Request) {
		if f.Blocking {
			controls[requests.FindingKey(f)] = "Source pinned to the vendor's two addresses; TLS client certificates"
		}
	}
	_, err := w.App.Requests.Review(w.Ctx, w.Rita, r.ID, requests.ReviewInput{Decision: requests.DecisionApprove, ZoneConfirmed: true, Checklist: workflowtest.FullChecklist(&d.Request), CompensatingControls: controls})
	workflowtest.Must(t, err)
	_, err = w.App.Requests.SecondApproval(w.Ctx, w.Lee, r.ID, requests.DecisionApprove, "accepted")
	workflowtest.Must(t, err)
	_, err = w.App.Requests.Implement(w.Ctx, w.Ivan, r.ID, "CHG-88", "")
	workflowtest.Must(t, err)
	w.RunQueued(t)
	return w, r.ID
}

func export(t *testing.T, w *workflowtest.World, kind, format string, f compliance.ExportFilter) []byte {
	t.Helper()
	var buf bytes.Buffer
	rw, err := report.New(format, &buf, report.Options{CSVSections: kind == "drift"})
	workflowtest.Must(t, err)
	workflowtest.Must(t, w.App.Compliance.ExportReport(w.Ctx, w.Aude, kind, f, rw))
	return buf.Bytes()
}

func TestExportsCSVAndJSON(t *testing.T) {
	w, id := exportWorld(t)
	out := export(t, w, "changes", "csv", compliance.ExportFilter{})
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(out, []byte("\ufeff")))).ReadAll()
	workflowtest.Must(t, err)
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
	workflowtest.Must(t, json.Unmarshal(export(t, w, "insecure", "json", compliance.ExportFilter{}), &doc))
	if len(doc.Tables) != 1 || len(doc.Tables[0].Rows) != 1 || !strings.Contains(doc.Tables[0].Rows[0]["why"], "mysql") || !strings.Contains(doc.Tables[0].Rows[0]["controls"], "compensating") {
		t.Fatalf("insecure register: %+v", doc)
	}
	// Filters: another team's period sees nothing.
	out = export(t, w, "changes", "csv", compliance.ExportFilter{Team: "nobody"})
	if recs, _ := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(out, []byte("\ufeff")))).ReadAll(); len(recs) != 1 {
		t.Fatalf("team filter kept %d rows", len(recs)-1)
	}
	// Drift and scans come as two sections.
	out = export(t, w, "drift", "csv", compliance.ExportFilter{})
	if !bytes.Contains(out, []byte("# Drift items")) || !bytes.Contains(out, []byte("# Scans")) {
		t.Fatalf("drift export: %s", out)
	}
	_, err = report.New("csv", &bytes.Buffer{}, report.Options{})
	workflowtest.Must(t, err)
	rw, _ := report.New("csv", &bytes.Buffer{}, report.Options{})
	err = w.App.Compliance.ExportReport(w.Ctx, w.Alice, "changes", compliance.ExportFilter{}, rw)
	workflowtest.MustCode(t, err, core.CodeForbidden)
	err = w.App.Compliance.ExportReport(w.Ctx, w.Aude, "secrets", compliance.ExportFilter{}, rw)
	workflowtest.MustCode(t, err, core.CodeInvalid)
}

func TestExportsXLSXAndPDF(t *testing.T) {
	w, _ := exportWorld(t)
	out := export(t, w, "rules", "xlsx", compliance.ExportFilter{})
	f, err := excelize.OpenReader(bytes.NewReader(out))
	workflowtest.Must(t, err)
	defer f.Close()
	rows, err := f.GetRows("rules")
	workflowtest.Must(t, err)
	if len(rows) != 2 || rows[0][0] != "Request" || !strings.Contains(strings.Join(rows[1], "|"), "3306") {
		t.Fatalf("rule register sheet: %v", rows)
	}
	pdf := export(t, w, "changes", "pdf", compliance.ExportFilter{})
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext (poppler-utils) is missing on CI")
		}
		t.Skip("pdftotext (Debian poppler-utils) is not installed: PDF text not checked")
	}
	cmd := exec.Command("pdftotext", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	text, err := cmd.Output()
	workflowtest.Must(t, err)
	for _, want := range []string{"Change record", "支付网关", "CHG-88", "internet-high-risk"} {
		if !bytes.Contains(text, []byte(want)) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
}

// TestExportsInTheReadersLanguage: a PDF or XLSX asked for in Chinese has
// its title, cover page and column titles in Chinese, the rows as recorded;
// the CSV keeps its English headers for the tools that parse it.
func TestExportsInTheReadersLanguage(t *testing.T) {
	w, _ := exportWorld(t)
	zh := w.App.Language("zh-CN", "Asia/Shanghai")
	localized := func(kind, format string) []byte {
		t.Helper()
		var buf bytes.Buffer
		rw, err := report.New(format, &buf, report.Options{})
		workflowtest.Must(t, err)
		workflowtest.Must(t, w.App.Compliance.ExportReport(w.Ctx, w.Aude, kind, compliance.ExportFilter{}, compliance.Localized(rw, zh)))
		return buf.Bytes()
	}
	f, err := excelize.OpenReader(bytes.NewReader(localized("rules", "xlsx")))
	workflowtest.Must(t, err)
	defer f.Close()
	rows, err := f.GetRows("rules")
	workflowtest.Must(t, err)
	if len(rows) != 2 || rows[0][0] != "申请" || rows[0][1] != "规则" || !strings.Contains(strings.Join(rows[1], "|"), "3306") {
		t.Fatalf("rule register sheet in Chinese: %v", rows)
	}
	summary, err := f.GetRows("Summary")
	workflowtest.Must(t, err)
	var cover []string
	for _, row := range summary {
		cover = append(cover, strings.Join(row, "|"))
	}
	if text := strings.Join(cover, "\n"); !strings.HasPrefix(text, "规则台账") || !strings.Contains(text, "生成时间") || !strings.Contains(text, "工作表|表格|行数") {
		t.Errorf("the summary sheet's title and names are not Chinese: %v", summary)
	}

	out := export(t, w, "changes", "csv", compliance.ExportFilter{})
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(out, []byte("\ufeff")))).ReadAll()
	workflowtest.Must(t, err)
	if recs[0][0] != "Request" || recs[0][1] != "Title" {
		t.Errorf("CSV headers changed: %v", recs[0])
	}

	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (Debian poppler-utils) is not installed: PDF text not checked")
	}
	cmd := exec.Command("pdftotext", "-", "-")
	cmd.Stdin = bytes.NewReader(localized("changes", "pdf"))
	text, err := cmd.Output()
	workflowtest.Must(t, err)
	for _, want := range []string{"变更记录", "生成时间", "筛选条件", "全部时间", "本时段内的全部申请", "业务理由", "支付网关", "CHG-88"} {
		if !bytes.Contains(text, []byte(want)) {
			t.Errorf("the Chinese PDF lacks %q", want)
		}
	}
	for _, english := range []string{"Change record", "Generated at", "Business justification", "compliance_"} {
		if bytes.Contains(text, []byte(english)) {
			t.Errorf("the Chinese PDF reads %q", english)
		}
	}
}
