package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
)

// MaxDisableReason bounds the reason an admin gives for disabling a user.
const MaxDisableReason = 500

// endAccessTx ends everything a user holds now: their API tokens are
// revoked, their browser sessions deleted and their refresh token dropped.
// It returns how many tokens and sessions it ended.
func (s *Service) endAccessTx(tx *gorm.DB, userID uint) (tokens, sessions int64, err error) {
	now := s.Now()
	res := tx.Model(&models.APIToken{}).Where("user_id = ? AND revoked_at IS NULL", userID).Update("revoked_at", &now)
	if res.Error != nil {
		return 0, 0, res.Error
	}
	sessions, err = models.DeleteUserSessions(tx, userID)
	if err != nil {
		return 0, 0, err
	}
	err = tx.Model(&models.User{}).Where("id = ?", userID).Update("refresh_token", nil).Error
	return res.RowsAffected, sessions, err
}

// DisableUser ends a user's access at once and keeps them out, whatever the
// identity provider says, until an admin enables them again.
func (s *Service) DisableUser(ctx context.Context, actor core.Actor, userID uint, reason string) error {
	if !actor.Has(core.RoleAdmin) {
		return core.Forbidden(core.M("err.identity.disable_admin", "you need the admin role to disable users"))
	}
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return core.Invalid("reason", core.M("err.identity.disable_reason", "say why the user is disabled"))
	case utf8.RuneCountInString(reason) > MaxDisableReason:
		return core.Invalid("reason", core.M("err.identity.disable_reason_long", "the reason is too long (at most {{.Max}} characters)", "Max", MaxDisableReason))
	case actor.ID == userID:
		return core.Invalid("user", core.M("err.identity.disable_self", "you cannot disable yourself"))
	}
	return s.InTx(ctx, func(tx *gorm.DB) error {
		var u models.User
		if err := tx.First(&u, userID).Error; err != nil {
			return core.NotFound("user", userID)
		}
		if u.DisabledAt != nil {
			return nil
		}
		now := s.Now()
		if err := tx.Model(&models.User{}).Where("id = ?", u.ID).Updates(map[string]any{"disabled_at": &now, "disabled_reason": reason}).Error; err != nil {
			return err
		}
		tokens, sessions, err := s.endAccessTx(tx, u.ID)
		if err != nil {
			return err
		}
		return s.Audit(tx, actor, "user.disabled", "user", u.ID, "", "", map[string]any{"email": u.Email, "tokens_revoked": tokens, "sessions_ended": sessions}, reason)
	})
}

// EnableUser lets a disabled user log in again. Their revoked tokens stay revoked.
func (s *Service) EnableUser(ctx context.Context, actor core.Actor, userID uint) error {
	if !actor.Has(core.RoleAdmin) {
		return core.Forbidden(core.M("err.identity.enable_admin", "you need the admin role to enable users"))
	}
	return s.InTx(ctx, func(tx *gorm.DB) error {
		var u models.User
		if err := tx.First(&u, userID).Error; err != nil {
			return core.NotFound("user", userID)
		}
		if u.DisabledAt == nil {
			return nil
		}
		if err := tx.Model(&models.User{}).Where("id = ?", u.ID).Updates(map[string]any{"disabled_at": nil, "disabled_reason": ""}).Error; err != nil {
			return err
		}
		return s.Audit(tx, actor, "user.enabled", "user", u.ID, "", "", map[string]any{"email": u.Email, "was_disabled_for": u.DisabledReason}, "")
	})
}

// ErrRefreshRefused is what a RefreshFunc returns (wrapped) when the
// identity provider refuses the refresh token (OAuth invalid_grant): the
// person was removed or disabled there, or their grant was revoked.
var ErrRefreshRefused = errors.New("the identity provider refused the refresh token")

// RefreshFunc asks the identity provider about a person by refreshing their
// token. It returns who the provider says they are now (roles mapped from
// their groups), with the refresh token to keep next in RefreshToken (empty:
// keep the old one). Any error other than ErrRefreshRefused means "cannot
// tell now".
type RefreshFunc func(ctx context.Context, refreshToken string) (Identity, error)

// AccessCheck counts what one round of CheckAccess did.
type AccessCheck struct {
	Checked, Revoked, Unchanged int
}

// CheckAccess asks the identity provider (issuer) about every enabled user
// who has a refresh token from it. A refused refresh, or groups that no
// longer grant any role, end that user's sessions and tokens, audited as
// user.access_revoked. When the provider cannot be reached, or answers
// something other than a refusal, the round stops and changes nothing more:
// an outage must never lock everybody out; the next round tries again.
func (s *Service) CheckAccess(ctx context.Context, issuer string, refresh RefreshFunc) (AccessCheck, error) {
	var sum AccessCheck
	if s.aead == nil {
		return sum, nil
	}
	var ids []uint
	err := s.DB().WithContext(ctx).Model(&models.User{}).
		Where("issuer = ? AND refresh_token IS NOT NULL AND disabled_at IS NULL", issuer).
		// Longest unchecked first, so a round cut short by its deadline
		// does not starve the same people every time.
		Order("access_checked_at").Order("id").Pluck("id", &ids).Error
	if err != nil {
		return sum, err
	}
	// A refresh, once sent, is finished and its answer stored even if the
	// round's deadline passes meanwhile: providers rotate refresh tokens, and
	// a new one lost would make the next round see a refusal. The deadline
	// is checked between users.
	work := context.WithoutCancel(ctx)
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		var u models.User
		if err := s.DB().WithContext(ctx).First(&u, id).Error; err != nil {
			continue // gone since the list was read
		}
		if u.RefreshToken == nil || u.DisabledAt != nil {
			continue
		}
		token, err := s.open(u.ID, u.RefreshToken)
		if err != nil {
			// Sealed under another key: this user can no longer be checked, and
			// keeps only the session lifetime and token TTL, as without one.
			s.Log().Warn("access check: dropping a refresh token that does not open", "user", u.Email, "err", err)
			s.DB().WithContext(ctx).Model(&models.User{}).Where("id = ?", u.ID).Update("refresh_token", nil)
			continue
		}
		sum.Checked++
		now, err := refresh(work, token)
		switch {
		case errors.Is(err, ErrRefreshRefused):
			err = s.revokeAccess(work, u, "the identity provider refused to refresh the login (account removed or disabled there)", nil)
		case err != nil:
			return sum, fmt.Errorf("access check stopped, nothing changed for the remaining users (the identity provider cannot tell now): %w", err)
		case now.Subject != u.Subject:
			err = s.revokeAccess(work, u, "the identity provider answered for another subject", nil)
		case len(now.Roles) == 0:
			err = s.revokeAccess(work, u, "the identity provider no longer puts the user in any Portcullis group", map[string]any{"roles_before": u.Roles})
		default:
			sum.Unchanged++
			err = s.recordCheck(work, u, now)
			if err != nil {
				return sum, err
			}
			continue
		}
		if err != nil {
			return sum, err
		}
		sum.Revoked++
	}
	return sum, nil
}

// revokeAccess ends a user's access after the identity provider said no.
func (s *Service) revokeAccess(ctx context.Context, u models.User, reason string, detail map[string]any) error {
	return s.InTx(ctx, func(tx *gorm.DB) error {
		tokens, sessions, err := s.endAccessTx(tx, u.ID)
		if err != nil {
			return err
		}
		now := s.Now()
		if err := tx.Model(&models.User{}).Where("id = ?", u.ID).Updates(map[string]any{"roles": "", "access_checked_at": &now}).Error; err != nil {
			return err
		}
		if detail == nil {
			detail = map[string]any{}
		}
		detail["reason"], detail["email"] = reason, u.Email
		detail["tokens_revoked"], detail["sessions_ended"] = tokens, sessions
		return s.Audit(tx, core.SystemActor, "user.access_revoked", "user", u.ID, "", "", detail, reason)
	})
}

// recordCheck keeps what the identity provider says now: roles, team,
// e-mail and the rotated refresh token. Only what changed is written: the
// roles, team and e-mail count as a change to what lists of requests show
// (migration 00022), which a check that found them as they were is not.
func (s *Service) recordCheck(ctx context.Context, u models.User, id Identity) error {
	return s.InTx(ctx, func(tx *gorm.DB) error {
		var cur models.User
		if err := tx.Select("roles", "team", "email").Where("id = ?", u.ID).Take(&cur).Error; err != nil {
			return err
		}
		now := s.Now()
		roles := core.JoinRoles(id.Roles)
		updates := map[string]any{"access_checked_at": &now}
		if roles != cur.Roles {
			updates["roles"] = roles
		}
		if id.Team != cur.Team {
			updates["team"] = id.Team
		}
		if id.Email != "" && id.Email != cur.Email {
			updates["email"] = id.Email
		}
		if id.RefreshToken != "" {
			updates["refresh_token"] = s.seal(u.ID, id.RefreshToken)
		}
		if err := tx.Model(&models.User{}).Where("id = ?", u.ID).Updates(updates).Error; err != nil {
			return err
		}
		if roles == u.Roles {
			return nil
		}
		return s.Audit(tx, core.SystemActor, "user.roles_refreshed", "user", u.ID, "", "", map[string]any{"roles": roles, "roles_before": u.Roles}, "the identity provider changed the user's groups")
	})
}

// ForgetRefreshTokens drops the refresh tokens issued by issuer. The
// development identity provider keeps its grants in memory, so after a
// restart of the demo it would refuse them all, and the access check would
// end every demo user's access; the demo forgets them at start instead.
func (s *Service) ForgetRefreshTokens(ctx context.Context, issuer string) error {
	return s.DB().WithContext(ctx).Model(&models.User{}).Where("issuer = ? AND refresh_token IS NOT NULL", issuer).Update("refresh_token", nil).Error
}
