package scanner

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestParsePorts(t *testing.T) {
	tests := []struct {
		spec string
		want []uint16
		n    int
		bad  bool
	}{
		{spec: "22", want: []uint16{22}},
		{spec: "80,22,80", want: []uint16{22, 80}},
		{spec: "8000-8003, 1", want: []uint16{1, 8000, 8001, 8002, 8003}},
		{spec: "65530-", want: []uint16{65530, 65531, 65532, 65533, 65534, 65535}},
		{spec: "-3", want: []uint16{1, 2, 3}},
		{spec: "-", n: 65535},
		{spec: "full", n: 65535},
		{spec: "0", bad: true},
		{spec: "65536", bad: true},
		{spec: "10-5", bad: true},
		{spec: "a", bad: true},
		{spec: "1,,2", bad: true},
		{spec: "", bad: true},
	}
	for _, tc := range tests {
		got, err := ParsePorts(tc.spec)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: no error", tc.spec)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.spec, err)
			continue
		}
		if tc.want != nil && !slices.Equal(got, tc.want) {
			t.Errorf("%q: %v", tc.spec, got)
		}
		if tc.n != 0 && len(got) != tc.n {
			t.Errorf("%q: %d ports", tc.spec, len(got))
		}
	}
}

func TestProfileCommon(t *testing.T) {
	ports, err := Profile("common")
	if err != nil {
		t.Fatal(err)
	}
	if len(ports) < 1000 || len(ports) > 2000 || !slices.IsSorted(ports) {
		t.Errorf("%d ports", len(ports))
	}
	for _, p := range []uint16{21, 22, 23, 25, 53, 80, 443, 445, 1433, 1521, 1883, 2222, 3306, 3389, 4222, 5432,
		5672, 5900, 6379, 8080, 8443, 9200, 11211, 16379, 27017, 33890} {
		if _, ok := slices.BinarySearch(ports, p); !ok {
			t.Errorf("common lacks %d", p)
		}
	}
	if _, err := Profile("everything"); err == nil {
		t.Errorf("unknown profile accepted")
	}
}

func TestParseTargets(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		specs []string
		want  []string
		n     int
		bad   bool
	}{
		{specs: []string{"127.0.0.1"}, want: []string{"127.0.0.1"}},
		{specs: []string{"::1", "127.0.0.1", "::1"}, want: []string{"::1", "127.0.0.1"}},
		{specs: []string{"127.0.0.0/30"}, want: []string{"127.0.0.0", "127.0.0.1", "127.0.0.2", "127.0.0.3"}},
		{specs: []string{"127.0.0.5/30"}, n: 4},
		{specs: []string{"127.0.0.10-12"}, want: []string{"127.0.0.10", "127.0.0.11", "127.0.0.12"}},
		{specs: []string{"127.0.0.254-127.0.1.1"}, n: 4},
		{specs: []string{"::ffff:127.0.0.1"}, want: []string{"127.0.0.1"}},
		{specs: []string{"fd00::/120"}, n: 256},
		{specs: []string{"127.0.0.12-10"}, bad: true},
		{specs: []string{"10.0.0.0/33"}, bad: true},
		{specs: []string{"bad host!"}, bad: true},
		{specs: []string{""}, bad: true},
	}
	for _, tc := range tests {
		got, err := ParseTargets(ctx, tc.specs, 0)
		if tc.bad {
			if err == nil {
				t.Errorf("%v: no error", tc.specs)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.specs, err)
			continue
		}
		var s []string
		for _, a := range got {
			s = append(s, a.String())
		}
		if tc.want != nil && !slices.Equal(s, tc.want) {
			t.Errorf("%v: %v", tc.specs, s)
		}
		if tc.n != 0 && len(got) != tc.n {
			t.Errorf("%v: %d addresses", tc.specs, len(got))
		}
	}
}

func TestParseTargetsLimit(t *testing.T) {
	ctx := context.Background()
	_, err := ParseTargets(ctx, []string{"10.0.0.0/8"}, 0)
	var tooMany *TooManyTargetsError
	if !errors.As(err, &tooMany) || tooMany.Limit != DefaultMaxTargets {
		t.Fatalf("err %v", err)
	}
	// A /64 is never expanded, whatever the limit: the count is checked first.
	if _, err := ParseTargets(ctx, []string{"2001:db8::/64"}, -1); !errors.As(err, &tooMany) {
		t.Errorf("err %v", err)
	}
	if got, err := ParseTargets(ctx, []string{"10.0.0.0/20"}, -1); err != nil || len(got) != 4096 {
		t.Errorf("%d %v", len(got), err)
	}
	if _, err := ParseTargets(ctx, []string{"10.0.0.0/20", "10.1.0.1"}, 0); !errors.As(err, &tooMany) {
		t.Errorf("4097 addresses accepted")
	}
}

func TestParseTargetsHostname(t *testing.T) {
	hosts, err := os.ReadFile("/etc/hosts")
	if err != nil || !strings.Contains(string(hosts), "localhost") {
		t.Skip("localhost is not in /etc/hosts; resolving it could leave the machine")
	}
	got, err := ParseTargets(context.Background(), []string{"localhost"}, 0)
	if err != nil || len(got) == 0 {
		t.Fatalf("%v %v", got, err)
	}
	for _, a := range got {
		if !a.IsLoopback() {
			t.Errorf("localhost resolved to %v", a)
		}
	}
}

func TestParseTargetSet(t *testing.T) {
	t.Parallel()
	cases := []struct {
		specs []string
		n     uint64
		first string
		last  string
	}{
		{[]string{"10.0.0.0/16"}, 65536, "10.0.0.0", "10.0.255.255"},
		{[]string{"10.0.0.0/24", "10.0.0.128/25", "10.0.1.0/24"}, 512, "10.0.0.0", "10.0.1.255"},
		{[]string{"192.0.2.5", "192.0.2.1-4", "2001:db8::/127", "192.0.2.5"}, 7, "192.0.2.1", "2001:db8::1"},
		{[]string{"255.255.255.254/31", "255.255.255.255"}, 2, "255.255.255.254", "255.255.255.255"},
		{[]string{"2001:db8::ffff:ffff:ffff:fffe/127", "2001:db8:0:1::/127"}, 4, "2001:db8::ffff:ffff:ffff:fffe", "2001:db8:0:1::1"},
	}
	for _, c := range cases {
		s, err := ParseTargetSet(context.Background(), c.specs, -1)
		if err != nil {
			t.Fatal(c.specs, err)
		}
		if s.Len() != c.n || s.At(0).String() != c.first || s.At(s.Len()-1).String() != c.last {
			t.Errorf("%v: len %d first %s last %s", c.specs, s.Len(), s.At(0), s.At(s.Len()-1))
		}
		all := s.All()
		for i := 1; i < len(all); i++ {
			if !all[i-1].Less(all[i]) {
				t.Errorf("%v: not ascending at %d: %s %s", c.specs, i, all[i-1], all[i])
			}
		}
	}
	if _, err := ParseTargetSet(context.Background(), []string{"10.0.0.0/8"}, 0); err == nil {
		t.Error("a /8 passed the default limit")
	}
}
