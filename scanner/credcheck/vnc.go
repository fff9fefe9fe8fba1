package credcheck

import (
	"crypto/des"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"net"
	"strings"
)

// vncProbe answers the RFB VNC-authentication challenge (security type 2): the
// 16-byte challenge encrypted with DES under the password, as RFB 6.2.2 defines.
type vncProbe struct{}

func (vncProbe) try(a *attempt) (outcome, string, error) {
	c, err := a.conn()
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	var ver [12]byte
	if _, err := io.ReadFull(c, ver[:]); err != nil {
		return 0, "", fmt.Errorf("no RFB version: %w", err)
	}
	var major, minor int
	if _, err := fmt.Sscanf(string(ver[:]), "RFB %03d.%03d\n", &major, &minor); err != nil {
		return 0, "", fmt.Errorf("not RFB: %q", reply(string(ver[:])))
	}
	legacy := major == 3 && minor < 7
	answer := "RFB 003.008\n"
	if legacy {
		answer = "RFB 003.003\n"
	}
	if _, err := c.Write([]byte(answer)); err != nil {
		return 0, "", err
	}
	if legacy {
		var t [4]byte
		if _, err := io.ReadFull(c, t[:]); err != nil {
			return 0, "", err
		}
		switch binary.BigEndian.Uint32(t[:]) {
		case 0:
			return refusal(c)
		case 2:
		default:
			return 0, "", fmt.Errorf("no VNC authentication offered")
		}
	} else {
		var n [1]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return 0, "", err
		}
		if n[0] == 0 {
			return refusal(c)
		}
		types := make([]byte, n[0])
		if _, err := io.ReadFull(c, types); err != nil {
			return 0, "", err
		}
		if !strings.ContainsRune(string(types), 2) {
			return 0, "", fmt.Errorf("no VNC authentication offered (types % x)", types)
		}
		if _, err := c.Write([]byte{2}); err != nil {
			return 0, "", err
		}
	}
	var challenge [16]byte
	if _, err := io.ReadFull(c, challenge[:]); err != nil {
		return 0, "", fmt.Errorf("no challenge: %w", err)
	}
	resp, err := vncResponse(a.entry.Password, challenge[:])
	if err != nil {
		return 0, "", err
	}
	if _, err := c.Write(resp); err != nil {
		return 0, "", err
	}
	var res [4]byte
	if _, err := io.ReadFull(c, res[:]); err != nil {
		return 0, "", fmt.Errorf("no security result: %w", err)
	}
	switch binary.BigEndian.Uint32(res[:]) {
	case 0:
		return accepted, "security result OK", nil
	case 2: // "too many attempts" in RFB 3.3's servers
		return throttled, "security result: too many attempts", nil
	}
	why := "security result failed"
	if !legacy {
		if reason, err := readReason(c); err == nil {
			why += ": " + reply(reason)
			if tooMany(reason) {
				return throttled, why, nil
			}
		}
	}
	return rejected, why, nil
}

// refusal reads the reason a server gives for refusing before any challenge:
// TigerVNC and others refuse a host that failed too often this way.
func refusal(c net.Conn) (outcome, string, error) {
	reason, err := readReason(c)
	if err != nil {
		return 0, "", fmt.Errorf("connection refused without a reason: %w", err)
	}
	if tooMany(reason) {
		return throttled, reply(reason), nil
	}
	return 0, "", fmt.Errorf("connection refused: %s", reply(reason))
}

func readReason(c net.Conn) (string, error) {
	var n [4]byte
	if _, err := io.ReadFull(c, n[:]); err != nil {
		return "", err
	}
	l := min(binary.BigEndian.Uint32(n[:]), 1024)
	b := make([]byte, l)
	_, err := io.ReadFull(c, b)
	return string(b), err
}

func tooMany(s string) bool {
	s = strings.ToLower(s)
	return strings.Contains(s, "too many") || strings.Contains(s, "blacklist") || strings.Contains(s, "blocked")
}

// vncResponse encrypts the challenge with DES, the key being the password padded
// or cut to 8 bytes with each byte's bits mirrored (the RFB convention).
func vncResponse(password string, challenge []byte) ([]byte, error) {
	var key [8]byte
	copy(key[:], password)
	for i := range key {
		key[i] = bits.Reverse8(key[i])
	}
	block, err := des.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(challenge))
	for i := 0; i+8 <= len(challenge); i += 8 {
		block.Encrypt(out[i:i+8], challenge[i:i+8])
	}
	return out, nil
}
