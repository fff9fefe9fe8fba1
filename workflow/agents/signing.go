// Package agents is the server's side of the scanner agents: enrolment
// with one-time tokens, the Ed25519 keys agents sign their requests with,
// the scope document the server signs for each agent, and the chunk queue a
// zone scan is split into. The protocol's pure parts (signed requests, scope
// documents) are here too, so the agent and the server share one reading.
// It never speaks HTTP: handlers pass it methods, paths, headers and bodies.
package agents

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the HTTP header that carries a request's signature.
const SignatureHeader = "Portcullis-Agent-Signature"

// ReplayWindow is how far a request's timestamp may be from the server's
// clock; its nonce is remembered that long, so a captured request cannot
// be sent again.
const ReplayWindow = 2 * time.Minute

// maxHeaderLen bounds what is parsed: four short fields.
const maxHeaderLen = 512

// Signed is a parsed signature header.
type Signed struct {
	AgentID   uint
	Timestamp time.Time
	Nonce     string // 32 hex digits
	Signature []byte
}

// canonical is what is signed: every part of the request that matters,
// each on its own line, the body by its hash.
func canonical(agentID uint, method, path string, body []byte, ts int64, nonce string) []byte {
	sum := sha256.Sum256(body)
	return fmt.Appendf(nil, "portcullis-agent-v1\n%d\n%s\n%s\n%s\n%d\n%s", agentID, method, path, hex.EncodeToString(sum[:]), ts, nonce)
}

// NewNonce makes a random request nonce.
func NewNonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Sign returns the signature header value for a request.
func Sign(key ed25519.PrivateKey, agentID uint, method, path string, body []byte, now time.Time, nonce string) string {
	ts := now.Unix()
	sig := ed25519.Sign(key, canonical(agentID, method, path, body, ts, nonce))
	return fmt.Sprintf("agent=%d, ts=%d, nonce=%s, sig=%s", agentID, ts, nonce, base64.RawURLEncoding.EncodeToString(sig))
}

// ParseSigned reads a signature header: agent, ts, nonce and sig, each
// once, in any order.
func ParseSigned(h string) (Signed, error) {
	var s Signed
	if h == "" {
		return s, errors.New("the request is not signed (no " + SignatureHeader + " header)")
	}
	if len(h) > maxHeaderLen {
		return s, errors.New("the signature header is too long")
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || v == "" {
			return s, fmt.Errorf("signature header field %q is not key=value", part)
		}
		if seen[k] {
			return s, fmt.Errorf("signature header field %q appears twice", k)
		}
		seen[k] = true
		switch k {
		case "agent":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil || n == 0 {
				return s, fmt.Errorf("signature header: agent %q is not an agent id", v)
			}
			s.AgentID = uint(n)
		case "ts":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 || n > 1<<40 {
				return s, fmt.Errorf("signature header: ts %q is not a Unix time", v)
			}
			s.Timestamp = time.Unix(n, 0).UTC()
		case "nonce":
			if len(v) != 32 {
				return s, fmt.Errorf("signature header: nonce is %d characters, want 32 hex digits", len(v))
			}
			if _, err := hex.DecodeString(v); err != nil {
				return s, fmt.Errorf("signature header: nonce is not hex")
			}
			s.Nonce = strings.ToLower(v)
		case "sig":
			b, err := base64.RawURLEncoding.DecodeString(v)
			if err != nil || len(b) != ed25519.SignatureSize {
				return s, fmt.Errorf("signature header: sig is not a base64url Ed25519 signature")
			}
			s.Signature = b
		default:
			return s, fmt.Errorf("signature header: unknown field %q", k)
		}
	}
	for _, k := range []string{"agent", "ts", "nonce", "sig"} {
		if !seen[k] {
			return s, fmt.Errorf("signature header: %s is missing", k)
		}
	}
	return s, nil
}

// Verify checks the signature over the request with the agent's key and
// the timestamp against now; the nonce is checked by the caller, which
// remembers them.
func (s Signed) Verify(pub ed25519.PublicKey, method, path string, body []byte, now time.Time) error {
	if len(pub) != ed25519.PublicKeySize {
		return errors.New("the agent has no key")
	}
	if !ed25519.Verify(pub, canonical(s.AgentID, method, path, body, s.Timestamp.Unix(), s.Nonce), s.Signature) {
		return errors.New("the signature does not match the request")
	}
	if d := now.Sub(s.Timestamp); d > ReplayWindow || d < -ReplayWindow {
		return fmt.Errorf("the request's time %s is more than %s from the server's (%s): check the agent's clock", s.Timestamp.Format(time.RFC3339), ReplayWindow, now.UTC().Format(time.RFC3339))
	}
	return nil
}

// EncodeKey and DecodePublicKey are how keys travel: base64.
func EncodeKey(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// DecodePublicKey reads a base64 Ed25519 public key.
func DecodePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("not a base64 Ed25519 public key")
	}
	return ed25519.PublicKey(b), nil
}

// DecodePrivateKey reads a base64 Ed25519 seed.
func DecodePrivateKey(s string) (ed25519.PrivateKey, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != ed25519.SeedSize {
		return nil, errors.New("not a base64 Ed25519 seed")
	}
	return ed25519.NewKeyFromSeed(b), nil
}
