package identity

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// refreshKeyInfo separates the refresh-token key from any other key derived
// from the same secret.
const refreshKeyInfo = "portcullis refresh-token sealing v1"

// RefreshKeyFrom derives the 256-bit key that seals refresh tokens from a
// server secret (serve uses the audit signing key): HKDF-SHA256, so the
// derived key reveals nothing about the secret and serves nothing else.
func RefreshKeyFrom(secret []byte) ([]byte, error) {
	if len(secret) < 16 {
		return nil, errors.New("the secret to derive the refresh-token key from is too short")
	}
	return hkdf.Key(sha256.New, secret, nil, refreshKeyInfo, 32)
}

// SetRefreshKey enables keeping refresh tokens, sealed with AES-256-GCM
// under key. Without a key no refresh token is kept.
func (s *Service) SetRefreshKey(key []byte) error {
	block, err := aes.NewCipher(key)
	if err != nil {
		return fmt.Errorf("refresh-token key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	s.aead = aead
	return nil
}

// seal encrypts a refresh token bound to its user (the user id is
// authenticated data, so a sealed token copied to another row will not open).
func (s *Service) seal(userID uint, token string) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, []byte(token), boundTo(userID))
}

func (s *Service) open(userID uint, sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("sealed refresh token too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], boundTo(userID))
	if err != nil {
		return "", errors.New("the sealed refresh token does not open (another key?)")
	}
	return string(plain), nil
}

func boundTo(userID uint) []byte { return fmt.Appendf(nil, "user:%d", userID) }
