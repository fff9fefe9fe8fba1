package scancli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// redisWithPassword is a Redis that wants AUTH: it answers every other command
// -NOAUTH (which is how the scan names it) and counts the AUTH attempts.
func redisWithPassword(t *testing.T, password string) (port uint16, auths *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	auths = new(atomic.Int32)
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
				c.SetDeadline(time.Now().Add(5 * time.Second))
				r := bufio.NewReader(c)
				for {
					var n int
					if _, err := fmt.Fscanf(r, "*%d\r\n", &n); err != nil {
						return
					}
					var args []string
					for range n {
						var l int
						if _, err := fmt.Fscanf(r, "$%d\r\n", &l); err != nil {
							return
						}
						b := make([]byte, l+2)
						if _, err := io.ReadFull(r, b); err != nil {
							return
						}
						args = append(args, string(b[:l]))
					}
					switch {
					case strings.EqualFold(args[0], "AUTH"):
						auths.Add(1)
						if args[len(args)-1] == password {
							io.WriteString(c, "+OK\r\n")
						} else {
							io.WriteString(c, "-WRONGPASS invalid username-password pair or user is disabled.\r\n")
						}
					case strings.EqualFold(args[0], "QUIT"):
						io.WriteString(c, "+OK\r\n")
						return
					default:
						io.WriteString(c, "-NOAUTH Authentication required.\r\n")
					}
				}
			})
		}
	})
	return uint16(ln.Addr().(*net.TCPAddr).Port), auths
}

func TestCheckCredentials(t *testing.T) {
	const secret = "Corp-Redis-2024"
	port, auths := redisWithPassword(t, secret)
	list := filepath.Join(t.TempDir(), "creds.txt")
	os.WriteFile(list, []byte("# ours\nredis - not-this-one\nredis - "+secret+"\n"), 0o600)
	base := []string{"-q", "--connect", "-p", strconv.Itoa(int(port)), "127.0.0.1"}

	t.Run("off by default", func(t *testing.T) {
		var out, errOut bytes.Buffer
		if err := Run(context.Background(), append([]string{"--format", "json"}, base...), &out, &errOut); err != nil {
			t.Fatal(err)
		}
		if auths.Load() != 0 || strings.Contains(out.String(), "default-credentials") || strings.Contains(errOut.String(), "warning") {
			t.Fatalf("without --check-credentials: %d AUTH attempts, output %s, stderr %s", auths.Load(), out.String(), errOut.String())
		}
	})
	for _, format := range []string{"json", "ndjson"} {
		t.Run(format, func(t *testing.T) {
			auths.Store(0)
			var out, errOut bytes.Buffer
			args := append([]string{"--format", format, "--check-credentials", "--credentials-file", list}, base...)
			if err := Run(context.Background(), args, &out, &errOut); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(errOut.String(), "warning: --check-credentials") {
				t.Errorf("no warning first on stderr: %q", errOut.String())
			}
			if auths.Load() != 2 {
				t.Errorf("%d AUTH attempts, want 2 (the list's second entry logs in)", auths.Load())
			}
			line, _, _ := strings.Cut(out.String(), "\n")
			if format == "json" {
				line = out.String()
			}
			var host struct {
				Ports []struct {
					Findings []struct{ ID, Severity, Detail string }
				}
			}
			if format == "json" {
				var rep struct{ Hosts []json.RawMessage }
				if err := json.Unmarshal([]byte(line), &rep); err != nil || len(rep.Hosts) != 1 {
					t.Fatalf("report %s: %v", out.String(), err)
				}
				line = string(rep.Hosts[0])
			}
			if err := json.Unmarshal([]byte(line), &host); err != nil || len(host.Ports) != 1 {
				t.Fatalf("host %s: %v", line, err)
			}
			f := host.Ports[0].Findings
			if len(f) != 1 || f[0].ID != "default-credentials" || f[0].Severity != "critical" || !strings.Contains(f[0].Detail, "admin-list#3") {
				t.Errorf("findings %+v, want default-credentials naming admin-list#3", f)
			}
			if !strings.Contains(errOut.String(), "entry=admin-list#2") || !strings.Contains(errOut.String(), "outcome=accepted") {
				t.Errorf("attempts not logged on stderr: %s", errOut.String())
			}
			for _, s := range []string{secret, "not-this-one"} {
				if strings.Contains(out.String(), s) || strings.Contains(errOut.String(), s) {
					t.Errorf("the password %q shows in the output or the log", s)
				}
			}
		})
	}
}

func TestCheckCredentialsUsage(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.txt")
	os.WriteFile(bad, []byte("ssh root hunter2\nhttp admin pw-Secret9\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--credentials-file", bad, "127.0.0.1"}, "need --check-credentials"},
		{[]string{"--check-credentials", "--credential-attempts", "9", "127.0.0.1"}, "outside 1-5"},
		{[]string{"--check-credentials", "--credentials-file", bad, "127.0.0.1"}, `line 2: service "http" unknown`},
		{[]string{"--check-credentials", "--credentials-file", "/nonexistent/list", "127.0.0.1"}, "--credentials-file"},
	} {
		var out, errOut bytes.Buffer
		err := Run(context.Background(), tc.args, &out, &errOut)
		usage, ok := errors.AsType[*UsageError](err)
		if !ok || !strings.Contains(usage.Message, tc.want) {
			t.Errorf("%v: %v, want a usage error containing %q", tc.args, err, tc.want)
			continue
		}
		if strings.Contains(usage.Message, "pw-Secret9") {
			t.Errorf("the usage error shows a password: %s", usage.Message)
		}
	}
}
