package policy_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/portcullis/portcullis/workflow/policy"
)

// What `portcullis policy check FILE` does, with the zones, policy and
// active rules the command would read from the database.
func Example() {
	file := []byte(`
- source: internet
  destination: [10.1.0.5]
  protocol: tcp
  ports: "80,443"
  service: http
- source: internet
  destination: [10.1.0.5]
  protocol: tcp
  ports: 33890
  service: rdp
`)
	specs, err := policy.ParseRuleFile(file)
	if err != nil {
		fmt.Println(err) // exit status 2
		return
	}
	inventory, err := policy.NewInventory([]policy.Zone{
		{Name: "web", Classification: policy.DMZ, CIDRs: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	p := policy.DefaultPolicy()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	rules, err := inventory.Resolve(specs, now.Add(p.Settings.DefaultExpiry))
	if err != nil {
		fmt.Println(err) // exit status 2
		return
	}
	active := policy.NewActiveIndex(nil) // the approved, active rules
	findings := p.Evaluate(rules, active, now)
	for _, f := range findings {
		fmt.Printf("rule %d %s %s blocking=%v\n", f.Rule, f.Code, f.Severity, f.Blocking)
	}
	if policy.HasBlocking(findings) {
		fmt.Println("exit status 1")
	}
	// Output:
	// rule 0 cleartext low blocking=false
	// rule 1 internet-high-risk critical blocking=true
	// rule 1 internet-exposure high blocking=true
	// rule 1 auth-required medium blocking=false
	// rule 1 non-standard-port low blocking=false
	// rule 1 service-controls info blocking=false
	// exit status 1
}
