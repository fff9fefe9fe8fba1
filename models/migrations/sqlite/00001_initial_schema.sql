-- The schema as the ordered gorm migrations 1-5 of earlier releases left it
-- (dumped with sqlite3 .schema from a database they created), so that a
-- database they created and one created here are the same.

-- +goose Up
CREATE TABLE `users` (`id` integer PRIMARY KEY AUTOINCREMENT,`issuer` text NOT NULL,`subject` text NOT NULL,`email` text NOT NULL,`name` text NOT NULL,`team` text NOT NULL DEFAULT "",`roles` text NOT NULL DEFAULT "",`created_at` datetime,`last_login_at` datetime);
CREATE INDEX `idx_users_email` ON `users`(`email`);
CREATE UNIQUE INDEX `idx_users_identity` ON `users`(`issuer`,`subject`);
CREATE TABLE `api_tokens` (`id` integer PRIMARY KEY AUTOINCREMENT,`user_id` integer NOT NULL,`name` text NOT NULL,`prefix` text NOT NULL,`hash` text NOT NULL,`created_at` datetime,`last_used_at` datetime,`revoked_at` datetime,CONSTRAINT `fk_api_tokens_user` FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON DELETE CASCADE);
CREATE UNIQUE INDEX `idx_api_tokens_hash` ON `api_tokens`(`hash`);
CREATE INDEX `idx_api_tokens_user_id` ON `api_tokens`(`user_id`);
CREATE TABLE `sessions` (`token` text,`data` blob NOT NULL,`expiry` datetime NOT NULL,PRIMARY KEY (`token`));
CREATE INDEX `idx_sessions_expiry` ON `sessions`(`expiry`);
CREATE TABLE `zones` (`id` integer PRIMARY KEY AUTOINCREMENT,`name` text NOT NULL,`classification` text NOT NULL,`cidrs` text NOT NULL DEFAULT "",`owner` text NOT NULL DEFAULT "",`description` text NOT NULL DEFAULT "",`created_at` datetime,`updated_at` datetime);
CREATE UNIQUE INDEX `idx_zones_name` ON `zones`(`name`);
CREATE TABLE `assets` (`id` integer PRIMARY KEY AUTOINCREMENT,`address` text NOT NULL,`hostname` text NOT NULL DEFAULT "",`owner_team` text NOT NULL DEFAULT "",`application` text NOT NULL DEFAULT "",`zone_id` integer,`created_at` datetime,`updated_at` datetime,CONSTRAINT `fk_assets_zone` FOREIGN KEY (`zone_id`) REFERENCES `zones`(`id`) ON DELETE SET NULL);
CREATE INDEX `idx_assets_zone_id` ON `assets`(`zone_id`);
CREATE UNIQUE INDEX `idx_assets_address` ON `assets`(`address`);
CREATE TABLE `requests` (`id` integer PRIMARY KEY AUTOINCREMENT,`title` text NOT NULL,`justification` text NOT NULL,`state` text NOT NULL,`version` integer NOT NULL DEFAULT 1,`requester_id` integer NOT NULL,`team` text NOT NULL DEFAULT "",`expires_at` datetime NOT NULL,`needs_second_approval` numeric NOT NULL DEFAULT false,`change_ref` text NOT NULL DEFAULT "",`implement_note` text NOT NULL DEFAULT "",`implementer_id` integer,`findings` text NOT NULL DEFAULT "[]",`exception` numeric NOT NULL DEFAULT false,`compensating_controls` text NOT NULL DEFAULT "{}",`submitted_at` datetime,`approved_at` datetime,`certified_at` datetime,`implemented_at` datetime,`closed_at` datetime,`created_at` datetime,`updated_at` datetime,CONSTRAINT `fk_requests_requester` FOREIGN KEY (`requester_id`) REFERENCES `users`(`id`));
CREATE INDEX `idx_requests_requester_id` ON `requests`(`requester_id`);
CREATE INDEX `idx_requests_state` ON `requests`(`state`);
CREATE TABLE `rules` (`id` integer PRIMARY KEY AUTOINCREMENT,`request_id` integer NOT NULL,`position` integer NOT NULL,`source` text NOT NULL,`destination` text NOT NULL,`protocol` text NOT NULL,`ports` text NOT NULL,`service` text NOT NULL DEFAULT "",`direction` text NOT NULL,CONSTRAINT `fk_requests_rules` FOREIGN KEY (`request_id`) REFERENCES `requests`(`id`) ON DELETE CASCADE);
CREATE INDEX `idx_rules_request_id` ON `rules`(`request_id`);
CREATE TABLE `reviews` (`id` integer PRIMARY KEY AUTOINCREMENT,`request_id` integer NOT NULL,`reviewer_id` integer NOT NULL,`kind` text NOT NULL,`decision` text NOT NULL,`comment` text NOT NULL DEFAULT "",`zone_confirmed` numeric NOT NULL DEFAULT false,`checklist` text NOT NULL DEFAULT "[]",`voided` numeric NOT NULL DEFAULT false,`created_at` datetime,CONSTRAINT `fk_reviews_reviewer` FOREIGN KEY (`reviewer_id`) REFERENCES `users`(`id`),CONSTRAINT `fk_requests_reviews` FOREIGN KEY (`request_id`) REFERENCES `requests`(`id`) ON DELETE CASCADE);
CREATE INDEX `idx_reviews_reviewer_id` ON `reviews`(`reviewer_id`);
CREATE INDEX `idx_reviews_request_id` ON `reviews`(`request_id`);
CREATE TABLE `comments` (`id` integer PRIMARY KEY AUTOINCREMENT,`request_id` integer NOT NULL,`author_id` integer NOT NULL,`body` text NOT NULL,`created_at` datetime,CONSTRAINT `fk_comments_author` FOREIGN KEY (`author_id`) REFERENCES `users`(`id`));
CREATE INDEX `idx_comments_request_id` ON `comments`(`request_id`);
CREATE TABLE `audit_events` (`id` integer PRIMARY KEY AUTOINCREMENT,`seq` integer,`at` datetime NOT NULL,`actor_id` integer,`actor` text NOT NULL,`action` text NOT NULL,`object_type` text NOT NULL,`object_id` integer NOT NULL,`from_state` text NOT NULL DEFAULT "",`to_state` text NOT NULL DEFAULT "",`detail` text NOT NULL DEFAULT "{}",`comment` text NOT NULL DEFAULT "",`prev_hash` text NOT NULL DEFAULT "",`hash` text NOT NULL DEFAULT "");
CREATE INDEX `idx_audit_events_action` ON `audit_events`(`action`);
CREATE INDEX `idx_audit_events_at` ON `audit_events`(`at`);
CREATE UNIQUE INDEX `idx_audit_events_seq` ON `audit_events`(`seq`);
CREATE TABLE `settings` (`key` text,`value` text NOT NULL,`updated_at` datetime,PRIMARY KEY (`key`));
CREATE TABLE `policy_documents` (`kind` text,`content` text NOT NULL,`updated_by` text NOT NULL DEFAULT "",`updated_at` datetime,PRIMARY KEY (`kind`));
CREATE TABLE `audit_checkpoints` (`id` integer PRIMARY KEY AUTOINCREMENT,`tree_size` integer NOT NULL,`head_hash` text NOT NULL,`note` text NOT NULL,`created_at` datetime);
CREATE INDEX `idx_audit_checkpoints_tree_size` ON `audit_checkpoints`(`tree_size`);
-- +goose StatementBegin
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE on audit_events refused'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE on audit_events refused'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE on audit_checkpoints refused'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE on audit_checkpoints refused'); END;
-- +goose StatementEnd
CREATE TABLE `recert_campaigns` (`id` integer PRIMARY KEY AUTOINCREMENT,`name` text NOT NULL,`due_by` datetime NOT NULL,`created_by` text NOT NULL,`created_at` datetime,`closed_at` datetime);
CREATE TABLE `recertifications` (`id` integer PRIMARY KEY AUTOINCREMENT,`campaign_id` integer NOT NULL,`request_id` integer NOT NULL,`team` text NOT NULL DEFAULT "",`status` text NOT NULL,`justification` text NOT NULL DEFAULT "",`new_expires_at` datetime,`decided_by` text NOT NULL DEFAULT "",`decided_at` datetime,`reminded_at` datetime,CONSTRAINT `fk_recertifications_campaign` FOREIGN KEY (`campaign_id`) REFERENCES `recert_campaigns`(`id`),CONSTRAINT `fk_recertifications_request` FOREIGN KEY (`request_id`) REFERENCES `requests`(`id`));
CREATE INDEX `idx_recertifications_status` ON `recertifications`(`status`);
CREATE INDEX `idx_recertifications_request_id` ON `recertifications`(`request_id`);
CREATE INDEX `idx_recertifications_campaign_id` ON `recertifications`(`campaign_id`);
CREATE TABLE `job_leases` (`name` text,`holder` text NOT NULL,`lease_until` datetime,`last_run_at` datetime,PRIMARY KEY (`name`));
CREATE TABLE `scan_runs` (`id` integer PRIMARY KEY AUTOINCREMENT,`kind` text NOT NULL,`profile` text NOT NULL,`targets` text NOT NULL,`tcp_ports` text NOT NULL DEFAULT "",`udp_ports` text NOT NULL DEFAULT "",`zone` text NOT NULL DEFAULT "",`request_id` integer,`status` text NOT NULL,`holder` text NOT NULL DEFAULT "",`requested_by` text NOT NULL,`progress` text NOT NULL DEFAULT "{}",`error` text NOT NULL DEFAULT "",`report` text NOT NULL DEFAULT "",`summary` text NOT NULL DEFAULT "",`queued_at` datetime,`started_at` datetime,`finished_at` datetime);
CREATE INDEX `idx_scan_runs_status` ON `scan_runs`(`status`);
CREATE INDEX `idx_scan_runs_request_id` ON `scan_runs`(`request_id`);
CREATE INDEX `idx_scan_runs_kind` ON `scan_runs`(`kind`);
CREATE TABLE `scan_schedules` (`zone_id` integer,`daily_hour` integer NOT NULL DEFAULT 2,`weekly_day` integer NOT NULL DEFAULT 0,`weekly_hour` integer NOT NULL DEFAULT 3,`updated_at` datetime,PRIMARY KEY (`zone_id`),CONSTRAINT `fk_scan_schedules_zone` FOREIGN KEY (`zone_id`) REFERENCES `zones`(`id`) ON DELETE CASCADE);
CREATE TABLE `drift_items` (`id` integer PRIMARY KEY AUTOINCREMENT,`key` text NOT NULL,`kind` text NOT NULL,`severity` text NOT NULL,`address` text NOT NULL,`protocol` text NOT NULL DEFAULT "",`port` integer NOT NULL DEFAULT 0,`last_port` integer NOT NULL DEFAULT 0,`service` text NOT NULL DEFAULT "",`approved_service` text NOT NULL DEFAULT "",`zone` text NOT NULL DEFAULT "",`classification` text NOT NULL DEFAULT "",`rule_id` integer NOT NULL DEFAULT 0,`request_id` integer NOT NULL DEFAULT 0,`detail` text NOT NULL DEFAULT "",`evidence` text NOT NULL DEFAULT "{}",`state` text NOT NULL,`first_seen` datetime,`last_seen` datetime,`last_scan_id` integer,`resolved_at` datetime,`acknowledged_by` text NOT NULL DEFAULT "",`suppressed_until` datetime,`suppress_reason` text NOT NULL DEFAULT "",`filed_request_id` integer);
CREATE INDEX `idx_drift_items_resolved_at` ON `drift_items`(`resolved_at`);
CREATE INDEX `idx_drift_items_first_seen` ON `drift_items`(`first_seen`);
CREATE INDEX `idx_drift_items_state` ON `drift_items`(`state`);
CREATE INDEX `idx_drift_items_address` ON `drift_items`(`address`);
CREATE INDEX `idx_drift_items_severity` ON `drift_items`(`severity`);
CREATE INDEX `idx_drift_items_kind` ON `drift_items`(`kind`);
CREATE INDEX `idx_drift_items_key` ON `drift_items`(`key`);
CREATE TABLE `alert_deliveries` (`id` integer PRIMARY KEY AUTOINCREMENT,`drift_item_id` integer NOT NULL,`channel` text NOT NULL,`status` text NOT NULL,`attempts` integer NOT NULL DEFAULT 0,`last_error` text NOT NULL DEFAULT "",`next_attempt` datetime,`delivered_at` datetime,`created_at` datetime);
CREATE INDEX `idx_alert_deliveries_status` ON `alert_deliveries`(`status`);
CREATE UNIQUE INDEX `idx_alert_once` ON `alert_deliveries`(`drift_item_id`,`channel`);
