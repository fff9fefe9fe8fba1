package channels

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Route sends the alerts that reach MinSeverity and match the zone and
// classification filters to Channel.
type Route struct {
	Name            string
	MinSeverity     string   // info, low, medium, high or critical; empty means info
	Zones           []string // zone names, any case; empty means every zone
	Classifications []string // zone classifications, any case; empty means all
	Channel         Channel
}

func (r Route) matches(a Alert) bool {
	// NewRouter has checked MinSeverity, so only "" can be unknown here,
	// and it means every severity.
	if min, ok := lookupSeverity(r.MinSeverity); ok && severityRank(a.Severity) < min {
		return false
	}
	return matchesAny(r.Zones, a.Zone) && matchesAny(r.Classifications, a.Classification)
}

func matchesAny(filter []string, value string) bool {
	if len(filter) == 0 {
		return true
	}
	return slices.ContainsFunc(filter, func(f string) bool {
		return strings.EqualFold(strings.TrimSpace(f), strings.TrimSpace(value))
	})
}

// Router picks the channels an alert goes to.
type Router struct {
	routes []Route
}

// NewRouter checks the routes: each needs a channel, and a MinSeverity that
// is empty or one of the five severities.
func NewRouter(routes ...Route) (*Router, error) {
	var problems []error
	for i, r := range routes {
		name := r.Name
		if name == "" {
			name = fmt.Sprintf("route %d", i+1)
		}
		if r.Channel == nil {
			problems = append(problems, fmt.Errorf("%s: no channel", name))
		}
		if r.MinSeverity != "" && !ValidSeverity(r.MinSeverity) {
			problems = append(problems, fmt.Errorf("%s: unknown minimum severity %q", name, r.MinSeverity))
		}
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	return &Router{routes: slices.Clone(routes)}, nil
}

// Match returns the channels of every route the alert matches, in route
// order, each channel (by Name) once. An alert whose severity is not one of
// the five words is routed as critical, so a mistake never silences it.
func (r *Router) Match(a Alert) []Channel {
	var channels []Channel
	seen := make(map[string]bool)
	for _, route := range r.routes {
		if !route.matches(a) {
			continue
		}
		name := route.Channel.Name()
		if seen[name] {
			continue
		}
		seen[name] = true
		channels = append(channels, route.Channel)
	}
	return channels
}
