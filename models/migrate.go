package models

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
)

// migration is one numbered step of the schema. Steps are append-only: a
// released step is never edited, a change is a new step.
type migration struct {
	ID   int
	Name string
	Up   func(tx *gorm.DB) error
}

// schemaMigration records which steps a database has run.
type schemaMigration struct {
	ID        int `gorm:"primaryKey;autoIncrement:false"`
	Name      string
	AppliedAt time.Time
}

func (schemaMigration) TableName() string { return "schema_migrations" }

var migrations = []migration{
	{1, "initial schema", func(tx *gorm.DB) error {
		return tx.Migrator().CreateTable(
			&User{}, &APIToken{}, &Session{}, &Zone{}, &Asset{},
			&Request{}, &Rule{}, &Review{}, &Comment{}, &AuditEvent{}, &Setting{},
		)
	}},
	{2, "policy engine: documents and request findings", func(tx *gorm.DB) error {
		m := tx.Migrator()
		if !m.HasTable(&PolicyDocument{}) {
			if err := m.CreateTable(&PolicyDocument{}); err != nil {
				return err
			}
		}
		// Databases created by step 1 of an earlier release lack these columns.
		for _, col := range []string{"Findings", "Exception", "CompensatingControls"} {
			if !m.HasColumn(&Request{}, col) {
				if err := m.AddColumn(&Request{}, col); err != nil {
					return err
				}
			}
		}
		return nil
	}},
	{3, "hash-chained, append-only audit log with checkpoints", func(tx *gorm.DB) error {
		m := tx.Migrator()
		for _, col := range []string{"Seq", "PrevHash", "Hash"} {
			if !m.HasColumn(&AuditEvent{}, col) {
				if err := m.AddColumn(&AuditEvent{}, col); err != nil {
					return err
				}
			}
		}
		if err := chainExistingEvents(tx); err != nil {
			return err
		}
		if !m.HasIndex(&AuditEvent{}, "Seq") {
			if err := m.CreateIndex(&AuditEvent{}, "Seq"); err != nil {
				return err
			}
		}
		if !m.HasTable(&AuditCheckpoint{}) {
			if err := m.CreateTable(&AuditCheckpoint{}); err != nil {
				return err
			}
		}
		return appendOnlyTriggers(tx)
	}},
	{4, "re-certification campaigns and scheduled jobs", func(tx *gorm.DB) error {
		m := tx.Migrator()
		if !m.HasColumn(&Request{}, "CertifiedAt") {
			if err := m.AddColumn(&Request{}, "CertifiedAt"); err != nil {
				return err
			}
			if err := tx.Exec("UPDATE requests SET certified_at = approved_at").Error; err != nil {
				return err
			}
		}
		for _, table := range []any{&RecertCampaign{}, &Recertification{}, &JobLease{}} {
			if !m.HasTable(table) {
				if err := m.CreateTable(table); err != nil {
					return err
				}
			}
		}
		return nil
	}},
	{5, "scan runs, schedules, drift and alert deliveries", func(tx *gorm.DB) error {
		m := tx.Migrator()
		for _, table := range []any{&ScanRun{}, &ScanSchedule{}, &DriftItem{}, &AlertDelivery{}} {
			if !m.HasTable(table) {
				if err := m.CreateTable(table); err != nil {
					return err
				}
			}
		}
		return nil
	}},
}

// Migrate runs, in order and each in its own transaction, the steps the database has not run yet.
func Migrate(ctx context.Context, db *gorm.DB, log *slog.Logger) error {
	if err := db.AutoMigrate(&schemaMigration{}); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var applied []schemaMigration
	if err := db.Find(&applied).Error; err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	done := make(map[int]bool, len(applied))
	for _, m := range applied {
		done[m.ID] = true
	}
	for _, m := range migrations {
		if done[m.ID] {
			continue
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := m.Up(tx); err != nil {
				return err
			}
			return tx.Create(&schemaMigration{ID: m.ID, Name: m.Name, AppliedAt: time.Now().UTC()}).Error
		})
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.ID, m.Name, err)
		}
		log.Info("database migrated", "step", m.ID, "name", m.Name)
	}
	return nil
}
