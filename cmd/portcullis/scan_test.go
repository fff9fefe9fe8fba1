package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/scanner/scancli"
)

func TestRunScanUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-p", "0", "127.0.0.1"},
		{"--format", "xml", "127.0.0.1"},
		{"-p", "22"},
		{"-p", "22", "10.0.0.0/8"},
	} {
		var out, errOut bytes.Buffer
		err := runScan(context.Background(), args, &out, &errOut)
		if err == nil {
			t.Errorf("%v: no error", args)
			continue
		}
		if _, still := errors.AsType[*scancli.UsageError](err); still {
			t.Errorf("%v: usage error not converted by usagef", args)
		}
		if !strings.Contains(err.Error(), "scan:") {
			t.Errorf("%v: message %q", args, err)
		}
	}
}
