package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// btContrastJS is the WCAG contrast of an element's text on its background,
// as the browser computed both.
const btContrastJS = `(e) => {
  const rgb = s => s.match(/[\d.]+/g).slice(0, 3).map(Number);
  const lum = c => { const l = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2]; };
  const st = getComputedStyle(e), a = lum(rgb(st.color)), b = lum(rgb(st.backgroundColor));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}`

// TestBrowserDashboardAndHomes walks the morning view and each role's home
// in English and in Chinese, on a desktop and on a 390 px phone: severity
// tiles readable, a chart with its legend and labels at text size, the
// riskiest assets and oldest drift linked to their asset pages, nothing
// wider than the page; every role's own work first, with its counts in
// the navigation.
func TestBrowserDashboardAndHomes(t *testing.T) {
	b := newBrowserEnv(t)
	lee := b.login(btLee)
	lee.waitFirstDemoScan()
	people := map[string]*btPerson{btLee: lee}
	person := func(email string) *btPerson {
		if people[email] == nil {
			people[email] = b.login(email)
		}
		return people[email]
	}
	for _, lang := range []string{"en", "zh-CN"} {
		for _, width := range []int64{1440, 390} {
			lee.acceptLanguage(lang)
			lee.step("a "+strconv.Itoa(int(width))+" px window", chromedp.EmulateViewport(width, 900))
			lee.open("/dashboard", 200)
			where := "the " + lang + " dashboard at " + strconv.Itoa(int(width)) + " px"
			if n := lee.count("#drift-by-severity a.card"); n != 5 {
				lee.fail("%s has %d severity tiles, want 5", where, n)
			}
			if lee.eval(`Array.from(document.querySelectorAll("#drift-by-severity a.card")).some(e => (` + btContrastJS + `)(e) < 4.5)`) {
				lee.fail("%s: a severity tile's text reads below 4.5:1 on its background", where)
			}
			if lee.count("#trend-legend li") != 2 || lee.count("#trend-chart polyline") != 2 {
				lee.fail("%s: the trend chart lacks its two lines or its legend", where)
			}
			if !lee.eval(`Array.from(document.querySelectorAll(".chart-x span, .chart-y span")).every(e => parseFloat(getComputedStyle(e).fontSize) >= 11)`) {
				lee.fail("%s: the chart's labels are smaller than 11 px", where)
			}
			if !lee.eval(`(() => { const m = document.querySelector("main"); return m.scrollWidth <= m.clientWidth + 1; })()`) {
				lee.fail("%s is wider than the window", where)
			}
			links := lee.texts("#riskiest-assets tbody a, #oldest-drift tbody td:first-child a")
			if len(links) == 0 {
				lee.fail("%s lists no risky asset or old drift after the demo's scan", where)
			}
			if !lee.eval(`Array.from(document.querySelectorAll("#riskiest-assets tbody td:first-child a, #oldest-drift tbody td:first-child a")).every(a => /^\/assets\/\d+$|^\/drift\?asset=/.test(a.getAttribute("href")))`) {
				lee.fail("%s: an asset or drift item does not link to its asset page", where)
			}
			if !lee.eval(`Array.from(document.querySelectorAll("#heat-map td a")).every(a => getComputedStyle(a.closest("td")).backgroundColor !== "rgb(255, 255, 255)")`) {
				lee.fail("%s: a heat-map cell with drift is not shaded", where)
			}
			if width == 1440 {
				if words := lee.untranslated(); lang != "en" && len(words) > 0 {
					lee.fail("the dashboard shows English to a reader of Chinese:\n  %s", strings.Join(words, "\n  "))
				}
				lee.screenshot("/dashboard", lang)
			}
		}
		lee.step("back to a desktop window", chromedp.EmulateViewport(1440, 900))

		// The asset page, reached from the dashboard, fits a phone.
		href := lee.attrs("#riskiest-assets tbody td:first-child a")["href"]
		if strings.HasPrefix(href, "/assets/") {
			lee.step("a phone window", chromedp.EmulateViewport(390, 844))
			lee.open(href, 200)
			if !lee.eval(`(() => { const m = document.querySelector("main"); return m.scrollWidth <= m.clientWidth + 1; })()`) {
				lee.fail("the %s asset page %s is wider than a 390 px phone", lang, href)
			}
			lee.step("back to a desktop window", chromedp.EmulateViewport(1440, 900))
		}

		// Each role's home: their own work first, counted in the navigation.
		alice := person(btAlice)
		alice.acceptLanguage(lang)
		alice.open("/", 200)
		if alice.count("#new-request") != 1 {
			alice.fail("the %s requester's home has no New request button", lang)
		}
		alice.screenshot("/", lang)
		pat := person(btPat)
		pat.acceptLanguage(lang)
		pat.open("/queue/review", 200)
		if pat.count("#queue .not-offered") == 0 || pat.count(`#queue a.button[href$="/review"]`)+pat.count("#queue .not-offered") != pat.count("#queue tbody tr") {
			pat.fail("the %s review queue should say which request is Pat's own instead of offering it", lang)
		}
		if words := pat.untranslated(); lang != "en" && len(words) > 0 {
			pat.fail("the review queue shows English to a reader of Chinese:\n  %s", strings.Join(words, "\n  "))
		}
		rita := person(btRita)
		rita.acceptLanguage(lang)
		rita.open("/", 200)
		badge := rita.attrs(`header nav a[href="/queue/review"] .nav-count`)["data-count"]
		card := rita.text(`#home-queues a[href="/queue/review"] .stat`)
		if badge == "" || badge != card {
			rita.fail("the %s reviewer's navigation counts %q to review, the home's card %q", lang, badge, card)
		}
		rita.screenshot("/", lang)
		aude := person(baAude)
		aude.acceptLanguage(lang)
		aude.open("/", 200)
		if aude.count("#home-needs a.card") < 3 {
			aude.fail("the %s auditor's home does not list what needs them", lang)
		}
		if lang != "en" {
			for _, p := range []*btPerson{alice, rita, aude} {
				p.open("/", 200)
				if words := p.untranslated(); len(words) > 0 {
					p.fail("%s's home shows English to a reader of Chinese:\n  %s", p.email, strings.Join(words, "\n  "))
				}
			}
		}
		aude.screenshot("/", lang)
	}
}
