package requests_test

import (
	"strings"
	"testing"

	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

// TestEgressAsWritten files egress rules the way people write them (our
// asset as the source, the outside peer as the destination) and the old
// reversed way.
func TestEgressAsWritten(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	cases := []struct {
		name                string
		source, destination string
		// stored source and destination; field is the refused field instead.
		storedSource, storedDestination string
		field, message                  string
		egressMessage                   string
	}{
		{name: "host prefix to a peer", source: "10.10.0.10/32", destination: "203.0.113.5",
			storedSource: "10.10.0.10", storedDestination: "203.0.113.5/32", egressMessage: "dmz zones open connections to 203.0.113.5/32 on tcp/443"},
		{name: "asset to the internet", source: "10.10.0.10", destination: "internet",
			storedSource: "10.10.0.10", storedDestination: "internet", egressMessage: "open connections to any address (internet)"},
		{name: "zone to partners", source: "apps", destination: "198.51.100.0/28, 203.0.113.5",
			storedSource: "apps", storedDestination: "198.51.100.0/28,203.0.113.5/32", egressMessage: "medium zones open connections to 198.51.100.0/28,203.0.113.5/32"},
		{name: "internet as the source", source: "internet", destination: "203.0.113.5",
			field: "rules[0].source", message: "the source of an egress rule is our assets"},
		{name: "reversed: peer as the source", source: "203.0.113.5", destination: "10.10.0.10",
			field: "rules[0].source", message: "203.0.113.5 is not in the inventory"},
		{name: "unknown peer zone", source: "10.10.0.10", destination: "partners",
			field: "rules[0].destination", message: `no zone named "partners"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := requests.Input{Title: "Outbound " + c.name, Justification: "the app calls a partner's API",
				Rules: []requests.RuleInput{{Source: c.source, Destination: c.destination, Protocol: "tcp", Ports: "443", Service: "http", Direction: "egress"}}}
			r, err := w.App.Requests.Create(w.Ctx, w.Alice, in)
			if c.field != "" {
				workflowtest.MustCode(t, err, core.CodeInvalid)
				if msg := workflowtest.FieldErrorsOf(err)[c.field]; !strings.Contains(msg, c.message) {
					t.Fatalf("errors %v, want %q on %s", workflowtest.FieldErrorsOf(err), c.message, c.field)
				}
				return
			}
			workflowtest.Must(t, err)
			if got := r.Rules[0]; got.Source != c.storedSource || got.Destination != c.storedDestination {
				t.Fatalf("stored %q → %q, want %q → %q", got.Source, got.Destination, c.storedSource, c.storedDestination)
			}
			var egress *requests.Finding
			for _, f := range requests.FindingsOf(*r) {
				if f.Blocking {
					t.Errorf("blocking finding %s: %s", f.Code, f.Message)
				}
				if f.Code == "egress" {
					egress = &f
				}
			}
			if egress == nil || !strings.Contains(egress.Message, c.egressMessage) {
				t.Fatalf("egress finding %+v, want %q", egress, c.egressMessage)
			}
		})
	}
}

// TestEgressOnlyRequestIsNotScanned: an implemented request of egress rules
// alone queues no scan (the peer is not ours to scan) and is in force.
func TestEgressOnlyRequestIsNotScanned(t *testing.T) {
	w := workflowtest.SQLiteWorld(t)
	r := w.Submitted(t, requests.Input{Title: "Updates", Justification: "OS updates from the vendor mirror",
		Rules: []requests.RuleInput{{Source: "10.40.0.15", Destination: "203.0.113.5", Protocol: "tcp", Ports: "443", Service: "http", Direction: "egress"}}})
	review := workflowtest.ApproveInput()
	review.Checklist = workflowtest.FullChecklist(r)
	_, err := w.App.Requests.Review(w.Ctx, w.Rita, r.ID, review)
	workflowtest.Must(t, err)
	_, err = w.App.Requests.Implement(w.Ctx, w.Ivan, r.ID, "CHG-9", "")
	workflowtest.Must(t, err)
	id := r.ID
	if got := w.State(t, id); got != requests.StateActive {
		t.Fatalf("state %s, want active", got)
	}
	var scans int64
	w.App.DB().Table("scan_runs").Where("request_id = ?", id).Count(&scans)
	if scans != 0 {
		t.Fatalf("%d scans queued for an egress-only request", scans)
	}
}
