package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		want    config
		wantErr string
	}{
		{args: nil, want: config{dev: "dl0", delay: 15 * time.Millisecond, limit: 50000}},
		{args: []string{"-dev", "slow1", "-delay", "40ms", "-loss", "0.01", "-seed", "7"},
			want: config{dev: "slow1", delay: 40 * time.Millisecond, loss: 0.01, limit: 50000, seed: 7}},
		{args: []string{"-loss", "1"}, wantErr: "-loss 1"},
		{args: []string{"-loss", "-0.1"}, wantErr: "-loss -0.1"},
		{args: []string{"-delay", "-1ms"}, wantErr: "-delay -1ms"},
		{args: []string{"-dev", "a-name-far-too-long"}, wantErr: "want a name of 1 to 15"},
		{args: []string{"-dev", ""}, wantErr: "want a name"},
		{args: []string{"-limit", "0"}, wantErr: "-limit 0"},
		{args: []string{"-delay", "soon"}, wantErr: "invalid value"},
	}
	for _, tc := range tests {
		got, err := parseArgs(tc.args)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want one containing %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %+v, %v; want %+v", tc.args, got, err, tc.want)
		}
	}
}
