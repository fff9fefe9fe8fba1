package periodic

import (
	"bytes"
	"html/template"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/policy"
)

var (
	to   = time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	from = to.Add(-24 * time.Hour)
)

func scan(id uint, at time.Time, hosts map[string]Host) *Scan {
	return &Scan{RunID: id, Finished: at, Hosts: hosts}
}

func open(ports ...uint16) Host {
	h := Host{Up: true}
	for _, p := range ports {
		h.Open = append(h.Open, Port{Protocol: "tcp", Port: p})
	}
	return h
}

func TestCompute(t *testing.T) {
	assets := []Asset{{Address: "10.0.0.1", Team: "web"}, {Address: "10.0.0.2", Team: "db"}}
	for _, tc := range []struct {
		name    string
		in      Input
		check   func(Report) bool
		explain string
	}{
		{"first scan is a baseline", Input{Current: scan(2, to.Add(-time.Hour), map[string]Host{"10.0.0.1": open(80)})},
			func(r Report) bool {
				return !r.NothingNew && len(r.Opened) == 0 && strings.Contains(r.Notes[0], "baseline")
			}, "no comparison, a note"},
		{"a host down is not compared", Input{Current: scan(2, to.Add(-time.Hour), map[string]Host{"10.0.0.1": {}}), Previous: scan(1, from, map[string]Host{"10.0.0.1": open(80)})},
			func(r Report) bool { return len(r.Closed) == 0 && r.NothingNew }, "silence closes nothing"},
		{"opened and closed", Input{Current: scan(2, to.Add(-time.Hour), map[string]Host{"10.0.0.1": open(80, 3389)}), Previous: scan(1, from, map[string]Host{"10.0.0.1": open(80, 22)})},
			func(r Report) bool {
				return len(r.Opened) == 1 && r.Opened[0].Port == 3389 && len(r.Closed) == 1 && r.Closed[0].Port == 22 && !r.NothingNew
			}, "3389 opened, 22 closed"},
		{"a scan outside the window", Input{Current: scan(2, from.Add(-time.Hour), map[string]Host{"10.0.0.1": open(80)}), Previous: scan(1, from.Add(-25*time.Hour), map[string]Host{"10.0.0.1": open(22)})},
			func(r Report) bool {
				return !r.NothingNew && len(r.Opened) == 0 && strings.Contains(r.Notes[0], "No daily scan")
			}, "no comparison, a note"},
		{"suppressed drift is not listed, new drift is news", Input{Current: scan(2, to.Add(-time.Hour), map[string]Host{"10.0.0.1": open(80)}), Previous: scan(1, from, map[string]Host{"10.0.0.1": open(80)}),
			Drift: []DriftItem{{ID: 1, Kind: "open-unapproved", State: "suppressed", Address: "10.0.0.1", Port: 80}, {ID: 2, Kind: "weak-config", State: "open", Address: "10.0.0.1", Port: 80, FirstSeen: to.Add(-time.Hour)}}},
			func(r Report) bool { return len(r.Unapproved) == 0 && !r.NothingNew }, "a new weak-config item makes it news"},
		{"internet-facing exposures first", Input{Classification: "medium", Catalog: policy.DefaultCatalog(),
			Current: scan(2, to.Add(-time.Hour), map[string]Host{"10.0.0.1": open(3306), "10.0.0.2": open(22)}),
			Rules:   []Rule{{RequestID: 7, Source: "203.0.113.0/28", Addresses: []string{"10.0.0.2"}, Protocol: "tcp", Ports: policy.PortSet{{First: 22, Last: 22}}}}},
			func(r Report) bool {
				return len(r.HighRisk) == 2 && r.HighRisk[0].Address == "10.0.0.2" && r.HighRisk[0].InternetFacing && r.HighRisk[0].RequestID == 7 && !r.HighRisk[1].InternetFacing
			}, "ssh opened to public addresses before the internal database"},
		{"expiry horizon", Input{Rules: []Rule{
			{RequestID: 1, Expires: to.Add(10 * 24 * time.Hour), Addresses: []string{"10.0.0.1"}},
			{RequestID: 2, Expires: to.Add(14*24*time.Hour + time.Minute), Addresses: []string{"10.0.0.1"}},
			{RequestID: 3, Expires: to.Add(-time.Hour), Addresses: []string{"10.0.0.1"}},
		}}, func(r Report) bool {
			return len(r.Expiring) == 1 && r.Expiring[0].RequestID == 1 && r.Expiring[0].DaysLeft == 10
		}, "only #1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Kind, in.Zone, in.From, in.To, in.Assets = Daily, "dmz", from, to, assets
			if r := Compute(in); !tc.check(r) {
				t.Errorf("%s: %+v", tc.explain, r)
			}
		})
	}
}

func TestPeriod(t *testing.T) {
	for _, tc := range []struct {
		kind Kind
		at   time.Time
		want string
	}{
		{Daily, time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC), "2026-11-30"},
		{Daily, time.Date(2026, 12, 1, 1, 0, 0, 0, time.FixedZone("+08", 8*3600)), "2026-11-30"},
		{Weekly, time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC), "2026-W49"},
		{Weekly, time.Date(2027, 1, 1, 3, 0, 0, 0, time.UTC), "2026-W53"},
	} {
		if got := tc.kind.Period(tc.at); got != tc.want {
			t.Errorf("%s period of %s = %s, want %s", tc.kind, tc.at, got, tc.want)
		}
	}
}

// FuzzRenderings: whatever a scanned host or a banner says, the HTML
// escapes it and no rendering fails.
func FuzzRenderings(f *testing.F) {
	f.Add("www1", "<script>alert(1)</script>", "web")
	f.Add("a\x00b", "\u202egnp.exe", "\xff")
	f.Fuzz(func(t *testing.T, host, detail, team string) {
		r := Compute(Input{Kind: Weekly, Zone: "dmz", Classification: "dmz", From: from, To: to, Assets: []Asset{{Address: "10.0.0.1", Hostname: host, Team: team}},
			Current:  scan(2, to.Add(-time.Hour), map[string]Host{"10.0.0.1": {Up: true, Open: []Port{{Protocol: "tcp", Port: 6379, Service: "redis", Findings: []Finding{{ID: "redis-no-auth", Severity: "critical", Detail: detail}}}}}}),
			Previous: scan(1, from, map[string]Host{"10.0.0.1": {Up: true}})})
		var b bytes.Buffer
		if err := r.HTML(english(t), &b, "https://portcullis.example/reports/1"); err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{host, detail} {
			if s != template.HTMLEscapeString(s) && strings.Contains(b.String(), "<td>"+s+"</td>") {
				t.Fatalf("%q is in the HTML unescaped", s)
			}
		}
		if !strings.Contains(r.Text(english(t), ""), "redis-no-auth") {
			t.Fatal("the text lost the finding")
		}
	})
}

// english is the catalogs' English, as the server's default language.
func english(t testing.TB) core.Language {
	t.Helper()
	catalog, err := locale.New("en", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	return catalog.Localizer("en", "", "UTC")
}

// messageID is what a message id looks like when a catalog lacks it and the
// id itself is shown.
var messageID = regexp.MustCompile(`\b(periodic|common|severity|drift_kind|report_kind)\.[a-z_]+`)

// TestEveryRenderedTextIsInBothCatalogs renders every state of a report (every
// list filled, every list empty, nothing new, and each note) daily and weekly,
// for a zone and a team, in both languages: no message id may show. The ids
// are built from a section's or a kind's name, which the catalog tests'
// source scan cannot see.
func TestEveryRenderedTextIsInBothCatalogs(t *testing.T) {
	catalog, err := locale.New("en", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	hosts := func(day int) map[string]Host {
		h := map[string]Host{"10.0.0.1": open(80, 22), "10.0.0.2": {Up: true, Open: []Port{{Protocol: "tcp", Port: 6379, Service: "redis",
			Findings: []Finding{{ID: "redis-no-auth", Severity: "critical", Detail: "answers without AUTH"}}}}}}
		if day == 2 {
			h["10.0.0.1"] = open(80, 3389)
		}
		return h
	}
	full := Input{Classification: "dmz", Catalog: policy.DefaultCatalog(), Current: scan(2, to.Add(-time.Hour), hosts(2)), Previous: scan(1, from, hosts(1)),
		Drift: []DriftItem{
			{ID: 1, Kind: "open-unapproved", Severity: "high", State: "open", Address: "10.0.0.1", Protocol: "tcp", Port: 3389, FirstSeen: to.Add(-time.Hour)},
			{ID: 2, Kind: "expired-open", Severity: "medium", State: "open", Address: "10.0.0.2", Protocol: "tcp", Port: 6379, FirstSeen: from.Add(-time.Hour)},
			{ID: 3, Kind: "open-unapproved", Severity: "high", State: "resolved", Address: "10.0.0.1", Protocol: "tcp", Port: 22, ResolvedAt: &to},
		},
		Rules: []Rule{{RequestID: 7, Title: "Web", Team: "web", Expires: to.Add(5 * 24 * time.Hour), Source: "internet", Addresses: []string{"10.0.0.1"},
			Protocol: "tcp", Ports: policy.PortSet{{First: 80, Last: 80}}}}}
	emptyLists := Input{Current: scan(2, to.Add(-time.Hour), map[string]Host{"10.0.0.1": open(80, 443)}), Previous: scan(1, from, map[string]Host{"10.0.0.1": open(80)})}
	for _, tc := range []struct {
		name string
		in   Input
	}{
		{"every list", full},
		{"empty lists", emptyLists},
		{"nothing new", Input{Current: scan(2, to.Add(-time.Hour), hosts(1)), Previous: scan(1, from, hosts(1))}},
		{"baseline", Input{Current: scan(2, to.Add(-time.Hour), hosts(1))}},
		{"stale", Input{Current: scan(2, from.Add(-time.Hour), hosts(1)), Previous: scan(1, from.Add(-48*time.Hour), hosts(1))}},
		{"no scan", Input{}},
	} {
		for _, kind := range []Kind{Daily, Weekly} {
			for _, team := range []string{"", "web"} {
				in := tc.in
				in.Kind, in.Zone, in.Team, in.From, in.To = kind, "dmz", team, from, to
				in.Assets = []Asset{{Address: "10.0.0.1", Hostname: "www", Team: "web"}, {Address: "10.0.0.2", Hostname: "cache", Team: "web"}}
				r := Compute(in)
				if tc.name == "every list" && (len(r.Opened) == 0 || len(r.Closed) == 0 || len(r.Unapproved) == 0 || len(r.HighRisk) == 0 ||
					len(r.Weak) == 0 || len(r.Expiring) == 0 || len(r.Resolved) == 0) {
					t.Fatalf("the full report leaves a list empty: %+v", r)
				}
				for _, tag := range []string{"en", "zh-CN"} {
					lang := catalog.Localizer(tag, "", "UTC")
					var html bytes.Buffer
					if err := r.HTML(lang, &html, "https://portcullis.example/reports/1"); err != nil {
						t.Fatal(err)
					}
					text := r.Text(lang, "https://portcullis.example/reports/1") + html.String() + r.Headline(lang) + r.Title(lang)
					for _, s := range r.Sections(lang) {
						text += s.Title + s.Empty + strings.Join(s.Columns, " ")
					}
					if ids := messageID.FindAllString(text, -1); len(ids) > 0 {
						t.Errorf("%s, %s, team %q, %s: message ids shown instead of text: %v", tc.name, kind, team, tag, ids)
					}
				}
			}
		}
	}
}
