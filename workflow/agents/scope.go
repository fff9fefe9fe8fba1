package agents

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// InternetZone is the zone name that enrols an internet-vantage agent: it
// scans the assets' public (NAT) addresses from outside.
const InternetZone = "internet"

// Scope is what an agent may scan: its zones and their prefixes, signed by
// the server. The agent refuses any target outside it, whatever it is asked.
type Scope struct {
	AgentID  uint        `json:"agent_id"`
	Agent    string      `json:"agent"`
	Zones    []ZoneScope `json:"zones"`
	IssuedAt time.Time   `json:"issued_at"`
}

// ZoneScope is one zone of a scope. An internet-vantage agent's zone
// "internet" lists the assets' public addresses as single-address prefixes.
type ZoneScope struct {
	Name  string         `json:"name"`
	CIDRs []netip.Prefix `json:"cidrs"`
}

// SignedScope is a scope document as it travels: the exact bytes signed
// and the server's signature over them.
type SignedScope struct {
	Document  string `json:"document"`  // base64 of the scope's JSON
	Signature string `json:"signature"` // base64 Ed25519
}

// maxScopeLen bounds a scope document (a zone list with its prefixes).
const maxScopeLen = 1 << 20

// Allows reports whether addr lies inside one of the scope's prefixes.
func (s *Scope) Allows(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, z := range s.Zones {
		for _, p := range z.CIDRs {
			if p.Contains(addr) {
				return true
			}
		}
	}
	return false
}

// content is the scope without its issue time: what changes when an admin
// changes a zone, hashed to tell whether to re-issue.
func (s Scope) contentHash() string {
	c := s
	c.IssuedAt = time.Time{}
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// SignScope signs a scope with the server's key.
func SignScope(key ed25519.PrivateKey, s Scope) (SignedScope, error) {
	for i := range s.Zones {
		slices.SortFunc(s.Zones[i].CIDRs, func(a, b netip.Prefix) int { return strings.Compare(a.String(), b.String()) })
	}
	slices.SortFunc(s.Zones, func(a, b ZoneScope) int { return strings.Compare(a.Name, b.Name) })
	b, err := json.Marshal(s)
	if err != nil {
		return SignedScope{}, err
	}
	return SignedScope{Document: base64.StdEncoding.EncodeToString(b), Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(key, b))}, nil
}

// ParseScope checks a signed scope document against the server's key and
// reads it. Anything unsigned, malformed or for another agent is refused.
func ParseScope(raw []byte, serverKey ed25519.PublicKey, agentID uint) (*Scope, error) {
	if len(raw) > maxScopeLen {
		return nil, errors.New("the scope document is too large")
	}
	var ss SignedScope
	if err := json.Unmarshal(raw, &ss); err != nil {
		return nil, fmt.Errorf("the scope document does not parse: %w", err)
	}
	return ss.Open(serverKey, agentID)
}

// Open verifies and reads a signed scope.
func (ss SignedScope) Open(serverKey ed25519.PublicKey, agentID uint) (*Scope, error) {
	doc, err := base64.StdEncoding.DecodeString(ss.Document)
	if err != nil || len(doc) == 0 {
		return nil, errors.New("the scope document is not base64")
	}
	sig, err := base64.StdEncoding.DecodeString(ss.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, errors.New("the scope signature is not a base64 Ed25519 signature")
	}
	if len(serverKey) != ed25519.PublicKeySize || !ed25519.Verify(serverKey, doc, sig) {
		return nil, errors.New("the scope document is not signed by this server's key")
	}
	var s Scope
	if err := json.Unmarshal(doc, &s); err != nil {
		return nil, fmt.Errorf("the scope document does not parse: %w", err)
	}
	if s.AgentID != agentID {
		return nil, fmt.Errorf("the scope document is for agent %d, not this agent (%d)", s.AgentID, agentID)
	}
	if s.IssuedAt.IsZero() {
		return nil, errors.New("the scope document has no issue time")
	}
	for _, z := range s.Zones {
		for _, p := range z.CIDRs {
			if !p.IsValid() {
				return nil, fmt.Errorf("zone %q has an invalid prefix", z.Name)
			}
		}
	}
	return &s, nil
}
