package drift_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/portcullis/portcullis/workflow/drift"
	"github.com/portcullis/portcullis/workflow/policy"
)

// A web server in the DMZ, approved for HTTPS and SSH; the scan finds HTTPS,
// an unapproved Redis without authentication, and SSH gone.
func Example() {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	all := policy.PortSet{{First: 1, Last: 65535}}
	obs := []drift.Observation{{
		Address:        netip.MustParseAddr("192.0.2.10"),
		Zone:           "edge",
		Classification: policy.DMZ,
		Scanned:        drift.PortScope{TCP: all},
		Ports: []drift.ObservedPort{
			{Protocol: policy.TCP, Port: 443, State: "open", Service: "http", TLS: true},
			{Protocol: policy.TCP, Port: 6379, State: "open", Service: "redis",
				Weak: []drift.WeakFinding{{ID: "redis-no-auth", Severity: "high"}}},
		},
	}}
	web := netip.MustParsePrefix("192.0.2.10/32")
	rules := []drift.Rule{
		{ID: 1, RequestID: 40, Destination: web, Protocol: policy.TCP, Ports: policy.PortSet{{First: 443, Last: 443}}, Service: "https", State: "active"},
		{ID: 2, RequestID: 41, Destination: web, Protocol: policy.TCP, Ports: policy.PortSet{{First: 22, Last: 22}}, Service: "ssh", State: "active"},
	}
	items := drift.Compare(obs, rules, nil, now)
	for _, it := range items {
		fmt.Println(it.Severity, it.Key)
	}

	// The next scan: Redis is gone. Reconcile says what to store.
	tracked := []drift.Tracked{{Key: items[0].Key, State: drift.StateAcknowledged}, {Key: items[1].Key, State: drift.StateOpen}}
	obs[0].Ports = obs[0].Ports[:1]
	fresh := drift.Compare(obs, rules, nil, now.Add(24*time.Hour))
	newItems, stillOpen, resolved := drift.Reconcile(tracked, fresh, drift.Coverage(obs), now.Add(24*time.Hour))
	fmt.Println(len(newItems), "new;", stillOpen[0].Key, "still", stillOpen[0].State, ";", resolved[0].Key, resolved[0].State)

	p := drift.RequestFrom(items[0])
	fmt.Println(p.Title)
	// Output:
	// critical open-unapproved|192.0.2.10|tcp|6379
	// low approved-closed|192.0.2.10|tcp|22
	// 0 new; approved-closed|192.0.2.10|tcp|22 still open ; open-unapproved|192.0.2.10|tcp|6379 resolved
	// Approve tcp/6379 (redis) on 192.0.2.10
}
