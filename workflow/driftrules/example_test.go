package driftrules_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/portcullis/portcullis/workflow/driftrules"
	"github.com/portcullis/portcullis/workflow/policy"
)

// A web server in the DMZ, approved for HTTPS and SSH; the scan finds HTTPS,
// an unapproved Redis without authentication, and SSH gone.
func Example() {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	all := policy.PortSet{{First: 1, Last: 65535}}
	obs := []driftrules.Observation{{
		Address:        netip.MustParseAddr("192.0.2.10"),
		Zone:           "edge",
		Classification: policy.DMZ,
		Scanned:        driftrules.PortScope{TCP: all},
		Ports: []driftrules.ObservedPort{
			{Protocol: policy.TCP, Port: 443, State: "open", Service: "http", TLS: true},
			{Protocol: policy.TCP, Port: 6379, State: "open", Service: "redis",
				Weak: []driftrules.WeakFinding{{ID: "redis-no-auth", Severity: "high"}}},
		},
	}}
	web := netip.MustParsePrefix("192.0.2.10/32")
	rules := []driftrules.Rule{
		{ID: 1, RequestID: 40, Destination: web, Protocol: policy.TCP, Ports: policy.PortSet{{First: 443, Last: 443}}, Service: "https", State: "active"},
		{ID: 2, RequestID: 41, Destination: web, Protocol: policy.TCP, Ports: policy.PortSet{{First: 22, Last: 22}}, Service: "ssh", State: "active"},
	}
	items := driftrules.Compare(obs, rules, nil, now)
	for _, it := range items {
		fmt.Println(it.Severity, it.Key)
	}

	// The next scan: Redis is gone. Reconcile says what to store.
	tracked := []driftrules.Tracked{{Key: items[0].Key, State: driftrules.StateAcknowledged}, {Key: items[1].Key, State: driftrules.StateOpen}}
	obs[0].Ports = obs[0].Ports[:1]
	fresh := driftrules.Compare(obs, rules, nil, now.Add(24*time.Hour))
	newItems, stillOpen, resolved := driftrules.Reconcile(tracked, fresh, driftrules.Coverage(obs), now.Add(24*time.Hour))
	fmt.Println(len(newItems), "new;", stillOpen[0].Key, "still", stillOpen[0].State, ";", resolved[0].Key, resolved[0].State)

	p := driftrules.RequestFrom(items[0])
	fmt.Println(p.Title)
	// Output:
	// critical open-unapproved|192.0.2.10|tcp|6379
	// low approved-closed|192.0.2.10|tcp|22|request-41
	// 0 new; approved-closed|192.0.2.10|tcp|22|request-41 still open ; open-unapproved|192.0.2.10|tcp|6379 resolved
	// Approve tcp/6379 (redis) on 192.0.2.10
}
