//go:build !linux

package scanner

import (
	"errors"
	"net/netip"
)

var errNoPrivilege = errors.New("SYN scanning is implemented on Linux only")

type rawSockets struct{ lport uint16 }

func openRawSockets() (*rawSockets, error)                              { return nil, errNoPrivilege }
func (s *rawSockets) sourcePort() uint16                                { return 0 }
func (s *rawSockets) supports(netip.Addr) bool                          { return false }
func (s *rawSockets) send(_, _ netip.Addr, _, _ uint16, _ uint32) error { return errNoPrivilege }
func (s *rawSockets) receive(func(tcpReply))                            {}
func (s *rawSockets) close()                                            {}
