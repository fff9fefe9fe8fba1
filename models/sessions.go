package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SessionStore keeps browser sessions in the database, so that several
// instances behind a load balancer share them. It satisfies scs.CtxStore.
type SessionStore struct{ DB *gorm.DB }

// FindCtx returns the data of a live session.
func (s SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var row Session
	err := s.DB.WithContext(ctx).Where("token = ? AND expiry > ?", token, time.Now().UTC()).First(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return row.Data, true, nil
}

// CommitCtx saves a session.
func (s SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	row := Session{Token: token, Data: b, Expiry: expiry.UTC()}
	return s.DB.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error
}

// DeleteCtx destroys a session.
func (s SessionStore) DeleteCtx(ctx context.Context, token string) error {
	return s.DB.WithContext(ctx).Where("token = ?", token).Delete(&Session{}).Error
}

// Find, Commit and Delete serve callers without a context.
func (s SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

func (s SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

func (s SessionStore) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }

// DeleteExpiredSessions removes sessions past their expiry; the server runs it now and then.
func DeleteExpiredSessions(ctx context.Context, db *gorm.DB) error {
	return db.WithContext(ctx).Where("expiry < ?", time.Now().UTC()).Delete(&Session{}).Error
}
