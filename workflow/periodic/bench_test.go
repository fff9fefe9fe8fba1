package periodic

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/workflow/policy"
)

// largeZone is a zone of n hosts, each with six open ports one of which
// changed since the previous scan, a rule per host and a drift item for
// every tenth.
func largeZone(n int) Input {
	in := Input{Kind: Daily, Zone: "dc", Classification: "medium", From: from, To: to, Catalog: policy.DefaultCatalog(),
		Current: scan(2, to.Add(-time.Hour), map[string]Host{}), Previous: scan(1, from, map[string]Host{})}
	for i := range n {
		addr := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		in.Assets = append(in.Assets, Asset{Address: addr, Hostname: fmt.Sprintf("h%d", i), Team: fmt.Sprintf("team%d", i%20)})
		in.Current.Hosts[addr] = open(22, 80, 443, 3306, 8080, 9000)
		in.Previous.Hosts[addr] = open(22, 80, 443, 3306, 8080, 9001)
		in.Rules = append(in.Rules, Rule{RequestID: uint(i + 1), Addresses: []string{addr}, Protocol: "tcp", Ports: policy.PortSet{{First: 80, Last: 443}},
			Source: "10.0.0.0/8", Expires: to.Add(time.Duration(i%30) * 24 * time.Hour)})
		if i%10 == 0 {
			in.Drift = append(in.Drift, DriftItem{ID: uint(i), Kind: "open-unapproved", Severity: "high", State: "open", Address: addr, Protocol: "tcp", Port: 9000, FirstSeen: to.Add(-time.Hour)})
		}
	}
	return in
}

func TestMailIsBounded(t *testing.T) {
	r, en := Compute(largeZone(1000)), english(t)
	if len(r.Opened) != 1000 || len(r.Sections(en)[0].Rows) != 1000 {
		t.Fatalf("opened %d", len(r.Opened))
	}
	text := r.Text(en, "")
	var html bytes.Buffer
	if err := r.HTML(en, &html, ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "… and 800 more") || !strings.Contains(html.String(), "… and 800 more") || strings.Count(html.String(), "<tr>") > 7*(MaxMailRows+1)+20 {
		t.Errorf("the e-mail is not cut at %d rows a list", MaxMailRows)
	}
}

// BenchmarkLargeZone computes and renders (text and HTML) the report of a
// zone of 10,000 hosts.
func BenchmarkLargeZone(b *testing.B) {
	in, en := largeZone(10000), english(b)
	b.ReportAllocs()
	for b.Loop() {
		r := Compute(in)
		r.Text(en, "")
		if err := r.HTML(en, io.Discard, ""); err != nil {
			b.Fatal(err)
		}
	}
}
