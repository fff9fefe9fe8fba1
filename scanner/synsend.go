package scanner

import (
	"errors"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// synPacket is one SYN the engine has decided to send.
type synPacket struct {
	src, dst     netip.Addr
	sport, dport uint16
	seq          uint32
}

// sendFailure is a probe the machine refused for good (no route, a local
// firewall): its host is unreachable.
type sendFailure struct {
	dst netip.Addr
	err error
}

// synSendQueue is how the engine's probes reach the raw socket: several
// senders, one per CPU. On a LAN the kernel runs a probe's whole path in the
// thread that sends it (our SYN, the target's answer, that answer queued on our
// receiving socket), so one sending thread caps the rate at what one CPU
// carries, while the engine's own work per probe is a small fraction of it.
//
// The queue is short (a few milliseconds at most): a probe
// is stamped when the engine queues it, and a long queue would read as a
// queue on the path and shrink the windows.
type synSendQueue struct {
	sock     *rawSockets
	packets  chan synPacket
	failures chan sendFailure
	room     chan struct{} // a batch went out: the queue has room
	socks    []sendSockets // each sender's
	wg       sync.WaitGroup
}

const (
	// synBatchLen is how many packets one sendmmsg or recvmmsg call carries:
	// the cost of entering the kernel is paid once for them.
	synBatchLen      = 32
	synSendQueueLen  = 64
	synSendBusyRetry = 200 * time.Microsecond // the interface's queue is full: wait this long
	synSendBusyTries = 50
)

func newSynSendQueue(sock *rawSockets, senders int) *synSendQueue {
	q := &synSendQueue{sock: sock, packets: make(chan synPacket, synSendQueueLen), failures: make(chan sendFailure, 1024),
		room: make(chan struct{}, 1)}
	q.socks = sock.senderSockets(max(senders, 1))
	for _, socks := range q.socks {
		q.wg.Go(func() { q.sender(socks) })
	}
	return q
}

func (q *synSendQueue) sourcePort() uint16 { return q.sock.sourcePort() }

// errSendersBusy means the senders' queue is full: the engine tries again at
// its next tick.
var errSendersBusy = errors.New("SYN senders busy")

// send queues a probe; errSendersBusy when the senders are behind.
func (q *synSendQueue) send(src, dst netip.Addr, sport, dport uint16, seq uint32) error {
	select {
	case q.packets <- synPacket{src: src, dst: dst, sport: sport, dport: dport, seq: seq}:
		return nil
	default:
		return errSendersBusy
	}
}

// sender sends what the engine queued, in batches of what has gathered.
func (q *synSendQueue) sender(socks sendSockets) {
	b := newSynSendBatch()
	for p := range q.packets {
		pkts := append(b.pkts[:0], p)
	gather:
		for len(pkts) < synBatchLen {
			select {
			case p, ok := <-q.packets:
				if !ok {
					break gather
				}
				pkts = append(pkts, p)
			default:
				break gather
			}
		}
		q.sock.sendBatch(b, socks, pkts, q.fail)
		select {
		case q.room <- struct{}{}:
		default:
		}
	}
}

// fail reports a probe the machine refused for good.
func (q *synSendQueue) fail(p synPacket, err error) {
	select {
	case q.failures <- sendFailure{dst: p.dst, err: err}:
	default: // the host is reported by an earlier failure, or times out
	}
}

// busy tells a refusal of this machine's for now (full buffers, a signal)
// from one for good.
func busy(err error) bool {
	return errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.ENOMEM)
}

// close stops the senders once the queued probes are out.
func (q *synSendQueue) close() {
	close(q.packets)
	q.wg.Wait()
	q.sock.closeSenderSockets(q.socks)
}
