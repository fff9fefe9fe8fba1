package models

import "time"

// PeriodicReport is one daily or weekly port report of a zone, or of one
// owner team's assets in it, kept with its content for the Reports page and
// its e-mails. One per kind, zone, team and period.
type PeriodicReport struct {
	ID          uint   `gorm:"primaryKey"`
	Kind        string `gorm:"not null"` // daily | weekly
	Zone        string `gorm:"not null"`
	Team        string `gorm:"not null;default:''"` // '' for the whole zone
	Period      string `gorm:"not null"`            // 2026-11-30 (daily) or 2026-W48 (weekly)
	WindowStart time.Time
	WindowEnd   time.Time
	RunID       *uint  // the scheduled scan run it follows
	NothingNew  bool   `gorm:"not null;default:false"`
	Headline    string `gorm:"not null;default:''"` // one line for lists and subjects, in the server's language
	// HeadlineFacts are the headline's figures (JSON), said in each
	// reader's language; empty for reports made before they were kept.
	HeadlineFacts string `gorm:"not null;default:''"`
	Content       string `gorm:"not null"` // the report, JSON
	CreatedAt     time.Time
}

// ReportSubscription is a person's wish to receive a zone's reports (Team
// empty) or a team's (Zone empty). Owners receive their own team's reports
// without one; Active false is an owner who opted out.
type ReportSubscription struct {
	ID        uint   `gorm:"primaryKey"`
	UserID    uint   `gorm:"not null"`
	Zone      string `gorm:"not null;default:''"`
	Team      string `gorm:"not null;default:''"`
	Active    bool   `gorm:"not null"` // no gorm default: it would store a false as true
	UpdatedAt time.Time
}

// ReportDelivery is one report e-mailed to one recipient: at most one row
// per report and recipient, so a report reaches each person once.
type ReportDelivery struct {
	ID          uint   `gorm:"primaryKey"`
	ReportID    uint   `gorm:"not null"`
	Recipient   string `gorm:"not null"`
	Status      string `gorm:"not null"` // pending | delivered | failed
	Attempts    int    `gorm:"not null;default:0"`
	LastError   string `gorm:"not null;default:''"`
	NextAttempt time.Time
	DeliveredAt *time.Time
	CreatedAt   time.Time
}
