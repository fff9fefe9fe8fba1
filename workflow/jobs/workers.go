package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/portcullis/portcullis/workflow/alerts"
	"github.com/portcullis/portcullis/workflow/compliance"
	"github.com/portcullis/portcullis/workflow/recert"
	"github.com/portcullis/portcullis/workflow/reporting"
	"github.com/portcullis/portcullis/workflow/scans"
)

const (
	queueScans  = scans.QueueScans
	queueAlerts = alerts.QueueAlerts
)

// Deps are the features the jobs call.
type Deps struct {
	Scans      *scans.Service
	Alerts     *alerts.Service
	Recert     *recert.Service
	Compliance *compliance.Service
	Reports    *reporting.Service
	// CheckAccess re-checks, at the identity provider, that each person with
	// a stored refresh token still belongs (handlers own the provider).
	CheckAccess func(context.Context) error
	// CleanSessions deletes expired web sessions.
	CleanSessions func(context.Context) error
}

// The periodic jobs. Each runs on the leader instance only, and is unique
// within its period besides, so a change of leader never runs one twice.
type (
	// ScheduleScansArgs queues the zones' scheduled scans that are due.
	ScheduleScansArgs struct{}
	// ExpireOpeningsArgs expires approvals past their date.
	ExpireOpeningsArgs struct{}
	// RecertRemindersArgs mails re-certification reminders.
	RecertRemindersArgs struct{}
	// AuditCheckpointArgs signs the audit log's head.
	AuditCheckpointArgs struct{}
	// AccessCheckArgs re-checks people at the identity provider.
	AccessCheckArgs struct{}
	// CleanSessionsArgs deletes expired sessions.
	CleanSessionsArgs struct{}
	// PeriodicReportsArgs makes the daily and weekly reports a scheduled
	// scan did not make (they follow each one as it finishes); each e-mail
	// of a report is a job of its own (reporting.DeliveryArgs).
	PeriodicReportsArgs struct{}
)

func (ScheduleScansArgs) Kind() string   { return "scan_schedule" }
func (ExpireOpeningsArgs) Kind() string  { return "expire_openings" }
func (RecertRemindersArgs) Kind() string { return "recert_reminders" }
func (AuditCheckpointArgs) Kind() string { return "audit_checkpoint" }
func (AccessCheckArgs) Kind() string     { return "access_check" }
func (CleanSessionsArgs) Kind() string   { return "clean_sessions" }
func (PeriodicReportsArgs) Kind() string { return "periodic_reports" }

// periodicJob is one periodic job: its interval and its work.
type periodicJob struct {
	args     river.JobArgs
	interval time.Duration
	work     func(context.Context) error
}

func (d Deps) periodicJobs(opts Options) []periodicJob {
	jobs := []periodicJob{
		{ScheduleScansArgs{}, time.Minute, func(ctx context.Context) error { _, err := d.Scans.ScheduleDue(ctx); return err }},
		{ExpireOpeningsArgs{}, time.Minute, func(ctx context.Context) error { _, err := d.Recert.ExpireDue(ctx); return err }},
		{RecertRemindersArgs{}, time.Hour, func(ctx context.Context) error { _, err := d.Recert.SendReminders(ctx); return err }},
		{AuditCheckpointArgs{}, 10 * time.Minute, func(ctx context.Context) error { _, err := d.Compliance.Checkpoint(ctx); return err }},
	}
	if d.Reports != nil {
		jobs = append(jobs, periodicJob{PeriodicReportsArgs{}, 30 * time.Second, func(ctx context.Context) error {
			_, err := d.Reports.GenerateMissing(ctx)
			return err
		}})
	}
	if d.CheckAccess != nil && opts.AccessCheckEvery > 0 {
		jobs = append(jobs, periodicJob{AccessCheckArgs{}, opts.AccessCheckEvery, d.CheckAccess})
	}
	if d.CleanSessions != nil {
		jobs = append(jobs, periodicJob{CleanSessionsArgs{}, time.Hour, d.CleanSessions})
	}
	return jobs
}

// periodic schedules each periodic job, unique within its interval.
func (d Deps) periodic(opts Options) []*river.PeriodicJob {
	var out []*river.PeriodicJob
	for _, j := range d.periodicJobs(opts) {
		args, interval := j.args, j.interval
		out = append(out, river.NewPeriodicJob(river.PeriodicInterval(interval),
			func() (river.JobArgs, *river.InsertOpts) {
				return args, &river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByPeriod: interval}}
			}, &river.PeriodicJobOpts{ID: args.Kind(), RunOnStart: true}))
	}
	return out
}

// register adds a worker for every job kind.
func (d Deps) register(w *river.Workers, opts Options) error {
	if d.Scans == nil || d.Alerts == nil || d.Recert == nil || d.Compliance == nil {
		return errors.New("job engine: scans, alerts, recert and compliance are required")
	}
	for _, j := range d.periodicJobs(opts) {
		if err := addPeriodicWorker(w, j); err != nil {
			return err
		}
	}
	river.AddWorker(w, &scanRunWorker{scans: d.Scans, holder: opts.ID, slice: opts.ScanSlice})
	river.AddWorker(w, &scanSlotWorker{scans: d.Scans})
	river.AddWorker(w, &deliveryWorker{alerts: d.Alerts})
	if d.Reports != nil {
		river.AddWorker(w, &reportDeliveryWorker{reports: d.Reports})
	}
	return nil
}

// funcWorker runs one periodic job's work.
type funcWorker[T river.JobArgs] struct {
	river.WorkerDefaults[T]
	work func(context.Context) error
}

func (f *funcWorker[T]) Work(ctx context.Context, _ *river.Job[T]) error { return f.work(ctx) }

func addPeriodicWorker(w *river.Workers, j periodicJob) error {
	switch j.args.(type) {
	case ScheduleScansArgs:
		return river.AddWorkerSafely(w, &funcWorker[ScheduleScansArgs]{work: j.work})
	case ExpireOpeningsArgs:
		return river.AddWorkerSafely(w, &funcWorker[ExpireOpeningsArgs]{work: j.work})
	case RecertRemindersArgs:
		return river.AddWorkerSafely(w, &funcWorker[RecertRemindersArgs]{work: j.work})
	case AuditCheckpointArgs:
		return river.AddWorkerSafely(w, &funcWorker[AuditCheckpointArgs]{work: j.work})
	case AccessCheckArgs:
		return river.AddWorkerSafely(w, &funcWorker[AccessCheckArgs]{work: j.work})
	case CleanSessionsArgs:
		return river.AddWorkerSafely(w, &funcWorker[CleanSessionsArgs]{work: j.work})
	case PeriodicReportsArgs:
		return river.AddWorkerSafely(w, &funcWorker[PeriodicReportsArgs]{work: j.work})
	}
	return errors.New("job engine: no worker for periodic job " + j.args.Kind())
}

// scanRunWorker runs one slice of a scan run. The scan goes through
// scans.Service.Run, the one function a distributed scanner can replace.
type scanRunWorker struct {
	river.WorkerDefaults[scans.RunArgs]
	scans  *scans.Service
	holder string
	slice  time.Duration
}

func (w *scanRunWorker) Work(ctx context.Context, job *river.Job[scans.RunArgs]) error {
	err := w.scans.Run(ctx, job.Args.RunID, w.holder, w.slice)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, scans.ErrSliceEnded), errors.Is(ctx.Err(), context.Canceled):
		// The hosts done so far are stored; the next slice, here or on
		// another instance (this one stops), scans the rest. A snooze
		// costs no attempt. A batch past the job's timeout does.
		return river.JobSnooze(0)
	case job.Attempt >= job.MaxAttempts:
		if ferr := w.scans.FailRun(context.WithoutCancel(ctx), job.Args.RunID, err); ferr != nil {
			return errors.Join(err, ferr)
		}
	}
	return err
}

// Timeout lets a slice finish the batch of hosts it started.
func (w *scanRunWorker) Timeout(*river.Job[scans.RunArgs]) time.Duration { return 3 * w.slice }

// scanSlotWorker queues the run of one scheduled slot.
type scanSlotWorker struct {
	river.WorkerDefaults[scans.SlotArgs]
	scans *scans.Service
}

func (w *scanSlotWorker) Work(ctx context.Context, job *river.Job[scans.SlotArgs]) error {
	_, err := w.scans.QueueSlot(ctx, job.Args)
	return err
}

// deliveryWorker makes one attempt at one alert delivery; River retries it
// with the alerts' backoff.
type deliveryWorker struct {
	river.WorkerDefaults[alerts.DeliveryArgs]
	alerts *alerts.Service
}

func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[alerts.DeliveryArgs]) error {
	return w.alerts.Deliver(ctx, job.Args.DeliveryID, job.Attempt, job.MaxAttempts)
}

func (w *deliveryWorker) NextRetry(job *river.Job[alerts.DeliveryArgs]) time.Time {
	return time.Now().Add(w.alerts.RetryAfter(job.Attempt))
}

// reportDeliveryWorker makes one attempt at e-mailing one report to one
// recipient; River retries it with the reports' backoff.
type reportDeliveryWorker struct {
	river.WorkerDefaults[reporting.DeliveryArgs]
	reports *reporting.Service
}

func (w *reportDeliveryWorker) Work(ctx context.Context, job *river.Job[reporting.DeliveryArgs]) error {
	return w.reports.Deliver(ctx, job.Args.DeliveryID, job.Attempt, job.MaxAttempts)
}

func (w *reportDeliveryWorker) NextRetry(job *river.Job[reporting.DeliveryArgs]) time.Time {
	return time.Now().Add(reporting.RetryAfter(job.Attempt))
}
