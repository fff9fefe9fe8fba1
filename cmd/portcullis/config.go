package main

import (
	"flag"
	"io"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// Config is everything the server is told, from flags or PORTCULLIS_* variables.
type Config struct {
	Addr        string
	DB          string
	Demo        bool
	DemoIdPAddr string
	PublicURL   string
	LogLevel    string
	// DefaultLanguage and DefaultTimeZone apply to people who chose none.
	DefaultLanguage, DefaultTimeZone string

	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string
	// OIDCClientSecretFile holds the secret, kept out of the process list.
	OIDCClientSecretFile string
	OIDCGroupsClaim      string
	OIDCRoleGroups       string
	OIDCProviderName     string
	TeamGroupPrefix      string

	SessionIdle     time.Duration
	SessionLifetime time.Duration
	TrustedOrigins  string
	TrustedProxies  string
	// MaxViews is how many page views and API reads run at once.
	MaxViews int
	// GCPercent is the garbage collector's target heap growth (GOGC).
	GCPercent int
	// ScanSlice is how long a scan job works before it yields (see jobs.Options).
	ScanSlice time.Duration
	// AccessCheckEvery is how often the identity provider is asked whether
	// each person with a refresh token still belongs (at most an hour).
	AccessCheckEvery time.Duration
}

// newFlagSet makes a flag set that reports errors as usage errors and takes
// each flag's default from PORTCULLIS_<FLAG> when set.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, letting environment variables fill the flags the
// command line did not set.
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitStatus(0)
		}
		return usagef("%v", err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	// Every command warns of the secrets its own command line shows.
	warnSecretArgs(slog.New(slog.NewTextHandler(fs.Output(), nil)), args, secretFlags...)
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || envErr != nil {
			return
		}
		key := "PORTCULLIS_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(key); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = usagef("%s=%q: %v", key, v, err)
			}
		}
	})
	return envErr
}

func dbFlag(fs *flag.FlagSet, dst *string) {
	fs.StringVar(dst, "db", "portcullis.db", "database: a SQLite file path or URL, or a postgres:// URL")
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("log level %q is not debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// secretFromFile returns value, or else the first line of file when one is
// named: a secret in a file (or a PORTCULLIS_* variable) stays out of the
// process list, where any local user can read command lines.
func secretFromFile(flagName, value, file string) (string, error) {
	if value != "" || file == "" {
		return value, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", usagef("--%s-file: %v", flagName, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", usagef("--%s-file: %s is empty", flagName, file)
	}
	return s, nil
}

// secretFlags are the flags that carry a secret, whichever command has them
// (the agent's enrolment token is one too).
var secretFlags = []string{"oidc-client-secret", "audit-key", "smtp-password", "token"}

// secretsOnCommandLine names the secret flags given as arguments rather
// than from a file or the environment, and "db" when the database URL
// given there holds a password.
func secretsOnCommandLine(args []string, secrets ...string) []string {
	var found []string
	for i, a := range args {
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || slices.Contains(found, name) {
			continue
		}
		if name == "db" {
			if !hasValue && i+1 < len(args) {
				value = args[i+1]
			}
			if dsnHasPassword(value) {
				found = append(found, name)
			}
			continue
		}
		if slices.Contains(secrets, name) {
			found = append(found, name)
		}
	}
	return found
}

// dsnHasPassword: does a database URL or key=value string carry a password?
func dsnHasPassword(dsn string) bool {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			return true
		}
	}
	if u, err := url.Parse(dsn); err == nil && u.Query().Has("password") {
		return true
	}
	for _, kv := range strings.Fields(dsn) {
		if k, _, ok := strings.Cut(kv, "="); ok && strings.EqualFold(k, "password") {
			return true
		}
	}
	return false
}

// warnSecretArgs warns, once per flag, of a secret that every local user can read.
func warnSecretArgs(log *slog.Logger, args []string, secrets ...string) {
	for _, name := range secretsOnCommandLine(args, secrets...) {
		env := "PORTCULLIS_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		instead := "--" + name + "-file or " + env
		switch name {
		case "db":
			instead = env + " (or PGPASSWORD / a .pgpass file)"
		case "token":
			instead = env
		}
		log.Warn("a secret was given on the command line, where other local users can read it; use "+instead+" instead", "flag", name)
	}
}
