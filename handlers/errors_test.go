package handlers

import (
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/models/modelstest"
	"github.com/portcullis/portcullis/workflow"
)

// TestFailureOfAGoneClientIsNotAnError: a request whose client went away
// fails in the database with whatever the driver makes of the cancelled
// context; that is logged as a cancellation at info level, not as an
// internal error, by both the page and the API error paths. Failures of a
// live request, or of one whose deadline ran out, stay errors.
func TestFailureOfAGoneClientIsNotAnError(t *testing.T) {
	cancelled := func() context.Context {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}
	expired := func() context.Context {
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		t.Cleanup(cancel)
		return ctx
	}
	for _, tc := range []struct {
		name      string
		ctx       func() context.Context
		err       error
		wantLevel string
	}{
		{"bad connection after the client left", cancelled, fmt.Errorf("list requests: %w", driver.ErrBadConn), "INFO"},
		{"dial cancelled after the client left", cancelled, errors.New("failed to connect to `user=postgres database=test`: dial tcp 127.0.0.1:5432: operation was canceled"), "INFO"},
		{"context.Canceled after the client left", cancelled, fmt.Errorf("query: %w", context.Canceled), "INFO"},
		{"bad connection of a live request", context.Background, driver.ErrBadConn, "ERROR"},
		{"context.Canceled of a live request", context.Background, context.Canceled, "ERROR"},
		{"deadline ran out", expired, fmt.Errorf("query: %w", context.DeadlineExceeded), "ERROR"},
	} {
		for _, api := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/api=%v", tc.name, api), func(t *testing.T) {
				var logged bytes.Buffer
				s := &Server{log: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))}
				req := httptest.NewRequest(http.MethodGet, "/requests", nil).WithContext(tc.ctx())
				rec := httptest.NewRecorder()
				if api {
					s.apiError(rec, req, tc.err)
				} else {
					s.fail(rec, req, tc.err)
				}
				if rec.Code != http.StatusInternalServerError {
					t.Errorf("status %d, want 500", rec.Code)
				}
				// The first line is the failure's; a page's render may add one
				// of its own (at debug level when the client left).
				lines := strings.Split(strings.TrimSpace(logged.String()), "\n")
				first := lines[0]
				if !strings.Contains(first, "level="+tc.wantLevel) || !strings.Contains(first, "path=/requests") {
					t.Fatalf("logged %q, want a line at %s naming the path first", lines, tc.wantLevel)
				}
				if cancelledLine := strings.Contains(first, "cancelled by the client"); cancelledLine != (tc.wantLevel == "INFO") {
					t.Errorf("logged %q: says cancelled = %v", first, cancelledLine)
				}
				if tc.wantLevel == "INFO" && strings.Contains(logged.String(), "level=ERROR") {
					t.Errorf("a gone client logged an error: %q", lines)
				}
			})
		}
	}
}

// TestHealthCheckOfAGoneProberIsNotAnError: a prober that gives up while the
// database is pinged (a load balancer's timeout, a load generator stopping)
// cancels the ping; that is no database failure and is not logged as one.
func TestHealthCheckOfAGoneProberIsNotAnError(t *testing.T) {
	svc := workflow.New(modelstest.SQLite(t), modelstest.Logger())
	var logged bytes.Buffer
	s := &Server{app: svc, log: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	h := s.logRequests(http.HandlerFunc(s.healthz))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "ok\n" {
		t.Fatalf("live probe: %d %q", rec.Code, rec.Body.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil).WithContext(ctx))
	if !strings.Contains(logged.String(), "health check cancelled by the client") {
		t.Fatalf("the cancelled ping was not seen: %q", logged.String())
	}
	if strings.Contains(logged.String(), "level=ERROR") {
		t.Errorf("a gone prober logged an error: %q", logged.String())
	}
}
