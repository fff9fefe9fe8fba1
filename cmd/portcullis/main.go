// Command portcullis is the Portcullis server and its command-line tools.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is bad usage or bad input: exit status 2 with a one-line message.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// exitStatus ends a command with a status and no further message (e.g. exit 1
// when a policy check finds blocking findings: the findings are the output).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var st exitStatus
	if errors.As(err, &st) {
		return int(st)
	}
	fmt.Fprintln(stderr, "portcullis:", err)
	var u *usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

const usage = `usage: portcullis COMMAND [flags]

commands:
  serve          run the web server (--demo for the demo organisation)
  user list      list users and their roles
  token create   create an API token for a user (--user EMAIL)
  policy check   judge proposed rules (YAML or JSON) against the policy; exit 1 on blocking findings
  audit export   write the audit log (JSON with hashes and a signed checkpoint, or CSV)
  audit verify   verify an exported audit log offline; exit 1 naming the first broken event
  audit keygen   make a key pair for signing audit checkpoints
  seed           fill an empty database with a synthetic organisation for load tests
  scan           scan ports and name the services that answer
  agent          scanner agents: enroll (one-time token), run (inside a zone), list
  report         a zone's daily or weekly port report from the stored scans (JSON or PDF)
  version        print the version

Run "portcullis COMMAND -h" for the flags of a command.`

// run is the whole program; main only wires it to the process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("no command given\n%s", usage)
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], getenv, stdout, stderr)
	case "user":
		const u = "usage: portcullis user list [--role ROLE] [--format table|json] [--db URL]"
		if asksHelp(args) {
			fmt.Fprintln(stdout, u)
			return nil
		}
		if len(args) < 2 || args[1] != "list" {
			return usagef(u)
		}
		return runUserList(ctx, args[2:], getenv, stdout, stderr)
	case "token":
		const u = "usage: portcullis token create --user EMAIL [--name NAME] [--ttl DURATION] [--db URL]"
		if asksHelp(args) {
			fmt.Fprintln(stdout, u)
			return nil
		}
		if len(args) < 2 || args[1] != "create" {
			return usagef(u)
		}
		return runTokenCreate(ctx, args[2:], getenv, stdout, stderr)
	case "policy":
		const u = "usage: portcullis policy check [--db URL] FILE"
		if asksHelp(args) {
			fmt.Fprintln(stdout, u)
			return nil
		}
		if len(args) < 2 || args[1] != "check" {
			return usagef(u)
		}
		return runPolicyCheck(ctx, args[2:], getenv, stdout, stderr)
	case "audit":
		if asksHelp(args) {
			fmt.Fprintln(stdout, "usage: portcullis audit export|verify|keygen [flags]\n  export   write the audit log (JSON with hashes and a signed checkpoint, or CSV)\n  verify   verify an exported audit log offline\n  keygen   make a key pair for signing audit checkpoints")
			return nil
		}
		return runAudit(ctx, args[1:], getenv, stdout, stderr)
	case "seed":
		return runSeed(ctx, args[1:], getenv, stdout, stderr)
	case "scan":
		return runScan(ctx, args[1:], stdout, stderr)
	case "agent":
		return runAgent(ctx, args[1:], getenv, stdout, stderr)
	case "report":
		return runReport(ctx, args[1:], getenv, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "portcullis", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return usagef("unknown command %q\n%s", args[0], usage)
}

// asksHelp says whether a command group (user, token, policy, audit) was
// asked for its help rather than given a subcommand.
func asksHelp(args []string) bool {
	return len(args) == 2 && (args[1] == "-h" || args[1] == "--help" || args[1] == "help")
}
