package main

// Browser test of the proof on the wire: the demo's first full scan finds
// what answers on loopback, the dashboard and the drift page show it, a
// reviewer acknowledges an item, an admin turns another into a request, and
// the implemented bastion request is verified active with its evidence.
// The environment and helpers are in browser_test.go.
//
//	go test -race -run BrowserProof ./cmd/portcullis/ -v

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	bpAdam = "adam@demo.portcullis.test" // admin

	// bpScanTimeout bounds Lee's wait, from his first look at the dashboard,
	// for the demo's first scan of its 8 loopback hosts. It only guards
	// against a scan that never ends (the wait stops two polls after the
	// scan is over), so it is generous: CI runs this loaded, under -race.
	bpScanTimeout = 3 * time.Minute
	// bpVerifyTimeout bounds Alice's wait, from her first look at the
	// bastion request, for its verification on the wire; it has its own
	// clock, so the logins, the scan and the steps before it do not use it up.
	bpVerifyTimeout = 90 * time.Second
	// bpPollEvery is how often a waiting person reloads the page.
	bpPollEvery = 2 * time.Second
)

// The columns of #drift-table.
const (
	bpColID = iota
	bpColSeverity
	bpColKind
	bpColWhere
	bpColService
	bpColWhat
	bpColState
	bpColSeen
	bpColActions
)

var bpDriftHeader = []string{"#", "Severity", "Kind", "Where", "Service", "What was seen", "State", "Seen"}

// TestBrowserProofOnTheWire is the browser check: the dashboard
// shows the new drift item; a reviewer acknowledges it; an admin turns
// another into a request.
func TestBrowserProofOnTheWire(t *testing.T) {
	b := newBrowserEnv(t)
	start := time.Now()

	// Everyone logs in while the demo's first scan runs.
	l := b.login(btLee)
	r := b.login(btRita)
	a := b.login(bpAdam)
	al := b.login(btAlice)

	// Lee watches the dashboard until the demo's first scan has found the
	// Redis without a password that nobody approved.
	var redis bpDriftRow
	var cards map[string]int
	pollsAfterScan := 0
	scanDeadline := time.Now().Add(bpScanTimeout)
	for polls := 1; ; polls++ {
		l.open("/dashboard", 200)
		cards = l.severityCards()
		if cards["critical"] >= 1 {
			l.open("/drift", 200)
			if row, ok := bpFind(l.driftRows(), "127.40.0.16", "tcp/6379", "open-unapproved"); ok {
				redis = row
				t.Logf("after %s and %d polls the scan's drift shows; dashboard cards %v", time.Since(start).Round(time.Millisecond), polls, cards)
				break
			}
		}
		// The first scan over, its drift is recorded: waiting longer is pointless.
		l.open("/scans", 200)
		if st := l.firstDemoScanStatus(); st == "done" || st == "failed" {
			pollsAfterScan++
		}
		if pollsAfterScan >= 2 || time.Now().After(scanDeadline) {
			scans := strings.Join(l.texts("#scans tbody tr"), "\n")
			l.open("/drift", 200)
			l.fail("%s after the start (the demo's first scan finished %d polls ago) the dashboard's #drift-by-severity should count a critical item (it counts %v) and /drift should list the unapproved Redis on 127.40.0.16 tcp/6379 as open-unapproved.\n"+
				"The scans page lists:\n%s\nThe demo services answer now: %s\n"+
				"(If they do not, another demo server, e.g. another go test process, may have held their fixed loopback addresses when this one started: startDemoListeners only warns when it cannot bind.)",
				time.Since(start).Round(time.Millisecond), pollsAfterScan, cards, scans, bpDialDemo())
		}
		time.Sleep(bpPollEvery)
	}
	redisID := redis.num(l)
	l.wantDriftHeader()
	rows := l.driftRows()
	t.Logf("drift as %s sees it:\n%s", btLee, bpRowsText(rows))
	if s := redis.Cells[bpColService]; s != "redis" {
		l.fail("the Redis item's service reads %q, want redis: %q", s, redis.text())
	}
	if s := redis.Cells[bpColState]; s != "open" {
		l.fail("the new Redis item's state reads %q, want open: %q", s, redis.text())
	}
	if s := redis.Cells[bpColWhat]; !strings.Contains(s, "no rule approves it") {
		l.fail("the Redis item should say no rule approves it: %q", s)
	}
	redisSeverity := redis.Cells[bpColSeverity]
	redisZone := redis.zone()
	if !slices.Contains(bpSeverities(), redisSeverity) {
		l.fail("the Redis item's severity reads %q, not one of %v", redisSeverity, bpSeverities())
	}
	if redisZone == "" {
		l.fail("the Redis item on 127.40.0.16 shows no zone under its address: %q", redis.Cells[bpColWhere])
	}

	// The dashboard, as Lee sees it now, counts the item everywhere.
	l.open("/dashboard", 200)
	cards = l.severityCards()
	if cards["critical"] < 1 || cards[redisSeverity] < 1 {
		l.fail("#drift-by-severity counts %v: want at least one critical item and one %s (the Redis)", cards, redisSeverity)
	}
	if s := l.text("#drift-by-severity a.sev-critical"); !strings.Contains(s, "critical drift") {
		l.fail("the critical card of #drift-by-severity reads %q, want it to say \"critical drift\"", s)
	}
	if href := l.attrs("#drift-by-severity a.sev-critical")["href"]; href != "/drift?severity=critical" {
		l.fail("the critical card links to %q, want /drift?severity=critical", href)
	}
	if n := l.kindCount("open-unapproved"); n < 1 {
		l.fail("#drift-by-kind counts %d open-unapproved items, want at least the Redis", n)
	}
	if n := l.heatCell(redisZone, redisSeverity); n < 1 {
		l.fail("#heat-map's cell for zone %s × %s reads %d, want at least the Redis", redisZone, redisSeverity, n)
	}
	if l.count("#trend-chart polyline") != 2 {
		l.fail("#trend-chart should draw two lines (opened and resolved)")
	}
	trend := l.eval(`(() => { const c = document.querySelector("#trend-chart"); return !!c && c.closest("figure") !== null; })()`)
	if !trend {
		l.fail("#trend-chart should sit in a figure with its caption")
	}
	caption := l.text("figure figcaption")
	if m := regexp.MustCompile(`\((\d+) opened, (\d+) resolved\)`).FindStringSubmatch(caption); m == nil {
		l.fail("the trend's caption reads %q, want \"(N opened, M resolved)\"", caption)
	} else if n, _ := strconv.Atoi(m[1]); n < 1 {
		l.fail("the trend's caption reads %q: the drift the scan just opened is not counted", caption)
	}

	// Rita acknowledges the Redis item from the drift page.
	r.open("/drift", 200)
	rowSel := fmt.Sprintf("#drift-%d", redisID)
	ackSel := fmt.Sprintf(`%s form[action="/drift/%d/acknowledge"] button[type="submit"]`, rowSel, redisID)
	if r.count(ackSel) != 1 {
		r.fail("the Redis item's row %s offers the reviewer no Acknowledge button", rowSel)
	}
	if s := r.text(ackSel); s != "Acknowledge" {
		r.fail("the Redis item's button reads %q, want Acknowledge", s)
	}
	if n := r.count(fmt.Sprintf(`%s a[href="/requests/new?drift=%d"]`, rowSel, redisID)); n != 0 {
		r.fail("a reviewer (no requester or admin role) is offered \"Turn into a request\" on the Redis item")
	}
	r.submitForm("acknowledge the Redis item", ackSel, 200)
	r.wantPath("/drift")
	r.wantFlash(fmt.Sprintf("Drift #%d acknowledged.", redisID))
	acked, ok := bpFind(r.driftRows(), "127.40.0.16", "tcp/6379", "open-unapproved")
	if !ok {
		r.fail("after the acknowledgement /drift no longer lists the Redis item (it should stay live, acknowledged)")
	}
	if acked.num(r) != redisID {
		r.fail("after the acknowledgement the Redis item is #%d, was #%d", acked.num(r), redisID)
	}
	if s := acked.Cells[bpColState]; s != "acknowledged" {
		r.fail("after the acknowledgement the Redis item's state reads %q, want acknowledged: %q", s, acked.text())
	}
	if r.count(fmt.Sprintf(`%s form[action$="/acknowledge"]`, rowSel)) != 0 || strings.Contains(acked.Cells[bpColActions], "Acknowledge") {
		r.fail("the acknowledged Redis item still offers an Acknowledge button: %q", acked.Cells[bpColActions])
	}

	// Adam turns the forgotten telnet service (or the test web server) into a request.
	a.open("/drift", 200)
	adamRows := a.driftRows()
	if row, ok := bpFind(adamRows, "127.40.0.16", "tcp/6379", "open-unapproved"); !ok || row.Cells[bpColState] != "acknowledged" {
		a.fail("the admin should see the Redis item acknowledged by the reviewer; /drift shows:\n%s", bpRowsText(adamRows))
	}
	target, ok := bpFind(adamRows, "127.40.0.15", "tcp/2323", "open-unapproved")
	if !ok {
		t.Logf("no telnet item on 127.40.0.15 tcp/2323; taking the http one on 127.10.0.10 tcp/8080")
		if target, ok = bpFind(adamRows, "127.10.0.10", "tcp/8080", "open-unapproved"); !ok {
			a.fail("/drift lists neither the telnet service on 127.40.0.15 tcp/2323 nor the web server on 127.10.0.10 tcp/8080 as open-unapproved:\n%s", bpRowsText(adamRows))
		}
	}
	targetID := target.num(a)
	addr, port := target.where()
	portNum := strings.TrimPrefix(port, "tcp/")
	service := target.Cells[bpColService]
	t.Logf("%s turns drift #%d (%s %s, %s, %s) into a request", bpAdam, targetID, addr, port, service, target.Cells[bpColSeverity])
	turnSel := fmt.Sprintf(`#drift-%d a.button[href="/requests/new?drift=%d"]`, targetID, targetID)
	if a.count(turnSel) != 1 {
		a.fail("drift #%d offers the admin no \"Turn into a request\" link (%s): %q", targetID, turnSel, target.Cells[bpColActions])
	}
	if s := a.text(turnSel); s != "Turn into a request" {
		a.fail("drift #%d's link reads %q, want \"Turn into a request\"", targetID, s)
	}
	a.submitForm("turn the drift item into a request", turnSel, 200)
	a.wantPath("/requests/new")
	if q := bpQuery(a); q.Get("drift") != strconv.Itoa(targetID) {
		a.fail("the new-request form should be opened for drift=%d, the address says %q", targetID, q.Encode())
	}
	if s := a.text(`form .flash.info`); !strings.Contains(s, fmt.Sprintf("Filed from drift item #%d", targetID)) {
		a.fail("the form should say it is filed from drift item #%d; its notice reads %q", targetID, s)
	}
	if v := a.value(`input[type="hidden"][name="drift_id"]`); v != strconv.Itoa(targetID) {
		a.fail("the form's hidden drift_id is %q, want %d", v, targetID)
	}
	wantTitle := fmt.Sprintf("Approve %s on %s", port, addr)
	if v := a.value("#title"); v != wantTitle {
		a.fail("the prefilled title is %q, want %q", v, wantTitle)
	}
	if v := a.value("#justification"); !strings.Contains(v, fmt.Sprintf("drift #%d", targetID)) {
		a.fail("the prefilled justification should cite drift #%d: %q", targetID, v)
	}
	if n := a.count("#rules > fieldset"); n != 1 {
		a.fail("the prefilled form has %d rules, want 1", n)
	}
	wantService := service
	if service == "unknown" {
		wantService = ""
	}
	for _, f := range []struct{ field, want string }{
		{"source", ""}, {"destination", addr}, {"protocol", "tcp"}, {"ports", portNum}, {"service", wantService}, {"direction", "ingress"},
	} {
		if v := a.value(string(btRuleField(0, f.field))); v != f.want {
			a.fail("the prefilled rule's %s is %q, want %q", f.field, v, f.want)
		}
	}
	if service != "unknown" && wantService == "" {
		a.fail("the drift item's service is empty")
	}
	a.step("fill the source", chromedp.SendKeys(btRuleField(0, "source"), "office"))
	a.settle()
	a.submitForm("save the request as a draft", "#save", 200)
	reqID := a.requestIDFromURL()
	a.wantFlash(fmt.Sprintf("Request #%d saved as a draft.", reqID))
	a.wantState("draft")
	if h := a.text("h1"); h != fmt.Sprintf("#%d %s", reqID, wantTitle) {
		a.fail("the request page's heading is %q, want %q", h, fmt.Sprintf("#%d %s", reqID, wantTitle))
	}
	ruleRows := a.tableRows("Rules")
	if len(ruleRows) != 1 {
		a.fail("the filed request has %d rules, want 1: %q", len(ruleRows), ruleRows)
	}
	parts := []string{"office", addr, "tcp", portNum, "ingress"}
	if wantService != "" {
		parts = append(parts, wantService)
	}
	btWantAll(a, "the filed request's rule", ruleRows[0], parts...)

	// Back on /drift the item points at the request filed from it.
	a.open("/drift", 200)
	filed, ok := bpFind(a.driftRows(), addr, port, "open-unapproved")
	if !ok {
		a.fail("after filing the request /drift no longer lists drift #%d", targetID)
	}
	if !strings.Contains(filed.Cells[bpColWhat], "request filed from this item") {
		a.fail("drift #%d should show \"request filed from this item\": %q", targetID, filed.Cells[bpColWhat])
	}
	filedLink := fmt.Sprintf(`#drift-%d a[href="/requests/%d"]`, targetID, reqID)
	if a.count(filedLink) != 1 || a.text(filedLink) != "request filed from this item" {
		a.fail("drift #%d's \"request filed from this item\" should link to /requests/%d", targetID, reqID)
	}
	if a.count(turnSel) != 0 {
		a.fail("drift #%d still offers \"Turn into a request\" although a request was filed from it", targetID)
	}
	if s := filed.Cells[bpColState]; s != "open" {
		a.fail("filing a request should leave drift #%d open (it stays until a scan shows it approved); it reads %q", targetID, s)
	}
	a.submitForm("follow the link to the filed request", filedLink, 200)
	a.wantPath(fmt.Sprintf("/requests/%d", reqID))

	// Alice's bastion request was verified on the wire and is active.
	const bastion = "Bastion SSH for network operations"
	al.open("/requests?q="+url.QueryEscape("Bastion"), 200)
	bastionHref := al.linkInRow("#request-results", bastion)
	verifyStart := time.Now()
	verifyDeadline := verifyStart.Add(bpVerifyTimeout)
	for {
		al.open(bastionHref, 200)
		if al.text("#summary .badge") == "active" && al.count("#evidence") == 1 {
			break
		}
		if time.Now().After(verifyDeadline) {
			al.fail("within %s of her first look (%s after the start) the bastion request should be active with its #evidence; it reads %q",
				time.Since(verifyStart).Round(time.Millisecond), time.Since(start).Round(time.Millisecond), al.text("#summary .badge"))
		}
		time.Sleep(bpPollEvery)
	}
	if h := al.text("h1"); !strings.Contains(h, bastion) {
		al.fail("the bastion request page's heading is %q", h)
	}
	al.wantState("active")
	evidence := al.tableRows("What answered on each approved port")
	if len(evidence) != 1 {
		al.fail("#evidence has %d rows, want 1 (127.20.0.5 tcp/2222): %q", len(evidence), evidence)
	}
	btWantAll(al, "the bastion's evidence", evidence[0], "127.20.0.5", "tcp/2222", "open", "ssh", "SSH-2.0-OpenSSH", "as approved")
	if al.count("#evidence tbody tr.approved") != 1 {
		al.fail("the bastion's evidence row should be marked approved")
	}
	t.Logf("the browser check took %s", time.Since(start).Round(time.Millisecond))
}

// ---------------------------------------------------------------------------
// Helpers of this file.

func bpSeverities() []string { return []string{"critical", "high", "medium", "low", "info"} }

// bpDriftRow is one row of #drift-table as the page shows it.
type bpDriftRow struct {
	ID    string   `json:"id"`
	Cells []string `json:"cells"`
}

func (d bpDriftRow) text() string { return strings.Join(d.Cells, " | ") }

// num is the item's number, from the row's id and its first cell.
func (d bpDriftRow) num(p *btPerson) int {
	p.t.Helper()
	n, err := strconv.Atoi(strings.TrimPrefix(d.ID, "drift-"))
	if err != nil || !strings.HasPrefix(d.ID, "drift-") {
		p.fail("a drift row has the id %q, want drift-N", d.ID)
	}
	if d.Cells[bpColID] != strconv.Itoa(n) {
		p.fail("drift row %s shows the number %q", d.ID, d.Cells[bpColID])
	}
	return n
}

// where is the address and port ("tcp/6379") the row shows.
func (d bpDriftRow) where() (addr, port string) {
	lines := strings.Split(d.Cells[bpColWhere], "\n")
	f := strings.Fields(lines[0])
	if len(f) > 0 {
		addr = f[0]
	}
	if len(f) > 1 {
		port = f[1]
	}
	return addr, port
}

// zone is the zone shown under the address.
func (d bpDriftRow) zone() string {
	lines := strings.Split(d.Cells[bpColWhere], "\n")
	if len(lines) < 2 {
		return ""
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

func bpFind(rows []bpDriftRow, addr, port, kind string) (bpDriftRow, bool) {
	for _, r := range rows {
		if a, p := r.where(); a == addr && p == port && r.Cells[bpColKind] == kind {
			return r, true
		}
	}
	return bpDriftRow{}, false
}

func bpRowsText(rows []bpDriftRow) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "  %s\n", strings.ReplaceAll(r.text(), "\n", " "))
	}
	return b.String()
}

// driftRows reads #drift-table's body rows (none when the page says no drift matches).
func (p *btPerson) driftRows() []bpDriftRow {
	p.t.Helper()
	js := `Array.from(document.querySelectorAll("#drift-table tbody tr"), r => ({id: r.id, cells: Array.from(r.cells, c => c.innerText.trim())}))`
	ctx, cancel := bpStepCtx(p)
	defer cancel()
	rows, err := bpEval[[]bpDriftRow](ctx, js)
	if err != nil {
		p.fail("read #drift-table: %v", err)
	}
	for _, r := range rows {
		if len(r.Cells) != bpColActions+1 {
			p.fail("drift row %s has %d cells, want %d: %q", r.ID, len(r.Cells), bpColActions+1, r.Cells)
		}
	}
	return rows
}

// wantDriftHeader checks the columns the row readers rely on.
func (p *btPerson) wantDriftHeader() {
	p.t.Helper()
	head := p.headerTexts("#drift-table thead th")
	if len(head) < len(bpDriftHeader) || !slices.Equal(head[:len(bpDriftHeader)], bpDriftHeader) {
		p.fail("#drift-table's columns are %q, want %q first", head, bpDriftHeader)
	}
}

// severityCards reads the counts of #drift-by-severity by severity.
func (p *btPerson) severityCards() map[string]int {
	p.t.Helper()
	ctx, cancel := bpStepCtx(p)
	defer cancel()
	js := `Array.from(document.querySelectorAll("#drift-by-severity a.card"), a => [a.querySelector(".stat").innerText.trim(), a.innerText.trim()])`
	pairs, err := bpEval[[][2]string](ctx, js)
	if err != nil {
		p.fail("read #drift-by-severity: %v", err)
	}
	out := map[string]int{}
	for _, pr := range pairs {
		n, err := strconv.Atoi(pr[0])
		if err != nil {
			p.fail("a card of #drift-by-severity shows %q, not a number: %q", pr[0], pr[1])
		}
		for _, sev := range bpSeverities() {
			if strings.HasSuffix(pr[1], sev+" drift") {
				out[sev] = n
			}
		}
	}
	if len(out) != len(bpSeverities()) {
		p.fail("#drift-by-severity should show a card per severity %v; it shows %v", bpSeverities(), out)
	}
	return out
}

// kindCount reads #drift-by-kind's count for a kind.
func (p *btPerson) kindCount(kind string) int {
	p.t.Helper()
	rows := p.cellTexts("#drift-by-kind tbody tr")
	for _, r := range rows {
		if len(r) == 2 && r[0] == kind {
			n, err := strconv.Atoi(r[1])
			if err != nil {
				p.fail("#drift-by-kind's count for %s reads %q", kind, r[1])
			}
			return n
		}
	}
	p.fail("#drift-by-kind has no row for %s: %q", kind, rows)
	return 0
}

// heatCell reads #heat-map's count for a zone and a severity.
func (p *btPerson) heatCell(zone, severity string) int {
	p.t.Helper()
	head := p.headerTexts("#heat-map thead th")
	col := slices.Index(head, severity)
	if col < 1 {
		p.fail("#heat-map has no column %s: %q", severity, head)
	}
	rows := p.cellTexts("#heat-map tbody tr")
	for _, r := range rows {
		if len(r) > col && r[0] == zone {
			n, err := strconv.Atoi(r[col])
			if err != nil {
				p.fail("#heat-map's cell %s × %s reads %q", zone, severity, r[col])
			}
			return n
		}
	}
	p.fail("#heat-map has no row for zone %s: %q", zone, rows)
	return 0
}

// cellTexts is the text of each cell of each row matching sel, as written
// in the page (textContent, not the style sheet's capitals).
func (p *btPerson) cellTexts(sel string) [][]string {
	p.t.Helper()
	ctx, cancel := bpStepCtx(p)
	defer cancel()
	rows, err := bpEval[[][]string](ctx, `Array.from(document.querySelectorAll(`+btJS(sel)+`), r => Array.from(r.cells, c => c.textContent.trim()))`)
	if err != nil {
		p.fail("read the cells of %s: %v", sel, err)
	}
	return rows
}

// linkInRow is the href of the first link in the row, under container,
// whose text holds title.
func (p *btPerson) linkInRow(container, title string) string {
	p.t.Helper()
	ctx, cancel := bpStepCtx(p)
	defer cancel()
	js := `(() => { const r = Array.from(document.querySelectorAll(` + btJS(container+" tbody tr") + `)).find(r => r.innerText.includes(` + btJS(title) + `));
		const a = r && r.querySelector("a[href]"); return a ? a.getAttribute("href") : ""; })()`
	href, err := bpEval[string](ctx, js)
	if err != nil {
		p.fail("find the row of %q: %v", title, err)
	}
	if href == "" {
		p.fail("%s lists no request titled %q", container, title)
	}
	return href
}

func bpQuery(p *btPerson) url.Values {
	p.t.Helper()
	u, err := url.Parse(p.location())
	if err != nil {
		p.fail("parse the address: %v", err)
	}
	return u.Query()
}

func bpStepCtx(p *btPerson) (context.Context, context.CancelFunc) {
	return context.WithTimeout(p.ctx, browserStepTimeout)
}

func bpEval[T any](ctx context.Context, js string) (T, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[T](js))
}

// headerTexts is the text of each element matching sel as written in the
// page (textContent: headers are shown upper-cased by the style sheet).
func (p *btPerson) headerTexts(sel string) []string {
	p.t.Helper()
	ctx, cancel := bpStepCtx(p)
	defer cancel()
	out, err := bpEval[[]string](ctx, `Array.from(document.querySelectorAll(`+btJS(sel)+`), e => e.textContent.trim())`)
	if err != nil {
		p.fail("read the texts of %s: %v", sel, err)
	}
	return out
}

// bpDialDemo says which demo services answer on loopback now (a failure's
// context: another process's demo server may hold their addresses).
func bpDialDemo() string {
	var out []string
	for _, l := range demoListeners() {
		state := "answers"
		if c, err := net.DialTimeout("tcp", l.Address, time.Second); err != nil {
			state = err.Error()
		} else {
			c.Close()
		}
		out = append(out, l.Address+" ("+l.Service+"): "+state)
	}
	return strings.Join(out, "; ")
}

// firstDemoScanStatus is the status /scans shows for the demo's first scan
// (the oldest on-demand one), or "" when there is none yet.
func (p *btPerson) firstDemoScanStatus() string {
	p.t.Helper()
	rows := p.cellTexts("#scans tbody tr")
	for i := len(rows) - 1; i >= 0; i-- {
		if len(rows[i]) > 4 && rows[i][1] == "on demand" {
			return rows[i][4]
		}
	}
	return ""
}
