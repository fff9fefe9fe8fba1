//go:build !linux

package scanner

import (
	"errors"
	"net/netip"
)

var errNoPrivilege = errors.New("SYN scanning is implemented on Linux only")

type rawSockets struct{ lport uint16 }

func openRawSockets() (*rawSockets, error)     { return nil, errNoPrivilege }
func (s *rawSockets) sourcePort() uint16       { return 0 }
func (s *rawSockets) supports(netip.Addr) bool { return false }
func (s *rawSockets) receive(func(tcpReply))   {}

type synSendBatch struct{ pkts [synBatchLen]synPacket }

func newSynSendBatch() *synSendBatch { return new(synSendBatch) }

type sendSockets struct{}

func (s *rawSockets) senderSockets(int) []sendSockets  { return []sendSockets{{}} }
func (s *rawSockets) closeSenderSockets([]sendSockets) {}

func (s *rawSockets) sendBatch(_ *synSendBatch, _ sendSockets, pkts []synPacket, fail func(synPacket, error)) {
	for _, p := range pkts {
		fail(p, errNoPrivilege)
	}
}
func (s *rawSockets) close() {}
