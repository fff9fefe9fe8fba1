package alerts

import (
	"strconv"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/driftrules"
)

// detailIn is the drift item's explanation in lang. The item's own Detail
// is English prose written when the item was judged, richer than its
// fields (findings, products, dates); it stays as it is for an English
// server. Other languages get the explanation of the item's kind rendered
// from its fields, or the recorded prose for a kind without one.
func detailIn(d models.DriftItem, lang core.Language) string {
	if lang.Tag() == "en" {
		return d.Detail
	}
	port := d.Protocol + "/" + strconv.Itoa(d.Port)
	if d.LastPort > d.Port {
		port += "-" + strconv.Itoa(d.LastPort)
	}
	where := lang.Text("alert_drift.where", "Port", port, "Asset", d.Address)
	host := d.Address
	if d.Zone != "" {
		where = lang.Text("alert_drift.where_zone", "Port", port, "Asset", d.Address, "Zone", d.Zone)
		host = lang.Text("alert_drift.host_zone", "Asset", d.Address, "Zone", d.Zone)
	}
	seen := ""
	if d.Service != "" {
		seen = lang.Text("alert_drift.seen_service", "Service", d.Service)
	}
	rule := lang.Text("alert_drift.rule_none")
	switch {
	case d.RuleID != 0 && d.RequestID != 0:
		rule = lang.Text("alert_drift.rule_request", "Rule", d.RuleID, "Request", d.RequestID)
	case d.RuleID != 0:
		rule = lang.Text("alert_drift.rule", "Rule", d.RuleID)
	}
	switch driftrules.Kind(d.Kind) {
	case driftrules.KindOpenUnapproved:
		return lang.Text("alert_drift.open_unapproved", "Where", where, "Seen", seen)
	case driftrules.KindApprovedClosed:
		return lang.Text("alert_drift.approved_closed", "Where", where, "Rule", rule)
	case driftrules.KindServiceMismatch:
		return lang.Text("alert_drift.service_mismatch", "Where", where, "Rule", rule, "Approved", d.ApprovedService, "Service", d.Service)
	case driftrules.KindExpiredOpen:
		return lang.Text("alert_drift.expired_open", "Where", where, "Seen", seen, "Rule", rule)
	case driftrules.KindWeakConfig:
		return lang.Text("alert_drift.weak_config", "Where", where, "Rule", rule)
	case driftrules.KindTarpit:
		return lang.Text("alert_drift.tarpit", "Host", host)
	case driftrules.KindExposedExternally:
		return lang.Text("alert_drift.exposed_externally", "Where", where)
	}
	return d.Detail
}
