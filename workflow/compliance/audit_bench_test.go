package compliance_test

import (
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/compliance"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/report"
)

// BenchmarkAuditExport writes the whole audit log of a large organisation
// (PORTCULLIS_BENCH_EVENTS events, 1,000,000 by default) as CSV, JSON and
// XLSX, half of it by period, and verifies the stored chain. Memory must stay flat whatever the size: measure the peak with
//
//	go test -c -o /tmp/wf ./workflow && /usr/bin/time -v /tmp/wf -test.run '^$' -test.bench AuditExport/xlsx -test.benchtime 1x
func BenchmarkAuditExport(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("PORTCULLIS_BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	db := modelstest.SQLite(b)
	svc := workflow.New(db, modelstest.Logger())
	// The chain is built here as the service would, a batch at a time.
	prev := models.GenesisHash
	start := time.Now().UTC().AddDate(-1, 0, 0).Truncate(time.Microsecond)
	const batch = 500
	rows := make([]models.AuditEvent, 0, batch)
	for i := 1; i <= n; i++ {
		e := models.AuditEvent{Seq: uint64(i), At: start.Add(time.Duration(i) * 30 * time.Second), Actor: "rita@example.test",
			Action: "approve", ObjectType: "request", ObjectID: uint(i % 50000), FromState: "in_review", ToState: "approved",
			Detail: `{"checklist":[{"item":"patched","result":"pass"}]}`, Comment: "Baseline checked on the hosts.", PrevHash: prev}
		e.Hash = e.Chained().ComputeHash()
		prev = e.Hash
		rows = append(rows, e)
		if len(rows) == batch || i == n {
			if err := db.Create(&rows).Error; err != nil {
				b.Fatal(err)
			}
			rows = rows[:0]
		}
	}
	for _, format := range []string{"csv", "json", "period", "verify", "xlsx"} {
		b.Run(format, func(b *testing.B) {
			for b.Loop() {
				switch format {
				case "csv", "json":
					if err := svc.Compliance.ExportAudit(b.Context(), core.SystemActor, compliance.AuditFilter{}, format, io.Discard); err != nil {
						b.Fatal(err)
					}
				case "period":
					// Half the log, by time: read on the seq index, not sorted per batch.
					f := compliance.AuditFilter{From: start.Add(time.Duration(n/4) * 30 * time.Second), To: start.Add(time.Duration(3*n/4) * 30 * time.Second)}
					if err := svc.Compliance.ExportAudit(b.Context(), core.SystemActor, f, "csv", io.Discard); err != nil {
						b.Fatal(err)
					}
				case "verify":
					rep, err := svc.Compliance.VerifyAuditChain(b.Context(), core.SystemActor)
					if err != nil || !rep.OK() {
						b.Fatalf("verify: %v %+v", err, rep)
					}
				case "xlsx":
					f, err := os.CreateTemp(b.TempDir(), "audit-*.xlsx")
					if err != nil {
						b.Fatal(err)
					}
					w, err := report.New("xlsx", f, report.Options{})
					if err != nil {
						b.Fatal(err)
					}
					if err := svc.Compliance.ExportReport(b.Context(), core.SystemActor, "audit", compliance.ExportFilter{}, w); err != nil {
						b.Fatal(err)
					}
					f.Close()
				}
			}
			b.ReportMetric(float64(n), "events")
		})
	}
}
