package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/portcullis/portcullis/handlers"
	"github.com/portcullis/portcullis/handlers/devidp"
	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/web"
	"github.com/portcullis/portcullis/web/locale"
	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/agents"
	"github.com/portcullis/portcullis/workflow/alerts/channels"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/credentials"
	"github.com/portcullis/portcullis/workflow/demo"
	"github.com/portcullis/portcullis/workflow/identity"
	"github.com/portcullis/portcullis/workflow/jobs"
	"github.com/portcullis/portcullis/workflow/scans"
	"golang.org/x/sync/errgroup"
	"riverqueue.com/riverui"
)

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := newFlagSet("serve", stderr)
	fs.StringVar(&cfg.Addr, "addr", "localhost:8080", "address to listen on")
	dbFlag(fs, &cfg.DB)
	fs.BoolVar(&cfg.Demo, "demo", false, "seed the demo organisation and start the development identity provider on loopback")
	fs.StringVar(&cfg.DemoIdPAddr, "demo-idp-addr", "127.0.0.1:8081", "loopback address of the development identity provider (demo only)")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "URL browsers use to reach Portcullis (default http://ADDR)")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&cfg.OIDCIssuer, "oidc-issuer", "", "OpenID Connect issuer URL (Keycloak, Dex, Okta, Entra ID…)")
	fs.StringVar(&cfg.OIDCClientID, "oidc-client-id", "", "OpenID Connect client id")
	fs.StringVar(&cfg.OIDCClientSecret, "oidc-client-secret", "", "OpenID Connect client secret (better: --oidc-client-secret-file or PORTCULLIS_OIDC_CLIENT_SECRET)")
	fs.StringVar(&cfg.OIDCClientSecretFile, "oidc-client-secret-file", "", "file holding the OpenID Connect client secret")
	fs.StringVar(&cfg.OIDCGroupsClaim, "oidc-groups-claim", "groups", "ID token claim that lists the user's groups")
	fs.StringVar(&cfg.OIDCRoleGroups, "oidc-role-groups", "", "role to group mapping, e.g. requester=staff,reviewer=secops|seclead (default: portcullis-ROLE)")
	fs.StringVar(&cfg.OIDCProviderName, "oidc-provider-name", "", "name of the identity provider on the login button (default: \"single sign-on\" in the reader's language)")
	fs.StringVar(&cfg.DefaultLanguage, "default-language", "en", "language of the pages for people whose profile and browser name none offered: en or zh-CN")
	fs.StringVar(&cfg.DefaultTimeZone, "default-timezone", "UTC", "time zone of the times shown to people who chose none on their profile (IANA name, e.g. Asia/Shanghai)")
	fs.StringVar(&cfg.TeamGroupPrefix, "team-group-prefix", "team:", "groups starting with this name the user's team")
	fs.DurationVar(&cfg.SessionIdle, "session-idle", 30*time.Minute, "a session ends after this long without activity")
	fs.DurationVar(&cfg.SessionLifetime, "session-lifetime", 12*time.Hour, "a session ends this long after login, active or not")
	fs.DurationVar(&cfg.ScanSlice, "scan-slice", 5*time.Minute, "a scan job stores what it found and yields after this long (another slice, on any instance, goes on); a job left by a killed instance is taken over after two slices")
	fs.DurationVar(&cfg.AccessCheckEvery, "access-check-interval", 15*time.Minute, "how often to ask the identity provider (by refresh token) whether each person still belongs; at most 1h")
	fs.IntVar(&cfg.MaxViews, "max-views", models.DefaultViews(), "page views and API reads served at once, the others waiting their turn in order (default: two per core; raise it when the database is on another machine)")
	fs.IntVar(&cfg.GCPercent, "gc-percent", 300, "how far the heap grows past what is live before Go's garbage collector runs, as GOGC (ignored when GOGC is set): page views allocate much and keep little, so the default trades some memory for less collecting")
	fs.StringVar(&cfg.TrustedOrigins, "trusted-origins", "", "comma-separated origins also allowed to post forms (behind a proxy)")
	var allowLoopbackAssets bool
	fs.BoolVar(&allowLoopbackAssets, "allow-loopback-assets", false, "accept loopback addresses (127.0.0.0/8, ::1) as inventory assets, for test servers (always on with --demo)")
	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", "", "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For names the client (default: none, the peer is the client)")
	var auditKeys auditKeyFlags
	auditKeys.register(fs)
	var alertsPath string
	fs.StringVar(&alertsPath, "alerts", "", "alert routing file (YAML: channels and routes); see the README")
	var smtp channels.Email
	fs.StringVar(&smtp.Addr, "smtp-addr", "", "SMTP server (host:port) for re-certification reminders and the daily and weekly reports")
	fs.StringVar(&smtp.From, "smtp-from", "", "sender of the reminders and reports, e.g. Portcullis <portcullis@example.com>")
	fs.StringVar(&smtp.Username, "smtp-username", "", "SMTP user (AUTH PLAIN, over STARTTLS)")
	fs.StringVar(&smtp.Password, "smtp-password", "", "SMTP password (better: --smtp-password-file or PORTCULLIS_SMTP_PASSWORD)")
	var smtpPasswordFile string
	fs.StringVar(&smtpPasswordFile, "smtp-password-file", "", "file holding the SMTP password")
	fs.BoolVar(&smtp.StartTLS, "smtp-starttls", true, "require STARTTLS")
	agentOpts := agents.DefaultOptions
	fs.DurationVar(&agentOpts.HeartbeatTimeout, "agent-heartbeat-timeout", agentOpts.HeartbeatTimeout, "a scanner agent's chunk goes back to the queue after this long without a heartbeat")
	fs.IntVar(&agentOpts.ChunkHosts, "agent-chunk-hosts", agentOpts.ChunkHosts, "hosts in one chunk of a zone scan handed to agents")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if agentOpts.HeartbeatTimeout < time.Second || agentOpts.ChunkHosts < 1 || agentOpts.ChunkHosts > 4096 {
		return usagef("--agent-heartbeat-timeout is at least 1s and --agent-chunk-hosts from 1 to 4096")
	}
	if fs.NArg() > 0 {
		return usagef("serve takes no arguments, got %q", fs.Args())
	}
	log, err := newLogger(stderr, cfg.LogLevel)
	if err != nil {
		return err
	}
	if cfg.MaxViews < 1 || cfg.MaxViews > 1024 {
		return usagef("--max-views %d: want from 1 to 1024", cfg.MaxViews)
	}
	if cfg.GCPercent < 50 || cfg.GCPercent > 1000 {
		return usagef("--gc-percent %d: want from 50 to 1000", cfg.GCPercent)
	}
	if cfg.ScanSlice < 5*time.Second {
		return usagef("--scan-slice %s: want at least 5s", cfg.ScanSlice)
	}
	if cfg.AccessCheckEvery < time.Minute || cfg.AccessCheckEvery > time.Hour {
		return usagef("--access-check-interval %s: want from 1m to 1h (people removed at the identity provider must lose access within an hour)", cfg.AccessCheckEvery)
	}
	if cfg.DefaultLanguage, err = locale.ParseLanguage(cfg.DefaultLanguage); err != nil {
		return usagef("--default-language: %v", err)
	}
	if _, err := locale.LoadZone(cfg.DefaultTimeZone); err != nil {
		return usagef("--default-timezone: %v", err)
	}
	if cfg.OIDCClientSecret, err = secretFromFile("oidc-client-secret", cfg.OIDCClientSecret, cfg.OIDCClientSecretFile); err != nil {
		return err
	}
	if smtp.Password, err = secretFromFile("smtp-password", smtp.Password, smtpPasswordFile); err != nil {
		return err
	}
	if !cfg.Demo && (cfg.OIDCIssuer == "" || cfg.OIDCClientID == "" || cfg.OIDCClientSecret == "") {
		return usagef("no identity provider: set --oidc-issuer, --oidc-client-id and --oidc-client-secret (or run with --demo)")
	}
	roleGroups := handlers.DefaultRoleGroups()
	if cfg.OIDCRoleGroups != "" {
		if roleGroups, err = handlers.ParseRoleGroups(cfg.OIDCRoleGroups); err != nil {
			return usagef("--oidc-role-groups: %v", err)
		}
	}

	if getenv("GOGC") == "" {
		debug.SetGCPercent(cfg.GCPercent)
	}
	db, err := models.Open(ctx, cfg.DB, log)
	if err != nil {
		return err
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}
	if err := models.WarmPostgres(ctx, db, cfg.MaxViews); err != nil {
		return err
	}
	app := workflow.New(db, log)
	app.Inventory.RefuseLoopbackAssets(!cfg.Demo && !allowLoopbackAssets)
	if err := app.Inventory.EnsurePolicy(ctx); err != nil {
		return fmt.Errorf("load the policy: %w", err)
	}
	keys, err := auditKeys.load(cfg.DB, true, log)
	if err != nil {
		return usagef("%v", err)
	}
	app.Compliance.SetAuditKeys(keys)
	// Refresh tokens are sealed under a key derived (HKDF) from the audit
	// signing key: no second secret to manage. A new audit key makes the
	// stored refresh tokens unreadable; they are dropped and the next login
	// stores new ones.
	refreshKey, err := identity.RefreshKeyFrom([]byte(keys.Signer))
	if err != nil {
		return err
	}
	if err := app.Identity.SetRefreshKey(refreshKey); err != nil {
		return err
	}
	// The admin's credential list is sealed the same way, under a key of its own.
	listKey, err := credentials.KeyFrom([]byte(keys.Signer))
	if err != nil {
		return err
	}
	if err := app.Credentials.SetKey(listKey); err != nil {
		return err
	}
	app.Credentials.SetParser(parseCredentialList)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + publicHost(cfg.Addr, ln.Addr())
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")

	hcfg := handlers.Config{
		Views:     cfg.MaxViews,
		PublicURL: cfg.PublicURL, ProviderName: cfg.OIDCProviderName,
		DefaultLanguage: cfg.DefaultLanguage, DefaultTimeZone: cfg.DefaultTimeZone,
		SessionIdle: cfg.SessionIdle, SessionLifetime: cfg.SessionLifetime,
		OIDC: handlers.OIDCConfig{
			Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
			GroupsClaim: cfg.OIDCGroupsClaim, RoleGroups: roleGroups, TeamGroupPrefix: cfg.TeamGroupPrefix,
		},
	}
	if hcfg.TrustedProxies, err = handlers.ParseTrustedProxies(cfg.TrustedProxies); err != nil {
		return usagef("--trusted-proxies: %v", err)
	}
	for _, o := range strings.Split(cfg.TrustedOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			hcfg.TrustedOrigins = append(hcfg.TrustedOrigins, o)
		}
	}

	// The demo and the tests scan loopback only; a real deployment scans its inventory.
	// Zones with scanner agents are scanned by them, in chunks; the others
	// by the scanner inside the server.
	app.Agents.SetOptions(agentOpts)
	app.Scans.SetScanner(app.Agents.Dispatcher(scannerAdapter{credentials: app.Credentials.Load, log: log}), scans.Policy{LoopbackOnly: cfg.Demo})
	driftLink := func(id uint) string { return fmt.Sprintf("%s/drift/%d", cfg.PublicURL, id) }
	if alertsPath != "" {
		alerting, err := loadAlerting(alertsPath, getenv, driftLink)
		if err != nil {
			return usagef("--alerts: %v", err)
		}
		app.Alerts.SetAlerting(alerting)
	}

	if smtp.Addr != "" {
		if smtp.From == "" {
			return usagef("--smtp-from is required with --smtp-addr")
		}
		smtp.Label = "reminders"
		app.Recert.SetMailer(&smtp, cfg.PublicURL)
		app.Reports.SetMailer(&smtp, cfg.PublicURL)
	}

	errc := make(chan error, 2)
	if cfg.Demo {
		idp, err := startDemoIdP(ctx, cfg, &hcfg, log, errc)
		if err != nil {
			return err
		}
		defer idp.Close()
		seeded, err := demo.Seeded(ctx, app)
		if err != nil {
			return err
		}
		if err := demo.Seed(ctx, app, hcfg.OIDC.Issuer); err != nil {
			return fmt.Errorf("seed demo: %w", err)
		}
		if err := app.Identity.ForgetRefreshTokens(ctx, hcfg.OIDC.Issuer); err != nil {
			return err
		}
		stopDemo, err := startDemoServices(ctx, app, log, alertsPath == "", driftLink, !seeded)
		if stopDemo != nil {
			defer stopDemo()
		}
		if err != nil {
			return err
		}
	}

	if app.Jobs.Postgres() {
		// River's own UI, for admins (the handlers check the role).
		ui, err := riverui.NewHandler(&riverui.HandlerOpts{
			Endpoints: riverui.NewEndpoints(app.Jobs.Client(), nil),
			Logger:    log.With("component", "riverui"),
			Prefix:    handlers.RiverUIPrefix,
		})
		if err != nil {
			return fmt.Errorf("job dashboard: %w", err)
		}
		if err := ui.Start(ctx); err != nil {
			return fmt.Errorf("job dashboard: %w", err)
		}
		hcfg.RiverUI = ui
	}
	srv, err := handlers.New(hcfg, app, log)
	if err != nil {
		return err
	}
	httpSrv := &http.Server{
		Handler: srv.Routes(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	httpSrv.RegisterOnShutdown(srv.CloseStreams)
	// Every background worker runs in one group: on shutdown the group's
	// context ends, the HTTP server drains, each worker returns (the scan
	// worker records the run it was on), and only then does the deferred
	// close of the database run.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		select {
		case <-gctx.Done():
			return nil
		case err := <-errc:
			return err
		}
	})
	g.Go(func() error {
		<-gctx.Done()
		log.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return httpSrv.Shutdown(shutdownCtx)
	})
	g.Go(func() error { srv.SummariseSecurityEvents(gctx); return nil })
	// Every background job (scans, alerts, reports, expiry, reminders,
	// checkpoints, access checks, session clean-up) runs on River, shared with the other
	// instances through the database.
	g.Go(func() error {
		checkAccess := func(ctx context.Context) error {
			sum, err := srv.CheckAccess(ctx)
			if sum.Checked > 0 || err != nil {
				log.Info("access check", "checked", sum.Checked, "revoked", sum.Revoked, "unchanged", sum.Unchanged, "err", err)
			}
			return err
		}
		cleanSessions := func(ctx context.Context) error { return models.DeleteExpiredSessions(ctx, app.DB()) }
		opts := jobs.Options{ScanSlice: cfg.ScanSlice, AccessCheckEvery: cfg.AccessCheckEvery}
		if models.IsPostgres(cfg.DB) {
			opts.PostgresURL = cfg.DB
		}
		return app.Jobs.Run(gctx, app.JobDeps(checkAccess, cleanSessions), opts)
	})

	fmt.Fprintf(stdout, "Portcullis is serving on %s\n", cfg.PublicURL)
	if cfg.Demo {
		printDemoLogins(stdout, hcfg.OIDC.Issuer)
	}
	return g.Wait()
}

// publicHost names the listening address as a browser would: "localhost"
// stays localhost, an unspecified address becomes localhost.
func publicHost(configured string, actual net.Addr) string {
	host, _, _ := net.SplitHostPort(configured)
	_, port, _ := net.SplitHostPort(actual.String())
	switch host {
	case "", "0.0.0.0", "::":
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// startDemoIdP runs the development identity provider on a loopback
// listener and points the OIDC configuration at it. It exists only in demo mode.
func startDemoIdP(ctx context.Context, cfg Config, hcfg *handlers.Config, log *slog.Logger, errc chan<- error) (io.Closer, error) {
	ln, err := net.Listen("tcp", cfg.DemoIdPAddr)
	if err != nil {
		return nil, fmt.Errorf("demo identity provider: listen on %s: %w", cfg.DemoIdPAddr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		ln.Close()
		return nil, usagef("--demo-idp-addr %s is not a loopback address: the development identity provider never leaves loopback", cfg.DemoIdPAddr)
	}
	issuer := "http://" + ln.Addr().String()
	secret := make([]byte, 16)
	rand.Read(secret)
	client := devidp.Client{ID: "portcullis-demo", Secret: hex.EncodeToString(secret), RedirectURIs: []string{hcfg.PublicURL + "/auth/callback"}}
	var users []devidp.User
	for _, u := range demo.Users {
		users = append(users, devidp.User{Subject: u.Subject, Email: u.Email, Name: u.Name, Password: demo.Password, Groups: demo.Groups(u, hcfg.OIDC.TeamGroupPrefix)})
		hcfg.DemoLogins = append(hcfg.DemoLogins, web.DemoLogin{Email: u.Email, Password: demo.Password, Name: u.Name, Roles: strings.Fields(core.JoinRoles(u.Roles))})
	}
	provider, err := devidp.New(issuer, []devidp.Client{client}, users, log.With("component", "devidp"))
	if err != nil {
		ln.Close()
		return nil, err
	}
	srv := &http.Server{Handler: provider, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("demo identity provider: %w", err)
		}
	}()
	hcfg.OIDC.Issuer, hcfg.OIDC.ClientID, hcfg.OIDC.ClientSecret = issuer, client.ID, client.Secret
	log.Info("demo identity provider started", "issuer", issuer)
	return srv, nil
}

func rolesText(roles []core.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, " + ")
}

func printDemoLogins(w io.Writer, issuer string) {
	fmt.Fprintf(w, "\nDemo mode: log in through the development identity provider (%s).\n", issuer)
	fmt.Fprintf(w, "Every demo account's password is %q.\n\n", demo.Password)
	for _, u := range demo.Users {
		fmt.Fprintf(w, "  %-22s %s\n", rolesText(u.Roles), u.Email)
	}
	fmt.Fprintln(w)
}
