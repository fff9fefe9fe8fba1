//go:build linux

package scanner

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// needRawSockets skips unless this process may open raw sockets.
func needRawSockets(t *testing.T) {
	t.Helper()
	s, err := openRawSockets()
	if err != nil {
		t.Skip("SYN scanning needs root or CAP_NET_RAW:", err)
	}
	s.close()
}

func TestSYNScanLoopback(t *testing.T) {
	t.Parallel()
	needRawSockets(t)
	addr := randomLoopback()
	ssh := listen(t, addr+":0", sshGreeting)
	quiet := listen(t, addr+":0", silent)
	closed := freePort(t, addr)
	targets := []netip.Addr{netip.MustParseAddr(addr)}
	var v6port uint16
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		ln.Close()
		v6port = listen(t, "[::1]:0", sshGreeting)
		targets = append(targets, netip.IPv6Loopback())
	}
	opts := quick(ssh, quiet, closed)
	if v6port != 0 {
		opts.TCPPorts = append(opts.TCPPorts, v6port)
	}
	opts.Method = MethodSYN
	opts.AllStates = true
	report, err := Scan(context.Background(), targets, opts)
	if err != nil {
		t.Fatal(err)
	}
	if report.Method != MethodSYN {
		t.Fatalf("method %q", report.Method)
	}
	h := report.Host(addr)
	if h == nil || h.State != HostUp {
		t.Fatalf("host %+v", h)
	}
	for port, want := range map[uint16][2]string{ssh: {StateOpen, "ssh"}, quiet: {StateOpen, "unknown"}, closed: {StateClosed, "unknown"}} {
		if p := h.Port("tcp", port); p == nil || p.State != want[0] || p.Service != want[1] {
			t.Errorf("port %d: %+v, want %v", port, p, want)
		}
	}
	if v6port != 0 {
		h6 := report.Host("::1")
		if p := h6.Port("tcp", v6port); h6 == nil || p == nil || p.State != StateOpen || p.Service != "ssh" {
			t.Errorf("::1 host %+v", h6)
		}
	}
}

// testNamespace is a network namespace made for one test, joined to this one by
// a veth pair on a private /30 from the benchmarking range 198.18.0.0/15: packets
// sent to its address go into the namespace and nowhere else.
type testNamespace struct {
	name      string
	addr      netip.Addr // inside the namespace
	hostSide  netip.Addr
	hostIface string
}

func newTestNamespace(t *testing.T) *testNamespace {
	t.Helper()
	needRawSockets(t)
	for _, tool := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip("needs", tool)
		}
	}
	id := rand.IntN(1 << 14)
	ns := &testNamespace{name: fmt.Sprintf("pcs-t%d", id), hostIface: fmt.Sprintf("pcs-h%d", id),
		hostSide: netip.AddrFrom4([4]byte{198, 19, byte(id >> 6), byte(id&63)<<2 | 1}),
		addr:     netip.AddrFrom4([4]byte{198, 19, byte(id >> 6), byte(id&63)<<2 | 2})}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run("ip", "netns", "add", ns.name)
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", ns.hostIface).Run()
		exec.Command("ip", "netns", "del", ns.name).Run()
	})
	run("ip", "link", "add", ns.hostIface, "type", "veth", "peer", "name", "eth0", "netns", ns.name)
	run("ip", "addr", "add", ns.hostSide.String()+"/30", "dev", ns.hostIface)
	run("ip", "link", "set", ns.hostIface, "up")
	run("ip", "netns", "exec", ns.name, "ip", "link", "set", "lo", "up")
	run("ip", "netns", "exec", ns.name, "ip", "addr", "add", ns.addr.String()+"/30", "dev", "eth0")
	run("ip", "netns", "exec", ns.name, "ip", "link", "set", "eth0", "up")
	return ns
}

// iptables adds a rule inside the namespace only.
func (ns *testNamespace) iptables(t *testing.T, rule ...string) {
	t.Helper()
	args := append([]string{"netns", "exec", ns.name, "iptables"}, rule...)
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("iptables %v: %v: %s", rule, err, out)
	}
}

// listen runs this test binary inside the namespace as a listener on the ports
// (TestNamespaceListenerHelper), until the test ends.
func (ns *testNamespace) listen(t *testing.T, ports ...uint16) {
	t.Helper()
	var specs []string
	for _, p := range ports {
		specs = append(specs, netip.AddrPortFrom(ns.addr, p).String())
	}
	cmd := exec.Command("ip", "netns", "exec", ns.name, os.Args[0], "-test.run=^TestNamespaceListenerHelper$")
	cmd.Env = append(os.Environ(), "PORTCULLIS_TEST_LISTEN="+strings.Join(specs, ","))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make([]byte, 6)
	if _, err := io.ReadFull(out, ready); err != nil || string(ready) != "ready\n" {
		t.Fatalf("listener in namespace: %q %v", ready, err)
	}
}

func TestNamespaceListenerHelper(t *testing.T) {
	specs := os.Getenv("PORTCULLIS_TEST_LISTEN")
	if specs == "" {
		t.Skip("helper process of newTestNamespace")
	}
	for _, spec := range strings.Split(specs, ",") {
		ln, err := net.Listen("tcp", spec)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
				c.Close()
			}
		}()
	}
	os.Stdout.WriteString("ready\n")
	select {} // until killed
}

// A host whose firewall drops every port but two: every open port is found, over
// the full range, by both methods; a host that drops everything is down.
func TestFirewalledHostInNamespace(t *testing.T) {
	ns := newTestNamespace(t)
	ns.listen(t, 22, 40000, 2222) // 2222 is behind the firewall
	ns.iptables(t, "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT")
	ns.iptables(t, "-A", "INPUT", "-p", "tcp", "--dport", "40000", "-j", "ACCEPT")
	ns.iptables(t, "-A", "INPUT", "-p", "tcp", "--dport", "31000", "-j", "ACCEPT") // closed: answers RST
	ns.iptables(t, "-A", "INPUT", "-j", "DROP")
	for _, method := range []string{MethodSYN, MethodConnect} {
		t.Run(method, func(t *testing.T) {
			opts := quick()
			opts.TCPPorts, _ = Profile("full")
			opts.Method = method
			opts.SkipIdentify = true
			opts.TarpitPorts = []uint16{61001}
			report, err := Scan(context.Background(), []netip.Addr{ns.addr}, opts)
			if err != nil {
				t.Fatal(err)
			}
			h := report.Hosts[0]
			var open []uint16
			for _, p := range h.Ports {
				open = append(open, p.Port)
			}
			if report.Method != method || h.State != HostUp || fmt.Sprint(open) != "[22 40000]" {
				t.Errorf("method %s, host %s, open %v; want [22 40000]", report.Method, h.State, open)
			}
		})
	}
	ns.iptables(t, "-I", "INPUT", "1", "-j", "DROP")
	for _, method := range []string{MethodSYN, MethodConnect} {
		t.Run(method+"-drop-all", func(t *testing.T) {
			opts := quick()
			opts.TCPPorts, _ = Profile("full")
			opts.Method = method
			opts.TarpitPorts = []uint16{61001}
			report, err := Scan(context.Background(), []netip.Addr{ns.addr}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if h := report.Hosts[0]; h.State != HostDown || len(h.Ports) != 0 {
				t.Errorf("host %+v", h)
			}
		})
	}
}

// A device answering every port, found by a SYN scan: once a host has many open
// ports it is checked for a tarpit, and its likely ports looked at for an
// application, while discovery goes on; the report keeps the one application.
func TestSYNTarpitCheckedDuringDiscovery(t *testing.T) {
	t.Parallel()
	needRawSockets(t)
	addr := randomLoopback()
	var tarpitPorts, scanned []uint16
	for range 4 {
		tarpitPorts = append(tarpitPorts, listen(t, addr+":0", silent))
	}
	for range synSuspectOpen + 16 {
		scanned = append(scanned, listen(t, addr+":0", silent))
	}
	ssh := listen(t, addr+":0", sshGreeting)
	scanned = append(scanned, ssh)
	for range 20 {
		scanned = append(scanned, freePort(t, addr))
	}
	opts := quick(scanned...)
	opts.Method = MethodSYN
	opts.TarpitPorts = tarpitPorts
	checkTarpitWithSSH(t, addr, opts, ssh)
}
