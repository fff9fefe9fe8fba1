package scanner

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ParsePorts reads a port specification: "22,80,8000-8100", "-" for 1-65535, or a
// profile name ("common", "full"). The result is sorted and free of duplicates.
func ParsePorts(spec string) ([]uint16, error) {
	spec = strings.TrimSpace(spec)
	switch spec {
	case "":
		return nil, fmt.Errorf("empty port specification")
	case "-":
		return Profile("full")
	}
	if ports, err := Profile(spec); err == nil {
		return ports, nil
	}
	seen := make([]bool, 65536)
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("port specification %q: empty element", spec)
		}
		lo, hi, isRange := strings.Cut(part, "-")
		first, last := 1, 65535
		var err error
		if !isRange || lo != "" {
			if first, err = parsePort(lo); err != nil {
				return nil, err
			}
		}
		if !isRange {
			last = first
		} else if hi != "" {
			if last, err = parsePort(hi); err != nil {
				return nil, err
			}
		}
		if last < first {
			return nil, fmt.Errorf("port range %q: end before start", part)
		}
		for p := first; p <= last; p++ {
			seen[p] = true
		}
	}
	var out []uint16
	for p := 1; p <= 65535; p++ {
		if seen[p] {
			out = append(out, uint16(p))
		}
	}
	return out, nil
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("invalid port %q (want 1-65535)", s)
	}
	return n, nil
}

// Profile returns the TCP ports of a named profile:
//   - "common": the IANA well-known range 1-1024 and the registered and customary
//     ports of web servers, databases, caches, message brokers, directory, mail,
//     remote administration, monitoring and container platforms (about 1,300 ports);
//   - "full": 1-65535.
func Profile(name string) ([]uint16, error) {
	switch name {
	case "full":
		out := make([]uint16, 65535)
		for i := range out {
			out[i] = uint16(i + 1)
		}
		return out, nil
	case "common":
		set := map[uint16]bool{}
		for p := 1; p <= 1024; p++ {
			set[uint16(p)] = true
		}
		for _, p := range commonServicePorts {
			set[p] = true
		}
		out := make([]uint16, 0, len(set))
		for p := range set {
			out = append(out, p)
		}
		slices.Sort(out)
		return out, nil
	}
	return nil, fmt.Errorf("unknown profile %q (want common or full)", name)
}

// CommonUDPPorts are the UDP services worth watching: DNS, DHCP, TFTP, NTP, NetBIOS,
// SNMP and its traps, IKE, syslog, SSDP, mDNS, SIP, Kerberos, LDAP, memcached.
var CommonUDPPorts = []uint16{53, 67, 69, 88, 123, 137, 138, 161, 162, 389, 500, 514, 520, 623, 1900, 4500, 5060, 5353, 11211}

// commonServicePorts above 1024, grouped by what usually listens there.
var commonServicePorts = []uint16{
	// web, application servers, proxies, admin consoles
	1080, 1443, 2000, 2082, 2083, 2086, 2087, 2095, 2096, 3000, 3001, 3128, 4000, 4001,
	4443, 4848, 5000, 5001, 5080, 5443, 5601, 5800, 6080, 7000, 7001, 7002, 7070, 7071,
	7080, 7443, 7777, 8000, 8001, 8002, 8003, 8008, 8009, 8010, 8042, 8060, 8069, 8080,
	8081, 8082, 8083, 8084, 8085, 8086, 8087, 8088, 8089, 8090, 8091, 8096, 8118, 8123,
	8161, 8180, 8181, 8200, 8222, 8243, 8280, 8281, 8300, 8333, 8384, 8400, 8443, 8444,
	8500, 8530, 8531, 8600, 8800, 8834, 8880, 8881, 8888, 8889, 8983, 9000, 9001, 9002,
	9003, 9009, 9043, 9060, 9080, 9081, 9090, 9091, 9095, 9100, 9200, 9300, 9443, 9444,
	9800, 9876, 9990, 9999, 10000, 10080, 10443, 12443, 16080, 18080, 18443, 20000, 28080,
	// databases and caches
	1433, 1434, 1521, 1522, 1830, 2424, 2480, 3050, 3306, 3307, 3351, 4333, 5000, 5050,
	5432, 5433, 5984, 5986, 6032, 6033, 6379, 6380, 6432, 7199, 7473, 7474, 7687, 8087,
	8091, 8092, 8093, 8094, 8529, 8812, 9042, 9060, 9142, 9160, 9471, 11211, 11212, 16379,
	26257, 26379, 27017, 27018, 27019, 28015, 28017, 29015, 33060, 50000,
	// message brokers and streaming
	1883, 4222, 4369, 5222, 5223, 5269, 5671, 5672, 6222, 6650, 6651, 8222, 8883, 9092,
	9093, 9094, 15672, 15674, 15675, 25672, 61613, 61614, 61616,
	// remote administration and desktop
	2222, 2200, 2022, 2323, 3389, 3390, 4899, 5500, 5900, 5901, 5902, 5903, 5904, 5905, 5938,
	5985, 6000, 6001, 6002, 6129, 8022, 10022, 22222, 33890,
	// directory, authentication, Windows
	1645, 1646, 1812, 1813, 2049, 3268, 3269, 3260, 5355, 5722, 9389, 47001, 49152,
	49153, 49154, 49155, 49156, 49157,
	// mail
	1109, 2525, 4190, 8025, 10025,
	// file transfer and sharing
	1194, 1723, 2121, 3690, 4040, 4045, 6881, 8021, 9418, 10021, 20048,
	// monitoring, logging, infrastructure
	1098, 1099, 1311, 1414, 1500, 1501, 1720, 2003, 2004, 2181, 2375, 2376, 2377, 2379,
	2380, 3005, 3100, 3260, 3478, 4194, 4243, 4500, 4567, 4711, 4712, 4730, 5044, 5060,
	5061, 5140, 5353, 5514, 5555, 5556, 5666, 5667, 6060, 6443, 6514, 6556, 6660, 6661,
	6662, 6663, 6664, 6665, 6666, 6667, 6668, 6669, 6697, 6783, 7077, 7100, 7180, 7900,
	8140, 8291, 8728, 8729, 9010, 9011, 9093, 9099, 9102, 9103, 9115, 9182, 9187, 9216,
	9256, 9500, 9510, 9515, 9600, 9700, 10050, 10051, 10250, 10255, 10256, 10257, 10259,
	11111, 11434, 12201, 13389, 14000, 16010, 16992, 16993, 17000, 18088, 19999, 20547,
	24007, 25565, 27015, 30000, 30303, 32400, 32768, 37777, 44818, 47808, 50070, 50075,
	55443, 60000, 62078,
	// industrial control and building automation often found behind firewalls
	102, 502, 789, 1911, 1962, 2404, 4840, 9600, 20000,
}
