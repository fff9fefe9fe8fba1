package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// btZhPages are the pages converted to Simplified Chinese, by who opens
// them ("" is nobody logged in). A page converted later joins this list;
// once every page is converted, the list is every page of every role.
var btZhPages = []struct {
	who    string
	path   string
	status int
}{
	{"", "/login", 200},
	{btAlice, "/", 200},
	{btAlice, "/profile", 200},
	{btAlice, "/no/such/page", 404},
	{btAlice, "/admin/users", 403},
	{btRita, "/", 200},
	{btRita, "/dashboard", 200},
	{"adam@demo.portcullis.test", "/", 200},
	{"adam@demo.portcullis.test", "/dashboard", 200},
	{"adam@demo.portcullis.test", "/profile", 200},
	// The request pages, on the demo's requests: #1 a draft, #2 submitted,
	// #3 sent back for changes, #4 rejected, #5 awaiting its second
	// approval, #6 approved, #8 verified, #10 failed verification, #12 revoked.
	{btAlice, "/requests", 200},
	{btAlice, "/requests/new", 200},
	{btAlice, "/requests/1", 200},
	{btAlice, "/requests/1/edit", 200},
	{btAlice, "/requests/3", 200},
	{btAlice, "/requests/4", 200},
	{btAlice, "/requests/8", 200},
	{btAlice, "/requests/12", 200},
	{btAlice, "/register", 200},
	{btRita, "/queue/review", 200},
	{btRita, "/requests/2/review", 200},
	{btRita, "/requests/5", 200},
	{btLee, "/queue/approval", 200},
	{btLee, "/requests/5/approve", 200},
	{btIvan, "/queue/implementation", 200},
	{btIvan, "/requests/6/implement", 200},
	{btIvan, "/requests/10", 200},
	{btLee, "/drift", 200},
	{btLee, "/drift?state=all", 200},
	{btLee, "/scans", 200},
	{btLee, "/scans/1", 200},
	{btLee, "/assets/1", 200},
	{btLee, "/assets/5", 200},
	{btAdam, "/admin/operations", 200},
	{btAdam, "/admin/operations?status=delivered", 200},
	{btAdam, "/admin/policy", 200},
	{btAlice, "/recertification", 200},
	{btAdam, "/recertification", 200},
	{btAdam, "/audit/log?limit=200", 200}, // one page: the pager (ListLinksNav) is converted with the requests pages
	{btAdam, "/audit/log?object_id=x", 400},
	// The role homes and queues with their marks.
	{btPat, "/", 200},
	{btPat, "/queue/review", 200},
	{btLee, "/dashboard", 200},
	// Inventory, reports and the admin pages (the policy page is listed
	// with the operations page above).
	{btAlice, "/zones", 200},
	{btAlice, "/assets", 200},
	{btAlice, "/reports", 200},
	{btRita, "/reports", 200},
	{btLee, "/reports", 200},
	{btLee, "/admin/operations", 200},
	{btIvan, "/assets", 200},
	{btIvan, "/reports", 200},
	{btAude, "/", 200},
	{btAude, "/zones", 200},
	{btAude, "/assets", 200},
	{btAude, "/audit", 200},
	{btAude, "/audit/log", 200},
	{btAude, "/reports", 200},
	{btAude, "/admin/operations", 200},
	{btAdam, "/zones", 200},
	{btAdam, "/zones/new", 200},
	{btAdam, "/zones/1/edit", 200},
	{btAdam, "/assets", 200},
	{btAdam, "/assets/new", 200},
	{btAdam, "/assets/1/edit", 200},
	{btAdam, "/assets/import", 200},
	{btAdam, "/admin/users", 200},
	{btAdam, "/admin/settings", 200},
	{btAdam, "/admin/applications", 200},
	{btAdam, "/admin/agents", 200},
	{btAdam, "/admin/credentials", 200},
	{btAdam, "/admin/jobs", 200},
	{btAdam, "/audit", 200},
	{btAdam, "/reports", 200},
}

// TestBrowserChinesePages opens every converted page in Chromium asking for
// zh-CN and fails on English words a person would see outside data (names,
// addresses, codes: what the pages mark translate="no"). A screenshot of
// each page, in Chinese and in English, is kept as a test artefact.
func TestBrowserChinesePages(t *testing.T) {
	// About 150 page loads with a screenshot each: 97 s on an idle machine,
	// past two minutes under CI's load.
	b := newBrowserEnvFor(t, 10*time.Minute)
	people := map[string]*btPerson{}
	// The drift and scan pages show rows only once the demo's first scan
	// (of its loopback services) is over.
	lee := b.login(btLee)
	people[btLee] = lee
	lee.waitFirstDemoScan()
	for _, pg := range btZhPages {
		p := people[pg.who]
		if p == nil {
			if pg.who == "" {
				p = b.anonymous()
			} else {
				p = b.login(pg.who)
			}
			people[pg.who] = p
		}
		p.acceptLanguage("zh-CN,zh;q=0.9")
		p.open(pg.path, pg.status)
		if lang := p.attrs("html")["lang"]; lang != "zh-CN" {
			p.fail("%s: <html lang=%q>, want zh-CN", pg.path, lang)
		}
		if words := p.untranslated(); len(words) > 0 {
			p.fail("%s shows English to a reader of Chinese:\n  %s", pg.path, strings.Join(words, "\n  "))
		}
		p.screenshot(pg.path, "zh-CN")
		p.acceptLanguage("en")
		p.open(pg.path, pg.status)
		if lang := p.attrs("html")["lang"]; lang != "en" {
			p.fail("%s: <html lang=%q> for a browser asking for English", pg.path, lang)
		}
		p.screenshot(pg.path, "en")
	}

	// A campaign started in Chinese: the flash and the campaign's page.
	adam := people[btAdam]
	adam.acceptLanguage("zh-CN,zh;q=0.9")
	adam.open("/recertification", 200)
	adam.step("name the campaign", chromedp.SendKeys(chromedp.CSS("#name"), "H1 2027"))
	adam.submitForm("start the campaign", "#start-campaign", 200)
	if words := adam.untranslated(); len(words) > 0 {
		adam.fail("the new campaign's page shows English to a reader of Chinese:\n  %s", strings.Join(words, "\n  "))
	}
	if !strings.Contains(adam.location(), "/recertification/campaigns/") {
		adam.fail("starting a campaign leads to %s, want its page", adam.location())
	}
	adam.screenshot("/recertification/campaigns", "zh-CN")
}

// TestBrowserProfileLanguage: a person whose browser asks for English
// chooses 简体中文 and a time zone on the profile; the pages follow.
func TestBrowserProfileLanguage(t *testing.T) {
	b := newBrowserEnv(t)
	p := b.login(btPat)
	p.acceptLanguage("en-US,en;q=0.9")
	p.open("/profile", 200)
	p.step("choose Chinese and Shanghai time",
		chromedp.SetValue(chromedp.CSS("#language"), "zh-CN"),
		chromedp.SendKeys(chromedp.CSS("#time-zone"), "Asia/Shanghai"),
	)
	p.submitForm("save the language and time zone", "#save-preferences", 200)
	p.wantPath("/profile")
	p.wantFlash("语言与时区已保存。")
	if lang := p.attrs("html")["lang"]; lang != "zh-CN" {
		p.fail("after choosing 简体中文 the page is <html lang=%q>", lang)
	}
	if words := p.untranslated(); len(words) > 0 {
		p.fail("the profile in Chinese shows English:\n  %s", strings.Join(words, "\n  "))
	}
	if now := p.text("#time-now"); !strings.Contains(now, "年") {
		p.fail("the current time should read as a Chinese date: %q", now)
	}
	if v := p.value("#time-zone"); v != "Asia/Shanghai" {
		p.fail("the time zone field holds %q after saving", v)
	}
}

// anonymous is a fresh browser context with nobody logged in.
func (b *browserEnv) anonymous() *btPerson {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext(), chromedp.WithListener(b.watch))
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("open a browser context: %v", err)
	}
	return &btPerson{t: b.t, email: "nobody", ctx: ctx, base: b.base}
}

// acceptLanguage makes the person's browser ask for these languages from
// the next page on.
func (p *btPerson) acceptLanguage(header string) {
	p.t.Helper()
	p.step("ask for "+header, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": header}})
		return err
	}))
}

// screenshot keeps the page as a test artefact for a reviewer to look at: a
// JPEG (a third of a PNG's time), given three steps' time, since a whole long
// page drawn on a loaded machine took more than one (the audit log, in CI).
func (p *btPerson) screenshot(path, lang string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 3*browserStepTimeout)
	defer cancel()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(85))
	if err != nil {
		p.fail("screenshot of %s: %v", path, err)
	}
	who := strings.SplitN(p.email, "@", 2)[0]
	page := strings.NewReplacer("/", "_").Replace(strings.Trim(path, "/"))
	if page == "" {
		page = "home"
	}
	name := fmt.Sprintf("%s-%s-%s.jpg", lang, who, page)
	if err := os.WriteFile(filepath.Join(p.t.ArtifactDir(), name), shot, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// untranslated lists the Latin-script words of the page a reader sees that
// are not data. Data is what the page marks translate="no" (names,
// addresses, titles, codes) or marks as written in another language (a
// language's own name in the language menu). Also allowed: the product's
// name, abbreviations in capitals (API, UTC, IANA), the names of protocols
// and products Chinese writes in Latin letters (IPv4, Redis, River) and time zone names
// (Asia/Shanghai), paths, URLs and e-mail addresses. Text, the title, placeholders, labels for screen
// readers and tooltips are read.
func (p *btPerson) untranslated() []string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	words, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](btUntranslatedJS))
	if err != nil {
		p.fail("look for English words: %v", err)
	}
	return words
}

const btUntranslatedJS = `(() => {
	const pageLang = document.documentElement.lang;
	const allowed = /^(Portcullis|IPv|Telnet|MySQL|PostgreSQL|Redis|MongoDB|River|[A-Z]{2,5}|[A-Z][A-Za-z]+(\/[A-Za-z_+-]+)+)$/;
	const isData = el => !el || el.closest('[translate="no"], script, style, noscript, template') !== null ||
		(el.closest('[lang]') && el.closest('[lang]').lang !== pageLang);
	const out = [];
	const check = (el, where, text) => {
		// Runs of text between spaces and CJK characters; paths, URLs and
		// e-mail addresses among them are data.
		for (const run of text.match(/[^\s\u3000-\u9fff\uff00-\uffef]+/g) || []) {
			if (/^\/|@|:\/\//.test(run)) continue;
			for (const w of run.match(/[A-Za-z][A-Za-z\/_+-]*[A-Za-z]/g) || []) {
				if (!allowed.test(w)) {
					out.push(w + "  (" + where + ": " + JSON.stringify(text.trim().slice(0, 100)) + ")");
				}
			}
		}
	};
	check(null, "title", document.title);
	const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n = walker.nextNode(); n; n = walker.nextNode()) {
		const el = n.parentElement;
		if (isData(el) || !n.nodeValue.trim()) continue;
		if (el.checkVisibility && !el.checkVisibility() && el.tagName !== "OPTION") continue;
		check(el, el.tagName.toLowerCase() + (el.id ? "#" + el.id : ""), n.nodeValue);
	}
	for (const el of document.body.querySelectorAll("[placeholder], [aria-label], [title], [alt]")) {
		if (isData(el)) continue;
		for (const a of ["placeholder", "aria-label", "title", "alt"]) {
			if (el.hasAttribute(a)) check(el, el.tagName.toLowerCase() + "[" + a + "]", el.getAttribute(a));
		}
	}
	return out;
})()`
