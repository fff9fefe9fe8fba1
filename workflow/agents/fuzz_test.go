package agents_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/portcullis/portcullis/workflow/agents"
)

// FuzzParseSigned: the signature header parser never panics, and whatever
// it accepts is well formed.
func FuzzParseSigned(f *testing.F) {
	seed := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	f.Add(agents.Sign(seed, 3, "POST", "/api/v1/agent/work", []byte("{}"), time.Unix(1_800_000_000, 0), "00112233445566778899aabbccddeeff"))
	f.Add("agent=1, ts=1, nonce=00, sig=AA")
	f.Add("agent=1,,ts=2")
	f.Add("=,=,=")
	f.Fuzz(func(t *testing.T, h string) {
		s, err := agents.ParseSigned(h)
		if err != nil {
			return
		}
		if s.AgentID == 0 || len(s.Nonce) != 32 || len(s.Signature) != ed25519.SignatureSize || s.Timestamp.Unix() <= 0 {
			t.Fatalf("accepted a malformed header %q: %+v", h, s)
		}
	})
}

// FuzzParseScope: the scope parser never panics and accepts nothing the
// server did not sign.
func FuzzParseScope(f *testing.F) {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	pub := key.Public().(ed25519.PublicKey)
	signed, err := agents.SignScope(key, agents.Scope{AgentID: 1, Agent: "a", IssuedAt: time.Unix(1_800_000_000, 0).UTC(),
		Zones: []agents.ZoneScope{{Name: "apps"}}})
	if err != nil {
		f.Fatal(err)
	}
	good, _ := json.Marshal(signed)
	f.Add(good)
	f.Add([]byte(`{"document":"e30=","signature":""}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := agents.ParseScope(raw, pub, 1)
		if err != nil {
			return
		}
		var ss agents.SignedScope
		if json.Unmarshal(raw, &ss) != nil {
			t.Fatalf("accepted unparseable %q", raw)
		}
		if s.AgentID != 1 || s.IssuedAt.IsZero() {
			t.Fatalf("accepted %+v", s)
		}
		got, _ := base64.StdEncoding.DecodeString(ss.Document)
		want, _ := base64.StdEncoding.DecodeString(signed.Document)
		if !bytes.Equal(got, want) {
			t.Fatalf("accepted a document the key never signed: %q", got)
		}
	})
}
