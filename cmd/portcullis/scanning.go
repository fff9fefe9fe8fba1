package main

import (
	"context"
	"encoding/json"
	"net/netip"
	"slices"

	"github.com/portcullis/portcullis/scanner"
	"github.com/portcullis/portcullis/workflow/scans"
)

// scannerAdapter is the scanner package behind the workflow's Scanner interface.
type scannerAdapter struct{}

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
func (scannerAdapter) ScanHosts(ctx context.Context, job scans.Job, progress func(scans.Progress), host func(scans.Host)) ([]byte, error) {
	var hosts []scanner.Host
	var convErr error
	sum, err := scanner.ScanStream(ctx, scanner.NewTargetSet(job.Targets), scanner.Options{
		TCPPorts: job.TCPPorts, UDPPorts: job.UDPPorts, Profile: job.Profile,
		Progress: func(p scanner.Progress) {
			progress(scans.Progress{
				HostsDone: p.HostsDone, HostsTotal: p.HostsTotal, PortsDone: p.PortsDone, PortsTotal: p.PortsTotal,
				Rate: p.Rate, Remaining: p.Remaining.Seconds(), Phase: p.Phase,
			})
		},
	}, func(h scanner.Host) {
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
	})
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
