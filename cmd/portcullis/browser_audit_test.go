package main

// The auditor's compliance downloads, driven through the /audit page in
// Chromium: the files are really downloaded by the browser (Browser domain
// download behaviour) into a temporary directory and read back.

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"
)

var baAude = "aude@demo.portcullis.test" // auditor

// baDemoTitles are demo requests every change record of the demo period holds.
var baDemoTitles = []string{"Website over HTTPS", "CRM reaches its Redis cache", "Security scanner to the apps zone"}

// TestBrowserAuditorDownloads: an auditor filters a period and downloads
// each format of the change record; a period with no request gives a CSV of
// its header only; the hash chain verifies intact.
func TestBrowserAuditorDownloads(t *testing.T) {
	b := newBrowserEnv(t)

	a := b.login(baAude)
	dir := t.TempDir()
	baAllowDownloads(a, dir)

	today := time.Now().UTC()
	from, to := today.AddDate(0, 0, -30).Format(time.DateOnly), today.Format(time.DateOnly)
	a.open("/audit", 200)
	a.step("choose the change record", btChoose("#kind", "changes"))
	baTypeDate(a, "#r-from", from)
	baTypeDate(a, "#r-to", to)

	rows := map[string][]string{} // the titles each format lists
	for _, format := range []string{"csv", "xlsx", "pdf", "json"} {
		a.step("choose the format "+format, btChoose("#r-format", format))
		dl := baDownloadOf(a, "download the change record as "+format, "#download-report", dir)
		a.wantPath("/audit") // a download leaves the page as it is
		dl.wantQuery(a, url.Values{"kind": {"changes"}, "from": {from}, "to": {to}, "format": {format}})
		// The server dates the name when it answers: today, or tomorrow past midnight UTC.
		want := fmt.Sprintf("portcullis-changes-%s.%s", today.Format("20060102"), format)
		if late := fmt.Sprintf("portcullis-changes-%s.%s", time.Now().UTC().Format("20060102"), format); dl.name == late {
			want = late
		}
		if dl.name != want {
			// Not fatal: the contents are still worth checking.
			t.Errorf("the %s download is named %q, want %q (Content-Disposition of GET /audit/reports)", format, dl.name, want)
		}
		t.Logf("%s: %d bytes, suggested name %q", format, len(dl.data), dl.name)
		switch format {
		case "csv":
			rows[format] = baCheckCSV(a, dl.data)
		case "xlsx":
			rows[format] = baCheckXLSX(a, dl.data)
		case "pdf":
			baCheckPDF(a, dl.data, dir)
		case "json":
			rows[format] = baCheckJSON(a, dl.data, from+" to "+to)
		}
	}
	t.Logf("the change record of %s to %s lists %d requests in every format", from, to, len(rows["csv"]))
	for _, format := range []string{"xlsx", "json"} {
		if !slices.Equal(rows[format], rows["csv"]) {
			t.Errorf("the %s download lists other requests than the CSV:\n%s: %q\ncsv: %q", format, format, rows[format], rows["csv"])
		}
	}

	// The chain of the audit log verifies intact.
	a.submitForm("verify the chain", "#verify-chain", 200)
	s := a.text("#verify-result")
	if !strings.HasPrefix(s, "Intact: ") {
		a.fail("#verify-result should say the chain is intact; it reads %q", s)
	}
	t.Logf("#verify-result: %s", s)

	// A period long before the demo: the CSV holds its header only.
	const past = "2001-01-01"
	a.open("/audit", 200)
	a.step("choose the change record as CSV", btChoose("#kind", "changes"), btChoose("#r-format", "csv"))
	baTypeDate(a, "#r-from", past)
	baTypeDate(a, "#r-to", past)
	dl := baDownloadOf(a, "download the change record of "+past, "#download-report", dir)
	dl.wantQuery(a, url.Values{"kind": {"changes"}, "from": {past}, "to": {past}, "format": {"csv"}})
	records := baParseCSV(a, dl.data)
	if len(records) != 1 {
		a.fail("the change record of %s should hold the header row only; it has %d records:\n%s", past, len(records), btTail(string(dl.data), 2000))
	}
	if !slices.Contains(records[0], "Request") {
		a.fail("the CSV of the empty period lacks its header row: %q", records[0])
	}
	t.Logf("the change record of %s is its header row only (%d columns)", past, len(records[0]))
}

// allowDownloads lets the person's browser context download files into dir,
// each named by its download GUID, and report its progress.
func baAllowDownloads(p *btPerson, dir string) {
	p.t.Helper()
	c := chromedp.FromContext(p.ctx)
	if c == nil || c.BrowserContextID == "" {
		p.fail("the person's chromedp context has no browser context of its own")
	}
	yes := true
	p.step("allow downloads into "+dir, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior:         browser.SetDownloadBehaviorBehaviorAllowAndName,
			BrowserContextID: c.BrowserContextID,
			DownloadPath:     dir,
			EventsEnabled:    &yes,
		})
		return err
	}))
}

// baDownload is one file the browser downloaded.
type baDownload struct {
	name string // the name the server suggested
	url  string
	data []byte
}

// download clicks sel and waits for the browser to download the file it
// leads to, completely.
func baDownloadOf(p *btPerson, what, sel, dir string) baDownload {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	// Subscribed before the click: no event is lost.
	begins := chromedp.Events(ctx, browser.DownloadWillBegin)
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	p.step(what, chromedp.Click(chromedp.CSS(sel)))

	var dl baDownload
	var guid string
	var err error
	for ev, e := range begins {
		if e != nil {
			err = fmt.Errorf("no download began: %w", e)
		} else {
			guid, dl.name, dl.url = ev.GUID, ev.SuggestedFilename, ev.URL
		}
		break
	}
	if err != nil {
		p.fail("%s: %v", what, err)
	}
	var last browser.DownloadProgressState
	for ev, e := range progress {
		if e != nil {
			err = fmt.Errorf("download %s of %s did not complete (last state %q): %w", guid, dl.url, last, e)
			break
		}
		if ev.GUID != guid {
			continue
		}
		last = ev.State
		if ev.State == browser.DownloadProgressStateCanceled {
			err = fmt.Errorf("the browser canceled the download of %s", dl.url)
			break
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			break
		}
	}
	if err != nil {
		p.fail("%s: %v", what, err)
	}
	data, err := os.ReadFile(filepath.Join(dir, guid))
	if err != nil {
		p.fail("%s: the completed download is not in %s: %v", what, dir, err)
	}
	dl.data = data
	return dl
}

// wantQuery checks the download came from GET /audit/reports of the app
// with these query parameters (the form's others are ignored).
func (dl baDownload) wantQuery(p *btPerson, want url.Values) {
	p.t.Helper()
	u, err := url.Parse(dl.url)
	if err != nil || u.Scheme+"://"+u.Host != p.base || u.Path != "/audit/reports" {
		p.fail("the download came from %s, want %s/audit/reports", dl.url, p.base)
	}
	q := u.Query()
	for k, v := range want {
		if !slices.Equal(q[k], v) {
			p.fail("the download's %s is %q, want %q (%s)", k, q[k], v, dl.url)
		}
	}
}

// typeDate types a date into an empty date input, in the order of the
// segments of the browser's locale, and checks the input then holds it as
// YYYY-MM-DD.
func baTypeDate(p *btPerson, sel, date string) {
	p.t.Helper()
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		p.t.Fatalf("typeDate(%s, %q): %v", sel, date, err)
	}
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	order, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`new Intl.DateTimeFormat().formatToParts(new Date(2001, 1, 3)).map(p => p.type).filter(t => t === "year" || t === "month" || t === "day")`))
	if err != nil || len(order) != 3 {
		p.fail("read the order of the date fields of the browser's locale: %q %v", order, err)
	}
	var keys strings.Builder
	for _, part := range order {
		keys.WriteString(map[string]string{"year": d.Format("2006"), "month": d.Format("01"), "day": d.Format("02")}[part])
	}
	p.step(fmt.Sprintf("type %s into %s", date, sel), chromedp.SendKeys(chromedp.CSS(sel), keys.String()))
	if v := p.value(sel); v != date {
		p.fail("after typing %q (segments %v) into %s it holds %q, want %q", keys.String(), order, sel, v, date)
	}
}

func baParseCSV(p *btPerson, data []byte) [][]string {
	p.t.Helper()
	body, ok := bytes.CutPrefix(data, []byte("\uFEFF"))
	if !ok {
		p.fail("the CSV does not start with a UTF-8 byte order mark: % x", data[:min(len(data), 16)])
	}
	records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		p.fail("the CSV does not parse: %v\n%s", err, btTail(string(body), 2000))
	}
	if len(records) == 0 {
		p.fail("the CSV is empty")
	}
	return records
}

// baTitles checks the rows' titles include the demo's and returns them.
func baTitles(p *btPerson, format string, titles []string) []string {
	p.t.Helper()
	for _, want := range baDemoTitles {
		if !slices.Contains(titles, want) {
			p.fail("the %s change record of the last 30 days should list the demo request %q; it lists %q", format, want, titles)
		}
	}
	return titles
}

// baCheckCSV checks the CSV change record and returns the titles it lists.
func baCheckCSV(p *btPerson, data []byte) []string {
	p.t.Helper()
	records := baParseCSV(p, data)
	header := records[0]
	col := slices.Index(header, "Title")
	if !slices.Contains(header, "Request") || col < 0 {
		p.fail("the CSV's header row should name the columns Request and Title: %q", header)
	}
	var titles []string
	for _, r := range records[1:] {
		if len(r) != len(header) {
			p.fail("a CSV row has %d cells, the header %d: %q", len(r), len(header), r)
		}
		titles = append(titles, r[col])
	}
	return baTitles(p, "CSV", titles)
}

// baCheckXLSX checks the XLSX change record and returns the titles its
// "changes" sheet lists.
func baCheckXLSX(p *btPerson, data []byte) []string {
	p.t.Helper()
	if !bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		p.fail("the XLSX is not a zip file: it starts % x", data[:min(len(data), 16)])
	}
	if _, err := zip.NewReader(bytes.NewReader(data), int64(len(data))); err != nil {
		p.fail("the XLSX is not a readable zip file: %v", err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		p.fail("excelize cannot open the XLSX: %v", err)
	}
	defer f.Close()
	if !slices.Contains(f.GetSheetList(), "changes") {
		p.fail("the XLSX has no sheet \"changes\"; it has %q", f.GetSheetList())
	}
	rows, err := f.GetRows("changes")
	if err != nil || len(rows) == 0 {
		p.fail("read the sheet \"changes\": %d rows, %v", len(rows), err)
	}
	col := slices.Index(rows[0], "Title")
	if !slices.Contains(rows[0], "Request") || col < 0 {
		p.fail("the sheet \"changes\" should start with a header row naming Request and Title: %q", rows[0])
	}
	var titles []string
	for _, r := range rows[1:] {
		if col >= len(r) {
			p.fail("a row of the sheet \"changes\" has no title: %q", r)
		}
		titles = append(titles, r[col])
	}
	return baTitles(p, "XLSX", titles)
}

// baCheckPDF checks the PDF is one, and with pdftotext that it reads as a
// change record listing the demo requests.
func baCheckPDF(p *btPerson, data []byte, dir string) {
	p.t.Helper()
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		p.fail("the PDF does not start with %%PDF-: %q", data[:min(len(data), 16)])
	}
	if !bytes.Contains(data[max(0, len(data)-1024):], []byte("%%EOF")) {
		p.fail("the PDF does not end with %%%%EOF: it is cut short")
	}
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		p.t.Logf("pdftotext is not installed: the PDF's text is not checked")
		return
	}
	name := filepath.Join(dir, "changes.pdf")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		p.t.Fatal(err)
	}
	out, err := exec.Command(tool, "-layout", name, "-").Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		p.fail("pdftotext cannot read the PDF: %v\n%s", err, ee.Stderr)
	} else if err != nil {
		p.fail("run pdftotext: %v", err)
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	if !strings.Contains(text, "Change record") {
		p.fail("the PDF's text lacks its title \"Change record\":\n%s", btTail(text, 2000))
	}
	if !strings.Contains(text, "Website over HTTPS") {
		p.fail("the PDF's text lacks the demo request \"Website over HTTPS\":\n%s", btTail(text, 2000))
	}
}

// baCheckJSON checks the JSON change record and returns the titles its
// table lists.
func baCheckJSON(p *btPerson, data []byte, period string) []string {
	p.t.Helper()
	var doc struct {
		Title   string `json:"title"`
		Filters []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"filters"`
		Tables []struct {
			Key  string              `json:"key"`
			Rows []map[string]string `json:"rows"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		p.fail("the JSON does not parse: %v\n%s", err, btTail(string(data), 2000))
	}
	if doc.Title != "Change record" {
		p.fail("the JSON's title is %q, want \"Change record\"", doc.Title)
	}
	if !slices.ContainsFunc(doc.Filters, func(f struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}) bool {
		return f.Name == "Period" && f.Value == period
	}) {
		p.fail("the JSON's filters should give the period %q: %+v", period, doc.Filters)
	}
	if len(doc.Tables) != 1 || doc.Tables[0].Key != "changes" {
		p.fail("the JSON should hold one table \"changes\"; it holds %d", len(doc.Tables))
	}
	var titles []string
	for _, r := range doc.Tables[0].Rows {
		titles = append(titles, r["title"])
	}
	return baTitles(p, "JSON", titles)
}
