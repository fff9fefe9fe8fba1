package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/periodic"
	"github.com/portcullis/portcullis/workflow/report"
)

const reportUsage = "usage: portcullis report daily|weekly --zone ZONE [--team TEAM] [--format json|pdf] [--at TIME] [--db URL]"

// runReport computes a zone's (or one owner team's) daily or weekly port
// report from the stored scans, as the server does after the zone's
// scheduled scan, and prints it: JSON, or the PDF's bytes.
func runReport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help") {
		fmt.Fprintln(stdout, reportUsage)
		fmt.Fprintln(stdout, `Run "portcullis report daily --help" for the flags.`)
		return nil
	}
	if len(args) == 0 {
		return usagef("%s", reportUsage)
	}
	kind, ok := periodic.ParseKind(args[0])
	if !ok {
		return usagef("report %q: the reports are daily and weekly\n%s", args[0], reportUsage)
	}
	var dsn, zone, team, format, at string
	fs := newFlagSet("report "+string(kind), stderr)
	dbFlag(fs, &dsn)
	fs.StringVar(&zone, "zone", "", "the zone whose report to compute (required)")
	fs.StringVar(&team, "team", "", "only the assets of this owner team in the zone")
	fs.StringVar(&format, "format", "json", "json or pdf")
	fs.StringVar(&at, "at", "", "end of the report's window: RFC 3339 time or YYYY-MM-DD (UTC midnight); default now")
	fs.Usage = func() {
		fmt.Fprintln(stderr, reportUsage)
		fmt.Fprintf(stderr, "Prints the %s port report of a zone for the %s ending --at, from the stored scans.\n", kind, map[periodic.Kind]string{periodic.Daily: "24 hours", periodic.Weekly: "7 days"}[kind])
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args[1:], getenv); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("report %s takes no arguments, got %q", kind, fs.Args())
	}
	if zone == "" {
		return usagef("--zone is required: the zone whose report to compute")
	}
	if format != "json" && format != "pdf" {
		return usagef("--format %q is not json or pdf", format)
	}
	end := time.Now().UTC()
	if at != "" {
		t, err := parseReportTime(at)
		if err != nil {
			return usagef("--at %q is not an RFC 3339 time (2026-11-30T08:00:00Z) or a date (2026-11-30)", at)
		}
		end = t
	}
	app, closeDB, err := openApp(ctx, dsn, stderr)
	if err != nil {
		return err
	}
	defer closeDB()
	r, err := app.Reports.Compute(ctx, core.SystemActor, kind, zone, team, end)
	if err != nil {
		var de *core.Error
		if errors.As(err, &de) && de.Code == core.CodeInvalid {
			return usagef("--%s: %s", de.Field, de.Message)
		}
		return err
	}
	// The whole document first: a failure leaves stdout empty, never half a PDF.
	var out bytes.Buffer
	if format == "pdf" {
		err = r.PDF(app.Language("en", "UTC"), &out, report.Options{})
	} else {
		enc := json.NewEncoder(&out)
		enc.SetIndent("", "  ")
		err = enc.Encode(r)
	}
	if err != nil {
		return err
	}
	_, err = stdout.Write(out.Bytes())
	return err
}

func parseReportTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Parse(time.DateOnly, s)
}
