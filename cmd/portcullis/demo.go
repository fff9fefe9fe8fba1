package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/portcullis/portcullis/workflow"
	"github.com/portcullis/portcullis/workflow/alerts"
	"github.com/portcullis/portcullis/workflow/alerts/channels"
	"github.com/portcullis/portcullis/workflow/core"
)

// startDemoServices plays the demo's assets on loopback, gives the demo a
// SOC webhook receiver (when no alert file was given) and, on a fresh demo
// database, scans every demo asset at once so that verification, drift and
// alerts show within a minute of `make run`.
func startDemoServices(ctx context.Context, app *workflow.App, log *slog.Logger, demoAlerts bool, link func(uint) string, firstStart bool) (stop func(), err error) {
	started, stop, err := startDemoListeners(ctx, log)
	if err != nil {
		return nil, err
	}
	for _, l := range started {
		log.Info("demo service listening", "address", l.Address, "service", l.Service, "note", l.Note)
	}
	if demoAlerts {
		hook, err := startDemoSOC(ctx, log)
		if err != nil {
			return stop, err
		}
		router, err := channels.NewRouter(channels.Route{Name: "demo-soc", Channel: hook})
		if err != nil {
			return stop, err
		}
		app.Alerts.SetAlerting(&alerts.Alerting{Router: router, Channels: map[string]channels.Channel{hook.Name(): hook}, Dispatcher: &channels.Dispatcher{}, Link: link})
	}
	if firstStart {
		if _, err := app.Scans.RequestScan(ctx, core.SystemActor, []string{"dmz", "transit", "office", "apps", "payments"}, "common"); err != nil {
			return stop, err
		}
	}
	return stop, nil
}

// startDemoSOC is a webhook receiver on loopback standing in for the SOC: it
// checks each alert's signature and logs what arrived.
func startDemoSOC(ctx context.Context, log *slog.Logger) (*channels.Webhook, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 16)
	rand.Read(raw)
	secret := hex.EncodeToString(raw)
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err := channels.VerifySignature(secret, r.Header.Get(channels.HeaderTimestamp), body, r.Header.Get(channels.HeaderSignature), time.Now(), channels.DefaultMaxSkew); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		log.Info("demo SOC received an alert", "delivery", r.Header.Get(channels.HeaderDelivery), "body", string(body))
	})}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("demo SOC receiver", "err", err)
		}
	}()
	return &channels.Webhook{URL: "http://" + ln.Addr().String() + "/alerts", Secret: secret, Label: "demo-soc-webhook"}, nil
}
