package models

import (
	"context"
	"errors"
	"time"

	"github.com/alexedwards/scs/v2"

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
	row := Session{Token: token, Data: b, Expiry: expiry.UTC(), UserID: sessionUser(b)}
	return s.DB.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error
}

// SessionUserKey is the session value holding the logged-in user's id; the
// store copies it into the row so that a person's sessions can be found.
const SessionUserKey = "user_id"

// sessionUser reads the user id out of scs's encoded session data (its
// default gob codec); nil when nobody is logged in.
func sessionUser(b []byte) *uint {
	_, values, err := scs.GobCodec{}.Decode(b)
	if err != nil {
		return nil
	}
	if id, ok := values[SessionUserKey].(int); ok && id > 0 {
		u := uint(id)
		return &u
	}
	return nil
}

// DeleteUserSessions ends every session of a user.
func DeleteUserSessions(tx *gorm.DB, userID uint) (int64, error) {
	res := tx.Where("user_id = ?", userID).Delete(&Session{})
	return res.RowsAffected, res.Error
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
