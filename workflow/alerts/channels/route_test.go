package channels

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// namedChannel is a channel that only has a name, for routing tests.
type namedChannel string

func (c namedChannel) Name() string                         { return string(c) }
func (c namedChannel) Deliver(context.Context, Alert) error { return nil }

func TestRouterMatch(t *testing.T) {
	router, err := NewRouter(
		Route{Name: "everything to the archive", Channel: namedChannel("archive")},
		Route{Name: "high and up to the SOC", MinSeverity: SeverityHigh, Channel: namedChannel("soc")},
		Route{Name: "dmz zones to the dmz team", Zones: []string{"DMZ-East", "dmz-west"}, Channel: namedChannel("dmz-team")},
		Route{Name: "high-classification zones", MinSeverity: SeverityMedium, Classifications: []string{"high"}, Channel: namedChannel("crown-jewels")},
		Route{Name: "critical also to the SOC", MinSeverity: SeverityCritical, Channel: namedChannel("soc")},
	)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		severity       string
		zone           string
		classification string
		want           []string
	}{
		{"info elsewhere", SeverityInfo, "office", "low", []string{"archive"}},
		{"high elsewhere", SeverityHigh, "office", "low", []string{"archive", "soc"}},
		{"critical, SOC once", SeverityCritical, "office", "low", []string{"archive", "soc"}},
		{"zone in any case", SeverityLow, "dmz-east", "dmz", []string{"archive", "dmz-team"}},
		{"other dmz zone", SeverityLow, "dmz-north", "dmz", []string{"archive"}},
		{"medium in a high zone", SeverityMedium, "core", "high", []string{"archive", "crown-jewels"}},
		{"low in a high zone", SeverityLow, "core", "high", []string{"archive"}},
		{"severity in capitals", "HIGH", "office", "low", []string{"archive", "soc"}},
		{"unknown severity routes as critical", "sever", "office", "low", []string{"archive", "soc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := testAlert()
			a.Severity, a.Zone, a.Classification = tt.severity, tt.zone, tt.classification
			var got []string
			for _, ch := range router.Match(a) {
				got = append(got, ch.Name())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("channels (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewRouterRefusesBadRoutes(t *testing.T) {
	tests := []struct {
		name  string
		route Route
	}{
		{"no channel", Route{Name: "x"}},
		{"unknown severity", Route{MinSeverity: "urgent", Channel: namedChannel("soc")}},
	}
	for _, tt := range tests {
		if _, err := NewRouter(Route{Channel: namedChannel("ok")}, tt.route); err == nil {
			t.Errorf("%s: NewRouter accepted %+v", tt.name, tt.route)
		}
	}
	if r, err := NewRouter(); err != nil || r.Match(testAlert()) != nil {
		t.Errorf("a router without routes: %v, %v", r, err)
	}
}
