package scanner

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// rawSockets sends SYNs and receives the replies on raw IP sockets (no libpcap):
// per address family one socket that only sends (a drop-all filter keeps the
// kernel from queueing every TCP packet of the machine on it) and one that only
// receives, filtered in the kernel to segments addressed to our source port.
type rawSockets struct {
	lport        uint16
	send4, send6 int // -1 when the family is unavailable
	recv4, recv6 int
	closeOnce    sync.Once
	wg           sync.WaitGroup
	stop         chan struct{}
}

// errNoPrivilege means raw sockets are refused: scan with connect instead.
var errNoPrivilege = errors.New("raw sockets need root or CAP_NET_RAW")

func openRawSockets() (*rawSockets, error) {
	s := &rawSockets{lport: chooseSourcePort(), send4: -1, send6: -1, recv4: -1, recv6: -1, stop: make(chan struct{})}
	var err error
	if s.send4, err = rawSocket(syscall.AF_INET, true, 0); err != nil {
		return nil, err
	}
	if s.recv4, err = rawSocket(syscall.AF_INET, false, s.lport); err != nil {
		s.closeFDs()
		return nil, err
	}
	// IPv6 may be disabled on the machine: then only IPv4 targets can be SYN-scanned.
	if fd, err := rawSocket(syscall.AF_INET6, true, 0); err == nil {
		if rfd, err := rawSocket(syscall.AF_INET6, false, s.lport); err == nil {
			s.send6, s.recv6 = fd, rfd
		} else {
			syscall.Close(fd)
		}
	}
	return s, nil
}

func rawSocket(family int, sendOnly bool, lport uint16) (int, error) {
	fd, err := syscall.Socket(family, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.IPPROTO_TCP)
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return -1, errNoPrivilege
		}
		return -1, fmt.Errorf("raw socket: %w", err)
	}
	var filter []syscall.SockFilter
	if sendOnly {
		filter = []syscall.SockFilter{{Code: bpfRET | bpfK, K: 0}}
		syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4<<20)
	} else {
		filter = dportFilter(family, lport)
		// Replies come in bursts at the send rate: a large buffer loses none.
		if syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 32<<20) != nil {
			syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8<<20)
		}
		tv := syscall.NsecToTimeval(int64(50 * time.Millisecond))
		syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)
	}
	if err := syscall.AttachLsf(fd, filter); err != nil {
		syscall.Close(fd)
		return -1, fmt.Errorf("raw socket filter: %w", err)
	}
	return fd, nil
}

// Classic BPF opcodes.
const (
	bpfLD, bpfLDX, bpfJMP, bpfRET = 0x00, 0x01, 0x05, 0x06
	bpfH, bpfB                    = 0x08, 0x10
	bpfABS, bpfIND, bpfMSH        = 0x20, 0x40, 0xa0
	bpfJGT, bpfJGE, bpfK          = 0x20, 0x30, 0x00
)

// dportFilter accepts TCP segments whose destination port is one of the scan's:
// lport to lport+maxTries-1. An IPv4 raw socket sees the IP header first; an IPv6
// one sees the TCP header only.
func dportFilter(family int, lport uint16) []syscall.SockFilter {
	load := []syscall.SockFilter{{Code: bpfLD | bpfH | bpfABS, K: 2}}
	if family == syscall.AF_INET {
		load = []syscall.SockFilter{
			{Code: bpfLDX | bpfB | bpfMSH, K: 0}, // X = IPv4 header length
			{Code: bpfLD | bpfH | bpfIND, K: 2},  // A = TCP destination port
		}
	}
	return append(load,
		syscall.SockFilter{Code: bpfJMP | bpfJGE | bpfK, K: uint32(lport), Jt: 0, Jf: 2},
		syscall.SockFilter{Code: bpfJMP | bpfJGT | bpfK, K: uint32(lport) + maxTries - 1, Jt: 1, Jf: 0},
		syscall.SockFilter{Code: bpfRET | bpfK, K: 0xffff},
		syscall.SockFilter{Code: bpfRET | bpfK, K: 0},
	)
}

// chooseSourcePort picks the first of maxTries consecutive ports outside the
// kernel's ephemeral range, so that no connection of this machine shares them and
// the replies are ours.
func chooseSourcePort() uint16 {
	lo, hi := 32768, 60999
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if a, err := strconv.Atoi(f[0]); err == nil {
				lo = a
			}
			if z, err := strconv.Atoi(f[1]); err == nil {
				hi = z
			}
		}
	}
	if 65535-hi >= 1000 {
		return uint16(hi + 1 + rand.IntN(65535-hi-maxTries+1))
	}
	if lo-1024 >= 1000 {
		return uint16(1024 + rand.IntN(lo-1024-maxTries+1))
	}
	return uint16(61000 + rand.IntN(4535-maxTries+1))
}

func (s *rawSockets) sourcePort() uint16 { return s.lport }

func (s *rawSockets) supports(a netip.Addr) bool { return a.Is4() || s.send6 >= 0 }

// receive runs one reader per family until close, handing each parsed segment to
// deliver (from those goroutines).
func (s *rawSockets) receive(deliver func(tcpReply)) {
	for _, fd := range []int{s.recv4, s.recv6} {
		if fd < 0 {
			continue
		}
		v4 := fd == s.recv4
		s.wg.Go(func() { s.receiveBatches(fd, v4, deliver) })
	}
}

func (s *rawSockets) close() {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.wg.Wait()
		s.closeFDs()
	})
}

func (s *rawSockets) closeFDs() {
	for _, fd := range []int{s.send4, s.send6, s.recv4, s.recv6} {
		if fd >= 0 {
			syscall.Close(fd)
		}
	}
}
