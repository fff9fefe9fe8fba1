// Package identity owns the people: users and their roles as the identity
// provider grants them, logins, and API tokens.
package identity

import (
	"crypto/cipher"

	"github.com/portcullis/portcullis/workflow/core"
)

// Service runs logins and token management.
type Service struct {
	*core.Store
	// aead seals refresh tokens; nil keeps none (see SetRefreshKey).
	aead cipher.AEAD
}

// New makes the identity feature over the shared store.
func New(st *core.Store) *Service { return &Service{Store: st} }
