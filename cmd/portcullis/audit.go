package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/auditlog"
	"github.com/portcullis/portcullis/workflow/compliance"
	"github.com/portcullis/portcullis/workflow/core"
)

// auditKeyFlags are the flags that name the checkpoint signing key.
type auditKeyFlags struct{ key, file string }

func (k *auditKeyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.key, "audit-key", "", "note signer key for audit checkpoints (PRIVATE+KEY+…); overrides --audit-key-file (better: the file or PORTCULLIS_AUDIT_KEY)")
	fs.StringVar(&k.file, "audit-key-file", "", "file holding the audit signer key, created with a fresh key when missing (default: the SQLite file's name plus .audit-key, or portcullis-audit.key)")
}

// load returns the keys, creating the key file when it does not exist yet
// and create is set (the server); tools only read it.
func (k *auditKeyFlags) load(dsn string, create bool, log *slog.Logger) (compliance.AuditKeys, error) {
	if k.key != "" {
		return compliance.ParseAuditSigner(strings.TrimSpace(k.key))
	}
	shared := models.IsPostgres(dsn)
	if k.file == "" {
		k.file = "portcullis-audit.key"
		if !shared {
			path, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
			k.file = path + ".audit-key"
		}
	}
	b, err := os.ReadFile(k.file)
	if errors.Is(err, os.ErrNotExist) {
		if !create {
			return compliance.AuditKeys{}, nil
		}
		if shared {
			// Instances sharing a database must share one key, or each would
			// sign checkpoints the others' verifier key rejects.
			return compliance.AuditKeys{}, fmt.Errorf("no audit signing key: with PostgreSQL give every instance the same key (--audit-key or --audit-key-file; make one with 'portcullis audit keygen')")
		}
		host, _ := os.Hostname()
		keys, err := compliance.NewAuditKeys("portcullis-audit." + sanitiseKeyName(host))
		if err != nil {
			return keys, err
		}
		if err := os.WriteFile(k.file, []byte(keys.Signer+"\n"), 0o600); err != nil {
			return keys, fmt.Errorf("write the audit key: %w", err)
		}
		log.Warn("created an audit signing key; keep it safe and give auditors its verifier key", "file", k.file, "verifier_key", keys.Verifier)
		return keys, nil
	}
	if err != nil {
		return compliance.AuditKeys{}, fmt.Errorf("read the audit key: %w", err)
	}
	return compliance.ParseAuditSigner(strings.TrimSpace(string(b)))
}

// sanitiseKeyName keeps a note key name to the characters notes accept.
func sanitiseKeyName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "local"
	}
	return b.String()
}

func runAudit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("usage: portcullis audit export|verify|keygen …")
	}
	switch args[0] {
	case "export":
		return runAuditExport(ctx, args[1:], getenv, stdout, stderr)
	case "verify":
		return runAuditVerify(args[1:], getenv, stdout, stderr)
	case "keygen":
		return runAuditKeygen(args[1:], getenv, stdout, stderr)
	}
	return usagef("unknown audit command %q: use export, verify or keygen", args[0])
}

// parseDay reads YYYY-MM-DD or an RFC 3339 time.
func parseDay(flagName, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return t, usagef("--%s %q is not a date (YYYY-MM-DD or RFC 3339)", flagName, s)
	}
	return t, nil
}

func runAuditExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var dsn, from, to, format string
	var keys auditKeyFlags
	fs := newFlagSet("audit export", stderr)
	dbFlag(fs, &dsn)
	keys.register(fs)
	fs.StringVar(&from, "from", "", "first day (inclusive), YYYY-MM-DD")
	fs.StringVar(&to, "to", "", "last day (inclusive), YYYY-MM-DD")
	fs.StringVar(&format, "format", "json", "json or csv")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if format != "json" && format != "csv" {
		return usagef("--format %q is not json or csv", format)
	}
	f, err := auditPeriod(from, to)
	if err != nil {
		return err
	}
	app, closeDB, err := openApp(ctx, dsn, stderr)
	if err != nil {
		return err
	}
	defer closeDB()
	k, err := keys.load(dsn, false, nil)
	if err != nil {
		return usagef("%v", err)
	}
	app.Compliance.SetAuditKeys(k)
	err = app.Compliance.ExportAudit(ctx, core.SystemActor, f, format, stdout)
	if core.ErrorCodeOf(err) == core.CodeInvalid {
		return usagef("%v", err)
	}
	return err
}

// auditPeriod turns inclusive days into the filter's half-open interval.
func auditPeriod(from, to string) (compliance.AuditFilter, error) {
	var f compliance.AuditFilter
	var err error
	if f.From, err = parseDay("from", from); err != nil {
		return f, err
	}
	if f.To, err = parseDay("to", to); err != nil {
		return f, err
	}
	if to != "" && !strings.Contains(to, "T") {
		f.To = f.To.AddDate(0, 0, 1)
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, usagef("--to %s is before --from %s", to, from)
	}
	return f, nil
}

func runAuditVerify(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var key string
	fs := newFlagSet("audit verify", stderr)
	fs.StringVar(&key, "key", "", "verifier key of the server that signed the checkpoint (trust the file's own key if empty)")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("usage: portcullis audit verify [--key VERIFIER_KEY] FILE")
	}
	file, err := os.Open(fs.Arg(0))
	if err != nil {
		return usagef("%v", err)
	}
	defer file.Close()
	var head [1]byte
	if _, err := io.ReadFull(file, head[:]); err != nil {
		return usagef("%s is empty", fs.Arg(0))
	}
	file.Seek(0, io.SeekStart)
	var rep *auditlog.Report
	if head[0] == '{' {
		rep, err = auditlog.VerifyJSON(file, key)
	} else {
		rep, err = auditlog.VerifyCSV(file)
	}
	if err != nil {
		return usagef("%s: %v", fs.Arg(0), err)
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(stdout, "note:", n)
	}
	if !rep.OK() {
		problems := rep.Problems
		if len(problems) == 0 {
			problems = []auditlog.Problem{*rep.Problem}
		}
		for _, p := range problems {
			if p.Seq > 0 {
				fmt.Fprintf(stdout, "BROKEN at event %d: %s\n", p.Seq, p.Message)
			} else {
				fmt.Fprintf(stdout, "BROKEN: %s\n", p.Message)
			}
		}
		if rep.MoreProblems > 0 {
			fmt.Fprintf(stdout, "BROKEN: %d more events are broken (not listed)\n", rep.MoreProblems)
		}
		return exitStatus(1)
	}
	fmt.Fprintf(stdout, "intact: %d events (%d to %d)", rep.Events, rep.FirstSeq, rep.LastSeq)
	if rep.CheckpointSize > 0 {
		trust := "with the key in the file"
		if rep.CheckpointVerified {
			trust = "with the given key"
		}
		fmt.Fprintf(stdout, ", signed checkpoint at %d verified %s", rep.CheckpointSize, trust)
	}
	fmt.Fprintln(stdout)
	return nil
}

func runAuditKeygen(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var name string
	fs := newFlagSet("audit keygen", stderr)
	fs.StringVar(&name, "name", "portcullis-audit", "key name (letters, digits, '-' and '.')")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	keys, err := compliance.NewAuditKeys(sanitiseKeyName(name))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "signer key (keep secret; give it to serve with --audit-key or --audit-key-file):\n%s\nverifier key (give to auditors):\n%s\n", keys.Signer, keys.Verifier)
	return nil
}
