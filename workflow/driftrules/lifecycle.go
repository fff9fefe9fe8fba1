package driftrules

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis/portcullis/workflow/policy"
)

// Tracked states: an item is open when first seen, acknowledged when someone
// has taken it on, resolved when a later scan no longer sees it, and
// suppressed when someone has accepted it for a while, with a reason the
// server records and an expiry.
const (
	StateOpen         = "open"
	StateAcknowledged = "acknowledged"
	StateResolved     = "resolved"
	StateSuppressed   = "suppressed"
)

// Tracked is a drift item as the server stores it, reduced to what the
// lifecycle needs.
type Tracked struct {
	Key             string
	State           string
	SuppressedUntil time.Time
}

// live reports whether the record still stands for its key at now: open,
// acknowledged, or suppressed with an expiry still ahead. A suppression
// without an expiry counts as expired: the server always sets one, and
// erring towards showing the item again is the safe side for an alert.
func (t Tracked) live(now time.Time) bool {
	switch t.State {
	case StateOpen, StateAcknowledged:
		return true
	case StateSuppressed:
		return now.Before(t.SuppressedUntil)
	}
	return false
}

// Reconcile merges a fresh comparison into the tracked items.
//
//   - newItems are the fresh items whose key has no live record (open,
//     acknowledged, or suppressed until after now). A key seen again after
//     it was resolved, or after its suppression ran out, comes back as a new
//     item; the old record stays as history.
//   - stillOpen are the live records that stand: those seen again (the
//     caller updates their last-seen time) and those this scan did not
//     cover. Their state is unchanged: an acknowledged item stays
//     acknowledged, a suppressed one stays suppressed until its expiry, even
//     when the scan no longer sees it.
//   - resolved are the open or acknowledged records whose key is absent from
//     fresh and whose host and port the scan covered (scanned returns true),
//     with State set to StateResolved. A scan that did not look cannot
//     resolve anything; a nil scanned covers nothing.
//
// Records in other states (resolved, expired suppressions, states this
// package does not know) are history and appear in no result. The results
// keep the order of existing and fresh; a key given twice in fresh counts
// once. Coverage builds a scanned function from the observations.
func Reconcile(existing []Tracked, fresh []Item, scanned func(Tracked) bool, now time.Time) (newItems []Item, stillOpen []Tracked, resolved []Tracked) {
	seen := make(map[string]bool, len(fresh))
	for _, it := range fresh {
		seen[it.Key] = true
	}
	liveKeys := make(map[string]bool, len(existing))
	for _, t := range existing {
		if !t.live(now) {
			continue
		}
		liveKeys[t.Key] = true
		switch {
		case seen[t.Key], t.State == StateSuppressed:
			stillOpen = append(stillOpen, t)
		case scanned != nil && scanned(t):
			t.State = StateResolved
			resolved = append(resolved, t)
		default:
			stillOpen = append(stillOpen, t)
		}
	}
	for _, it := range fresh {
		if liveKeys[it.Key] {
			continue
		}
		liveKeys[it.Key] = true // a key twice in fresh makes one new item
		newItems = append(newItems, it)
	}
	return newItems, stillOpen, resolved
}

// KeyParts is what a Key says about where an item is.
type KeyParts struct {
	Kind     Kind
	Address  netip.Addr
	Protocol policy.Protocol // empty for a tarpit
	Port     uint16          // zero for a tarpit
	LastPort uint16          // equal to Port but for a range
}

// ParseKey reads a Key back; false when it is not one Compare makes.
func ParseKey(key string) (KeyParts, bool) {
	fields := strings.Split(key, "|")
	if len(fields) == 5 {
		// An approved-closed item names its request last.
		n, ok := strings.CutPrefix(fields[4], "request-")
		if id, err := strconv.ParseUint(n, 10, 63); !ok || err != nil || id == 0 || fields[0] != string(KindApprovedClosed) {
			return KeyParts{}, false
		}
		fields = fields[:4]
	}
	if len(fields) != 2 && len(fields) != 4 {
		return KeyParts{}, false
	}
	var k KeyParts
	k.Kind = Kind(fields[0])
	if kindRank(k.Kind) >= len(Kinds()) || (k.Kind == KindTarpit) != (len(fields) == 2) {
		return KeyParts{}, false
	}
	addr, err := netip.ParseAddr(fields[1])
	if err != nil {
		return KeyParts{}, false
	}
	k.Address = addr
	if k.Kind == KindTarpit {
		return k, true
	}
	proto, ok := normalProtocol(policy.Protocol(fields[2]))
	if !ok || string(proto) != fields[2] {
		return KeyParts{}, false
	}
	k.Protocol = proto
	first, last, isRange := strings.Cut(fields[3], "-")
	lo, err := strconv.ParseUint(first, 10, 16)
	if err != nil || lo == 0 {
		return KeyParts{}, false
	}
	hi := lo
	if isRange {
		if hi, err = strconv.ParseUint(last, 10, 16); err != nil || hi < lo {
			return KeyParts{}, false
		}
	}
	k.Port, k.LastPort = uint16(lo), uint16(hi)
	return k, true
}

// Coverage returns the scanned function Reconcile needs, for the
// observations Compare was given: whether this scan looked where a tracked
// item is, so that not seeing it again means it is gone.
//
// A tarpit item is covered when its host was observed (and not Down). A port
// item is covered when its host was observed, not Down, and every port of
// the item lies in the host's Scanned scope. On a tarpit host a TCP port is
// covered only when the scan identified an application on it: Compare does
// not judge the other TCP ports of a tarpit, so their silence proves
// nothing. A key that does not parse is never covered.
func Coverage(obs []Observation) func(Tracked) bool {
	byAddr := make(map[netip.Addr][]*Observation, len(obs))
	for i := range obs {
		if a, ok := normalAddr(obs[i].Address); ok && !obs[i].Down {
			byAddr[a] = append(byAddr[a], &obs[i])
		}
	}
	return func(t Tracked) bool {
		k, ok := ParseKey(t.Key)
		if !ok {
			return false
		}
		hosts := byAddr[k.Address.WithZone("").Unmap()]
		for _, o := range hosts {
			if k.Kind == KindTarpit {
				return true
			}
			if !o.Scanned.Covers(k.Protocol, k.Port, k.LastPort) {
				continue
			}
			if o.Tarpit && k.Protocol == policy.TCP && !identifiedIn(o, k) {
				continue
			}
			return true
		}
		return false
	}
}

// identifiedIn reports whether every port of k was listed open on o with a
// service the scanner identified.
func identifiedIn(o *Observation, k KeyParts) bool {
	if int(k.LastPort)-int(k.Port) >= len(o.Ports) {
		return false // more ports than the host listed: some cannot be there
	}
	for port := int(k.Port); port <= int(k.LastPort); port++ {
		found := false
		for _, p := range o.Ports {
			proto, ok := normalProtocol(p.Protocol)
			if ok && proto == k.Protocol && int(p.Port) == port && normalState(p.State) == PortOpen && normalService(p.Service) != ServiceUnknown {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
