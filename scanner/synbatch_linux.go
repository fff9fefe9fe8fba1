package scanner

import (
	"net/netip"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// synSendBatch is one sender's buffers for sendmmsg, allocated once (the kernel
// reads them through the pointers in hdrs).
type synSendBatch struct {
	hdrs  [synBatchLen]unix.Mmsghdr
	iovs  [synBatchLen]unix.Iovec
	bufs  [synBatchLen][64]byte
	addr4 [synBatchLen]unix.RawSockaddrInet4
	addr6 [synBatchLen]unix.RawSockaddrInet6
	pkts  [synBatchLen]synPacket
}

func newSynSendBatch() *synSendBatch { return new(synSendBatch) }

// sendSockets is one sender's send-only raw sockets, one per address family
// (-1: none).
type sendSockets struct{ v4, v6 int }

// senderSockets gives each of n senders sockets of its own where it can: the
// kernel holds a raw socket's lock while it sends, and on a LAN that covers the
// packet's whole way to the target and the answer back, so senders sharing a
// socket take turns. The first sender uses the scan's own sockets.
func (s *rawSockets) senderSockets(n int) []sendSockets {
	out := []sendSockets{{s.send4, s.send6}}
	for len(out) < n {
		v4, err := rawSocket(unix.AF_INET, true, 0)
		if err != nil {
			break
		}
		v6 := -1
		if s.send6 >= 0 {
			if v6, err = rawSocket(unix.AF_INET6, true, 0); err != nil {
				unix.Close(v4)
				break
			}
		}
		out = append(out, sendSockets{v4, v6})
	}
	return out
}

// closeSenderSockets closes what senderSockets opened.
func (s *rawSockets) closeSenderSockets(socks []sendSockets) {
	for _, ss := range socks[1:] {
		for _, fd := range []int{ss.v4, ss.v6} {
			if fd >= 0 {
				unix.Close(fd)
			}
		}
	}
}

// sendBatch sends pkts (at most synBatchLen) on socks, calling fail for each
// one the machine refuses for good. A full interface queue is waited out.
func (s *rawSockets) sendBatch(b *synSendBatch, socks sendSockets, pkts []synPacket, fail func(synPacket, error)) {
	for len(pkts) > 0 {
		n := 1
		for n < len(pkts) && pkts[n].dst.Is4() == pkts[0].dst.Is4() {
			n++
		}
		fd := socks.v4
		if !pkts[0].dst.Is4() {
			fd = socks.v6
		}
		sendRun(b, fd, pkts[:n], fail)
		pkts = pkts[n:]
	}
}

// sendRun sends packets of one address family on fd.
func sendRun(b *synSendBatch, fd int, pkts []synPacket, fail func(synPacket, error)) {
	if fd < 0 {
		for _, p := range pkts {
			fail(p, unix.EAFNOSUPPORT)
		}
		return
	}
	for i, p := range pkts {
		seg := buildSYN(b.bufs[i][:], p.src, p.dst, p.sport, p.dport, p.seq)
		b.iovs[i] = unix.Iovec{Base: &b.bufs[i][0]}
		b.iovs[i].SetLen(len(seg))
		h := &b.hdrs[i].Hdr
		*h = unix.Msghdr{Iov: &b.iovs[i]}
		h.SetIovlen(1)
		if p.dst.Is4() {
			b.addr4[i] = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: p.dst.As4()}
			h.Name, h.Namelen = (*byte)(unsafe.Pointer(&b.addr4[i])), unix.SizeofSockaddrInet4
		} else {
			b.addr6[i] = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: p.dst.As16()}
			h.Name, h.Namelen = (*byte)(unsafe.Pointer(&b.addr6[i])), unix.SizeofSockaddrInet6
		}
	}
	for off, tries := 0, 0; off < len(pkts); {
		r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&b.hdrs[off])), uintptr(len(pkts)-off), 0, 0, 0)
		switch {
		case errno == 0:
			off += int(r)
			tries = 0
		case busy(errno) && tries < synSendBusyTries:
			// A full interface queue empties in microseconds: wait rather than
			// lose the probe, which was stamped sent and holds a window slot.
			tries++
			time.Sleep(synSendBusyRetry)
		default:
			fail(pkts[off], errno)
			off++
			tries = 0
		}
	}
}

// synRecvBatch is one receiver's buffers for recvmmsg.
type synRecvBatch struct {
	hdrs  [synBatchLen]unix.Mmsghdr
	iovs  [synBatchLen]unix.Iovec
	bufs  [synBatchLen][1500]byte
	names [synBatchLen]unix.RawSockaddrInet6
}

// receiveBatches reads fd until stop, handing each segment to deliver. It
// waits for the first packet, takes what has queued with it, then pauses a
// moment: at a high rate the next call finds a batch waiting, and the kernel
// need not wake this thread for every reply (a wake-up costs more than
// receiving the packet).
func (s *rawSockets) receiveBatches(fd int, v4 bool, deliver func(tcpReply)) {
	b := new(synRecvBatch)
	for {
		select {
		case <-s.stop:
			return
		default:
		}
		for i := range b.hdrs {
			b.iovs[i] = unix.Iovec{Base: &b.bufs[i][0]}
			b.iovs[i].SetLen(len(b.bufs[i]))
			b.hdrs[i] = unix.Mmsghdr{Hdr: unix.Msghdr{Iov: &b.iovs[i], Name: (*byte)(unsafe.Pointer(&b.names[i])), Namelen: unix.SizeofSockaddrInet6}}
			b.hdrs[i].Hdr.SetIovlen(1)
		}
		r, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&b.hdrs[0])), synBatchLen, unix.MSG_WAITFORONE, 0, 0)
		if errno != 0 {
			continue // the receive timeout (to look at stop), EINTR
		}
		for i := range int(r) {
			pkt := b.bufs[i][:b.hdrs[i].Len]
			var rep tcpReply
			var err error
			if v4 {
				rep, err = parseIPv4TCP(pkt)
			} else {
				rep, err = parseTCP(pkt, netip.AddrFrom16(b.names[i].Addr), netip.Addr{})
			}
			if err == nil && rep.dport-s.lport < maxTries {
				deliver(rep)
			}
		}
		if r < synBatchLen {
			time.Sleep(synRecvPause)
		}
	}
}

// synRecvPause lets replies gather between reads; it delays an answer's
// timestamp by as much, well under the smallest timeout.
const synRecvPause = 200 * time.Microsecond
