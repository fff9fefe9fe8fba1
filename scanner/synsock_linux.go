package scanner

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawSockets sends SYNs and receives the replies on raw IP sockets (no libpcap):
// per address family one socket that only sends (a drop-all filter keeps the
// kernel from queueing every TCP packet of the machine on it) and one that only
// receives, filtered in the kernel to segments addressed to our source port.
type rawSockets struct {
	lport        uint16
	send4, send6 int // -1 when the family is unavailable
	recv4, recv6 int
	mu           sync.Mutex // guards batch4 and batch6, filled by the engine
	batch4       *sendBatch
	batch6       *sendBatch
	free4, free6 chan *sendBatch  // empty batches of each family
	full         chan queuedBatch // batches for the senders
	senders      sync.WaitGroup
	failMu       sync.Mutex
	failed       []sendFailure // sends the kernel refused, for the engine's next flush
	rx           *recvState    // used by drain, from the engine's goroutine only
	closeOnce    sync.Once
}

// queuedBatch is a batch handed to a sender, with where it goes and where it
// returns once sent.
type queuedBatch struct {
	b    *sendBatch
	fd   int
	free chan *sendBatch
}

// errNoPrivilege means raw sockets are refused: scan with connect instead.
var errNoPrivilege = errors.New("raw sockets need root or CAP_NET_RAW")

func openRawSockets() (*rawSockets, error) {
	s := &rawSockets{lport: chooseSourcePort(), send4: -1, send6: -1, recv4: -1, recv6: -1, rx: newRecvState()}
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
	s.startSenders()
	return s, nil
}

// startSenders starts a sender per CPU (four at most). Sending a probe costs
// little of ours: on a virtual link the kernel carries it through the path, and
// the target's answer back, inside the send call. One sender is then bound by
// one thread's share of a busy machine; several share its CPUs as other
// programs' threads do.
func (s *rawSockets) startSenders() {
	n := min(max(runtime.NumCPU(), 1), 4)
	s.full = make(chan queuedBatch, n)
	s.free4, s.free6 = make(chan *sendBatch, 2*n+2), make(chan *sendBatch, 2*n+2)
	for range 2*n + 1 {
		s.free4 <- newSendBatch(false)
		if s.send6 >= 0 {
			s.free6 <- newSendBatch(true)
		}
	}
	s.batch4 = <-s.free4
	if s.send6 >= 0 {
		s.batch6 = <-s.free6
	}
	for range n {
		s.senders.Go(func() {
			for q := range s.full {
				failed := q.b.flush(q.fd, nil)
				if len(failed) > 0 {
					s.failMu.Lock()
					s.failed = append(s.failed, failed...)
					s.failMu.Unlock()
				}
				q.free <- q.b
			}
		})
	}
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
		// The kernel's time of arrival of each segment, for round trips that do
		// not include the time the engine waited to run.
		syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
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

// send queues one SYN from src:sport to dst:dport; it leaves with the batch,
// when the batch is full or at the next flush. A refusal of the kernel is
// reported by flush.
func (s *rawSockets) send(src, dst netip.Addr, sport, dport uint16, seq uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, fd, free := &s.batch4, s.send4, s.free4
	if !dst.Is4() {
		if s.send6 < 0 {
			return syscall.EAFNOSUPPORT
		}
		cur, fd, free = &s.batch6, s.send6, s.free6
	}
	(*cur).add(src, dst, sport, dport, seq)
	if (*cur).n == synBatch {
		s.handOff(cur, fd, free)
	}
	return nil
}

// handOff gives the batch to a sender (waiting while all are busy: the engine
// then runs no faster than the probes leave) and takes an empty one.
func (s *rawSockets) handOff(cur **sendBatch, fd int, free chan *sendBatch) {
	s.full <- queuedBatch{b: *cur, fd: fd, free: free}
	*cur = <-free
}

// flush hands what is queued to the senders and returns the probes the kernel
// refused since the last flush (those of batches still being sent come later).
func (s *rawSockets) flush() []sendFailure {
	s.mu.Lock()
	if s.batch4.n > 0 {
		s.handOff(&s.batch4, s.send4, s.free4)
	}
	if s.send6 >= 0 && s.batch6.n > 0 {
		s.handOff(&s.batch6, s.send6, s.free6)
	}
	s.mu.Unlock()
	s.failMu.Lock()
	defer s.failMu.Unlock()
	out := s.failed
	s.failed = nil
	return out
}

// synBatch is the most SYNs sent with one sendmmsg call.
const synBatch = 128

// sendBatch holds SYNs built and not yet sent, with the message headers that
// point into them, for sendmmsg: one system call for many probes, the headers
// built once and patched per probe.
type sendBatch struct {
	n     int
	segs  [synBatch][synSegmentLen]byte
	name4 [synBatch]unix.RawSockaddrInet4
	name6 [synBatch]unix.RawSockaddrInet6
	iov   [synBatch]unix.Iovec
	hdrs  [synBatch]unix.Mmsghdr
	meta  [synBatch]sentMeta
}

// sentMeta is what a refusal is reported with.
type sentMeta struct {
	dst          netip.Addr
	sport, dport uint16
}

func newSendBatch(v6 bool) *sendBatch {
	b := &sendBatch{}
	for i := range b.hdrs {
		b.iov[i].Base = &b.segs[i][0]
		b.iov[i].SetLen(synSegmentLen)
		h := &b.hdrs[i].Hdr
		h.Iov = &b.iov[i]
		h.SetIovlen(1)
		if v6 {
			b.name6[i].Family = unix.AF_INET6
			h.Name = (*byte)(unsafe.Pointer(&b.name6[i]))
			h.Namelen = unix.SizeofSockaddrInet6
		} else {
			b.name4[i].Family = unix.AF_INET
			h.Name = (*byte)(unsafe.Pointer(&b.name4[i]))
			h.Namelen = unix.SizeofSockaddrInet4
		}
	}
	return b
}

func (b *sendBatch) add(src, dst netip.Addr, sport, dport uint16, seq uint32) {
	i := b.n
	buildSYN(b.segs[i][:], src, dst, sport, dport, seq)
	if dst.Is4() {
		b.name4[i].Addr = dst.As4()
	} else {
		b.name6[i].Addr = dst.As16()
	}
	b.meta[i] = sentMeta{dst: dst, sport: sport, dport: dport}
	b.n++
}

// flush sends the batch on fd, appending the refused probes to failed. A full
// buffer (rare on a raw socket: the kernel drops silently further on) is waited
// out briefly; what still does not go is reported refused with that error, and
// the engine queues it again.
func (b *sendBatch) flush(fd int, failed []sendFailure) []sendFailure {
	busy := 0
	for off := 0; off < b.n; {
		r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&b.hdrs[off])), uintptr(b.n-off), 0, 0, 0)
		switch {
		case errno == 0:
			off += int(r)
		case errno == unix.EINTR:
		case localBusy(errno) && busy < 3:
			busy++
			time.Sleep(50 * time.Microsecond)
		default:
			m := b.meta[off]
			failed = append(failed, sendFailure{dst: m.dst, sport: m.sport, dport: m.dport, err: errno})
			off++
		}
	}
	b.n = 0
	return failed
}

// recvBatch is the most segments read with one recvmmsg call.
const recvBatch = 64

// recvState is the receiving side's buffers, reused by every drain: segments
// are read many per system call, each with the kernel's time of arrival.
type recvState struct {
	bufs  [recvBatch][256]byte // headers are all we read; the rest is cut off
	names [recvBatch]unix.RawSockaddrInet6
	ctrl  [recvBatch][64]byte
	iov   [recvBatch]unix.Iovec
	hdrs  [recvBatch]unix.Mmsghdr
}

func newRecvState() *recvState {
	r := &recvState{}
	for i := range r.hdrs {
		r.iov[i].Base = &r.bufs[i][0]
		r.iov[i].SetLen(len(r.bufs[i]))
		h := &r.hdrs[i].Hdr
		h.Iov = &r.iov[i]
		h.SetIovlen(1)
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Control = &r.ctrl[i][0]
	}
	return r
}

// drain hands every segment queued on the receiving sockets to deliver, without
// waiting for more. The engine calls it on its tick instead of being woken by a
// reader for each reply: on a busy machine the wake-ups, not the packets, were
// the receiving side's cost. The kernel stamps each segment on arrival, so a
// round trip is measured from the packets, not from when the engine ran.
func (s *rawSockets) drain(deliver func(tcpReply)) {
	for _, fd := range []int{s.recv4, s.recv6} {
		if fd < 0 {
			continue
		}
		r := s.rx
		for {
			for i := range r.hdrs {
				r.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet6
				r.hdrs[i].Hdr.SetControllen(len(r.ctrl[i]))
			}
			n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&r.hdrs[0])), recvBatch, unix.MSG_DONTWAIT, 0, 0)
			if errno == unix.EINTR {
				continue
			}
			if errno != 0 || n == 0 {
				break // nothing queued
			}
			for i := range int(n) {
				h := &r.hdrs[i]
				pkt := r.bufs[i][:min(int(h.Len), len(r.bufs[i]))]
				var rep tcpReply
				var err error
				if fd == s.recv4 {
					rep, err = parseIPv4TCP(pkt)
				} else if r.names[i].Family == unix.AF_INET6 {
					rep, err = parseTCP(pkt, netip.AddrFrom16(r.names[i].Addr), netip.Addr{})
				} else {
					continue
				}
				if err != nil || rep.dport-s.lport >= maxTries {
					continue
				}
				rep.at = arrival(r.ctrl[i][:h.Hdr.Controllen])
				deliver(rep)
			}
			if int(n) < recvBatch {
				break
			}
		}
	}
}

// arrival reads the SCM_TIMESTAMPNS control message: the time the kernel took the
// segment in; zero when absent.
func arrival(ctrl []byte) time.Time {
	for len(ctrl) >= unix.SizeofCmsghdr {
		c := (*unix.Cmsghdr)(unsafe.Pointer(&ctrl[0]))
		if c.Len < unix.SizeofCmsghdr || int(c.Len) > len(ctrl) {
			return time.Time{}
		}
		if c.Level == unix.SOL_SOCKET && c.Type == unix.SCM_TIMESTAMPNS && int(c.Len) >= unix.CmsgLen(int(unsafe.Sizeof(unix.Timespec{}))) {
			ts := (*unix.Timespec)(unsafe.Pointer(&ctrl[unix.CmsgLen(0)]))
			return time.Unix(ts.Unix())
		}
		ctrl = ctrl[min(unix.CmsgSpace(int(c.Len)-unix.CmsgLen(0)), len(ctrl)):]
	}
	return time.Time{}
}

func (s *rawSockets) close() {
	s.closeOnce.Do(func() {
		close(s.full)
		s.senders.Wait()
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
