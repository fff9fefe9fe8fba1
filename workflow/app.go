// Package workflow is the domain of Portcullis, one package per feature over
// a small core (workflow/core: the store, transactions, clock, actors,
// domain errors, the audit append and the lifecycle step). This package only
// wires the features together; handlers and commands call them through App.
// It never speaks HTTP.
package workflow

import (
	"context"
	"log/slog"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/workflow/agents"
	"github.com/portcullis/portcullis/workflow/alerts"
	"github.com/portcullis/portcullis/workflow/compliance"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/credentials"
	"github.com/portcullis/portcullis/workflow/dashboard"
	"github.com/portcullis/portcullis/workflow/drift"
	"github.com/portcullis/portcullis/workflow/identity"
	"github.com/portcullis/portcullis/workflow/inventory"
	"github.com/portcullis/portcullis/workflow/jobs"
	"github.com/portcullis/portcullis/workflow/live"
	"github.com/portcullis/portcullis/workflow/recert"
	"github.com/portcullis/portcullis/workflow/reporting"
	"github.com/portcullis/portcullis/workflow/requests"
	"github.com/portcullis/portcullis/workflow/scans"
)

// App is every feature of the domain over one store.
type App struct {
	// Store is the shared database, clock and audit log.
	*core.Store
	Requests   *requests.Service
	Inventory  *inventory.Service
	Identity   *identity.Service
	Scans      *scans.Service
	Drift      *drift.Service
	Alerts     *alerts.Service
	Recert     *recert.Service
	Compliance *compliance.Service
	Dashboard  *dashboard.Service
	Agents     *agents.Service
	Reports    *reporting.Service
	// Credentials is the admin's sealed list of default credentials to try.
	Credentials *credentials.Service
	// Jobs is the background job engine (River) every feature queues work on.
	Jobs *jobs.Engine
	// Live tells open pages when what they show has changed.
	Live *live.Feed
}

// New wires the features over an open, migrated database. Scans and
// re-certification move requests through their lifecycle (they import
// requests); the calls the other way go through small interfaces or hooks
// the caller declares: requests queue verification scans and lapse pending
// re-certifications, scans hand finished runs to drift, drift queues alerts.
func New(db *gorm.DB, log *slog.Logger) *App {
	st := core.NewStore(db, log)
	engine, err := jobs.New(db, log)
	if err != nil {
		// Only a River configuration error gets here: a programming error.
		panic(err)
	}
	st.SetJobInserter(engine.Insert)
	inv := inventory.New(st)
	a := &App{
		Store:      st,
		Inventory:  inv,
		Identity:   identity.New(st),
		Requests:   requests.New(st, inv),
		Alerts:     alerts.New(st),
		Compliance: compliance.New(st, inv),
		Agents:     agents.New(st),
		Jobs:       engine,
		Live:       live.New(st),
	}
	a.Scans = scans.New(st, inv, a.Requests)
	a.Recert = recert.New(st, a.Requests)
	a.Requests.OnEnd(a.Recert.LapsePending)
	a.Drift = drift.New(st, inv, a.Alerts)
	a.Scans.SetDriftRecorder(a.Drift)
	a.Agents.SetExternalDrift(a.Drift)
	a.Requests.SetVerification(a.Scans)
	a.Dashboard = dashboard.New(st, a.Requests, inv, a.Scans, a.Drift, a.Recert)
	a.Reports = reporting.New(st, inv)
	a.Scans.AfterScheduledRun(a.Reports.GenerateAfterScan)
	a.Credentials = credentials.New(st)
	return a
}

// JobDeps are the features the background jobs call; checkAccess and
// cleanSessions come from the caller (they need the identity provider and
// the session store).
func (a *App) JobDeps(checkAccess, cleanSessions func(context.Context) error) jobs.Deps {
	return jobs.Deps{Scans: a.Scans, Alerts: a.Alerts, Recert: a.Recert, Compliance: a.Compliance, Reports: a.Reports,
		CheckAccess: checkAccess, CleanSessions: cleanSessions}
}
