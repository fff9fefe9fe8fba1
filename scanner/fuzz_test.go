package scanner

import (
	"context"
	"testing"
)

func FuzzParsePorts(f *testing.F) {
	for _, s := range []string{"22", "22,80,8000-8100", "-", "-p", "1-", "-10", "common", "full", "0", "65536", "a-b", ",", "1,,2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		ports, err := ParsePorts(spec)
		if err != nil {
			return
		}
		for i, p := range ports {
			if p == 0 || i > 0 && ports[i-1] >= p {
				t.Fatalf("%q: bad list around %d", spec, p)
			}
		}
	})
}

func FuzzParseTargetSpec(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "::1", "10.0.0.0/8", "10.0.0.1-20", "10.0.0.1-10.0.0.9", "fe80::1%eth0",
		"host.example", "1.2.3.4-", "-", "::/0", "1.2.3.4/33"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		ts, err := parseTargetSpec(spec)
		if err != nil {
			return
		}
		if ts.host == "" && ts.size().Sign() <= 0 {
			t.Fatalf("%q: empty range", spec)
		}
		if ts.host == "" && ts.size().BitLen() <= 8 {
			// Small ranges are expanded for real (no name resolution happens here).
			if _, err := ParseTargets(context.Background(), []string{spec}, 256); err != nil {
				t.Fatalf("%q: %v", spec, err)
			}
		}
	})
}
