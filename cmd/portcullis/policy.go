package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/policy"
)

// runPolicyCheck is `portcullis policy check FILE`: it judges proposed rules
// against the policy in the database, for pipelines that check a change
// before filing it. Exit 1 when a finding blocks, 2 on bad input.
func runPolicyCheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var dsn, format string
	fs := newFlagSet("policy check", stderr)
	dbFlag(fs, &dsn)
	fs.StringVar(&format, "format", "table", "table or json")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("usage: portcullis policy check [--db URL] [--format table|json] FILE (a YAML or JSON list of rule objects; - reads stdin)")
	}
	if format != "table" && format != "json" {
		return usagef("--format %q is not table or json", format)
	}
	var data []byte
	var err error
	if name := fs.Arg(0); name == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return usagef("%v", err)
	}
	specs, err := policy.ParseRuleFile(data)
	if err != nil {
		return usagef("%s: %v", fs.Arg(0), err)
	}
	if len(specs) == 0 {
		return usagef("%s holds no rule", fs.Arg(0))
	}
	if _, err := os.Stat(dsn); errors.Is(err, os.ErrNotExist) && !models.IsPostgres(dsn) {
		return usagef("database %s does not exist: give --db the database of the Portcullis you file requests with", dsn)
	}
	app, closeDB, err := openApp(ctx, dsn, stderr)
	if err != nil {
		return err
	}
	defer closeDB()
	ev, err := app.Requests.EvaluateInBatches(ctx, specs, time.Time{})
	if err != nil {
		return err
	}
	if len(ev.Incomplete) > 0 {
		return usagef("%s: %v", fs.Arg(0), ev.Incomplete[0])
	}
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"findings": ev.Findings, "blocking": policy.HasBlocking(ev.Findings)}); err != nil {
			return err
		}
	} else {
		if len(ev.Findings) == 0 {
			fmt.Fprintln(stdout, "no findings: the policy has nothing against these rules")
		} else {
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RULE\tSEVERITY\tBLOCKING\tCODE\tMESSAGE")
			for _, f := range ev.Findings {
				blocking := ""
				if f.Blocking {
					blocking = "blocking"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", f.Rule, f.Severity, blocking, f.Code, f.Message)
			}
			tw.Flush()
		}
	}
	if policy.HasBlocking(ev.Findings) {
		return exitStatus(1)
	}
	return nil
}
