package policy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"gopkg.in/yaml.v3"
)

// scanVocabulary is the service vocabulary of shared/contracts/scan-report.md,
// "unknown" aside.
var scanVocabulary = []string{"amqp", "dns", "elasticsearch", "ftp", "http", "imap", "kerberos", "ldap",
	"memcached", "mongodb", "mqtt", "mssql", "mysql", "nats", "ntp", "pop3", "postgresql", "rdp", "redis",
	"rsync", "sip", "smb", "smtp", "snmp", "ssh", "telnet", "vnc"}

func TestDefaultCatalogCoverage(t *testing.T) {
	c := DefaultCatalog()
	if c.Len() < 60 {
		t.Fatalf("the catalog has %d services, want at least 60", c.Len())
	}
	for _, name := range scanVocabulary {
		if _, ok := c.Lookup(name); !ok {
			t.Errorf("scan vocabulary word %q is not in the catalog", name)
		}
	}
	for _, name := range []string{"https", "ssdp", "rsh", "rlogin", "rexec", "tftp", "sftp", "ldaps", "smtps",
		"imaps", "pop3s", "winrm", "netbios", "nfs", "rpcbind", "cassandra", "couchdb", "kafka", "zookeeper",
		"etcd", "docker-api", "kubelet", "kube-apiserver", "x11", "ipmi", "syslog", "radius", "tacacs", "bgp",
		"ldap-gc", "oracle", "db2", "influxdb", "grafana", "prometheus", "rabbitmq-management"} {
		if _, ok := c.Lookup(name); !ok {
			t.Errorf("%q is not in the catalog", name)
		}
	}
	seen := map[Category]bool{}
	for _, s := range c.Services() {
		seen[s.Category] = true
	}
	for _, cat := range categories {
		if !seen[cat] {
			t.Errorf("no service of category %s", cat)
		}
	}
}

func TestDefaultCatalogEncodesThePractice(t *testing.T) {
	c := DefaultCatalog()
	alternatives := map[string]string{"telnet": "ssh", "ftp": "sftp", "snmp": "SNMPv3", "http": "https",
		"rsh": "ssh", "rlogin": "ssh", "ldap": "LDAPS"}
	for name, alt := range alternatives {
		s, _ := c.Lookup(name)
		if !s.Cleartext || !strings.Contains(s.SecureAlternative, alt) {
			t.Errorf("%s: cleartext %v, alternative %q, want one naming %s", name, s.Cleartext, s.SecureAlternative, alt)
		}
	}
	for _, name := range []string{"redis", "mongodb", "memcached", "elasticsearch"} {
		if s, _ := c.Lookup(name); !s.AuthCapable {
			t.Errorf("%s must require authentication", name)
		}
	}
	for _, name := range []string{"ntp", "snmp", "dns", "memcached", "ssdp"} {
		if s, _ := c.Lookup(name); !s.Amplifies || !s.hasProtocol(UDP) {
			t.Errorf("%s must amplify over UDP", name)
		}
	}
	for _, name := range []string{"snmp", "ntp", "rsync"} {
		if s, _ := c.Lookup(name); !s.WhitelistRequired {
			t.Errorf("%s must require a whitelist", name)
		}
	}
	// The practice's high-risk ports.
	for _, pp := range []struct {
		p    Protocol
		port uint16
	}{{TCP, 22}, {TCP, 23}, {TCP, 3389}, {TCP, 5900}, {TCP, 1433}, {TCP, 1521}, {TCP, 3306}, {TCP, 5432},
		{TCP, 6379}, {TCP, 27017}, {TCP, 9200}, {TCP, 11211}, {UDP, 161}, {UDP, 123}, {UDP, 53}} {
		s, ok := c.ByPort(pp.p, pp.port)
		if !ok || s.Risk != RiskHigh {
			t.Errorf("%s/%d: %q risk %q, want high", pp.p, pp.port, s.Name, s.Risk)
		}
	}
}

func TestCatalogLookups(t *testing.T) {
	c := DefaultCatalog()
	for _, tc := range []struct {
		p    Protocol
		port uint16
		want string
	}{
		{TCP, 3306, "mysql"}, {UDP, 161, "snmp"}, {TCP, 6000, "x11"}, {TCP, 6010, "x11"}, {TCP, 6063, "x11"},
		{TCP, 443, "https"}, {UDP, 443, "https"}, {TCP, 514, "rsh"}, {UDP, 514, "syslog"}, {TCP, 9300, "elasticsearch"},
		{TCP, 8081, ""}, {UDP, 22, ""}, {TCP, 6064, ""}, {TCP, 1, ""}, {TCP, 65535, ""},
	} {
		s, ok := c.ByPort(tc.p, tc.port)
		if ok != (tc.want != "") || s.Name != tc.want {
			t.Errorf("ByPort(%s, %d) = %q, %v; want %q", tc.p, tc.port, s.Name, ok, tc.want)
		}
	}
	for alias, want := range map[string]string{"SFTP": "ssh", "postgres": "postgresql", " cifs ": "smb", "http3": "https"} {
		if s, ok := c.Lookup(alias); !ok || s.Name != want {
			t.Errorf("Lookup(%q) = %q, %v", alias, s.Name, ok)
		}
	}
	var names []string
	for _, s := range c.OnPorts(TCP, portSet("20-25,3306")) {
		names = append(names, s.Name)
	}
	if diff := cmp.Diff([]string{"ftp", "smtp", "ssh", "telnet", "mysql"}, names); diff != "" {
		t.Errorf("OnPorts (-want +got):\n%s", diff)
	}
	// The catalog hands out copies.
	s, _ := c.Lookup("ssh")
	s.Aliases[0] = "changed"
	if again, _ := c.Lookup("ssh"); again.Aliases[0] != "sftp" {
		t.Fatal("Lookup returned shared slices")
	}
}

func TestLoadCatalogErrorsNameTheLine(t *testing.T) {
	const good = `services:
  - name: alpha
    title: Alpha
    ports: "1000"
    protocols: [tcp]
    category: application
    risk: standard
  - name: beta
    title: Beta
    ports: "2000-2010"
    protocols: [tcp, udp]
    category: database
    risk: high
`
	if _, err := LoadCatalog([]byte(good)); err != nil {
		t.Fatalf("good catalog: %v", err)
	}
	cases := []struct {
		name, from, to string
		want           string
	}{
		{"unknown category", "category: database", "category: databse", `catalog.yaml line 12: service "beta": unknown category "databse"`},
		{"port 0", `ports: "1000"`, `ports: "0"`, `catalog.yaml line 4: service "alpha": port 0 is out of range`},
		{"port 0 as a number", `ports: "1000"`, `ports: 0`, `catalog.yaml line 4: service "alpha": port 0 is out of range`},
		{"port too high", `ports: "2000-2010"`, `ports: "2000-70000"`, `catalog.yaml line 10: service "beta": port 70000 is out of range`},
		{"duplicate entry", "name: beta", "name: alpha", `catalog.yaml line 8: service "alpha": duplicate entry: "alpha" is already the name or an alias of "alpha" (line 2)`},
		{"port claimed twice", `ports: "2000-2010"`, `ports: "999-1001"`, `catalog.yaml line 10: service "beta": tcp/1000 is already a port of "alpha" (line 2)`},
		{"unknown risk", "risk: high", "risk: severe", `catalog.yaml line 13: service "beta": unknown risk "severe"`},
		{"unknown field", "risk: high", "risk: high\n    prots: [tcp]", `catalog.yaml line 14: service "beta": unknown field "prots"`},
		{"bad protocol", "protocols: [tcp, udp]", "protocols: [tcp, icmp]", `catalog.yaml line 11: service "beta": protocol "icmp" is not tcp or udp`},
		{"bad flag", "risk: high", "risk: high\n    cleartext: maybe", `catalog.yaml line 14: service "beta": cleartext must be true or false`},
		{"cleartext without alternative", "risk: high", "risk: high\n    cleartext: true", `catalog.yaml line 8: service "beta": a cleartext service needs a secure_alternative`},
		{"tls_of unknown", "risk: high", "risk: high\n    tls_of: gamma", `catalog.yaml line 14: service "beta": tls_of names "gamma"`},
		{"missing title", "    title: Beta\n", "", `catalog.yaml line 8: service "beta": title is required`},
		{"bad name", "name: beta", "name: Beta Two", `catalog.yaml line 8: service "Beta Two": name "Beta Two" must be a lowercase word`},
		{"field twice", "risk: high", "risk: high\n    risk: high", `catalog.yaml line 14: service "beta": field "risk" is given twice`},
		{"syntax error", "    title: Beta", "    title: [Beta", `catalog.yaml line `},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := strings.Replace(good, c.from, c.to, 1)
			if doc == good {
				t.Fatalf("replacement %q did not apply", c.from)
			}
			_, err := LoadCatalog([]byte(doc))
			if err == nil {
				t.Fatalf("no error for\n%s", doc)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("error %q\nwant prefix %q", err, c.want)
			}
			var ce *CatalogError
			if !errors.As(err, &ce) {
				t.Fatalf("error is %T, not *CatalogError", err)
			}
		})
	}
	for _, doc := range []string{"", "services: []", "services: {}", "other: 1", "- a\n- b"} {
		if _, err := LoadCatalog([]byte(doc)); err == nil {
			t.Errorf("catalog %q accepted", doc)
		}
	}
}

// The catalog round-trips through YAML (the seed file) and JSON (the
// database), so that an edited catalog can be exported and loaded again.
func TestCatalogRoundTrips(t *testing.T) {
	c := DefaultCatalog()
	ignoreLine := cmpopts.IgnoreFields(Service{}, "Line")

	out, err := yaml.Marshal(map[string][]Service{"services": c.Services()})
	if err != nil {
		t.Fatal(err)
	}
	back, err := LoadCatalog(out)
	if err != nil {
		t.Fatalf("reloading the marshalled catalog: %v\n%s", err, out)
	}
	if diff := cmp.Diff(c.Services(), back.Services(), ignoreLine, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("YAML round trip (-want +got):\n%s", diff)
	}

	js, err := json.Marshal(c.Services())
	if err != nil {
		t.Fatal(err)
	}
	var services []Service
	if err := json.Unmarshal(js, &services); err != nil {
		t.Fatal(err)
	}
	fromJSON, err := NewCatalog(services)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c.Services(), fromJSON.Services(), ignoreLine, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("JSON round trip (-want +got):\n%s", diff)
	}
}

func TestNewCatalogValidates(t *testing.T) {
	services := DefaultCatalog().Services()
	services[3].Category = "databse"
	_, err := NewCatalog(services)
	if err == nil || !strings.Contains(err.Error(), `unknown category "databse"`) || !strings.Contains(err.Error(), services[3].Name) {
		t.Fatalf("NewCatalog: %v", err)
	}
	services = DefaultCatalog().Services()
	services = append(services, Service{Name: "ssh-alt", Title: "x", Ports: portSet("22"), Protocols: []Protocol{TCP}, Category: CategoryRemoteAdministration, Risk: RiskHigh})
	if _, err := NewCatalog(services); err == nil || !strings.Contains(err.Error(), `tcp/22 is already a port of "ssh"`) {
		t.Fatalf("NewCatalog overlap: %v", err)
	}
	if _, err := NewCatalog(nil); err == nil {
		t.Fatal("an empty catalog was accepted")
	}
	// Edits to the caller's slice after the fact do not reach the catalog.
	services = DefaultCatalog().Services()
	c, err := NewCatalog(services)
	if err != nil {
		t.Fatal(err)
	}
	services[0].Ports[0] = PortRange{1, 1}
	if s, _ := c.Lookup(services[0].Name); s.Ports[0].First == 1 {
		t.Fatal("NewCatalog kept the caller's slices")
	}
}

func TestCatalogYAMLIsTheEmbeddedFile(t *testing.T) {
	if !strings.Contains(string(CatalogYAML()), "services:") {
		t.Fatal("CatalogYAML is not the catalog")
	}
}
