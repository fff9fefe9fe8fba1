//go:build !linux

package scanner

import (
	"context"
	"net/netip"
	"time"
)

func connectOnce(ctx context.Context, target netip.AddrPort, timeout time.Duration) connectOutcome {
	return connectDial(ctx, target, timeout)
}
