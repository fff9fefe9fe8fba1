//go:build lab

package lab

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portcullis/portcullis/scanner"
)

// The lab network. The scanner's namespace reaches the lab through a router
// namespace: one veth link from the scanner to the router, and a bridge in the
// router with one namespace per host on it. The router drops everything for the
// rest of labNet (a blackhole route), so the lab can be scanned as a /16 of which
// only a few addresses answer, and a delay line (delayline, a TUN device in the
// router) can be switched into the path to add latency and loss.
const (
	labSubnet  = "10.213.0" // the hosts' /24, on the router's bridge
	labNet     = "10.213.0.0/16"
	routerIP   = labSubnet + ".1"
	uplinkNet  = "10.214.0" // the /30 between scanner and router
	scannerIP  = uplinkNet + ".2"
	labTimeout = 20 * time.Second
)

// The delay line's defaults: 15 ms each way is a 30 ms round trip; 1% of packets
// lost in each direction. LAB_DELAY and LAB_LOSS change them.
const (
	defaultOneWayDelay = 15 * time.Millisecond
	defaultLoss        = 0.01
)

type lab struct {
	t         *testing.T
	prefix    string // namespace names start with it
	dir       string
	scanNS    string
	routerNS  string
	hosts     []*host
	silentBin string // labsilent, built for the lab
	delayBin  string // delayline, built for the lab
	delayed   bool   // the delay line is in the path
	mu        sync.Mutex
	procs     []*exec.Cmd
	closers   []io.Closer
}

type host struct {
	name, ns, addr string
}

// requireLab skips the test when the lab cannot run here.
func requireLab(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the lab needs root: network namespaces, veth pairs, TUN devices and iptables")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("/dev/net/tun is missing: the delay line needs TUN devices")
	}
	for _, tool := range []string{"ip", "iptables", "sshd", "nginx", "vsftpd", "snmpd", "ntpd", "rsync", "memcached",
		"slapd", "Xtigervnc", "xrdp", "exim4", "dnsmasq", "telnetd", "socat", "redis-server", "mosquitto", "ssh-keygen",
		"kamailio", "baresip", "krb5kdc", "kdb5_util"} {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err := os.Stat("/usr/sbin/" + tool); err != nil {
				t.Skipf("%s is missing: run scanner/lab/install.sh", tool)
			}
		}
	}
}

func newLab(t *testing.T) *lab {
	requireLab(t)
	dir, err := os.MkdirTemp("", "portcullis-lab-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	l := &lab{t: t, prefix: fmt.Sprintf("pcl%d-", os.Getpid()%100000), dir: dir}
	t.Cleanup(l.teardown)
	l.silentBin = buildTool(t, "labsilent")
	l.delayBin = buildTool(t, "delayline")
	l.scanNS, l.routerNS = l.prefix+"scan", l.prefix+"router"
	for _, ns := range []string{l.scanNS, l.routerNS} {
		l.must("ip", "netns", "add", ns)
		l.must("ip", "-n", ns, "link", "set", "lo", "up")
	}
	// Scanner <-> router.
	l.must("ip", "link", "add", "eth0", "netns", l.scanNS, "type", "veth", "peer", "name", "up0", "netns", l.routerNS)
	l.must("ip", "-n", l.scanNS, "addr", "add", scannerIP+"/30", "dev", "eth0")
	l.must("ip", "-n", l.routerNS, "addr", "add", uplinkNet+".1/30", "dev", "up0")
	l.must("ip", "-n", l.scanNS, "link", "set", "eth0", "up")
	l.must("ip", "-n", l.routerNS, "link", "set", "up0", "up")
	// A default route (only the router is there) lets tools that look for a
	// gateway, such as masscan, find one.
	l.must("ip", "-n", l.scanNS, "route", "add", "default", "via", uplinkNet+".1")
	// Router <-> hosts.
	l.must("ip", "-n", l.routerNS, "link", "add", "br0", "type", "bridge")
	l.must("ip", "-n", l.routerNS, "addr", "add", routerIP+"/24", "dev", "br0")
	l.must("ip", "-n", l.routerNS, "link", "set", "br0", "up")
	l.must("ip", "-n", l.routerNS, "route", "add", "blackhole", labNet)
	l.must("ip", "netns", "exec", l.routerNS, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1",
		"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0", "net.ipv4.conf.all.send_redirects=0")
	l.startDelayLine()
	return l
}

// startDelayLine runs the delay line in the router and gives it routing table
// 100; setDelay decides whether traffic takes that table.
func (l *lab) startDelayLine() {
	delay, loss := defaultOneWayDelay, defaultLoss
	if v := os.Getenv("LAB_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			l.t.Fatalf("LAB_DELAY=%q: %v", v, err)
		}
		delay = d
	}
	if v := os.Getenv("LAB_LOSS"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			l.t.Fatalf("LAB_LOSS=%q: %v", v, err)
		}
		loss = f
	}
	l.start(&host{name: "router", ns: l.routerNS}, "delayline", l.delayBin, "-dev", "dl0",
		"-delay", delay.String(), "-loss", strconv.FormatFloat(loss, 'f', -1, 64))
	deadline := time.Now().Add(labTimeout)
	for exec.Command("ip", "-n", l.routerNS, "link", "show", "dl0").Run() != nil {
		if time.Now().After(deadline) {
			l.t.Fatalf("the delay line did not create its device (log in %s)", l.dir)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A long device queue: packets the kernel cannot hand to the delay line at
	// once wait rather than drop (the drops would be loss nobody asked for; they
	// show as TX drops in delayStats).
	l.must("ip", "-n", l.routerNS, "link", "set", "dl0", "txqueuelen", "20000", "up")
	l.must("ip", "netns", "exec", l.routerNS, "sysctl", "-q", "-w", "net.ipv4.conf.dl0.rp_filter=0")
	l.must("ip", "-n", l.routerNS, "route", "add", "default", "dev", "dl0", "table", "100")
}

// setDelay puts the delay line into the path between scanner and hosts, or takes
// it out: packets arriving from either side are routed into its device, and come
// out of it (after the delay) on the normal routes.
func (l *lab) setDelay(on bool) {
	l.t.Helper()
	if on == l.delayed {
		return
	}
	verb := "del"
	if on {
		verb = "add"
	}
	l.must("ip", "-n", l.routerNS, "rule", verb, "iif", "up0", "lookup", "100", "pref", "100")
	l.must("ip", "-n", l.routerNS, "rule", verb, "iif", "br0", "lookup", "100", "pref", "101")
	l.delayed = on
}

// delayStats is the delay line's last report of its counters.
func (l *lab) delayStats() string {
	b, _ := os.ReadFile(filepath.Join(l.dir, "router-delayline.log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	last := lines[len(lines)-1]
	if i := strings.Index(last, "read="); i >= 0 {
		last = last[i:]
	}
	// The kernel's own count of packets it could not queue to the device.
	if out, err := exec.Command("ip", "-n", l.routerNS, "-s", "link", "show", "dl0").Output(); err == nil {
		f := strings.Fields(string(out))
		for i := range f {
			if f[i] == "TX:" && i+10 < len(f) {
				// TX: bytes packets errors dropped carrier collsns, then the values
				last += " device_tx_dropped=" + f[i+10]
			}
		}
	}
	return last
}

func (l *lab) must(args ...string) {
	l.t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		l.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// addHost creates a namespace with one interface on the router's bridge.
func (l *lab) addHost(name string, octet int) *host {
	h := &host{name: name, ns: l.prefix + name, addr: fmt.Sprintf("%s.%d", labSubnet, octet)}
	port := fmt.Sprintf("p%d", octet)
	l.must("ip", "netns", "add", h.ns)
	l.hosts = append(l.hosts, h)
	l.must("ip", "link", "add", "eth0", "netns", h.ns, "type", "veth", "peer", "name", port, "netns", l.routerNS)
	l.must("ip", "-n", l.routerNS, "link", "set", port, "master", "br0", "up")
	l.must("ip", "-n", h.ns, "addr", "add", h.addr+"/24", "dev", "eth0")
	l.must("ip", "-n", h.ns, "link", "set", "eth0", "up")
	l.must("ip", "-n", h.ns, "link", "set", "lo", "up")
	// Only the scanner's side is routed: no default route, so a daemon's reverse
	// lookup of a client (exim, rsync, telnetd) fails at once, as the machine's
	// resolver cannot be reached from a lab namespace.
	l.must("ip", "-n", h.ns, "route", "add", uplinkNet+".0/30", "via", routerIP)
	return h
}

// start runs a daemon inside a host's namespace until the lab is torn down.
func (l *lab) start(h *host, name string, args ...string) {
	l.t.Helper()
	log, err := os.Create(filepath.Join(l.dir, h.name+"-"+name+".log"))
	if err != nil {
		l.t.Fatal(err)
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", h.ns}, args...)...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		l.t.Fatalf("%s: %v", name, err)
	}
	l.mu.Lock()
	l.procs = append(l.procs, cmd)
	l.closers = append(l.closers, log)
	l.mu.Unlock()
}

// waitListening waits until a host's namespace has a socket on the port.
func (l *lab) waitListening(h *host, proto string, port int) {
	l.t.Helper()
	flag := "-Hltn"
	if proto == "udp" {
		flag = "-Hlun"
	}
	deadline := time.Now().Add(labTimeout)
	for time.Now().Before(deadline) {
		out, _ := exec.Command("ip", "netns", "exec", h.ns, "ss", flag).Output()
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) >= 4 && strings.HasSuffix(f[3], ":"+strconv.Itoa(port)) {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	l.t.Fatalf("%s: nothing listens on %s/%d after %v (logs in %s)", h.name, proto, port, labTimeout, l.dir)
}

func (l *lab) teardown() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.closers {
		c.Close()
	}
	for _, p := range l.procs {
		if p.Process != nil {
			syscall.Kill(-p.Process.Pid, syscall.SIGTERM)
		}
	}
	time.Sleep(300 * time.Millisecond)
	for _, p := range l.procs {
		if p.Process != nil {
			syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
			p.Wait()
		}
	}
	for _, h := range l.hosts {
		// Daemons that detached from their group still live in the namespace.
		if out, err := exec.Command("ip", "netns", "pids", h.ns).Output(); err == nil {
			for _, pid := range strings.Fields(string(out)) {
				if n, err := strconv.Atoi(pid); err == nil {
					syscall.Kill(n, syscall.SIGKILL)
				}
			}
		}
		exec.Command("ip", "netns", "del", h.ns).Run()
	}
	for _, ns := range []string{l.routerNS, l.scanNS} {
		if out, err := exec.Command("ip", "netns", "pids", ns).Output(); err == nil {
			for _, pid := range strings.Fields(string(out)) {
				if n, err := strconv.Atoi(pid); err == nil {
					syscall.Kill(n, syscall.SIGKILL)
				}
			}
		}
		exec.Command("ip", "netns", "del", ns).Run()
	}
	if !l.t.Failed() {
		os.RemoveAll(l.dir)
	} else {
		l.t.Logf("lab logs kept in %s", l.dir)
	}
}

func (l *lab) file(name, content string) string {
	path := filepath.Join(l.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		l.t.Fatal(err)
	}
	return path
}

func (l *lab) mkdir(name string) string {
	path := filepath.Join(l.dir, name)
	if err := os.MkdirAll(path, 0o755); err != nil {
		l.t.Fatal(err)
	}
	return path
}

// tlsFiles writes a self-signed certificate and its key.
func (l *lab) tlsFiles() (cert, key string) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		l.t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "web.lab.invalid"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		l.t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		l.t.Fatal(err)
	}
	cert = l.file("web.crt", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	key = l.file("web.key", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})))
	return cert, key
}

// expectation is the ground truth of one port.
type expectation struct {
	host     string
	port     uint16
	proto    string
	service  string
	tls      bool
	findings []string
}

// groundTruth is what the lab runs, and what a perfect scan reports.
type groundTruth struct {
	ports  []expectation
	tarpit map[string]bool // host address -> answers every port
	down   map[string]bool // host address -> drops everything
	hosts  []string
}

// build starts every host of the lab and returns the ground truth.
func (l *lab) build() groundTruth {
	gt := groundTruth{tarpit: map[string]bool{}, down: map[string]bool{}}
	expect := func(h *host, port uint16, proto, service string, tls bool, findings ...string) {
		gt.ports = append(gt.ports, expectation{h.addr, port, proto, service, tls, findings})
	}
	sshKey := filepath.Join(l.dir, "ssh_host_ed25519_key")
	l.must("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", sshKey)
	os.MkdirAll("/run/sshd", 0o755)
	sshd := func(h *host, ports ...string) {
		args := []string{"/usr/sbin/sshd", "-D", "-e", "-f", "/dev/null", "-h", sshKey, "-o", "PidFile=none"}
		for _, p := range ports {
			args = append(args, "-p", p)
		}
		l.start(h, "sshd", args...)
	}

	ssh := l.addHost("ssh", 11)
	sshd(ssh, "22", "2222")
	expect(ssh, 22, "tcp", "ssh", false)
	expect(ssh, 2222, "tcp", "ssh", false)

	web := l.addHost("web", 12)
	cert, key := l.tlsFiles()
	tmp := l.mkdir("nginx-tmp")
	l.start(web, "nginx", "nginx", "-e", filepath.Join(l.dir, "nginx-error.log"), "-c", l.file("nginx.conf", fmt.Sprintf(`
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/nginx-error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path %[2]s/body; proxy_temp_path %[2]s/proxy; fastcgi_temp_path %[2]s/fastcgi;
	uwsgi_temp_path %[2]s/uwsgi; scgi_temp_path %[2]s/scgi;
	server { listen %[3]s:80; listen %[3]s:9380; return 200 "lab\n"; }
	server { listen %[3]s:443 ssl; listen %[3]s:4643 ssl; ssl_certificate %[4]s; ssl_certificate_key %[5]s; return 200 "lab tls\n"; }
}
`, l.dir, tmp, web.addr, cert, key)))
	expect(web, 80, "tcp", "http", false)
	expect(web, 9380, "tcp", "http", false)
	expect(web, 443, "tcp", "http", true)
	expect(web, 4643, "tcp", "http", true)

	ftp := l.addHost("ftp", 13)
	ftpRoot, ftpEmpty := l.mkdir("ftp-root"), l.mkdir("ftp-empty")
	vsftpd := func(name string, port int, anonymous bool) {
		anon, local := "YES", "NO"
		if !anonymous {
			anon, local = "NO", "YES"
		}
		l.start(ftp, name, "vsftpd", l.file(name+".conf", fmt.Sprintf(`listen=YES
listen_address=%s
listen_port=%d
background=NO
anonymous_enable=%s
local_enable=%s
write_enable=NO
anon_root=%s
secure_chroot_dir=%s
seccomp_sandbox=NO
pam_service_name=vsftpd
xferlog_enable=NO
`, ftp.addr, port, anon, local, ftpRoot, ftpEmpty)))
	}
	vsftpd("vsftpd-anonymous", 21, true)
	vsftpd("vsftpd-closed", 2121, false)
	expect(ftp, 21, "tcp", "ftp", false, "ftp-anonymous")
	expect(ftp, 2121, "tcp", "ftp", false)

	infra := l.addHost("infra", 14)
	l.start(infra, "snmpd-public", "snmpd", "-f", "-Lo", "-C", "-p", filepath.Join(l.dir, "snmpd1.pid"), "-c",
		l.file("snmpd-public.conf", "agentaddress udp:"+infra.addr+":161\nrocommunity public default\n"))
	l.start(infra, "snmpd-private", "snmpd", "-f", "-Lo", "-C", "-p", filepath.Join(l.dir, "snmpd2.pid"), "-c",
		l.file("snmpd-other.conf", "agentaddress udp:"+infra.addr+":1161\nrocommunity n0t-a-default-lab default\n"))
	l.start(infra, "ntpd", "ntpd", "-n", "-c", l.file("ntp.conf", "driftfile "+l.dir+"/ntp.drift\nrestrict default kod nomodify nopeer limited\n"))
	l.start(infra, "dnsmasq", "dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--bind-interfaces",
		"--listen-address="+infra.addr, "--port=53", "--user=root", "--group=root", "--pid-file="+filepath.Join(l.dir, "dnsmasq.pid"))
	expect(infra, 161, "udp", "snmp", false, "snmp-default-community")
	expect(infra, 1161, "udp", "snmp", false)
	// ntpsec 1.2 answers clients but, here, no mode 6 query (not even from its own
	// ntpq): the lab's NTP is the hardened twin; mode 6 and monlist are unit-tested.
	expect(infra, 123, "udp", "ntp", false)
	// snmpd's SMUX listener: a real port that speaks no protocol of the vocabulary.
	expect(infra, 199, "tcp", "unknown", false)
	expect(infra, 53, "udp", "dns", false)
	expect(infra, 53, "tcp", "dns", false)

	data := l.addHost("data", 15)
	rsyncData := l.mkdir("rsync-data")
	l.start(data, "rsyncd", "rsync", "--daemon", "--no-detach", "--address="+data.addr, "--port=873", "--config="+l.file("rsyncd.conf",
		"pid file = "+l.dir+"/rsyncd.pid\nuse chroot = no\n[public]\n\tpath = "+rsyncData+"\n\tcomment = lab data\n\tread only = yes\n"))
	l.start(data, "memcached", "memcached", "-u", "root", "-l", data.addr, "-p", "11211", "-U", "0")
	l.start(data, "memcached-odd", "memcached", "-u", "root", "-l", data.addr, "-p", "21211", "-U", "0")
	l.start(data, "redis-open", "redis-server", "--bind", data.addr, "--port", "16379", "--save", "", "--appendonly", "no",
		"--protected-mode", "no", "--dir", l.dir, "--dbfilename", "open.rdb")
	l.start(data, "redis-password", "redis-server", "--bind", data.addr, "--port", "6379", "--save", "", "--appendonly", "no",
		"--requirepass", "lab-s3cret-password", "--dir", l.dir, "--dbfilename", "closed.rdb")
	expect(data, 873, "tcp", "rsync", false, "rsync-module-list")
	expect(data, 11211, "tcp", "memcached", false, "memcached-no-auth")
	expect(data, 21211, "tcp", "memcached", false, "memcached-no-auth")
	expect(data, 16379, "tcp", "redis", false, "redis-no-auth")
	expect(data, 6379, "tcp", "redis", false)

	dir := l.addHost("ldap", 16)
	os.MkdirAll("/run/slapd", 0o755)
	l.start(dir, "slapd", "slapd", "-d", "0", "-h", "ldap://"+dir.addr+":389/", "-F", "/etc/ldap/slapd.d")
	expect(dir, 389, "tcp", "ldap", false, "ldap-anonymous-bind")

	desk := l.addHost("desktop", 17)
	display := 60 + os.Getpid()%30
	l.start(desk, "vnc", "Xtigervnc", fmt.Sprintf(":%d", display), "-rfbport", "5901", "-SecurityTypes", "None",
		"-interface", desk.addr, "-nolisten", "tcp")
	l.t.Cleanup(func() {
		os.Remove(fmt.Sprintf("/tmp/.X%d-lock", display))
		os.Remove(fmt.Sprintf("/tmp/.X11-unix/X%d", display))
	})
	l.start(desk, "xrdp", "xrdp", "--nodaemon", "--port", "33890")
	expect(desk, 5901, "tcp", "vnc", false, "vnc-no-auth")
	expect(desk, 33890, "tcp", "rdp", false)

	mail := l.addHost("mail", 18)
	l.start(mail, "exim", "exim4", "-bdf", "-oX", mail.addr+".25", "-oP", filepath.Join(l.dir, "exim.pid"))
	l.start(mail, "telnetd", "socat", "TCP-LISTEN:23,fork,reuseaddr", "EXEC:/usr/sbin/telnetd,nofork")
	l.start(mail, "mosquitto", "mosquitto", "-c", l.file("mosquitto.conf",
		"listener 18830 "+mail.addr+"\nallow_anonymous false\npersistence false\n"))
	expect(mail, 25, "tcp", "smtp", false)
	expect(mail, 23, "tcp", "telnet", false, "telnet-cleartext")
	expect(mail, 18830, "tcp", "mqtt", false)

	quiet := l.addHost("silent", 19)
	l.start(quiet, "labsilent", l.silentBin, "-hold", quiet.addr+":7001,"+quiet.addr+":7002", "-close", quiet.addr+":7003")
	expect(quiet, 7001, "tcp", "unknown", false)
	expect(quiet, 7002, "tcp", "unknown", false)
	expect(quiet, 7003, "tcp", "unknown", false)

	tarpit := l.addHost("tarpit", 20)
	l.start(tarpit, "labsilent", l.silentBin, "-hold", "0.0.0.0:9999")
	sshd(tarpit, "22")
	l.must("ip", "netns", "exec", tarpit.ns, "iptables", "-t", "nat", "-A", "PREROUTING", "-p", "tcp", "!", "--dport", "22",
		"-j", "REDIRECT", "--to-ports", "9999")
	expect(tarpit, 22, "tcp", "ssh", false)
	gt.tarpit[tarpit.addr] = true

	drop := l.addHost("drop", 21)
	l.must("ip", "netns", "exec", drop.ns, "iptables", "-A", "INPUT", "-j", "DROP")
	gt.down[drop.addr] = true

	l.addHost("closed", 22)

	// SIP: a proxy (Kamailio, stateless, answering OPTIONS itself) and a user
	// agent (baresip, headless: no audio or video modules).
	voip := l.addHost("voip", 23)
	l.start(voip, "kamailio", "kamailio", "-DD", "-E", "-m", "32", "-M", "8", "-P", filepath.Join(l.dir, "kamailio.pid"),
		"-Y", l.mkdir("kamailio-run"), "-f", l.file("kamailio.cfg", fmt.Sprintf(`#!KAMAILIO
debug=2
log_stderror=yes
children=1
auto_aliases=no
listen=udp:%[1]s:5060
listen=tcp:%[1]s:5060
mpath="%[2]s"
loadmodule "sl.so"
request_route {
	if (method=="OPTIONS") {
		sl_send_reply("200", "OK");
		exit;
	}
	sl_send_reply("403", "Lab proxy: OPTIONS only");
}
`, voip.addr, kamailioModules(l.t))))
	expect(voip, 5060, "udp", "sip", false)
	expect(voip, 5060, "tcp", "sip", false)

	phone := l.addHost("phone", 24)
	baresipDir := l.mkdir("baresip")
	l.file("baresip/config", "sip_listen "+phone.addr+":5060\nmodule_path /usr/lib/baresip/modules\n"+
		"audio_player nothing\naudio_source nothing\naudio_alert nothing\nsip_certificate "+filepath.Join(baresipDir, "cert.pem")+"\n")
	// baresip also listens on 5061 for SIP over TLS: with a certificate, it speaks it.
	certPEM, _ := os.ReadFile(cert)
	keyPEM, _ := os.ReadFile(key)
	l.file("baresip/cert.pem", string(certPEM)+string(keyPEM))
	l.file("baresip/accounts", "<sip:lab@"+phone.addr+":5060>;regint=0\n")
	l.file("baresip/contacts", "")
	l.start(phone, "baresip", "baresip", "-f", baresipDir)
	expect(phone, 5060, "udp", "sip", false)
	expect(phone, 5060, "tcp", "sip", false)
	expect(phone, 5061, "tcp", "sip", true)

	// A host whose firewall drops everything but SSH on 22; sshd also listens
	// on 2222, behind the firewall.
	fw := l.addHost("firewalled", 25)
	sshd(fw, "22", "2222")
	for _, rule := range [][]string{
		{"-A", "INPUT", "-i", "lo", "-j", "ACCEPT"},
		{"-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT"},
		{"-A", "INPUT", "-j", "DROP"},
	} {
		l.must(append([]string{"ip", "netns", "exec", fw.ns, "iptables"}, rule...)...)
	}
	expect(fw, 22, "tcp", "ssh", false)

	// Kerberos: an MIT KDC with a realm of its own.
	kdc := l.addHost("kdc", 26)
	kdcDir := l.mkdir("kdc")
	krbEnv := []string{"KRB5_CONFIG=" + l.file("kdc/krb5.conf", "[libdefaults]\n\tdefault_realm = LAB.INVALID\n"),
		"KRB5_KDC_PROFILE=" + l.file("kdc/kdc.conf", fmt.Sprintf(`[kdcdefaults]
	kdc_ports = 88
	kdc_tcp_ports = 88
[realms]
	LAB.INVALID = {
		database_name = %[1]s/principal
		key_stash_file = %[1]s/stash
		acl_file = %[1]s/kadm5.acl
	}
[logging]
	kdc = STDERR
`, kdcDir))}
	create := exec.Command("kdb5_util", "create", "-s", "-r", "LAB.INVALID", "-P", "lab-master-key")
	create.Env = append(os.Environ(), krbEnv...)
	if out, err := create.CombinedOutput(); err != nil {
		l.t.Fatalf("kdb5_util create: %v\n%s", err, out)
	}
	l.start(kdc, "krb5kdc", append(append([]string{"env"}, krbEnv...), "krb5kdc", "-n", "-r", "LAB.INVALID")...)
	expect(kdc, 88, "udp", "kerberos", false)
	expect(kdc, 88, "tcp", "kerberos", false)

	for _, e := range gt.ports {
		for _, h := range l.hosts {
			if h.addr == e.host {
				l.waitListening(h, e.proto, int(e.port))
			}
		}
	}
	for _, h := range l.hosts {
		gt.hosts = append(gt.hosts, h.addr)
	}
	return gt
}

// buildTool compiles one of the lab's programs (labscan, labsilent).
func buildTool(t *testing.T, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("go", "build", "-o", bin, "./"+name).CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", name, err, out)
	}
	return bin
}

// runResult is one measured run of a scanner.
type runResult struct {
	wall     time.Duration
	maxRSS   int64         // KiB, from wait4's rusage
	cpu      time.Duration // user and system time, the command's and its children's
	stdout   []byte
	lineAt   []time.Duration // when each line of stdout was complete, from the start
	stderr   []byte
	command  string
	timedOut bool
}

// stampedBuffer keeps what a command writes and when each line of it ended:
// the bench reads from it when each host of a stream was reported.
type stampedBuffer struct {
	start  time.Time
	buf    bytes.Buffer
	lineAt []time.Duration
}

func (s *stampedBuffer) Write(p []byte) (int, error) {
	at := time.Since(s.start)
	for range bytes.Count(p, []byte{'\n'}) {
		s.lineAt = append(s.lineAt, at)
	}
	return s.buf.Write(p)
}

// runInScanner runs a command in the scanner's namespace and measures it.
func (l *lab) runInScanner(args ...string) (runResult, error) {
	return l.runInScannerCtx(context.Background(), args...)
}

// runInScannerCtx is runInScanner stopped (SIGINT, then SIGKILL 10 s later) when
// ctx ends.
//
// Peak memory comes from GNU time's wait4, not from ours: Go starts a child
// sharing the test's address space until it execs, and Linux carries the largest
// RSS seen before an exec into ru_maxrss after it, so the rusage Go reports would
// be the test binary's own peak whenever that is larger. time forks a copy of its
// own small process instead; `ip netns exec` then execs the command in that
// process.
func (l *lab) runInScannerCtx(ctx context.Context, args ...string) (runResult, error) {
	rssFile := filepath.Join(l.dir, fmt.Sprintf("rss-%d", time.Now().UnixNano()))
	defer os.Remove(rssFile)
	argv := append([]string{"ip", "netns", "exec", l.scanNS}, args...)
	if _, err := os.Stat("/usr/bin/time"); err == nil {
		argv = append([]string{"/usr/bin/time", "-q", "-f", "%M", "-o", rssFile}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	// time ignores SIGINT while it waits: signal the whole process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }
	cmd.WaitDelay = 10 * time.Second
	var errOut bytes.Buffer
	start := time.Now()
	out := &stampedBuffer{start: start}
	cmd.Stdout, cmd.Stderr = out, &errOut
	err := cmd.Run()
	r := runResult{wall: time.Since(start), stdout: out.buf.Bytes(), lineAt: out.lineAt, stderr: errOut.Bytes(), command: strings.Join(args, " "), timedOut: ctx.Err() != nil}
	if cmd.ProcessState != nil {
		r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if b, rerr := os.ReadFile(rssFile); rerr == nil {
		// The last line is the figure; earlier ones say how the command ended.
		lines := strings.Fields(string(b))
		if len(lines) > 0 {
			r.maxRSS, _ = strconv.ParseInt(lines[len(lines)-1], 10, 64)
		}
	} else if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.maxRSS = ru.Maxrss
		}
	}
	if err != nil {
		return r, fmt.Errorf("%s: %v\n%s", r.command, err, errOut.String())
	}
	return r, nil
}

// portSpec writes ports as a compact list of ranges.
func portSpec(ports []uint16) string {
	slices.Sort(ports)
	ports = slices.Compact(ports)
	var parts []string
	for i := 0; i < len(ports); {
		j := i
		for j+1 < len(ports) && ports[j+1] == ports[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(int(ports[i])))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", ports[i], ports[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

func (gt groundTruth) portsOf(proto string) []uint16 {
	var out []uint16
	for _, e := range gt.ports {
		if e.proto == proto {
			out = append(out, e.port)
		}
	}
	return out
}

// score compares a report with the ground truth.
type score struct {
	truePositives, falseNegatives, falsePositives int
	serviceRight, serviceWrong                    int
	problems                                      []string
}

// ratio is a/b, and 1 when there is nothing to count (b == 0): nothing to find
// and nothing found is a perfect score.
func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func (s score) recall() float64 { return ratio(s.truePositives, s.truePositives+s.falseNegatives) }

func (s score) precision() float64 { return ratio(s.truePositives, s.truePositives+s.falsePositives) }

func (s score) serviceAccuracy() float64 { return ratio(s.serviceRight, s.serviceRight+s.serviceWrong) }

// found is one open port as a scanner reported it.
type found struct {
	service string
	tls     bool
	ids     []string
}

func scoreAgainst(gt groundTruth, open map[string]found, checkFindings bool) score {
	var s score
	want := map[string]expectation{}
	for _, e := range gt.ports {
		want[fmt.Sprintf("%s %d/%s", e.host, e.port, e.proto)] = e
	}
	for key, e := range want {
		f, ok := open[key]
		if !ok {
			s.falseNegatives++
			s.problems = append(s.problems, "missed "+key+" ("+e.service+")")
			continue
		}
		s.truePositives++
		if f.service == e.service && f.tls == e.tls {
			s.serviceRight++
		} else {
			s.serviceWrong++
			s.problems = append(s.problems, fmt.Sprintf("%s: service %s tls %v, want %s tls %v", key, f.service, f.tls, e.service, e.tls))
		}
		if checkFindings {
			ids := slices.Clone(f.ids)
			slices.Sort(ids)
			wantIDs := slices.Clone(e.findings)
			slices.Sort(wantIDs)
			if !slices.Equal(ids, wantIDs) {
				s.problems = append(s.problems, fmt.Sprintf("%s: findings %v, want %v", key, ids, wantIDs))
			}
		}
	}
	for key := range open {
		if _, ok := want[key]; !ok {
			s.falsePositives++
			s.problems = append(s.problems, "reported "+key+" which the lab does not run")
		}
	}
	slices.Sort(s.problems)
	return s
}

// openPorts reads the open (and, for UDP, answering) ports of a report.
func openPorts(r *scanner.Report) map[string]found {
	out := map[string]found{}
	for _, h := range r.Hosts {
		for _, p := range h.Ports {
			if p.State != scanner.StateOpen {
				continue
			}
			var ids []string
			for _, f := range p.Findings {
				ids = append(ids, f.ID)
			}
			out[fmt.Sprintf("%s %d/%s", h.Address, p.Port, p.Protocol)] = found{p.Service, p.TLS, ids}
		}
	}
	return out
}

// scanMethod is one way of running our scanner: its extra arguments and the
// method its report must name.
type scanMethod struct {
	name string
	args []string
}

// scanMethods lists the discovery methods labscan offers here: connect always
// (--connect once the scanner has SYN scanning, nothing before), and SYN when
// the scanner has it and runs as root, which the lab does.
func scanMethods(t *testing.T, bin string) []scanMethod {
	t.Helper()
	out, _ := exec.Command(bin, "-h").CombinedOutput()
	if !strings.Contains(string(out), "--connect") {
		t.Log("labscan has no --connect flag yet: only the connect scan is tested")
		return []scanMethod{{"connect", nil}}
	}
	return []scanMethod{{"syn", nil}, {"connect", []string{"--connect"}}}
}

// TestLab scans every lab host (the common ports, every port the lab runs, the
// lab's UDP ports) with each discovery method, at LAN speed and then behind the
// delay line, and checks the report against the ground truth: every open port
// found and named, no other, tarpit and down hosts recognised.
func TestLab(t *testing.T) {
	l := newLab(t)
	bin := buildTool(t, "labscan")
	gt := l.build()

	common, _ := scanner.Profile("common")
	tcp := portSpec(append(common, gt.portsOf("tcp")...))
	udp := portSpec(gt.portsOf("udp"))
	targets := fmt.Sprintf("%s.11-%d", labSubnet, 10+len(l.hosts))
	t.Run("delay-line/round-trip", func(t *testing.T) {
		l.setDelay(true)
		defer l.setDelay(false)
		// A TCP handshake is one round trip; the fastest of a few, measured from
		// outside, includes starting a shell, so only a floor is asserted.
		best := time.Hour
		for range 5 {
			start := time.Now()
			if out, err := exec.Command("ip", "netns", "exec", l.scanNS, "bash", "-c", "exec 3<>/dev/tcp/"+labSubnet+".11/22").CombinedOutput(); err != nil {
				continue // a lost SYN: the kernel retries after a second, or gives up
			} else if len(out) > 0 {
				t.Logf("%s", out)
			}
			best = min(best, time.Since(start))
		}
		want := 2 * defaultOneWayDelay
		if os.Getenv("LAB_DELAY") != "" {
			return
		}
		if best < want-2*time.Millisecond || best == time.Hour {
			t.Errorf("fastest handshake through the delay line took %v, want at least %v", best, want)
		}
		t.Logf("fastest handshake through the delay line: %v", best.Round(100*time.Microsecond))
	})
	for _, delayed := range []bool{false, true} {
		for _, m := range scanMethods(t, bin) {
			name := m.name + "/lan"
			if delayed {
				name = m.name + "/delay-line"
			}
			t.Run(name, func(t *testing.T) {
				l.setDelay(delayed)
				args := append([]string{bin, "-q", "--format", "json", "-p", tcp, "-u", udp}, m.args...)
				before, raw := l.counters(), l.watchRawDrops()
				res, err := l.runInScanner(append(args, targets)...)
				rawDrops := raw.end()
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("counters: %s; raw socket drops %d", l.counters().since(before), rawDrops)
				if delayed {
					t.Logf("delay line: %s", l.delayStats())
				}
				var report struct {
					scanner.Report
					Method string `json:"method"`
				}
				if err := json.Unmarshal(res.stdout, &report); err != nil {
					t.Fatalf("%v\n%s", err, res.stdout)
				}
				if m.args != nil || m.name == "syn" {
					if report.Method != m.name {
						t.Errorf("report method %q, want %q", report.Method, m.name)
					}
				}
				t.Logf("scan of %d hosts, %d TCP + %d UDP ports each: %v, peak RSS %d MiB", len(l.hosts), len(common)+len(gt.portsOf("tcp")),
					len(gt.portsOf("udp")), res.wall.Round(time.Millisecond), res.maxRSS/1024)
				// Weak configurations are checked at LAN speed only: behind the delay
				// line a check's own connection can lose its SYN, and the kernel
				// resends it only after a second.
				checkReport(t, gt, &report.Report, !delayed)
			})
		}
	}
}

// checkReport compares a report of the whole lab with the ground truth.
func checkReport(t *testing.T, gt groundTruth, report *scanner.Report, full bool) {
	t.Helper()
	if full && testing.Verbose() {
		for _, h := range report.Hosts {
			for _, p := range h.Ports {
				var ids []string
				for _, f := range p.Findings {
					ids = append(ids, f.ID)
				}
				t.Logf("%-12s %5d/%s %-6s %-10s tls=%-5v %s %s %v %.50q", h.Address, p.Port, p.Protocol, p.State, p.Service, p.TLS, p.Product, p.Version, ids, p.Banner)
			}
		}
	}
	s := scoreAgainst(gt, openPorts(report), full)
	for _, p := range s.problems {
		t.Error(p)
	}
	t.Logf("recall %.3f precision %.3f service accuracy %.3f", s.recall(), s.precision(), s.serviceAccuracy())

	for _, addr := range gt.hosts {
		h := report.Host(addr)
		if h == nil {
			t.Errorf("%s missing from the report", addr)
			continue
		}
		if h.Tarpit != gt.tarpit[addr] {
			t.Errorf("%s: tarpit %v, want %v", addr, h.Tarpit, gt.tarpit[addr])
		}
		wantState := scanner.HostUp
		if gt.down[addr] {
			wantState = scanner.HostDown
		}
		if h.State != wantState {
			t.Errorf("%s: state %s, want %s", addr, h.State, wantState)
		}
	}
	if h := report.Host(labSubnet + ".19"); h != nil {
		for _, p := range h.Ports {
			if p.Service != "unknown" || p.Banner != "" {
				t.Errorf("silent %d/%s: service %s banner %q, want unknown and empty", p.Port, p.Protocol, p.Service, p.Banner)
			}
		}
	}
}

// kamailioModules is where Debian put Kamailio's modules for this architecture.
func kamailioModules(t *testing.T) string {
	dirs, _ := filepath.Glob("/usr/lib/*/kamailio/modules")
	if len(dirs) == 0 {
		t.Fatal("no /usr/lib/*/kamailio/modules: is kamailio installed?")
	}
	return dirs[0] + "/"
}
