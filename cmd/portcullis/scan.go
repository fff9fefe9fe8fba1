package main

import (
	"context"
	"errors"
	"io"

	"github.com/portcullis/portcullis/scanner/scancli"
)

// runScan is `portcullis scan`: the scanner's command line lives in scanner/scancli;
// its usage errors become usagef errors (exit status 2).
func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	err := scancli.Run(ctx, args, stdout, stderr)
	if usage, ok := errors.AsType[*scancli.UsageError](err); ok {
		return usagef("%s", usage.Message)
	}
	return err
}
