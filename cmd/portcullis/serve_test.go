package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// TestServeStopsItsWorkersThenClosesTheDatabase runs the demo server, ends
// its context, and expects serve to return cleanly with every worker done
// and the database closed: SQLite removes its write-ahead log when the last
// connection closes, so a leftover -wal file means a connection was still open.
func TestServeStopsItsWorkersThenClosesTheDatabase(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "p.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &btBuffer{}, &btBuffer{}
	done := make(chan error, 1)
	args := []string{"serve", "--demo", "--addr", "127.0.0.1:0", "--demo-idp-addr", "127.0.0.1:0", "--db", dbPath, "--gc-percent", "250"}
	go func() { done <- run(ctx, args, func(string) string { return "" }, stdout, stderr) }()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(stdout.String(), "Portcullis is serving on") {
		select {
		case err := <-done:
			t.Fatalf("serve returned before serving: %v\nstderr:\n%s", err, stderr.String())
		case <-deadline:
			t.Fatalf("serve printed no URL within 30s\nstderr:\n%s", stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if _, err := os.Stat(dbPath + "-wal"); err != nil {
		t.Fatalf("a serving database in WAL mode has a -wal file: %v", err)
	}
	// The collector's target is the process's: set back to Go's default.
	if gc := debug.SetGCPercent(100); gc != 250 {
		t.Errorf("serve --gc-percent 250 left the collector's target at %d", gc)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve ended with %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not return within 15s of its context's end")
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Errorf("no shutdown logged:\n%s", btTail(stderr.String(), 2000))
	}
	if _, err := os.Stat(dbPath + "-wal"); !os.IsNotExist(err) {
		t.Errorf("the write-ahead log is still there after serve returned (err %v): the database was not closed", err)
	}
}
