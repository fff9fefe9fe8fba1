package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/paging"
)

// Identity is who the identity provider says logged in.
type Identity struct {
	Issuer, Subject, Email, Name, Team string
	Roles                              []core.Role
	// RefreshToken is the provider's refresh token, when it issued one: kept
	// sealed so the access check can ask the provider about this person.
	RefreshToken string
}

// ActorOf turns a stored user into an actor.
func ActorOf(u models.User) core.Actor {
	return core.Actor{ID: u.ID, Email: u.Email, Name: u.Name, Team: u.Team, Roles: core.SplitRoles(u.Roles), Language: u.Language, TimeZone: u.TimeZone}
}

// Login records a successful login: the user is found by (issuer, subject)
// and their e-mail, name, team and roles are refreshed from the identity
// provider, which stays the source of truth for roles.
func (s *Service) Login(ctx context.Context, id Identity) (core.Actor, error) {
	if id.Issuer == "" || id.Subject == "" {
		return core.Actor{}, core.Unauthorized(core.M("err.identity.no_subject", "the identity provider gave no issuer or subject"))
	}
	if len(id.Roles) == 0 {
		// The identity provider took every role away: the stored user loses
		// them too, so their API tokens stop working at once.
		err := s.InTx(ctx, func(tx *gorm.DB) error {
			var u models.User
			if err := tx.Where("issuer = ? AND subject = ?", id.Issuer, id.Subject).First(&u).Error; err != nil || u.Roles == "" {
				return nil
			}
			if err := tx.Model(&models.User{}).Where("id = ?", u.ID).Update("roles", "").Error; err != nil {
				return err
			}
			return s.Audit(tx, core.SystemActor, "user.roles_removed", "user", u.ID, "", "", map[string]string{"roles_before": u.Roles}, "the identity provider no longer grants any role")
		})
		if err != nil {
			return core.Actor{}, err
		}
		return core.Actor{}, core.Forbidden(core.M("err.identity.no_role", "your account has no Portcullis role: ask an administrator to add you to one of the Portcullis groups"))
	}
	var u models.User
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		err := tx.Where("issuer = ? AND subject = ?", id.Issuer, id.Subject).First(&u).Error
		isNew := errors.Is(err, gorm.ErrRecordNotFound)
		if err != nil && !isNew {
			return err
		}
		if u.DisabledAt != nil {
			return errDisabled
		}
		now := s.Now()
		before := ActorOf(u)
		u.Issuer, u.Subject, u.Email, u.Name, u.Team, u.Roles = id.Issuer, id.Subject, id.Email, id.Name, id.Team, core.JoinRoles(id.Roles)
		if u.Name == "" {
			u.Name = id.Email
		}
		u.LastLoginAt = &now
		u.RefreshToken, u.AccessCheckedAt = nil, &now
		if isNew && id.RefreshToken != "" && s.aead != nil {
			// The user id is part of the sealing: save first to learn it.
			if err := tx.Save(&u).Error; err != nil {
				return err
			}
		}
		if id.RefreshToken != "" && s.aead != nil {
			u.RefreshToken = s.seal(u.ID, id.RefreshToken)
		}
		if err := tx.Save(&u).Error; err != nil {
			return err
		}
		detail := map[string]any{"roles": u.Roles, "team": u.Team, "refresh_token": u.RefreshToken != nil}
		if !isNew && core.JoinRoles(before.Roles) != u.Roles {
			detail["roles_before"] = core.JoinRoles(before.Roles)
		}
		return s.Audit(tx, ActorOf(u), "user.login", "user", u.ID, "", "", detail, "")
	})
	if errors.Is(err, errDisabled) {
		return core.Actor{}, core.Forbidden(core.M("err.identity.disabled", "your Portcullis account is disabled: ask an administrator"))
	}
	if err != nil {
		return core.Actor{}, err
	}
	return ActorOf(u), nil
}

var errDisabled = errors.New("user disabled")

// ActorByID returns the actor for a session's user id.
func (s *Service) ActorByID(ctx context.Context, id uint) (core.Actor, error) {
	var u models.User
	if err := s.DB().WithContext(ctx).First(&u, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return core.Actor{}, core.Unauthorized(core.M("err.identity.user_gone", "your session belongs to a user that no longer exists; log in again"))
		}
		return core.Actor{}, err
	}
	// A disabled user, or one the identity provider took every role from,
	// has no session left, even one created before sessions recorded their user.
	if u.DisabledAt != nil || strings.TrimSpace(u.Roles) == "" {
		return core.Actor{}, core.Unauthorized(core.M("err.identity.access_ended", "your access has ended; log in again"))
	}
	return ActorOf(u), nil
}

// ListUsers returns the users, optionally only those holding role.
func (s *Service) ListUsers(ctx context.Context, role core.Role) ([]models.User, error) {
	var users []models.User
	if err := s.DB().WithContext(ctx).Order("email").Find(&users).Error; err != nil {
		return nil, err
	}
	if role == "" {
		return users, nil
	}
	var out []models.User
	for _, u := range users {
		if ActorOf(u).Has(role) {
			out = append(out, u)
		}
	}
	return out, nil
}

// UserKey is where a page of the user list starts: by e-mail, then id.
type UserKey struct {
	Email string `json:"email"`
	ID    uint   `json:"id"`
}

// ListUsersPage is one page of the users in e-mail order, read from the
// e-mail index.
func (s *Service) ListUsersPage(ctx context.Context, page paging.Request[UserKey]) (paging.Page[models.User], error) {
	q := s.DB().WithContext(ctx)
	if page.After != nil {
		q = q.Where("(email, id) > (?, ?)", page.After.Email, page.After.ID)
	}
	var rows []models.User
	if err := q.Order("email, id").Limit(page.Fetch()).Find(&rows).Error; err != nil {
		return paging.Page[models.User]{}, err
	}
	return paging.Cut(page, rows, func(u models.User) UserKey { return UserKey{Email: u.Email, ID: u.ID} }), nil
}

// tokenPrefix marks Portcullis tokens, so secret scanners can recognise them.
const tokenPrefix = "pcl_"

// HashToken is how a token is kept: only its SHA-256.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateToken makes an API token with the default lifetime.
func (s *Service) CreateToken(ctx context.Context, actor core.Actor, email, name string) (string, *models.APIToken, error) {
	return s.CreateTokenTTL(ctx, actor, email, name, 0)
}

// CreateTokenTTL makes an API token for the user with email, lasting ttl
// (0: the default lifetime; longer than the admins' maximum is refused). A
// person may create their own; the command line acts as the system and may
// create one for anyone. The secret is returned once and never stored.
func (s *Service) CreateTokenTTL(ctx context.Context, actor core.Actor, email, name string, ttl time.Duration) (string, *models.APIToken, error) {
	email, name = strings.TrimSpace(email), strings.TrimSpace(name)
	if name == "" {
		name = "API token"
	}
	if utf8.RuneCountInString(name) > core.Limits.Name {
		return "", nil, core.Invalid("name", core.M("err.identity.token_name_long", "the token name is too long (at most {{.Max}} characters)", "Max", core.Limits.Name))
	}
	var u models.User
	if err := s.DB().WithContext(ctx).Where("LOWER(email) = ?", strings.ToLower(email)).First(&u).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return "", nil, core.NewError(core.CodeNotFound, "user", core.M("err.identity.no_user_email", "no user has the e-mail {{.Email}} (users appear after their first login; see 'portcullis user list')", "Email", email))
		}
		return "", nil, err
	}
	if actor.ID != 0 && actor.ID != u.ID && !actor.Has(core.RoleAdmin) {
		return "", nil, core.Forbidden(core.M("err.identity.token_for_self", "you can only create tokens for yourself"))
	}
	if u.DisabledAt != nil {
		return "", nil, core.Invalid("user", core.M("err.identity.user_disabled", "the user {{.Email}} is disabled", "Email", u.Email))
	}
	def, longest, err := TokenLifetimes(s.DB().WithContext(ctx))
	if err != nil {
		return "", nil, err
	}
	switch {
	case ttl < 0:
		return "", nil, core.Invalid("ttl", core.M("err.identity.ttl_zero", "the token lifetime must be longer than zero"))
	case ttl == 0:
		ttl = def
	case ttl > longest:
		return "", nil, core.Invalid("ttl", core.M("err.identity.ttl_too_long", "the token lifetime {{.TTL}} is longer than the maximum of {{.Max}} set by the administrators", "TTL", FormatTTL(ttl), "Max", FormatTTL(longest)))
	}
	expires := s.Now().Add(ttl)
	raw := make([]byte, 32)
	rand.Read(raw)
	secret := tokenPrefix + hex.EncodeToString(raw)
	// Created on the same clock as the expiry: the admins' maximum is counted from it.
	tok := models.APIToken{UserID: u.ID, Name: name, Prefix: secret[:12], Hash: HashToken(secret), ExpiresAt: &expires, CreatedAt: s.Now()}
	err = s.InTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Omit("User").Create(&tok).Error; err != nil {
			return err
		}
		return s.Audit(tx, actor, "token.create", "user", u.ID, "", "", map[string]any{"token_id": tok.ID, "name": name, "prefix": tok.Prefix, "expires_at": expires}, "")
	})
	if err != nil {
		return "", nil, err
	}
	return secret, &tok, nil
}

// ListTokens returns the actor's own tokens, each with the expiry in force
// (EffectiveExpiry), not only the one it was made with.
func (s *Service) ListTokens(ctx context.Context, actor core.Actor) ([]models.APIToken, error) {
	var out []models.APIToken
	db := s.DB().WithContext(ctx)
	if err := db.Where("user_id = ?", actor.ID).Order("id DESC").Find(&out).Error; err != nil {
		return nil, err
	}
	def, longest, err := TokenLifetimes(db)
	if err != nil {
		return nil, err
	}
	for i := range out {
		e := EffectiveExpiry(out[i], def, longest)
		out[i].ExpiresAt = &e
	}
	return out, nil
}

// EffectiveExpiry is when a token stops working: the expiry it was made
// with (the default lifetime after its creation for tokens made before
// tokens expired), cut short by the admins' current maximum lifetime
// counted from its creation, so lowering the maximum shortens the tokens
// that already exist too.
func EffectiveExpiry(tok models.APIToken, def, longest time.Duration) time.Time {
	expires := tok.CreatedAt.Add(def)
	if tok.ExpiresAt != nil {
		expires = *tok.ExpiresAt
	}
	if capped := tok.CreatedAt.Add(longest); capped.Before(expires) {
		return capped
	}
	return expires
}

// RevokeToken stops one of the actor's tokens (an admin may stop anyone's).
func (s *Service) RevokeToken(ctx context.Context, actor core.Actor, id uint) error {
	return s.InTx(ctx, func(tx *gorm.DB) error {
		var tok models.APIToken
		if err := tx.First(&tok, id).Error; err != nil {
			return core.NotFound("token", id)
		}
		if tok.UserID != actor.ID && !actor.Has(core.RoleAdmin) {
			return core.NotFound("token", id)
		}
		if tok.RevokedAt != nil {
			return nil
		}
		now := s.Now()
		if err := tx.Model(&tok).Update("revoked_at", &now).Error; err != nil {
			return err
		}
		return s.Audit(tx, actor, "token.revoke", "user", tok.UserID, "", "", map[string]any{"token_id": tok.ID, "prefix": tok.Prefix}, "")
	})
}

// AuthenticateToken returns the actor a bearer token belongs to.
func (s *Service) AuthenticateToken(ctx context.Context, secret string) (core.Actor, error) {
	unauthorised := core.NewError(core.CodeUnauthorized, "", core.M("err.identity.token_invalid", "the bearer token is not valid (unknown or revoked)"))
	if !strings.HasPrefix(secret, tokenPrefix) {
		return core.Actor{}, unauthorised
	}
	var tok models.APIToken
	db := s.DB().WithContext(ctx)
	if err := db.Preload("User").Where("hash = ?", HashToken(secret)).First(&tok).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return core.Actor{}, unauthorised
		}
		return core.Actor{}, err
	}
	if tok.RevokedAt != nil || strings.TrimSpace(tok.User.Roles) == "" || tok.User.DisabledAt != nil {
		return core.Actor{}, unauthorised
	}
	now := s.Now()
	def, longest, err := TokenLifetimes(db)
	if err != nil {
		return core.Actor{}, err
	}
	if !now.Before(EffectiveExpiry(tok, def, longest)) {
		return core.Actor{}, core.Unauthorized(core.M("err.identity.token_expired", "the bearer token has expired; create a new one on your profile page or with 'portcullis token create'"))
	}
	// Recording use at most once a minute keeps API reads from becoming writes.
	if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) > time.Minute {
		db.Model(&models.APIToken{}).Where("id = ?", tok.ID).Update("last_used_at", &now)
	}
	return ActorOf(tok.User), nil
}
