// Package jobs runs every background job of Portcullis on River, a job
// queue kept in the application's own database (riversqlite on SQLite,
// riverpgxv5 on PostgreSQL, where jobs are inserted through River's
// database/sql driver inside the application's transactions): scans
// (scheduled slots, runs, verifications), alert deliveries, report
// e-mails, expiry of openings, re-certification reminders, audit
// checkpoints, access re-checks and session clean-up. Jobs are inserted in the transaction of the change
// that asks for them; unique jobs keep two instances from doing the same
// work twice; River's rescuer gives a job left running by a killed instance
// to another.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
)

// Engine is River over the application's database.
type Engine struct {
	db     *gorm.DB
	driver riverdriver.Driver[*sql.Tx]
	log    *slog.Logger
	// inserter inserts jobs from any instance or command, working or not,
	// inside the application's (database/sql) transactions.
	inserter *river.Client[*sql.Tx]
}

// New makes the engine over an open, migrated database; it inserts jobs at
// once and works them after Start.
func New(db *gorm.DB, log *slog.Logger) (*Engine, error) {
	driver, err := models.RiverDriver(db)
	if err != nil {
		return nil, err
	}
	inserter, err := river.NewClient(driver, &river.Config{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("job engine: %w", err)
	}
	return &Engine{db: db, driver: driver, log: log, inserter: inserter}, nil
}

// Insert inserts a job in tx, a gorm transaction, so that it commits or
// rolls back with the change that asked for it.
func (e *Engine) Insert(tx *gorm.DB, args river.JobArgs, opts *river.InsertOpts) error {
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return fmt.Errorf("job %s: jobs are inserted inside a transaction", args.Kind())
	}
	ctx := tx.Statement.Context
	if ctx == nil {
		ctx = context.Background()
	}
	if _, err := e.inserter.InsertTx(ctx, sqlTx, args, opts); err != nil {
		return fmt.Errorf("job %s: %w", args.Kind(), err)
	}
	return nil
}

// Client is the River client admins' pages read jobs through: the
// inserting one, over the application's pool, which every instance and
// command has whether it works jobs or not.
func (e *Engine) Client() *river.Client[*sql.Tx] { return e.inserter }

// Postgres reports whether River runs on PostgreSQL (River's own UI is
// mounted there; SQLite has a page of ours).
func (e *Engine) Postgres() bool { return e.db.Dialector.Name() == "postgres" }

// Options tune how this instance works jobs.
type Options struct {
	// ID names this instance in River (its jobs' attempted_by) and in the
	// scan runs it works; default host/pid.
	ID string
	// ScanSlice is how long a scan job starts new batches of hosts before it
	// yields (the run goes on in a next slice, on any instance); a scan job
	// times out after three slices, any other job after one. A job left
	// running by a killed instance is given to another once past its
	// timeout (River's rescuer looks every 30 s): this bounds how long a
	// crash delays any work. Default 5 minutes.
	ScanSlice time.Duration
	// AccessCheckEvery is how often identity re-checks run; 0 turns them off.
	AccessCheckEvery time.Duration
	// PollInterval is how often idle workers look for jobs inserted by other
	// instances when no notification arrives; default 1 s.
	PollInterval time.Duration
	// PostgresURL, on PostgreSQL, opens the pgx pool the working client
	// runs on (riverpgxv5: fetching, completing, leader election, LISTEN
	// for new jobs); empty: River's database/sql driver over the
	// application's pool, polling only.
	PostgresURL string
}

func (o *Options) defaults() {
	if o.ID == "" {
		host, _ := os.Hostname()
		o.ID = fmt.Sprintf("%s/%d", host, os.Getpid())
	}
	if o.ScanSlice <= 0 {
		o.ScanSlice = 5 * time.Minute
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
}

// Run works jobs until ctx ends, then stops: running jobs get a few seconds
// to finish, then are cancelled (a scan yields its slice; another instance
// goes on with it).
func (e *Engine) Run(ctx context.Context, deps Deps, opts Options) error {
	opts.defaults()
	workers := river.NewWorkers()
	if err := deps.register(workers, opts); err != nil {
		return err
	}
	cfg := &river.Config{
		ID:     opts.ID,
		Logger: slog.New(warnAndAbove{e.log.Handler()}).With("component", "jobs"),
		Queues: map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: 2},
			queueScans:         {MaxWorkers: 2},
			queueAlerts:        {MaxWorkers: 4},
		},
		Workers:      workers,
		PeriodicJobs: deps.periodic(opts),
		// Every job but a scan's must end within a slice; a job still
		// running past its timeout plus a quarter slice belongs to an
		// instance that died, and is given to another.
		JobTimeout:           opts.ScanSlice,
		RescueStuckJobsAfter: opts.ScanSlice * 5 / 4,
		FetchPollInterval:    opts.PollInterval,
		// Finished jobs are kept a day for the admins' page; unique slots
		// outlive them in the scan runs themselves.
		CompletedJobRetentionPeriod: 24 * time.Hour,
	}
	var client workingClient
	if e.Postgres() && opts.PostgresURL != "" {
		pcfg, err := pgxpool.ParseConfig(opts.PostgresURL)
		if err != nil {
			return fmt.Errorf("job engine: %w", err)
		}
		// River's own queries only: the jobs' work uses the application's pool.
		pcfg.MaxConns, pcfg.MinConns = 6, 0
		// Named, so that a DBA tells the job engine's connections apart.
		if pcfg.ConnConfig.RuntimeParams["application_name"] == "" {
			pcfg.ConnConfig.RuntimeParams["application_name"] = EngineApplicationName
		}
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			return fmt.Errorf("job engine: %w", err)
		}
		defer pool.Close()
		c, err := river.NewClient(riverpgxv5.New(pool), cfg)
		if err != nil {
			return fmt.Errorf("job engine: %w", err)
		}
		client = c
	} else {
		c, err := river.NewClient(e.driver, cfg)
		if err != nil {
			return fmt.Errorf("job engine: %w", err)
		}
		client = c
	}
	// Work left without a job (by a release before the engine, or a job
	// given up under a run) gets one; work that has one is left alone.
	// A stop that comes while the engine starts is no failure.
	if _, err := deps.Scans.RequeueOrphans(ctx); err != nil {
		return stoppedOr(ctx, err)
	}
	if _, err := deps.Alerts.RequeueOrphans(ctx); err != nil {
		return stoppedOr(ctx, err)
	}
	if deps.Reports != nil {
		if _, err := deps.Reports.RequeueOrphans(ctx); err != nil {
			return stoppedOr(ctx, err)
		}
	}
	if err := client.Start(ctx); err != nil {
		return stoppedOr(ctx, err)
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := client.Stop(stopCtx); err != nil {
		hard, cancelHard := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancelHard()
		if err := client.StopAndCancel(hard); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("job engine: stop: %w", err)
		}
	}
	return nil
}

// EngineApplicationName is the PostgreSQL application_name of the working
// client's connections (riverpgxv5), unless the URL names one.
const EngineApplicationName = "portcullis-jobs"

// workingClient is a River client that works jobs, whichever its driver.
type workingClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
}

// stoppedOr is nil when ctx has ended (the instance stops), else err.
func stoppedOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("job engine: %w", err)
}

// warnAndAbove passes River's warnings and errors on: its informational
// lines (job counts every few seconds) would drown the server's log.
type warnAndAbove struct{ slog.Handler }

func (h warnAndAbove) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h warnAndAbove) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnAndAbove{h.Handler.WithAttrs(attrs)}
}

func (h warnAndAbove) WithGroup(name string) slog.Handler {
	return warnAndAbove{h.Handler.WithGroup(name)}
}
