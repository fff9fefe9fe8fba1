package handlers

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/paging"
	"github.com/portcullis/portcullis/workflow/scans"
)

// The demo's obvious first request, HTTPS to the DMZ web host: the form
// says, beside the rule, that nothing answered on 443 at the last scan and
// that the https service the requester named answers on 8443, without
// listing the host's other open ports to someone outside its team.
func TestLiveFormSaysWhatListens(t *testing.T) {
	a := newApp(t)
	now := time.Now().UTC()
	rep, _ := json.Marshal(scans.Report{Schema: "portcullis.scan/v1", Hosts: []scans.Host{{Address: "127.10.0.10", State: "up", Ports: []scans.Port{
		{Port: 8080, Protocol: "tcp", State: "open", Service: "http"},
		{Port: 8443, Protocol: "tcp", State: "open", Service: "http", TLS: true},
		{Port: 22, Protocol: "tcp", State: "open", Service: "ssh"},
	}}}})
	run := models.ScanRun{Kind: "on_demand", Profile: "common", Targets: "127.10.0.10", Status: "done", RequestedBy: "rita", Progress: "{}", Report: string(rep), QueuedAt: now, FinishedAt: &now}
	if err := a.svc.DB().Create(&run).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Scans.PortsOf(t.Context(), &run, paging.First[scans.ResultKey]()); err != nil {
		t.Fatal(err)
	}
	rule := url.Values{"rules[0].source": {"198.51.100.0/24"}, "rules[0].destination": {"127.10.0.10"}, "rules[0].protocol": {"tcp"}, "rules[0].ports": {"443"}, "rules[0].service": {"https"}}
	body := a.body(a.post(a.as("alice"), "/requests/evaluate", rule))
	box := body[strings.Index(body, `<section id="rule-0-findings"`):]
	box = box[:strings.Index(box, "</section>")]
	for _, want := range []string{"tcp/443", "nothing answered there on 127.10.0.10", "The service you named answers there on:", "tcp/8443 (http, TLS)"} {
		if !strings.Contains(box, want) {
			t.Errorf("the rule's box lacks %q:\n%s", want, box)
		}
	}
	if strings.Contains(box, "tcp/22") || strings.Contains(box, "tcp/8080") {
		t.Errorf("a requester outside the host's team is shown its other open ports:\n%s", box)
	}

	// The port that answers, asked for by the reviewer-requester Pat: he
	// is security, so he sees the rest too.
	rule.Set("rules[0].ports", "8443")
	body = a.body(a.post(a.as("pat"), "/requests/evaluate", rule))
	if !strings.Contains(body, "answered on 127.10.0.10 at the last scan") || !strings.Contains(body, "Open there at that scan:") || !strings.Contains(body, "tcp/22 (ssh)") {
		t.Errorf("the answering port's hint for security:\n%s", body)
	}
}
