package web

import (
	"context"

	"github.com/portcullis/portcullis/web/locale"
)

// ServiceOption is one catalog service in the service picker.
type ServiceOption struct {
	Name  string // what the rule stores ("https")
	Label string // its title and standard ports
}

// RuleChoices is what every rule of the form offers: the service catalog,
// examples from the user's own inventory and the limits.
type RuleChoices struct {
	Services []ServiceOption
	// ZoneExample is a zone of the inventory, AssetExample an address of
	// one of the user's team's assets (or any asset), PortsExample ports
	// the examples would use.
	ZoneExample, AssetExample, PortsExample string
	MaxParts, MaxRules                      int
}

// placeholder is the example a side of the rule shows: our assets where
// the direction puts them, the far side (internet or a zone) on the other.
func (c RuleChoices) placeholder(ctx context.Context, side, direction string) string {
	example := "internet"
	switch {
	case (side == "destination") != (direction == "egress"):
		example = firstNonEmpty(c.AssetExample, c.ZoneExample)
	case c.ZoneExample != "":
		example = "internet, " + c.ZoneExample
	}
	if example == "" {
		return ""
	}
	return locale.T(ctx, "rule_form.example_source", "Example", example)
}

// sideList is the datalist a side of the rule suggests from: assets for our
// side, internet and the zones for the other.
func sideList(side, direction string) string {
	if (side == "destination") != (direction == "egress") {
		return "assets"
	}
	return "sources"
}

// sideText names the source or destination of a rule the way its
// direction reads.
func sideText(ctx context.Context, side, direction string) string {
	egress := direction == "egress"
	switch {
	case side == "source" && egress:
		return locale.T(ctx, "rule_form.source_egress")
	case side == "source":
		return locale.T(ctx, "rule_form.source_ingress")
	case egress:
		return locale.T(ctx, "rule_form.destination_egress")
	}
	return locale.T(ctx, "rule_form.destination_ingress")
}
