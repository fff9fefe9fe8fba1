// Command labscan is the scanner's command line as a program of its own, for the
// lab and the benchmark, which run it inside a network namespace with
// `ip netns exec`. It takes the arguments of `portcullis scan`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"

	"github.com/portcullis/portcullis/scanner/scancli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := scancli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "labscan:", err)
	if _, ok := errors.AsType[*scancli.UsageError](err); ok {
		os.Exit(2)
	}
	os.Exit(1)
}
