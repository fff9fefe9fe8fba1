package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/identity"
)

// openApp opens the database for a command-line tool; logs go to stderr.
func openApp(ctx context.Context, dsn string, stderr io.Writer) (*workflow.App, func(), error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := models.Open(ctx, dsn, log)
	if err != nil {
		return nil, nil, err
	}
	closeDB := func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	}
	app := workflow.New(db, log)
	// The command line speaks English, report documents included.
	catalog, err := locale.New("en", "UTC")
	if err != nil {
		closeDB()
		return nil, nil, err
	}
	app.SetLanguages(func(string, string) core.Language { return catalog.Localizer("en", "", "UTC") })
	return app, closeDB, nil
}

func runUserList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var dsn, roleName, format string
	fs := newFlagSet("user list", stderr)
	dbFlag(fs, &dsn)
	fs.StringVar(&roleName, "role", "", "only users with this role")
	fs.StringVar(&format, "format", "table", "table or json")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	var role core.Role
	if roleName != "" {
		r, ok := core.ParseRole(roleName)
		if !ok {
			return usagef("--role %q is not one of requester, reviewer, approver, implementer, auditor, admin", roleName)
		}
		role = r
	}
	if format != "table" && format != "json" {
		return usagef("--format %q is not table or json", format)
	}
	app, closeDB, err := openApp(ctx, dsn, stderr)
	if err != nil {
		return err
	}
	defer closeDB()
	users, err := app.Identity.ListUsers(ctx, role)
	if err != nil {
		return err
	}
	if format == "json" {
		type userJSON struct {
			Email       string     `json:"email"`
			Name        string     `json:"name"`
			Team        string     `json:"team"`
			Roles       []string   `json:"roles"`
			Issuer      string     `json:"issuer"`
			Subject     string     `json:"subject"`
			LastLoginAt *time.Time `json:"last_login_at"`
			// DisabledAt is set while an admin has the user disabled.
			DisabledAt *time.Time `json:"disabled_at"`
		}
		out := []userJSON{}
		for _, u := range users {
			roles := []string{}
			for _, r := range core.SplitRoles(u.Roles) {
				roles = append(roles, string(r))
			}
			out = append(out, userJSON{u.Email, u.Name, u.Team, roles, u.Issuer, u.Subject, u.LastLoginAt, u.DisabledAt})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tTEAM\tROLES")
	for _, u := range users {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Email, u.Name, u.Team, u.Roles)
	}
	return tw.Flush()
}

func runTokenCreate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var dsn, email, name string
	fs := newFlagSet("token create", stderr)
	dbFlag(fs, &dsn)
	fs.StringVar(&email, "user", "", "e-mail of the user the token acts for")
	fs.StringVar(&name, "name", "created on the command line", "what the token is for")
	var ttlText string
	fs.StringVar(&ttlText, "ttl", "", "how long the token lasts, e.g. 2s, 72h or 90d (default and maximum set by admins)")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if email == "" {
		return usagef("--user EMAIL is required")
	}
	var ttl time.Duration
	if ttlText != "" {
		var err error
		if ttl, err = identity.ParseTTL(ttlText); err != nil {
			return usagef("--ttl: %v", err)
		}
	}
	app, closeDB, err := openApp(ctx, dsn, stderr)
	if err != nil {
		return err
	}
	defer closeDB()
	secret, tok, err := app.Identity.CreateTokenTTL(ctx, core.SystemActor, email, name, ttl)
	if err != nil {
		switch core.ErrorCodeOf(err) {
		case core.CodeNotFound:
			return usagef("%v", err)
		case core.CodeInvalid:
			if fe := fieldErrorOf(err); fe == "ttl" {
				return usagef("--ttl: %v", err)
			}
			return usagef("%v", err)
		}
		return err
	}
	fmt.Fprintf(stdout, "API token for %s, expires %s (shown once; keep it secret):\n%s\n", email, tok.ExpiresAt.UTC().Format(time.RFC3339), secret)
	return nil
}

// fieldErrorOf names the field a domain error is about.
func fieldErrorOf(err error) string {
	var e *core.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
