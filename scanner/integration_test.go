package scanner

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

// Integration tests against the daemons this project's machines run on loopback.
// Each one skips when its port is not listening.

func listening(address string) bool {
	c, err := net.DialTimeout("tcp", address, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// mosquittoAllowsAnonymous asks the broker directly, to know what the scanner
// should find.
func mosquittoAllowsAnonymous(t *testing.T, address string) bool {
	c, err := net.DialTimeout("tcp", address, time.Second)
	if err != nil {
		t.Skip(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	clientID := "portcullis-it"
	connect := append([]byte{0x10, byte(10 + 2 + len(clientID)), 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 30, 0, byte(len(clientID))}, clientID...)
	c.Write(connect)
	ack := make([]byte, 4)
	if _, err := c.Read(ack); err != nil || !bytes.Equal(ack[:3], []byte{0x20, 2, 0}) && !bytes.Equal(ack[:3], []byte{0x20, 2, 1}) {
		t.Fatalf("broker answer %x %v", ack, err)
	}
	return ack[3] == 0
}

func TestIntegrationLocalDaemons(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	daemons := []struct {
		name    string
		port    uint16
		service string
		product string
		finding string
	}{
		{"PostgreSQL", 5432, "postgresql", "PostgreSQL", ""},
		{"MariaDB", 3306, "mysql", "MariaDB", ""},
		{"Redis", 6379, "redis", "Redis", "redis-no-auth"},
		{"RabbitMQ", 5672, "amqp", "RabbitMQ", ""},
		{"Mosquitto", 1883, "mqtt", "", ""},
		{"NATS", 4222, "nats", "NATS Server", ""},
	}
	var ports []uint16
	for _, d := range daemons {
		ports = append(ports, d.port)
	}
	opts := Options{TCPPorts: ports, Profile: "custom"}
	report, err := Scan(context.Background(), []netip.Addr{netip.MustParseAddr("127.0.0.1")}, opts)
	if err != nil {
		t.Fatal(err)
	}
	h := report.Hosts[0]
	for _, d := range daemons {
		t.Run(d.name, func(t *testing.T) {
			address := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), d.port).String()
			if !listening(address) {
				t.Skipf("%s is not listening on %s", d.name, address)
			}
			finding := d.finding
			if d.name == "Mosquitto" && mosquittoAllowsAnonymous(t, address) {
				finding = "mqtt-anonymous"
			}
			p := h.Port("tcp", d.port)
			if p == nil {
				t.Fatalf("port %d not reported open", d.port)
			}
			if p.Service != d.service || (d.product != "" && p.Product != d.product) {
				t.Errorf("service %q product %q version %q, want %q %q", p.Service, p.Product, p.Version, d.service, d.product)
			}
			if finding != "" && !p.HasFinding(finding) {
				t.Errorf("findings %+v, want %s", p.Findings, finding)
			}
			if finding == "" && len(p.Findings) > 0 {
				t.Errorf("unexpected findings %+v", p.Findings)
			}
			t.Logf("%d/tcp %s %s %s findings=%v", p.Port, p.Service, p.Product, p.Version, p.Findings)
		})
	}
}
