-- Access that ends (issue 12 item 2): API tokens expire, admins can disable
-- a user, the identity provider's refresh token is kept (sealed) so a
-- periodic check can ask whether the person still belongs, and sessions
-- record their user so that ending someone's access can delete them.
-- Numbered 6: other branches in flight take 3 and 4.

-- +goose Up
ALTER TABLE api_tokens ADD COLUMN expires_at timestamp with time zone;
ALTER TABLE users ADD COLUMN disabled_at timestamp with time zone;
ALTER TABLE users ADD COLUMN disabled_reason text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN refresh_token bytea;
ALTER TABLE users ADD COLUMN access_checked_at timestamp with time zone;
ALTER TABLE sessions ADD COLUMN user_id bigint;
CREATE INDEX idx_sessions_user_id ON sessions(user_id);

-- +goose Down
DROP INDEX idx_sessions_user_id;
ALTER TABLE sessions DROP COLUMN user_id;
ALTER TABLE users DROP COLUMN access_checked_at;
ALTER TABLE users DROP COLUMN refresh_token;
ALTER TABLE users DROP COLUMN disabled_reason;
ALTER TABLE users DROP COLUMN disabled_at;
ALTER TABLE api_tokens DROP COLUMN expires_at;
