//go:build lab

package lab

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The kernel counters that tell where a lost packet went. A scan that misses an
// open port behind the delay line either met the loss the delay line was asked
// for, or one of these moved: a queue that overflowed in the router or a host,
// or a host that reset a half-open connection.
var watchedCounters = []string{
	"Tcp:AttemptFails", "Tcp:OutRsts",
	"TcpExt:EmbryonicRsts", "TcpExt:ListenOverflows", "TcpExt:ListenDrops", "TcpExt:TCPReqQFullDrop",
	"TcpExt:TCPReqQFullDoCookies", "TcpExt:SyncookiesSent", "TcpExt:TCPBacklogDrop", "TcpExt:TCPACKSkippedSynRecv",
	"Ip:InDiscards", "Ip:OutDiscards", "Ip:OutNoRoutes",
}

// netCounters is a snapshot of the watched counters of every lab namespace, the
// machine's per-CPU backlog drops and squeezes (/proc/net/softnet_stat: the
// kernel's queue between a packet written into a device and its processing),
// and the delay line device's drops.
type netCounters map[string]int64

func (l *lab) counters() netCounters {
	c := netCounters{}
	namespaces := []string{l.scanNS, l.routerNS}
	for _, h := range l.hosts {
		namespaces = append(namespaces, h.ns)
	}
	for _, ns := range namespaces {
		out, err := exec.Command("ip", "netns", "exec", ns, "cat", "/proc/net/snmp", "/proc/net/netstat").Output()
		if err != nil {
			continue
		}
		name := strings.TrimPrefix(ns, l.prefix)
		for key, v := range parseSNMP(string(out)) {
			if slices.Contains(watchedCounters, key) {
				c[name+" "+key] = v
			}
		}
	}
	if b, err := os.ReadFile("/proc/net/softnet_stat"); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			f := strings.Fields(line)
			if len(f) < 3 {
				continue
			}
			drop, _ := strconv.ParseInt(f[1], 16, 64)
			squeeze, _ := strconv.ParseInt(f[2], 16, 64)
			c["softnet dropped"] += drop
			c["softnet time_squeeze"] += squeeze
		}
	}
	if out, err := exec.Command("ip", "-n", l.routerNS, "-s", "link", "show", "dl0").Output(); err == nil {
		f := strings.Fields(string(out))
		for i := range f {
			switch {
			case f[i] == "RX:" && i+10 < len(f):
				c["dl0 rx_dropped"], _ = strconv.ParseInt(f[i+10], 10, 64)
			case f[i] == "TX:" && i+10 < len(f):
				c["dl0 tx_dropped"], _ = strconv.ParseInt(f[i+10], 10, 64)
			}
		}
	}
	return c
}

// parseSNMP reads the header/value line pairs of /proc/net/snmp and
// /proc/net/netstat into "Section:Name" keys.
func parseSNMP(text string) map[string]int64 {
	out := map[string]int64{}
	lines := strings.Split(text, "\n")
	for i := 0; i+1 < len(lines); i++ {
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(names) < 2 || len(names) != len(values) || names[0] != values[0] {
			continue
		}
		section := strings.TrimSuffix(names[0], ":")
		for j := 1; j < len(names); j++ {
			if v, err := strconv.ParseInt(values[j], 10, 64); err == nil {
				out[section+":"+names[j]] = v
			}
		}
		i++
	}
	return out
}

// since lists the counters that moved after before, "name +delta" each.
func (c netCounters) since(before netCounters) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c)) {
		if d := c[k] - before[k]; d != 0 {
			parts = append(parts, fmt.Sprintf("%s +%d", k, d))
		}
	}
	if len(parts) == 0 {
		return "none moved"
	}
	return strings.Join(parts, ", ")
}

// rawDropWatch follows the drops the scanner's raw sockets count (the last
// column of /proc/net/raw: replies the socket's full receive buffer refused)
// while a scan runs; the sockets are gone when it ends, so it samples.
type rawDropWatch struct {
	stop chan struct{}
	done sync.WaitGroup
	max  int64
}

func (l *lab) watchRawDrops() *rawDropWatch {
	w := &rawDropWatch{stop: make(chan struct{})}
	w.done.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			// raw6 is missing where IPv6 is off: cat then fails after printing raw.
			out, _ := exec.Command("ip", "netns", "exec", l.scanNS, "cat", "/proc/net/raw", "/proc/net/raw6").Output()
			var sum int64
			for _, line := range strings.Split(string(out), "\n") {
				if f := strings.Fields(line); len(f) > 0 && f[0] != "sl" {
					v, _ := strconv.ParseInt(f[len(f)-1], 10, 64)
					sum += v
				}
			}
			w.max = max(w.max, sum)
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	})
	return w
}

// end stops the watch and returns the most drops seen at once.
func (w *rawDropWatch) end() int64 {
	close(w.stop)
	w.done.Wait()
	return w.max
}
