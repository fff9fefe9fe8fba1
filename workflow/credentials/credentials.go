// Package credentials keeps the admin's list of default credentials that the
// server's scans try in zones where an admin turned the checks on. The list holds
// passwords: it is stored sealed (AES-256-GCM), is never shown back, and its
// audit events record how many entries it has, never what they are.
package credentials

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
)

// listKeyInfo separates this key from any other derived from the same secret.
const listKeyInfo = "portcullis credential-list sealing v1"

// MaxListBytes bounds the list: defaults, not a dictionary.
const MaxListBytes = 64 << 10

// listID is the one row of the table.
const listID = 1

// KeyFrom derives the list's 256-bit sealing key from a server secret (serve
// uses the audit signing key), with HKDF-SHA256.
func KeyFrom(secret []byte) ([]byte, error) {
	if len(secret) < 16 {
		return nil, errors.New("the secret to derive the credential-list key from is too short")
	}
	return hkdf.Key(sha256.New, secret, nil, listKeyInfo, 32)
}

// Parser checks a list's text and counts its entries; the scanner's parser,
// given by the caller (the workflow does not import the scanner). Its errors
// must not quote passwords.
type Parser func(text string) (entries int, err error)

// Service keeps the list.
type Service struct {
	*core.Store
	aead  cipher.AEAD
	parse Parser
}

// New makes the feature; SetKey and SetParser must be called before Save.
func New(st *core.Store) *Service { return &Service{Store: st} }

// SetKey sets the sealing key.
func (s *Service) SetKey(key []byte) error {
	block, err := aes.NewCipher(key)
	if err != nil {
		return fmt.Errorf("credential-list key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	s.aead = aead
	return nil
}

// SetParser sets how lists are checked.
func (s *Service) SetParser(p Parser) { s.parse = p }

// Status is what may be shown of the list.
type Status struct {
	Entries   int
	UpdatedBy string
	UpdatedAt time.Time
	Stored    bool
}

// Status tells whether a list is stored, how long it is and who last set it.
func (s *Service) Status(ctx context.Context) (Status, error) {
	var l models.CredentialList
	err := s.DB().WithContext(ctx).Where("id = ?", listID).Limit(1).Find(&l).Error
	if err != nil || l.ID == 0 {
		return Status{}, err
	}
	return Status{Entries: l.Entries, UpdatedBy: l.UpdatedBy, UpdatedAt: l.UpdatedAt, Stored: true}, nil
}

// Save replaces the list (an empty text removes it). Admins only; audited with
// the number of entries.
func (s *Service) Save(ctx context.Context, actor core.Actor, text string) error {
	if !actor.Has(core.RoleAdmin) {
		return core.Forbidden(core.M("err.credentials.admin", "you need the admin role to change the credential list"))
	}
	if len(text) > MaxListBytes {
		return core.Invalid("list", core.M("err.credentials.too_long", "the list is longer than {{.KiB}} KiB; it names defaults, it is no dictionary", "KiB", MaxListBytes>>10))
	}
	entries := 0
	if strings.TrimSpace(text) != "" {
		if s.aead == nil || s.parse == nil {
			return errors.New("the credential list cannot be stored: no sealing key is configured")
		}
		var err error
		if entries, err = s.parse(text); err != nil {
			return core.Invalid("list", core.M("err.credentials.list_invalid", "{{.Reason}}", "Reason", core.Plain(err.Error())))
		}
	}
	return s.InTx(ctx, func(tx *gorm.DB) error {
		var before int64
		tx.Model(&models.CredentialList{}).Where("id = ?", listID).Select("entries").Scan(&before)
		if err := tx.Where("id = ?", listID).Delete(&models.CredentialList{}).Error; err != nil {
			return err
		}
		action := "credentials.list.clear"
		if entries > 0 {
			action = "credentials.list.update"
			row := models.CredentialList{ID: listID, Sealed: s.seal(text), Entries: entries, UpdatedBy: actor.Email, UpdatedAt: s.Now()}
			if err := tx.Create(&row).Error; err != nil {
				return err
			}
		}
		return s.Audit(tx, actor, action, "credential_list", listID, "", "", map[string]any{"entries_before": before, "entries": entries}, "")
	})
}

// Load returns the list's text for the scanner, or "" when none is stored.
func (s *Service) Load(ctx context.Context) (string, error) {
	var l models.CredentialList
	if err := s.DB().WithContext(ctx).Where("id = ?", listID).Limit(1).Find(&l).Error; err != nil || l.ID == 0 {
		return "", err
	}
	if s.aead == nil {
		return "", errors.New("the credential list is stored but no key is configured to open it")
	}
	return s.open(l.Sealed)
}

// boundTo is the authenticated data: a sealed list copied elsewhere does not open.
var boundTo = []byte("credential_lists:1")

func (s *Service) seal(text string) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, []byte(text), boundTo)
}

func (s *Service) open(sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("the sealed credential list is too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], boundTo)
	if err != nil {
		return "", errors.New("the sealed credential list does not open (another audit key?); an admin must enter it again")
	}
	return string(plain), nil
}
