package policy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseRuleFileForms(t *testing.T) {
	yamlDoc := `
- source: internet
  destination: ["10.1.2.3"]
  protocol: tcp
  ports: "443"
  service: http
  direction: ingress
- source: [203.0.113.0/28, "2001:db8::/48"]
  destination: payments
  protocol: UDP
  ports: 161
  service: SNMP
- source: office
  destination: 10.1.2.3, 10.1.2.4
  protocol: tcp
  ports: [80, "8000-8100"]
  direction: egress
  expires_at: 2027-02-22
- source: 10.0.0.0/24,10.0.1.0/24
  destination: [web, 2001:db8:1::5]
  protocol: tcp
  ports: 22
  expires_at: "2027-02-22T10:30:00+01:00"
`
	want := []RuleSpec{
		{Source: "internet", Destination: []string{"10.1.2.3/32"}, Protocol: "tcp", Ports: "443", Service: "http", Direction: "ingress"},
		{Source: "203.0.113.0/28,2001:db8::/48", Destination: []string{"payments"}, Protocol: "udp", Ports: "161", Service: "snmp", Direction: "ingress"},
		{Source: "office", Destination: []string{"10.1.2.3/32", "10.1.2.4/32"}, Protocol: "tcp", Ports: "80,8000-8100", Direction: "egress",
			ExpiresAt: time.Date(2027, 2, 22, 0, 0, 0, 0, time.UTC)},
		{Source: "10.0.0.0/24,10.0.1.0/24", Destination: []string{"web", "2001:db8:1::5/128"}, Protocol: "tcp", Ports: "22", Direction: "ingress",
			ExpiresAt: time.Date(2027, 2, 22, 9, 30, 0, 0, time.UTC)},
	}
	got, err := ParseRuleFile([]byte(yamlDoc))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("YAML (-want +got):\n%s", diff)
	}

	// The same rules as JSON, pretty-printed with tabs, bare and wrapped.
	jsonDoc := "[\n\t{\"source\": \"internet\", \"destination\": [\"10.1.2.3\"], \"protocol\": \"tcp\", \"ports\": \"443\", \"service\": \"http\", \"direction\": \"ingress\"},\n" +
		"\t{\"source\": [\"203.0.113.0/28\", \"2001:db8::/48\"], \"destination\": \"payments\", \"protocol\": \"UDP\", \"ports\": 161, \"service\": \"SNMP\"},\n" +
		"\t{\"source\": \"office\", \"destination\": \"10.1.2.3, 10.1.2.4\", \"protocol\": \"tcp\", \"ports\": [80, \"8000-8100\"], \"direction\": \"egress\", \"expires_at\": \"2027-02-22\"},\n" +
		"\t{\"source\": \"10.0.0.0/24,10.0.1.0/24\", \"destination\": [\"web\", \"2001:db8:1::5\"], \"protocol\": \"tcp\", \"ports\": 22, \"expires_at\": \"2027-02-22T10:30:00+01:00\", \"service\": null}\n]"
	for _, doc := range []string{jsonDoc, `{"rules": ` + jsonDoc + `}`} {
		got, err := ParseRuleFile([]byte(doc))
		if err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("JSON (-want +got):\n%s", diff)
		}
	}
}

func TestParseRuleFileErrors(t *testing.T) {
	const ok = `{"source": "internet", "destination": ["10.1.2.3"], "protocol": "tcp", "ports": "443"}`
	rules := func(third string) string { return "[" + ok + "," + ok + "," + third + "]" }
	cases := []struct {
		doc, field, message string
	}{
		{rules(`{"source": "internet", "destination": ["10.1.2.3"], "protocol": "tcp", "ports": "70000"}`), "rules[2].ports", "port 70000 is out of range"},
		{rules(`{"source": "internet", "destination": ["10.1.2.3"], "protocol": "tcp", "ports": 0}`), "rules[2].ports", "port 0 is out of range"},
		{rules(`{"source": "internet", "destination": ["10.1.2.3"], "protocol": "tcp", "ports": "90-80"}`), "rules[2].ports", "backwards"},
		{rules(`{"source": "internet", "destination": ["10.1.2.3"], "protocol": "tcp"}`), "rules[2].ports", "ports are required"},
		{rules(`{"source": "internet", "destination": ["10.1.2.3"], "protocol": "tcp", "ports": {"a": 1}}`), "rules[2].ports", "ports must be"},
		{rules(`{"source": "internet", "destination": ["10.1.2.3"], "protocol": "icmp", "ports": "1"}`), "rules[2].protocol", `protocol "icmp" is not tcp or udp`},
		{rules(`{"source": "internet", "destination": ["10.1.2.3"], "ports": "1"}`), "rules[2].protocol", "protocol is required"},
		{rules(`{"destination": ["10.1.2.3"], "protocol": "tcp", "ports": "1"}`), "rules[2].source", "source is required"},
		{rules(`{"source": ["10.0.0.0/24", "10.0.0.1/24"], "destination": ["10.1.2.3"], "protocol": "tcp", "ports": "1"}`), "rules[2].source[1]", "host bits set"},
		{rules(`{"source": ["10.0.0.0/24", "office"], "destination": ["10.1.2.3"], "protocol": "tcp", "ports": "1"}`), "rules[2].source[1]", "not an IP address"},
		{rules(`{"source": "no such thing!", "destination": ["10.1.2.3"], "protocol": "tcp", "ports": "1"}`), "rules[2].source", "neither internet"},
		{rules(`{"source": [], "destination": ["10.1.2.3"], "protocol": "tcp", "ports": "1"}`), "rules[2].source", "source must be"},
		{rules(`{"source": "internet", "protocol": "tcp", "ports": "1"}`), "rules[2].destination", "destination is required"},
		{rules(`{"source": "internet", "destination": ["10.1.2.300"], "protocol": "tcp", "ports": "1"}`), "rules[2].destination[0]", "not an IP address"},
		{rules(`{"source": "internet", "destination": "10.1.2.3,x y", "protocol": "tcp", "ports": "1"}`), "rules[2].destination", "not an IP address"},
		{rules(`{"source": "internet", "destination": ["10.1.2.3"], "protocol": "tcp", "ports": "1", "direction": "up"}`), "rules[2].direction", `direction "up"`},
		{rules(`{"source": "internet", "destination": ["10.1.2.3"], "protocol": "tcp", "ports": "1", "service": "two words"}`), "rules[2].service", "not a service name"},
		{rules(`{"source": "internet", "destination": ["10.1.2.3"], "protocol": "tcp", "ports": "1", "expires_at": "soon"}`), "rules[2].expires_at", "not a date"},
		{rules(`{"source": "internet", "destination": ["10.1.2.3"], "protocol": "tcp", "ports": "1", "prots": "1"}`), "rules[2].prots", "unknown field"},
		{rules(`{"source": "internet", "source": "internet", "destination": ["10.1.2.3"], "protocol": "tcp", "ports": "1"}`), "rules[2].source", "given twice"},
		{rules(`"just a string"`), "rules[2]", "must be an object"},
		{`{"rules": {}}`, "rules", "expected a list"},
		{`{"rulez": []}`, "rulez", "unknown field"},
		{`[]`, "rules", "empty"},
		{``, "rules", "no rules"},
		{`[{"source": "internet"`, "", "not valid YAML or JSON"},
	}
	for _, c := range cases {
		_, err := ParseRuleFile([]byte(c.doc))
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v (%T), want a *FieldError", c.doc, err, err)
			continue
		}
		if fe.Field != c.field || !strings.Contains(fe.Message, c.message) {
			t.Errorf("%s:\n got field %q message %q\nwant field %q message containing %q", c.doc, fe.Field, fe.Message, c.field, c.message)
		}
	}
	_, err := ParseRuleFile([]byte(rules(`{"source": "internet", "destination": ["10.1.2.3"], "protocol": "tcp", "ports": "70000"}`)))
	if got := err.Error(); !strings.HasPrefix(got, "rules[2].ports: port 70000 is out of range") || !strings.Contains(got, "(line 1)") {
		t.Errorf("error text: %s", got)
	}
}
