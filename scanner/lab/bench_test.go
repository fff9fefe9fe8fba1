//go:build lab

package lab

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/scanner"
)

// nmapRun is the part of nmap's XML output the benchmark reads.
type nmapRun struct {
	Hosts []struct {
		Addresses []struct {
			Addr string `xml:"addr,attr"`
			Type string `xml:"addrtype,attr"`
		} `xml:"address"`
		Ports []struct {
			Protocol string `xml:"protocol,attr"`
			Port     int    `xml:"portid,attr"`
			State    struct {
				State string `xml:"state,attr"`
			} `xml:"state"`
			Service struct {
				Name   string `xml:"name,attr"`
				Tunnel string `xml:"tunnel,attr"`
			} `xml:"service"`
		} `xml:"ports>port"`
	} `xml:"host"`
}

// nmapServices maps the service names nmap prints to the report vocabulary.
var nmapServices = map[string]string{
	"ssh": "ssh", "http": "http", "http-alt": "http", "http-proxy": "http", "https": "http", "https-alt": "http",
	"ftp": "ftp", "smtp": "smtp", "domain": "dns", "ntp": "ntp", "snmp": "snmp", "rsync": "rsync",
	"memcache": "memcached", "memcached": "memcached", "redis": "redis", "ldap": "ldap", "vnc": "vnc",
	"ms-wbt-server": "rdp", "telnet": "telnet", "mqtt": "mqtt", "imap": "imap", "pop3": "pop3",
	"mysql": "mysql", "postgresql": "postgresql", "ms-sql-s": "mssql", "mongodb": "mongodb", "amqp": "amqp",
	"microsoft-ds": "smb", "netbios-ssn": "smb", "kerberos-sec": "kerberos", "sip": "sip", "nats": "nats",
	"elasticsearch": "elasticsearch",
}

func nmapOpenPorts(out []byte) (map[string]found, error) {
	var run nmapRun
	if err := xml.Unmarshal(out, &run); err != nil {
		return nil, err
	}
	open := map[string]found{}
	for _, h := range run.Hosts {
		addr := ""
		for _, a := range h.Addresses {
			if a.Type == "ipv4" || a.Type == "ipv6" {
				addr = a.Addr
			}
		}
		for _, p := range h.Ports {
			if p.State.State != "open" {
				continue
			}
			service, ok := nmapServices[p.Service.Name]
			if !ok {
				service = "unknown"
			}
			tls := p.Service.Tunnel == "ssl" || p.Service.Name == "https" || p.Service.Name == "https-alt"
			open[fmt.Sprintf("%s %d/%s", addr, p.Port, p.Protocol)] = found{service: service, tls: tls}
		}
	}
	return open, nil
}

func tcpOnly(gt groundTruth) groundTruth {
	out := gt
	out.ports = nil
	for _, e := range gt.ports {
		if e.proto == "tcp" {
			out.ports = append(out.ports, e)
		}
	}
	return out
}

// TestBenchScan runs the scanner and nmap on the lab, all 65,535 TCP ports of every
// host, several times each, and prints wall time, recall, precision, service
// accuracy and peak memory. LAB_BENCH=1 enables it (make bench-scan);
// LAB_BENCH_RUNS sets the runs per tool (3); LAB_BENCH_ONLY=portcullis (or nmap)
// keeps only the scanners whose name starts with it.
func TestBenchScan(t *testing.T) {
	if os.Getenv("LAB_BENCH") == "" {
		t.Skip("set LAB_BENCH=1 to run the benchmark (make bench-scan)")
	}
	if _, err := exec.LookPath("nmap"); err != nil {
		t.Skip("nmap is missing: run scanner/lab/install.sh")
	}
	runs := 3
	if n, err := strconv.Atoi(os.Getenv("LAB_BENCH_RUNS")); err == nil && n > 0 {
		runs = n
	}
	l := newLab(t)
	bin := buildTool(t, "labscan")
	gt := tcpOnly(l.build())
	var targets []string
	for _, h := range l.hosts {
		targets = append(targets, h.addr)
	}
	scanners := []struct {
		name string
		args []string
		read func([]byte) (map[string]found, error)
	}{
		{"portcullis -p- (with identification)", append([]string{bin, "-q", "--format", "json", "-p-"}, targets...),
			func(out []byte) (map[string]found, error) {
				var r scanner.Report
				if err := json.Unmarshal(out, &r); err != nil {
					return nil, err
				}
				return openPorts(&r), nil
			}},
		{"portcullis -p- --no-identify (ports only)", append([]string{bin, "-q", "--format", "json", "--no-identify", "-p-"}, targets...),
			func(out []byte) (map[string]found, error) {
				var r scanner.Report
				if err := json.Unmarshal(out, &r); err != nil {
					return nil, err
				}
				return openPorts(&r), nil
			}},
		{"nmap -sT -p- -T4", append([]string{"nmap", "-sT", "-p-", "-T4", "-n", "-oX", "-"}, targets...), nmapOpenPorts},
		{"nmap -sT -sV -p- -T4 (host timeout 180s)", append([]string{"nmap", "-sT", "-sV", "-p-", "-T4", "-n", "--host-timeout", "180s", "-oX", "-"}, targets...), nmapOpenPorts},
	}
	var lines []string
	lines = append(lines, fmt.Sprintf("%-42s %4s %10s %8s %9s %9s %10s", "scanner", "run", "wall", "recall", "precision", "services", "peak RSS"))
	for _, s := range scanners {
		if only := os.Getenv("LAB_BENCH_ONLY"); only != "" && !strings.HasPrefix(s.name, only) {
			continue
		}
		for run := 1; run <= runs; run++ {
			res, err := l.runInScanner(s.args...)
			if err != nil {
				t.Errorf("%s: %v", s.name, err)
				continue
			}
			open, err := s.read(res.stdout)
			if err != nil {
				t.Errorf("%s: reading its output: %v", s.name, err)
				continue
			}
			sc := scoreAgainst(gt, open, false)
			lines = append(lines, fmt.Sprintf("%-42s %4d %10s %8.3f %9.3f %9.3f %7d MiB", s.name, run, res.wall.Round(10*time.Millisecond),
				sc.recall(), sc.precision(), sc.serviceAccuracy(), res.maxRSS/1024))
			if run == 1 {
				var misses []string
				for _, p := range sc.problems {
					if !strings.HasPrefix(p, "reported") {
						misses = append(misses, p)
					}
				}
				slices.Sort(misses)
				t.Logf("%s: %d false positives; other differences: %v", s.name, sc.falsePositives, misses)
			}
		}
	}
	// The two hosts that make other scanners slow or wrong, alone: how long a
	// host that drops everything takes over the full range, and how soon a
	// host that answers every port is recognised (one port to scan: the time
	// is the tarpit check itself).
	addrOf := func(name string) string {
		for _, h := range l.hosts {
			if h.name == name {
				return h.addr
			}
		}
		t.Fatalf("no lab host %q", name)
		return ""
	}
	for _, c := range []struct {
		name string
		args []string
		want func(*scanner.Report) bool
	}{
		{"portcullis -p- on the DROP host", []string{bin, "-q", "--format", "json", "-p-", addrOf("drop")},
			func(r *scanner.Report) bool { return len(r.Hosts) == 1 && r.Hosts[0].State == scanner.HostDown }},
		{"portcullis -p 22 on the tarpit host", []string{bin, "-q", "--format", "json", "-p", "22", addrOf("tarpit")},
			func(r *scanner.Report) bool { return len(r.Hosts) == 1 && r.Hosts[0].Tarpit }},
	} {
		for run := 1; run <= runs; run++ {
			res, err := l.runInScanner(c.args...)
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			var r scanner.Report
			if err := json.Unmarshal(res.stdout, &r); err != nil || !c.want(&r) {
				t.Errorf("%s: unexpected report (%v): %s", c.name, err, res.stdout)
			}
			lines = append(lines, fmt.Sprintf("%-42s %4d %10s %8s %9s %9s %7d MiB", c.name, run, res.wall.Round(10*time.Millisecond), "-", "-", "-", res.maxRSS/1024))
		}
	}
	table := strings.Join(lines, "\n")
	t.Logf("\n%s", table)
	fmt.Println(table)
}
