package scanner

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"
)

// connectOnce makes one TCP handshake on a non-blocking socket bound to an
// ephemeral port first (reserving it), and closes with a reset (linger 0), leaving
// no TIME_WAIT. When the wait ends, the kernel is asked whether the handshake
// completed: on a loaded machine the timer can fire after the SYN-ACK arrived but
// before this goroutine ran, and the net package would then report a timeout for
// an open port.
func connectOnce(ctx context.Context, target netip.AddrPort, timeout time.Duration) connectOutcome {
	var family int
	var local, remote syscall.Sockaddr
	if a := target.Addr().Unmap(); a.Is4() {
		family, local = syscall.AF_INET, &syscall.SockaddrInet4{}
		remote = &syscall.SockaddrInet4{Port: int(target.Port()), Addr: a.As4()}
	} else {
		family, local = syscall.AF_INET6, &syscall.SockaddrInet6{}
		sa := &syscall.SockaddrInet6{Port: int(target.Port()), Addr: a.As16()}
		if zone := a.Zone(); zone != "" { // link-local: fe80::1%eth0
			if ifi, err := net.InterfaceByName(zone); err == nil {
				sa.ZoneId = uint32(ifi.Index)
			} else if n, err := strconv.Atoi(zone); err == nil {
				sa.ZoneId = uint32(n)
			}
		}
		remote = sa
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return classifyDialError(ctx, err)
	}
	if err := syscall.Bind(fd, local); err != nil {
		syscall.Close(fd)
		return classifyDialError(ctx, err)
	}
	syscall.SetsockoptLinger(fd, syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1, Linger: 0})
	err = syscall.Connect(fd, remote)
	if err != nil && err != syscall.EINPROGRESS {
		syscall.Close(fd)
		return classifyDialError(ctx, err)
	}
	f := os.NewFile(uintptr(fd), "tcp") // non-blocking: waits go through the runtime's poller
	defer f.Close()
	f.SetWriteDeadline(time.Now().Add(timeout))
	stop := context.AfterFunc(ctx, func() { f.SetWriteDeadline(time.Now()) })
	defer stop()
	rc, err := f.SyscallConn()
	if err != nil {
		return outcomeLocal
	}
	var result error
	settled := func(fd uintptr) bool {
		soerr, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
		switch {
		case err != nil:
			result = err
		case soerr != 0:
			result = syscall.Errno(soerr)
		default:
			if _, err := syscall.Getpeername(int(fd)); err != nil {
				return false // still connecting
			}
			result = nil
		}
		return true
	}
	werr := rc.Write(settled)
	if werr != nil {
		// The wait ended (timeout or cancel): the kernel has the last word.
		done := false
		rc.Control(func(fd uintptr) { done = settled(fd) })
		if !done {
			if ctx.Err() != nil {
				return outcomeCancelled
			}
			return outcomeTimeout
		}
	}
	if result == nil {
		return outcomeOpen
	}
	return classifyDialError(ctx, result)
}
