package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"

	"github.com/portcullis/portcullis/scanner"
	"github.com/portcullis/portcullis/scanner/credcheck"
	"github.com/portcullis/portcullis/workflow/scans"
)

// scannerAdapter is the scanner package behind the workflow's Scanner interface.
type scannerAdapter struct {
	// credentials loads the admin's list for the default-credential checks of
	// zones that have them on; nil: the built-in list alone.
	credentials func(ctx context.Context) (string, error)
	log         *slog.Logger // the credential checks' attempts; nil: not logged
}

// Resolve turns a profile into its ports: common TCP ports daily; every TCP
// port and the UDP services that matter weekly.
func (scannerAdapter) Resolve(job scans.Job) (scans.Job, error) {
	if len(job.TCPPorts) > 0 || len(job.UDPPorts) > 0 {
		return job, nil
	}
	ports, err := scanner.Profile(job.Profile)
	if err != nil {
		return job, err
	}
	job.TCPPorts = ports
	if job.Profile == "full" {
		job.UDPPorts = scanner.CommonUDPPorts
	}
	return job, nil
}

func (a scannerAdapter) Scan(ctx context.Context, job scans.Job, progress func(scans.Progress)) ([]byte, error) {
	return a.ScanHosts(ctx, job, progress, func(scans.Host) {})
}

// ScanHosts streams: each host is handed over as soon as the scanner has
// finished it, so the run's results are stored while it runs and a run that
// is cut short keeps what it found.
func (a scannerAdapter) ScanHosts(ctx context.Context, job scans.Job, progress func(scans.Progress), host func(scans.Host)) ([]byte, error) {
	var hosts []scanner.Host
	var convErr error
	emit := func(h scanner.Host) {
		hosts = append(hosts, h)
		// The two Host types share the report's JSON shape: the workflow
		// declares its own so that it never imports the scanner.
		var wh scans.Host
		b, err := json.Marshal(h)
		if err == nil {
			err = json.Unmarshal(b, &wh)
		}
		if err != nil {
			convErr = err
			return
		}
		host(wh)
	}
	wait := func() {}
	if len(job.CheckCredentials) > 0 {
		checker, err := a.checker(ctx)
		if err != nil {
			return nil, err
		}
		only := map[string]bool{}
		for _, addr := range job.CheckCredentials {
			only[addr.String()] = true
		}
		emit, wait = checker.Stream(ctx, func(addr string) bool { return only[addr] }, emit)
	}
	sum, err := scanner.ScanStream(ctx, scanner.NewTargetSet(job.Targets), scanner.Options{
		TCPPorts: job.TCPPorts, UDPPorts: job.UDPPorts, Profile: job.Profile,
		Progress: func(p scanner.Progress) {
			progress(scans.Progress{
				HostsDone: p.HostsDone, HostsTotal: p.HostsTotal, PortsDone: p.PortsDone, PortsTotal: p.PortsTotal,
				Rate: p.Rate, Remaining: p.Remaining.Seconds(), Phase: p.Phase,
			})
		},
	}, emit)
	wait()
	if sum == nil {
		return nil, err
	}
	if err == nil {
		err = convErr
	}
	if err != nil {
		return nil, err
	}
	slices.SortFunc(hosts, func(a, b scanner.Host) int {
		return netip.MustParseAddr(a.Address).Compare(netip.MustParseAddr(b.Address))
	})
	return json.Marshal(scanner.Report{Schema: sum.Schema, StartedAt: sum.StartedAt, FinishedAt: sum.FinishedAt,
		Profile: sum.Profile, Method: sum.Method, Hosts: hosts})
}

// checker makes the credential checker with the admin's list, if one is stored.
func (a scannerAdapter) checker(ctx context.Context) (*credcheck.Checker, error) {
	var list []credcheck.Entry
	if a.credentials != nil {
		text, err := a.credentials(ctx)
		if err != nil {
			return nil, fmt.Errorf("the credential list: %w", err)
		}
		if list, err = credcheck.ParseList(strings.NewReader(text)); err != nil {
			return nil, err
		}
	}
	return credcheck.New(credcheck.Options{List: list, Log: a.log})
}

// parseCredentialList checks an admin's list for the workflow, which stores it.
func parseCredentialList(text string) (int, error) {
	list, err := credcheck.ParseList(strings.NewReader(text))
	return len(list), err
}
