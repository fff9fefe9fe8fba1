//go:build lab

package lab

import (
	"bytes"
	"crypto/des"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The credential lab: two hosts with the same real Debian daemons, one set up with
// passwords from the built-in default list (the weak twin), the other with strong
// ones, each in a network namespace of its own, linked to the scanner's namespace
// by a veth pair. It is self-contained: nothing of the scanning lab is shared, and
// its addresses (10.217.0.0/24) are its own.
const (
	credScanWeak   = "10.217.0.1"
	credWeak       = "10.217.0.2"
	credScanStrong = "10.217.0.5"
	credStrong     = "10.217.0.6"
	credWait       = 30 * time.Second
)

// credTwin is one of the two hosts.
type credTwin struct {
	name, ns, addr string
	weak           bool
	logs           map[string]string // daemon -> its log file
}

type credLab struct {
	t      *testing.T
	dir    string
	scanNS string
	twins  []*credTwin
	mu     sync.Mutex
	procs  []*exec.Cmd
}

// Passwords of the twins. The weak ones are entries of the built-in list; the
// strong ones must never show in the scanner's output or log.
const (
	weakSSHUser, weakSSHPass       = "pi", "raspberry"   // builtin:ssh#3
	weakFTPUser, weakFTPPass       = "admin", "admin"    // builtin:ftp#1
	weakMySQLPass                  = "mysql"             // builtin:mysql#3, user root
	weakPostgresPass               = "password"          // builtin:postgresql#2, user postgres
	weakRedisPass                  = "redis"             // builtin:redis#2
	weakMQTTUser, weakMQTTPass     = "guest", "guest"    // builtin:mqtt#2
	weakSNMPCommunity              = "manager"           // builtin:snmp#3
	weakTelnetUser, weakTelnetPass = "admin", "password" // builtin:telnet#3
	weakVNCPass                    = "admin"             // builtin:vnc#2
	strongSecret                   = "Vq3-strong-Lab"    // prefix of every strong password
	credSSHOtherUser               = "deploy"            // beside pi, with a strong password on both twins
)

func strongPass(service string) string { return strongSecret + "-" + service }

func requireCredLab(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the credential lab needs root: network namespaces and veth pairs")
	}
	for _, tool := range []string{"ip", "unshare", "runuser", "openssl", "ssh-keygen", "/usr/sbin/sshd", "/usr/sbin/vsftpd",
		"/usr/sbin/snmpd", "snmpget", "socat", "/usr/sbin/telnetd", "mariadbd", "mariadb-install-db", "mariadb", "redis-server", "redis-cli",
		"mosquitto", "mosquitto_passwd", "Xtigervnc", "/usr/lib/postgresql/15/bin/postgres", "/usr/lib/postgresql/15/bin/initdb"} {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err := os.Stat("/usr/sbin/" + tool); err != nil {
				t.Skipf("%s is missing: run scanner/lab/install-credentials.sh", tool)
			}
		}
	}
}

func newCredLab(t *testing.T) *credLab {
	requireCredLab(t)
	dir, err := os.MkdirTemp("", "portcullis-credlab-")
	if err != nil {
		t.Fatal(err)
	}
	// Daemons that drop privileges (postgres) read their files here.
	os.Chmod(dir, 0o755)
	prefix := fmt.Sprintf("creds%d-", os.Getpid()%100000)
	l := &credLab{t: t, dir: dir, scanNS: prefix + "scan"}
	t.Cleanup(l.teardown)
	l.run("ip", "netns", "add", l.scanNS)
	l.run("ip", "-n", l.scanNS, "link", "set", "lo", "up")
	for i, spec := range []struct {
		name, scanAddr, addr string
		weak                 bool
	}{{"weak", credScanWeak, credWeak, true}, {"strong", credScanStrong, credStrong, false}} {
		tw := &credTwin{name: spec.name, ns: prefix + spec.name, addr: spec.addr, weak: spec.weak, logs: map[string]string{}}
		l.twins = append(l.twins, tw)
		l.run("ip", "netns", "add", tw.ns)
		link := fmt.Sprintf("cr%d", i)
		l.run("ip", "link", "add", link, "netns", l.scanNS, "type", "veth", "peer", "name", "eth0", "netns", tw.ns)
		l.run("ip", "-n", l.scanNS, "addr", "add", spec.scanAddr+"/30", "dev", link)
		l.run("ip", "-n", tw.ns, "addr", "add", spec.addr+"/30", "dev", "eth0")
		for _, ns := range []string{l.scanNS, tw.ns} {
			l.run("ip", "-n", ns, "link", "set", "lo", "up")
		}
		l.run("ip", "-n", l.scanNS, "link", "set", link, "up")
		l.run("ip", "-n", tw.ns, "link", "set", "eth0", "up")
	}
	return l
}

func (l *credLab) run(args ...string) string {
	l.t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (l *credLab) file(name, content string, mode os.FileMode) string {
	path := filepath.Join(l.dir, name)
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		l.t.Fatal(err)
	}
	return path
}

// start runs a daemon in a twin's namespace until teardown; its output goes to
// the daemon's log file.
func (l *credLab) start(tw *credTwin, daemon string, args ...string) {
	l.t.Helper()
	path := filepath.Join(l.dir, tw.name+"-"+daemon+".log")
	log, err := os.Create(path)
	if err != nil {
		l.t.Fatal(err)
	}
	tw.logs[daemon] = path
	cmd := exec.Command("ip", append([]string{"netns", "exec", tw.ns}, args...)...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		l.t.Fatalf("%s %s: %v", tw.name, daemon, err)
	}
	log.Close()
	l.mu.Lock()
	l.procs = append(l.procs, cmd)
	l.mu.Unlock()
}

// waitPort waits until something listens on the port in the twin's namespace.
func (l *credLab) waitPort(tw *credTwin, proto string, port int) {
	l.t.Helper()
	flag := map[string]string{"tcp": "-Hltn", "udp": "-Hlun"}[proto]
	deadline := time.Now().Add(credWait)
	for time.Now().Before(deadline) {
		out, _ := exec.Command("ip", "netns", "exec", tw.ns, "ss", flag).Output()
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) >= 4 && strings.HasSuffix(f[3], ":"+strconv.Itoa(port)) {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	l.t.Fatalf("%s: nothing listens on %s/%d after %v (logs in %s)", tw.name, proto, port, credWait, l.dir)
}

func (l *credLab) teardown() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.procs {
		syscall.Kill(-p.Process.Pid, syscall.SIGTERM)
	}
	time.Sleep(300 * time.Millisecond)
	for _, p := range l.procs {
		syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
		p.Wait()
	}
	for _, tw := range l.twins {
		// Daemons that left their process group still live in the namespace.
		if out, err := exec.Command("ip", "netns", "pids", tw.ns).Output(); err == nil {
			for _, pid := range strings.Fields(string(out)) {
				if n, err := strconv.Atoi(pid); err == nil {
					syscall.Kill(n, syscall.SIGKILL)
				}
			}
		}
		exec.Command("ip", "netns", "del", tw.ns).Run()
	}
	exec.Command("ip", "netns", "del", l.scanNS).Run()
	if l.t.Failed() {
		l.t.Logf("credential lab logs kept in %s", l.dir)
	} else {
		os.RemoveAll(l.dir)
	}
}

// userDB writes a private copy of the machine's passwd and shadow with the twin's
// login users added; sshd and vsftpd see it through bind mounts in a mount
// namespace of their own, so the machine's users are never touched.
func (l *credLab) userDB(tw *credTwin, daemon string, users map[string]string) (passwd, shadow string) {
	basePasswd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		l.t.Fatal(err)
	}
	baseShadow, err := os.ReadFile("/etc/shadow")
	if err != nil {
		l.t.Fatal(err)
	}
	var p, s strings.Builder
	p.Write(basePasswd)
	s.Write(baseShadow)
	uid := 61000
	for user, pass := range users {
		hash := strings.TrimSpace(l.run("openssl", "passwd", "-6", "-salt", "credlab"+user, pass))
		fmt.Fprintf(&p, "%s:x:%d:%d:credential lab:/tmp:/bin/sh\n", user, uid, uid)
		fmt.Fprintf(&s, "%s:%s:20000:0:99999:7:::\n", user, hash)
		uid++
	}
	return l.file(tw.name+"-"+daemon+"-passwd", p.String(), 0o644), l.file(tw.name+"-"+daemon+"-shadow", s.String(), 0o600)
}

// privateUsers wraps a command so that it sees the twin's user database, and
// any further files given as pairs of lab file and the path it replaces.
func privateUsers(passwd, shadow string, more []string, cmd ...string) []string {
	binds := append([]string{passwd, "/etc/passwd", shadow, "/etc/shadow"}, more...)
	var script strings.Builder
	for i := 0; i+1 < len(binds); i += 2 {
		fmt.Fprintf(&script, "mount --bind %s %s && ", binds[i], binds[i+1])
	}
	script.WriteString(`exec "$@"`)
	return append([]string{"unshare", "-m", "--propagation", "private", "sh", "-c", script.String(), "sh"}, cmd...)
}

func pick(tw *credTwin, weak, strong string) string {
	if tw.weak {
		return weak
	}
	return strong
}

// startDaemons brings up every daemon of a twin.
func (l *credLab) startDaemons(tw *credTwin) {
	os.MkdirAll("/run/sshd", 0o755) // sshd's privilege-separation directory
	sshPass := pick(tw, weakSSHPass, strongPass("ssh"))
	ftpPass := pick(tw, weakFTPPass, strongPass("ftp"))
	// Each daemon has users of its own: the SSH list would find the FTP user.
	passwd, shadow := l.userDB(tw, "sshd", map[string]string{weakSSHUser: sshPass, credSSHOtherUser: strongPass("other")})

	// OpenSSH: a user with a default password beside one with a strong password.
	key := filepath.Join(l.dir, tw.name+"-hostkey")
	l.run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)
	sshdConf := l.file(tw.name+"-sshd_config", fmt.Sprintf(`Port 22
ListenAddress %s
HostKey %s
PidFile %s/%s-sshd.pid
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin no
MaxAuthTries 6
LogLevel VERBOSE
`, tw.addr, key, l.dir, tw.name), 0o644)
	l.start(tw, "sshd", privateUsers(passwd, shadow, nil, "/usr/sbin/sshd", "-D", "-e", "-f", sshdConf)...)

	// vsftpd with local users through PAM.
	empty := filepath.Join(l.dir, tw.name+"-ftp-empty")
	os.MkdirAll(empty, 0o755)
	ftpLog := filepath.Join(l.dir, tw.name+"-vsftpd-transfers.log")
	vsftpdConf := l.file(tw.name+"-vsftpd.conf", fmt.Sprintf(`listen=YES
listen_ipv6=NO
listen_address=%s
background=NO
anonymous_enable=NO
local_enable=YES
pam_service_name=vsftpd
secure_chroot_dir=%s
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
xferlog_enable=YES
xferlog_std_format=NO
vsftpd_log_file=%s
delay_failed_login=1
`, tw.addr, empty, ftpLog), 0o600)
	passwd, shadow = l.userDB(tw, "vsftpd", map[string]string{weakFTPUser: ftpPass})
	l.start(tw, "vsftpd", privateUsers(passwd, shadow, nil, "/usr/sbin/vsftpd", vsftpdConf)...)
	tw.logs["vsftpd"] = ftpLog

	// inetutils telnetd, one per connection (socat hands it the socket), with
	// /bin/login checking the twin's users through PAM. login records each
	// failed login in btmp: a private copy counts them.
	// The PAM stack is the password check alone: the container cannot set a
	// login uid, which Debian's stack requires.
	passwd, shadow = l.userDB(tw, "telnetd", map[string]string{weakTelnetUser: pick(tw, weakTelnetPass, strongPass("telnet"))})
	pam := l.file(tw.name+"-pam-login", "auth required pam_unix.so nodelay\naccount required pam_unix.so\nsession required pam_permit.so\n", 0o644)
	btmp := l.file(tw.name+"-btmp", "", 0o600)
	tw.logs["btmp"] = btmp
	l.start(tw, "telnetd", privateUsers(passwd, shadow, []string{pam, "/etc/pam.d/login", btmp, "/var/log/btmp"},
		"socat", "TCP-LISTEN:23,bind="+tw.addr+",fork,reuseaddr", "EXEC:/usr/sbin/telnetd,nofork")...)

	// Redis with requirepass.
	l.start(tw, "redis", "redis-server", "--port", "6379", "--bind", tw.addr, "--requirepass", pick(tw, weakRedisPass, strongPass("redis")),
		"--save", "", "--appendonly", "no", "--protected-mode", "no", "--daemonize", "no", "--dir", l.dir)

	// Mosquitto with a password file.
	pwFile := filepath.Join(l.dir, tw.name+"-mosquitto.pw")
	l.run("mosquitto_passwd", "-c", "-b", pwFile, weakMQTTUser, pick(tw, weakMQTTPass, strongPass("mqtt")))
	os.Chmod(pwFile, 0o600)
	mosqConf := l.file(tw.name+"-mosquitto.conf", fmt.Sprintf(`user root
listener 1883 %s
allow_anonymous false
password_file %s
persistence false
log_dest stderr
log_type all
connection_messages true
`, tw.addr, pwFile), 0o600)
	l.start(tw, "mosquitto", "mosquitto", "-c", mosqConf)

	// snmpd answering only its community.
	snmpConf := l.file(tw.name+"-snmpd.conf", fmt.Sprintf("agentAddress udp:%s:161\nrocommunity %s\n",
		tw.addr, pick(tw, weakSNMPCommunity, strongPass("snmp"))), 0o600)
	l.start(tw, "snmpd", "/usr/sbin/snmpd", "-f", "-Lo", "-C", "-c", snmpConf, "-p", filepath.Join(l.dir, tw.name+"-snmpd.pid"), "-I", "-smux")

	// TigerVNC's X server asking for a VNC password. By default it blacklists a
	// host after five connections that end without a login, and the scan's own
	// probes are such connections: two or three per scan, so a plain scan and a
	// checking one together meet the blacklist, which the checks take as the
	// lockout it is and stop. The twins raise the threshold so that the daemon's
	// counts below are the checks' alone.
	display := 20 + os.Getpid()%20*2
	if !tw.weak {
		display++
	}
	l.start(tw, "vnc", "Xtigervnc", fmt.Sprintf(":%d", display), "-rfbport", "5900", "-interface", tw.addr, "-nolisten", "tcp",
		"-SecurityTypes", "VncAuth", "-BlacklistThreshold", "50", "-PasswordFile", l.vncPasswordFile(tw, pick(tw, weakVNCPass, strongPass("vnc"))))
	l.t.Cleanup(func() {
		os.Remove(fmt.Sprintf("/tmp/.X%d-lock", display))
		os.Remove(fmt.Sprintf("/tmp/.X11-unix/X%d", display))
	})

	// MariaDB: root from the network with the password.
	data := filepath.Join(l.dir, tw.name+"-mariadb")
	l.run("mariadb-install-db", "--no-defaults", "--datadir="+data, "--user=root", "--auth-root-authentication-method=normal",
		"--skip-test-db", "--skip-name-resolve")
	general := filepath.Join(l.dir, tw.name+"-mariadb-general.log")
	// The strong twin also blocks an account after wrong passwords (MariaDB
	// blocks the third login: the first, with no password, does not count): the
	// checks must stop there rather than try their fourth entry.
	l.start(tw, "mariadb", "mariadbd", "--no-defaults", "--datadir="+data, "--socket="+data+"/sock", "--port=3306",
		"--bind-address="+tw.addr, "--user=root", "--skip-name-resolve", "--pid-file="+data+"/pid",
		"--general-log=1", "--general-log-file="+general, "--innodb-buffer-pool-size=8M", "--skip-log-bin",
		"--max-password-errors="+pick(tw, "100", "1"))
	tw.logs["mariadb-general"] = general

	// PostgreSQL with SCRAM from the scanner's network.
	pgData := filepath.Join(l.dir, tw.name+"-pgdata")
	pgUser, err := user.Lookup("postgres")
	if err != nil {
		l.t.Fatal(err)
	}
	uid, _ := strconv.Atoi(pgUser.Uid)
	gid, _ := strconv.Atoi(pgUser.Gid)
	os.Mkdir(pgData, 0o700)
	os.Chown(pgData, uid, gid)
	pwf := l.file(tw.name+"-pgpass", pick(tw, weakPostgresPass, strongPass("postgresql"))+"\n", 0o644)
	l.run("runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/initdb", "-D", pgData, "-U", "postgres",
		"--pwfile="+pwf, "--auth=scram-sha-256", "-E", "UTF8", "--no-sync")
	hba, err := os.OpenFile(filepath.Join(pgData, "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		l.t.Fatal(err)
	}
	fmt.Fprintln(hba, "host all all 10.217.0.0/24 scram-sha-256")
	hba.Close()
	l.start(tw, "postgres", "runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/postgres", "-D", pgData,
		"-c", "listen_addresses="+tw.addr, "-c", "port=5432", "-c", "unix_socket_directories="+pgData,
		"-c", "log_connections=on", "-c", "fsync=off", "-c", "shared_buffers=16MB")
}

// vncPasswordFile writes a VNC password file: the password, cut or padded to 8
// bytes, DES-encrypted under the fixed key every VNC server uses (23, 82, 107, 6,
// 35, 78, 88, 7, each byte's bits mirrored here for standard DES).
func (l *credLab) vncPasswordFile(tw *credTwin, password string) string {
	block, err := des.NewCipher([]byte{0xe8, 0x4a, 0xd6, 0x60, 0xc4, 0x72, 0x1a, 0xe0})
	if err != nil {
		l.t.Fatal(err)
	}
	var plain, sealed [8]byte
	copy(plain[:], password)
	block.Encrypt(sealed[:], plain[:])
	return l.file(tw.name+"-vnc.passwd", string(sealed[:]), 0o600)
}

// setRootPassword gives MariaDB's root a network account with the twin's password.
func (l *credLab) setRootPassword(tw *credTwin) {
	sock := filepath.Join(l.dir, tw.name+"-mariadb", "sock")
	pass := pick(tw, weakMySQLPass, strongPass("mysql"))
	// max_password_errors spares accounts with the connection-admin privilege:
	// the strong twin's network root has none, so its lockout applies.
	grant := pick(tw, "GRANT ALL ON *.* TO 'root'@'%';", "GRANT SELECT ON mysql.* TO 'root'@'%';")
	l.run("ip", "netns", "exec", tw.ns, "mariadb", "--no-defaults", "-S", sock, "-u", "root", "-e",
		fmt.Sprintf("CREATE USER 'root'@'%%' IDENTIFIED BY '%s'; %s", pass, grant))
}

// count reads how many lines of a daemon's log match.
func (l *credLab) count(tw *credTwin, daemon, pattern string) int {
	b, _ := os.ReadFile(tw.logs[daemon])
	return len(regexp.MustCompile(pattern).FindAll(b, -1))
}

// redisWrongPass is the daemon's own count of refused AUTHs (INFO errorstats).
func (l *credLab) redisWrongPass(tw *credTwin) int {
	out, _ := exec.Command("ip", "netns", "exec", tw.ns, "redis-cli", "-h", tw.addr, "--no-auth-warning",
		"-a", pick(tw, weakRedisPass, strongPass("redis")), "INFO", "errorstats").Output()
	m := regexp.MustCompile(`errorstat_WRONGPASS:count=(\d+)`).FindSubmatch(out)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// snmpBadCommunities is the agent's own count of requests with an unknown
// community (SNMPv2-MIB snmpInBadCommunityNames.0).
func (l *credLab) snmpBadCommunities(tw *credTwin) int {
	out, err := exec.Command("ip", "netns", "exec", tw.ns, "snmpget", "-v2c", "-c", pick(tw, weakSNMPCommunity, strongPass("snmp")),
		"-Oqv", tw.addr, "1.3.6.1.2.1.11.4.0").Output()
	if err != nil {
		l.t.Fatalf("snmpget on %s: %v", tw.name, err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return n
}

// credCounter is one count a daemon keeps of logins, with what the checks
// should add to it on each twin. The lab scans with --credential-attempts 4: the
// strong twin sees 4 attempts on each service, except MariaDB, which blocks the
// account at the third (two refusals, then "blocked"), and is tried no further.
type credCounter struct {
	what         string
	weak, strong int
	read         func(l *credLab, tw *credTwin) int
}

var credCounters = []credCounter{
	{"sshd failed passwords", 2, 4, func(l *credLab, tw *credTwin) int { return l.count(tw, "sshd", `Failed password for`) }},
	{"sshd accepted passwords", 1, 0, func(l *credLab, tw *credTwin) int { return l.count(tw, "sshd", `Accepted password for`) }},
	{"login failures (btmp)", 2, 4, func(l *credLab, tw *credTwin) int { return utmpRecords(tw.logs["btmp"]) }},
	// Users other than anonymous: the scan's anonymous check is logged too, a
	// second late (delay_failed_login), which can land after the plain scan's
	// snapshot and be counted against the checks.
	{"vsftpd failed logins", 0, 4, func(l *credLab, tw *credTwin) int {
		b, _ := os.ReadFile(tw.logs["vsftpd"])
		n := 0
		for _, m := range regexp.MustCompile(`\[([^\]]*)\] FAIL LOGIN`).FindAllSubmatch(b, -1) {
			if string(m[1]) != "anonymous" {
				n++
			}
		}
		return n
	}},
	{"vsftpd logins", 1, 0, func(l *credLab, tw *credTwin) int { return l.count(tw, "vsftpd", `OK LOGIN`) }},
	{"mariadb access denied", 2, 2, func(l *credLab, tw *credTwin) int {
		return l.count(tw, "mariadb-general", `Access denied for user`)
	}},
	{"mariadb blocked logins", 0, 1, func(l *credLab, tw *credTwin) int {
		return l.count(tw, "mariadb-general", `blocked because of too many credential errors`)
	}},
	{"postgres password failures", 1, 4, func(l *credLab, tw *credTwin) int {
		return l.count(tw, "postgres", `password authentication failed for user`)
	}},
	{"redis WRONGPASS", 1, 4, (*credLab).redisWrongPass},
	{"mosquitto refused logins", 1, 4, func(l *credLab, tw *credTwin) int {
		return l.count(tw, "mosquitto", `not authori[sz]ed`)
	}},
	{"snmpd bad communities", 2, 4, (*credLab).snmpBadCommunities},
	{"tigervnc VNC-authentication logins", 2, 4, func(l *credLab, tw *credTwin) int {
		return l.count(tw, "vnc", `Client requests security type VncAuth`)
	}},
	{"tigervnc authentication failures", 1, 4, func(l *credLab, tw *credTwin) int {
		return l.count(tw, "vnc", `AuthFailureException: Authentication failure`)
	}},
}

// utmpRecords counts the records of a utmp-format file such as btmp: 384 bytes
// each on Linux.
func utmpRecords(path string) int {
	st, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return int(st.Size() / 384)
}

// snapshot reads every counter of both twins.
func (l *credLab) snapshot() map[string]int {
	out := map[string]int{}
	for _, c := range credCounters {
		for _, tw := range l.twins {
			out[tw.name+" "+c.what] = c.read(l, tw)
		}
	}
	return out
}

type credFinding struct {
	ID, Severity, Detail string
}

// scan runs the scanner's command line in the scanner's namespace.
func (l *credLab) scan(bin string, extra ...string) (map[string][]credFinding, string) {
	l.t.Helper()
	args := append([]string{"netns", "exec", l.scanNS, bin, "-q", "--connect", "-p", "21,22,23,1883,3306,5432,5900,6379", "-u", "161",
		"--format", "json"}, extra...)
	args = append(args, credWeak, credStrong)
	cmd := exec.Command("ip", args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		l.t.Fatalf("scan: %v\n%s", err, errOut.String())
	}
	var rep struct {
		Hosts []struct {
			Address string
			Ports   []struct {
				Port     int
				Protocol string
				Service  string
				Findings []credFinding
			}
		}
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		l.t.Fatalf("report: %v\n%s", err, out.String())
	}
	found := map[string][]credFinding{}
	for _, h := range rep.Hosts {
		for _, p := range h.Ports {
			key := fmt.Sprintf("%s %d/%s", h.Address, p.Port, p.Protocol)
			found[key] = append(found[key], p.Findings...)
		}
	}
	return found, out.String() + errOut.String()
}

func TestLabCredentials(t *testing.T) {
	l := newCredLab(t)
	bin := filepath.Join(t.TempDir(), "labscan")
	if out, err := exec.Command("go", "build", "-o", bin, "./labscan").CombinedOutput(); err != nil {
		t.Fatalf("building labscan: %v\n%s", err, out)
	}
	started := time.Now()
	for _, tw := range l.twins {
		l.startDaemons(tw)
	}
	for _, tw := range l.twins {
		for _, p := range []int{21, 22, 23, 1883, 3306, 5432, 5900, 6379} {
			l.waitPort(tw, "tcp", p)
		}
		l.waitPort(tw, "udp", 161)
		l.setRootPassword(tw)
	}
	t.Logf("daemons up in %v", time.Since(started).Round(100*time.Millisecond))

	// A scan without the checks first, to learn what the scan's own probes count
	// on the daemons (the SNMP agent counts the scan's public and private as bad
	// communities).
	atStart := l.snapshot()
	plain, _ := l.scan(bin)
	for key, fs := range plain {
		for _, f := range fs {
			if f.ID == "default-credentials" {
				t.Errorf("%s: default-credentials without --check-credentials", key)
			}
		}
	}
	afterPlain := l.snapshot()

	checkStart := time.Now()
	found, output := l.scan(bin, "--check-credentials", "--credential-attempts", "4")
	t.Logf("scan with credential checks: %v", time.Since(checkStart).Round(100*time.Millisecond))

	// Findings: every service of the weak twin, none of the strong one.
	want := map[string]string{
		"22/tcp":   `ssh login as user "pi" succeeds with the password of builtin:ssh#3`,
		"21/tcp":   `ftp login as user "admin" succeeds with the password of builtin:ftp#1`,
		"23/tcp":   `telnet login as user "admin" succeeds with the password of builtin:telnet#3`,
		"3306/tcp": `mysql login as user "root" succeeds with the password of builtin:mysql#3`,
		"5432/tcp": `postgresql login as user "postgres" succeeds with the password of builtin:postgresql#2`,
		"6379/tcp": `redis accepts the password of builtin:redis#2`,
		"1883/tcp": `mqtt login as user "guest" succeeds with the password of builtin:mqtt#2`,
		"161/udp":  `GET sysDescr.0 answered with the community of builtin:snmp#3`,
		"5900/tcp": `vnc accepts the password of builtin:vnc#2`,
	}
	for port, detail := range want {
		var got []string
		for _, f := range found[credWeak+" "+port] {
			if f.ID == "default-credentials" || (port == "161/udp" && f.ID == "snmp-default-community") {
				got = append(got, f.Detail)
			}
		}
		if len(got) != 1 || got[0] != detail {
			t.Errorf("weak %s: findings %v, want %q", port, got, detail)
		}
		for _, f := range found[credStrong+" "+port] {
			if f.ID == "default-credentials" || f.ID == "snmp-default-community" {
				t.Errorf("strong %s: %+v", port, f)
			}
		}
	}

	// The gentle limits, counted by the daemons themselves: what the checking
	// scan counted beyond what a plain scan counts.
	afterCheck := l.snapshot()
	for _, c := range credCounters {
		for _, tw := range l.twins {
			key := tw.name + " " + c.what
			probes := afterPlain[key] - atStart[key]
			got := afterCheck[key] - afterPlain[key] - probes
			if want := pick(tw, strconv.Itoa(c.weak), strconv.Itoa(c.strong)); strconv.Itoa(got) != want {
				t.Errorf("%s on %s: the daemon counted %d credential attempts, want %s (the scan's own probes: %d)", c.what, tw.name, got, want, probes)
			}
		}
	}

	// Attempts on one service at least a second apart, as logged by the checker.
	last := map[string]time.Time{}
	attempts := 0
	re := regexp.MustCompile(`time=(\S+) level=INFO msg="credential attempt" target=(\S+) service=(\S+)`)
	for _, m := range re.FindAllStringSubmatch(output, -1) {
		at, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			t.Fatalf("log time %q: %v", m[1], err)
		}
		attempts++
		key := m[2] + " " + m[3]
		if prev, ok := last[key]; ok && at.Sub(prev) < time.Second {
			t.Errorf("%s: attempts %v apart", key, at.Sub(prev))
		}
		last[key] = at
	}
	// Weak: ssh 3, ftp 1, telnet 3, mysql 3, postgresql 2, redis 2, mqtt 2, snmp 3,
	// vnc 2; strong: 4 on each of 8, and MariaDB's 3 (its lockout at the third
	// stops the fourth).
	if attempts != 21+32+3 {
		t.Errorf("%d attempts logged, want 56", attempts)
	}
	if !regexp.MustCompile(`msg="service limits login attempts; stopping its credential checks" target=` + credStrong + `:3306`).MatchString(output) {
		t.Errorf("the lockout of the strong MariaDB is not logged as such")
	}
	// The distinctive passwords (the others are words a report holds anyway,
	// such as "mysql").
	for _, secret := range []string{strongSecret, weakSSHPass} {
		if strings.Contains(output, secret) {
			t.Errorf("the scan's output or log shows the password %q", secret)
		}
	}
}
