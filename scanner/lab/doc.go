// Package lab holds the scanner's lab: tests built with the "lab" tag that create
// network namespaces, start real daemons from Debian packages in them, scan them
// with the scanner's command line (labscan) and compare the report with the lab's
// own ground truth. No packet leaves the machine: every address is inside a
// namespace the test made, and the namespaces are deleted when it ends.
//
// The network: the scanner's namespace has one link to a router namespace; the
// router has a bridge with one namespace per lab host on 10.213.0.0/24 and drops
// everything else of 10.213.0.0/16, so the lab can also be scanned as a /16 where
// only a few addresses answer. The hosts run OpenSSH, nginx (plain and TLS),
// vsftpd, snmpd, ntpsec, dnsmasq, rsync, memcached, Redis, slapd, TigerVNC, xrdp,
// exim, telnetd, Mosquitto, Kamailio (a SIP proxy), baresip (a SIP user agent, UDP,
// TCP and TLS) and an MIT KDC; plus silent listeners, a tarpit that accepts every
// port, a host whose firewall drops all but one port, a host that drops
// everything, and a host with nothing open.
//
// The delay line: this kernel has no sch_netem, so the router runs delayline, a
// TUN device that holds every packet for a one-way delay and drops some at random.
// Policy routes in the router send packets arriving from either side into the
// device; they come out of it after the delay and take the normal routes on. The
// tests switch it into the path and out again (lab.setDelay). Defaults: 15 ms
// each way (a 30 ms round trip), 1% of packets lost in each direction; LAB_DELAY
// and LAB_LOSS change them.
//
//	sudo scanner/lab/install.sh
//	go test -tags lab -count=1 -v ./scanner/lab/ -run 'TestLab$'
//	LAB_BENCH=1 go test -tags lab -count=1 -v -timeout 90m ./scanner/lab/ -run TestBenchScan
//
// Both need root (namespaces, TUN, iptables); they skip with the reason otherwise.
//
// The credential lab (credentials_test.go, TestLabCredentials) is separate: two
// namespaces on 10.217.0.0/24, twins running the same Debian daemons (OpenSSH,
// vsftpd, telnetd, MariaDB, PostgreSQL, Redis, Mosquitto, snmpd, TigerVNC), one with passwords from the
// built-in default list, one with strong ones (and a MariaDB that blocks an
// account after failed logins). It scans both with --check-credentials and
// asserts the findings and, from the daemons' own logs and counters, how many
// logins each service saw, and that the checks stop at the block.
//
//	sudo scanner/lab/install-credentials.sh
//	go test -tags lab -count=1 -v ./scanner/lab/ -run 'TestLabCredentials$'
package lab
