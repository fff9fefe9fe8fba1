// Command delayline is the lab's slow link. This kernel has no sch_netem, so the
// lab routes traffic through a TUN device instead: every IP packet the kernel
// sends into the device is read here, dropped at random with the given
// probability, held for the given one-way delay and written back into the same
// device, where the kernel receives it as if it had come in on a wire and routes it
// on to its destination. The lab runs it inside its router namespace, whose
// policy routes send packets arriving from the scanner's side and from the lab's
// side into the device; so each packet crosses it once per direction and a round
// trip costs twice the delay.
//
//	delayline -dev dl0 -delay 15ms -loss 0.01
//
// It creates the device (gone when it exits); the caller sets it up and routes to
// it. SIGTERM or SIGINT ends it and prints what it forwarded and dropped.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "delayline:", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	dev   string
	delay time.Duration
	loss  float64
	limit int
	seed  uint64
}

func parseArgs(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("delayline", flag.ContinueOnError)
	fs.StringVar(&c.dev, "dev", "dl0", "name of the TUN device to create")
	fs.DurationVar(&c.delay, "delay", 15*time.Millisecond, "one-way delay of every packet")
	fs.Float64Var(&c.loss, "loss", 0, "probability that a packet is dropped (0.01 is 1%), in each direction")
	fs.IntVar(&c.limit, "limit", 50000, "packets held at once; more are dropped, as a full queue would")
	fs.Uint64Var(&c.seed, "seed", 0, "seed of the loss draws (0: a random one)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case c.dev == "" || len(c.dev) >= syscall.IFNAMSIZ:
		return c, fmt.Errorf("-dev %q: want a name of 1 to %d characters", c.dev, syscall.IFNAMSIZ-1)
	case c.delay < 0:
		return c, fmt.Errorf("-delay %v: want zero or more", c.delay)
	case c.loss < 0 || c.loss >= 1:
		return c, fmt.Errorf("-loss %v: want a probability in [0, 1)", c.loss)
	case c.limit <= 0:
		return c, fmt.Errorf("-limit %d: want at least 1", c.limit)
	}
	return c, nil
}

// TUN ioctl and flags (linux/if_tun.h).
const (
	tunSetIff = 0x400454ca
	iffTun    = 0x0001
	iffNoPI   = 0x1000
)

// openTUN creates a TUN device that carries bare IP packets.
func openTUN(name string) (*os.File, error) {
	fd, err := syscall.Open("/dev/net/tun", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("/dev/net/tun: %w", err)
	}
	var req struct {
		name  [syscall.IFNAMSIZ]byte
		flags uint16
		_     [22]byte
	}
	copy(req.name[:], name)
	req.flags = iffTun | iffNoPI
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), tunSetIff, uintptr(unsafe.Pointer(&req))); errno != 0 {
		syscall.Close(fd)
		return nil, fmt.Errorf("creating TUN device %s: %w", name, errno)
	}
	// Non-blocking, so that the runtime's poller serves reads and Close ends them.
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "/dev/net/tun:"+name), nil
}

// held is a packet waiting for its time.
type held struct {
	due  time.Time
	data []byte
}

type counters struct{ read, lost, overflow, written atomic.Int64 }

func run(ctx context.Context, args []string, stderr io.Writer) error {
	c, err := parseArgs(args)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	dev, err := openTUN(c.dev)
	if err != nil {
		return err
	}
	seed := c.seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	log.Info("delay line ready", "dev", c.dev, "delay", c.delay, "loss", c.loss, "limit", c.limit, "seed", seed)

	// The delay is the same for every packet, so a FIFO keeps them in due order
	// and never reorders a flow.
	queue := make(chan held, c.limit)
	var n counters
	readDone := make(chan error, 1)
	go func() { readDone <- readLoop(dev, queue, c, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), &n) }()
	writeDone := make(chan error, 1)
	go func() { writeDone <- writeLoop(dev, queue, &n) }()

	// Counters every few seconds while they move: the lab reads the last line to
	// tell loss it asked for from a queue that overflowed.
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	var last int64
	stats := func(msg string) {
		log.Info(msg, "read", n.read.Load(), "lost", n.lost.Load(), "overflow", n.overflow.Load(), "written", n.written.Load(), "held", len(queue))
	}
wait:
	for {
		select {
		case <-ctx.Done():
			break wait
		case err = <-readDone:
			break wait
		case err = <-writeDone:
			break wait
		case <-tick.C:
			if r := n.read.Load(); r != last {
				last = r
				stats("delay line")
			}
		}
	}
	dev.Close()
	stats("delay line stopped")
	if errors.Is(err, os.ErrClosed) {
		err = nil
	}
	return err
}

func readLoop(dev *os.File, queue chan<- held, c config, rng *rand.Rand, n *counters) error {
	defer close(queue)
	buf := make([]byte, 65536)
	for {
		k, err := dev.Read(buf)
		if err != nil {
			return err
		}
		n.read.Add(1)
		if c.loss > 0 && rng.Float64() < c.loss {
			n.lost.Add(1)
			continue
		}
		select {
		case queue <- held{due: time.Now().Add(c.delay), data: append([]byte(nil), buf[:k]...)}:
		default:
			n.overflow.Add(1)
		}
	}
}

func writeLoop(dev *os.File, queue <-chan held, n *counters) error {
	for p := range queue {
		if d := time.Until(p.due); d > 0 {
			time.Sleep(d)
		}
		if _, err := dev.Write(p.data); err != nil {
			if errors.Is(err, os.ErrClosed) {
				return err
			}
			// A packet the kernel refuses (no route back, say) is lost, as on a wire.
			continue
		}
		n.written.Add(1)
	}
	return nil
}
