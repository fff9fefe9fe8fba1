package scancli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portcullis/portcullis/scanner"
)

func listen(t *testing.T, greeting string) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(3 * time.Second))
				c.Write([]byte(greeting))
				io.Copy(io.Discard, c)
			})
		}
	})
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-p", "0", "127.0.0.1"}, "invalid port"},
		{[]string{"-p", "9-1", "127.0.0.1"}, "end before start"},
		{[]string{"-u", "x", "127.0.0.1"}, "-u"},
		{[]string{"--format", "xml", "127.0.0.1"}, "unknown format"},
		{[]string{"--profile", "huge", "127.0.0.1"}, "unknown profile"},
		{[]string{"-p", "22", "--profile", "full", "127.0.0.1"}, "not both"},
		{[]string{"-p", "22"}, "no targets"},
		{[]string{"--rate", "-5", "127.0.0.1"}, "must be positive"},
		{[]string{"--syn", "--connect", "127.0.0.1"}, "not both"},
		{[]string{"-p", "22", "not a host!"}, "not an address"},
		{[]string{"-p", "22", "10.0.0.0/8"}, "--yes-i-mean-it"},
		{[]string{"--bogus", "127.0.0.1"}, "not defined"},
		{[]string{"--timeout", "soon", "127.0.0.1"}, "invalid duration"},
		{[]string{"-iL", "/nonexistent/targets", "-p", "22"}, "-iL"},
	}
	for _, tc := range tests {
		var out, errOut bytes.Buffer
		err := Run(context.Background(), tc.args, &out, &errOut)
		usage, ok := errors.AsType[*UsageError](err)
		if !ok {
			t.Errorf("%v: error %v is not a usage error", tc.args, err)
			continue
		}
		if !strings.Contains(usage.Message, tc.want) || strings.Contains(usage.Message, "\n") {
			t.Errorf("%v: message %q, want one line containing %q", tc.args, usage.Message, tc.want)
		}
	}
}

func TestParseArgs(t *testing.T) {
	c, err := parseArgs([]string{"127.0.0.1", "-p-", "--all-states", "::1", "-q", "--timeout", "800", "--", "-odd"})
	if err != nil {
		t.Fatal(err)
	}
	if c.ports != "-" || !c.allStates || !c.quiet || c.timeout != 800*time.Millisecond {
		t.Errorf("%+v", c)
	}
	if !slices.Equal(c.targets, []string{"127.0.0.1", "::1", "-odd"}) {
		t.Errorf("targets %v", c.targets)
	}
	ports, profile, err := choosePorts(c.ports, c.profile)
	if err != nil || len(ports) != 65535 || profile != "full" {
		t.Errorf("%d %s %v", len(ports), profile, err)
	}
	if _, profile, _ := choosePorts("", ""); profile != "common" {
		t.Errorf("default profile %s", profile)
	}
	if _, profile, _ := choosePorts("22,80", ""); profile != "custom" {
		t.Errorf("profile %s", profile)
	}
}

func TestJSONOutput(t *testing.T) {
	port := listen(t, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
	dir := t.TempDir()
	list := filepath.Join(dir, "targets")
	os.WriteFile(list, []byte("# lab\n127.0.0.1\n"), 0o600)
	var out, errOut bytes.Buffer
	args := []string{"-iL", list, "-p", strconv.Itoa(int(port)), "--format", "json", "-q", "--timeout", "500ms"}
	if err := Run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var report scanner.Report
	if err := json.Unmarshal(out.Bytes(), &report); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if report.Schema != scanner.Schema || report.Profile != "custom" || len(report.Hosts) != 1 {
		t.Fatalf("%+v", report)
	}
	p := report.Hosts[0].Port("tcp", port)
	if p == nil || p.Service != "ssh" || p.Product != "OpenSSH" {
		t.Errorf("port %+v", p)
	}
	if errOut.Len() != 0 {
		t.Errorf("-q still wrote %q", errOut.String())
	}
}

func TestTableAndCSVOutput(t *testing.T) {
	port := listen(t, "=cmd|' /C calc'!A0\r\n") // a banner a spreadsheet would run
	for _, format := range []string{"table", "csv"} {
		var out, errOut bytes.Buffer
		args := []string{"127.0.0.1", "-p", strconv.Itoa(int(port)), "--format", format, "-q", "--timeout", "500ms"}
		if err := Run(context.Background(), args, &out, &errOut); err != nil {
			t.Fatal(err)
		}
		text := out.String()
		switch format {
		case "table":
			if !strings.Contains(text, "HOST") || !strings.Contains(text, strconv.Itoa(int(port))+"/tcp") {
				t.Errorf("table:\n%s", text)
			}
		case "csv":
			rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
			if err != nil || len(rows) != 2 {
				t.Fatalf("csv %v:\n%s", err, text)
			}
			if banner := rows[1][10]; !strings.HasPrefix(banner, "'=") {
				t.Errorf("banner cell %q not neutralised", banner)
			}
		}
	}
}

func TestProgressLine(t *testing.T) {
	var buf bytes.Buffer
	l := progressLine{w: &buf}
	l.update(scanner.Progress{Elapsed: time.Second})
	if buf.Len() != 0 {
		t.Errorf("progress shown for a short scan")
	}
	l.update(scanner.Progress{Elapsed: 3 * time.Second, HostsDone: 1, HostsTotal: 4, PortsDone: 100, PortsTotal: 400, Rate: 50, Remaining: 6 * time.Second})
	l.finish()
	if s := buf.String(); !strings.HasPrefix(s, "\r") || !strings.Contains(s, "1/4 hosts") || !strings.Contains(s, "6s left") || !strings.HasSuffix(s, "\n") {
		t.Errorf("%q", s)
	}
}

func TestCSVCell(t *testing.T) {
	for in, want := range map[string]string{"=1+1": "'=1+1", "+x": "'+x", "-x": "'-x", "@x": "'@x", "\tx": "'\tx", "ok": "ok", "": ""} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q", in, got)
		}
	}
}

func TestNoIdentify(t *testing.T) {
	port := listen(t, "SSH-2.0-OpenSSH_9.2p1\r\n")
	var out, errOut bytes.Buffer
	args := []string{"-p", strconv.Itoa(int(port)), "--no-identify", "--format", "json", "-q", "127.0.0.1"}
	if err := Run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var report scanner.Report
	if err := json.Unmarshal(out.Bytes(), &report); err != nil {
		t.Fatal(err)
	}
	p := report.Hosts[0].Port("tcp", port)
	if p == nil || p.State != scanner.StateOpen || p.Service == "ssh" || p.Banner != "" {
		t.Fatalf("--no-identify still identified the port: %+v", p)
	}
}

func TestNDJSONStreamsHostsThenSummary(t *testing.T) {
	port := listen(t, "SSH-2.0-OpenSSH_9.2p1\r\n")
	var out, errOut bytes.Buffer
	args := []string{"-p", strconv.Itoa(int(port)), "--format", "ndjson", "-q", "--timeout", "500ms", "127.0.0.1", "::1"}
	if err := Run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want two hosts and a summary, got %q", out.String())
	}
	seen := map[string]bool{}
	for _, l := range lines[:2] {
		var h scanner.Host
		if err := json.Unmarshal([]byte(l), &h); err != nil || h.Address == "" {
			t.Fatalf("host line %q: %v", l, err)
		}
		seen[h.Address] = true
		if h.Address == "127.0.0.1" && (len(h.Ports) != 1 || h.Ports[0].Service != "ssh") {
			t.Errorf("host %+v", h)
		}
	}
	if !seen["127.0.0.1"] || !seen["::1"] {
		t.Errorf("hosts %v", seen)
	}
	var last struct {
		Summary *scanner.Summary `json:"summary"`
	}
	if err := json.Unmarshal([]byte(lines[2]), &last); err != nil || last.Summary == nil {
		t.Fatalf("summary line %q: %v", lines[2], err)
	}
	if s := last.Summary; s.Schema != scanner.Schema || s.Hosts != 2 || (s.Method != "syn" && s.Method != "connect") {
		t.Errorf("summary %+v", s)
	}
}

// -v writes one line per host with its time, as each host is reported; the
// report itself is unchanged.
func TestVerboseSaysEachHostsTime(t *testing.T) {
	port := listen(t, "SSH-2.0-OpenSSH_9.2p1\r\n")
	var out, errOut bytes.Buffer
	args := []string{"-p", strconv.Itoa(int(port)), "--format", "ndjson", "-q", "-v", "--timeout", "500ms", "127.0.0.1", "::1"}
	if err := Run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	took := regexp.MustCompile(`(?m)^host (\S+) took (\d+\.\d{3})s$`)
	seen := map[string]bool{}
	for _, m := range took.FindAllStringSubmatch(errOut.String(), -1) {
		// 0.000 is a time too: a host can be reported within half a millisecond.
		if d, err := strconv.ParseFloat(m[2], 64); err != nil || d < 0 || d > 30 {
			t.Errorf("host %s took %ss", m[1], m[2])
		}
		seen[m[1]] = true
	}
	if len(seen) != 2 || !seen["127.0.0.1"] || !seen["::1"] {
		t.Errorf("-v should say each host's time once; stderr:\n%s", errOut.String())
	}
	if n := strings.Count(strings.TrimSpace(out.String()), "\n"); n != 2 {
		t.Errorf("stdout holds %d lines, want two hosts and a summary", n+1)
	}
}

func TestMethodFlags(t *testing.T) {
	port := listen(t, "")
	for _, c := range []struct {
		flag, want string
	}{{"--connect", "connect"}, {"--syn", "syn"}} {
		var out, errOut bytes.Buffer
		args := []string{"-p", strconv.Itoa(int(port)), c.flag, "--rate", "5000", "--no-identify", "--format", "json", "-q", "127.0.0.1"}
		err := Run(context.Background(), args, &out, &errOut)
		if c.flag == "--syn" && os.Geteuid() != 0 {
			if _, ok := errors.AsType[*UsageError](err); !ok {
				t.Errorf("--syn without privilege: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(c.flag, err)
		}
		var report scanner.Report
		if err := json.Unmarshal(out.Bytes(), &report); err != nil {
			t.Fatal(err)
		}
		if report.Method != c.want || report.Hosts[0].Port("tcp", port) == nil {
			t.Errorf("%s: method %q hosts %+v", c.flag, report.Method, report.Hosts)
		}
	}
	if _, ok := errors.AsType[*UsageError](Run(context.Background(), []string{"--syn", "--connect", "127.0.0.1"}, io.Discard, io.Discard)); !ok {
		t.Error("--syn with --connect accepted")
	}
}
