package periodic

import (
	"bytes"
	"html/template"
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
