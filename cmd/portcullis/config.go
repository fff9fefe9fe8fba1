package main

import (
	"flag"
	"io"
	"log/slog"
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

	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string
	OIDCGroupsClaim  string
	OIDCRoleGroups   string
	OIDCProviderName string
	TeamGroupPrefix  string

	SessionIdle     time.Duration
	SessionLifetime time.Duration
	TrustedOrigins  string
	TrustedProxies  string
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
