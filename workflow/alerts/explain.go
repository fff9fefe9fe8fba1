package alerts

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/driftrules"
)

// detailIn is the drift item's explanation in lang. The item's own Detail
// is English prose written when the item was judged; it stays as it is for
// an English server. Other languages get the explanation of the item's
// kind rendered from its fields, its evidence and the facts the prose
// quotes (weak configurations with the scanner's detail, product, expiry,
// …), or the recorded prose for a kind without one.
func detailIn(d models.DriftItem, lang core.Language) string {
	if lang.Tag() == "en" {
		return d.Detail
	}
	var ev driftrules.Evidence
	var facts driftrules.DetailFacts
	// Items recorded before the facts were kept have none: the sentence
	// then says what the fields say.
	_ = json.Unmarshal([]byte(d.Evidence), &ev)
	_ = json.Unmarshal([]byte(d.DetailFacts), &facts)
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
	product := strings.TrimSpace(ev.Product + " " + ev.Version)
	seen := ""
	switch {
	case d.Service == driftrules.ServiceUnknown && ev.State == driftrules.PortOpen && ev.Banner == "":
		seen = lang.Text("alert_drift.seen_empty_banner")
	case d.Service == driftrules.ServiceUnknown && ev.State == driftrules.PortOpen:
		seen = lang.Text("alert_drift.seen_unidentified")
	case d.Service != "" && ev.TLS && product != "":
		seen = lang.Text("alert_drift.seen_service_tls_product", "Service", d.Service, "Product", product)
	case d.Service != "" && ev.TLS:
		seen = lang.Text("alert_drift.seen_service_tls", "Service", d.Service)
	case d.Service != "" && product != "":
		seen = lang.Text("alert_drift.seen_service_product", "Service", d.Service, "Product", product)
	case d.Service != "":
		seen = lang.Text("alert_drift.seen_service", "Service", d.Service)
	}
	weak := ""
	if len(facts.Weak) > 0 {
		parts := make([]string, len(facts.Weak))
		for i, f := range facts.Weak {
			parts[i] = f.ID
			if detail := strings.TrimSpace(f.Detail); detail != "" {
				parts[i] = lang.Text("alert_drift.weak_finding", "ID", f.ID, "Detail", detail)
			}
		}
		weak = lang.Text("alert_drift.weak_list", "Findings", strings.Join(parts, lang.Text("common.list_separator")))
	} else if len(ev.Findings) > 0 {
		weak = lang.Text("alert_drift.weak_list", "Findings", strings.Join(ev.Findings, lang.Text("common.list_separator")))
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
		return lang.Text("alert_drift.open_unapproved", "Where", where, "Seen", seen, "Weak", also(lang, weak))
	case driftrules.KindApprovedClosed:
		found := lang.Text("alert_drift.found_not_open")
		switch {
		case d.LastPort > d.Port:
			found = lang.Text("alert_drift.found_none_open")
		case ev.State == driftrules.PortFiltered:
			found = lang.Text("alert_drift.found_filtered")
		case ev.State == driftrules.PortClosed:
			found = lang.Text("alert_drift.found_closed")
		}
		return lang.Text("alert_drift.approved_closed", "Where", where, "Rule", rule, "Found", found)
	case driftrules.KindServiceMismatch:
		answers := ""
		switch {
		case ev.TLS && product != "":
			answers = lang.Text("alert_drift.answers_tls_product", "Product", product)
		case ev.TLS:
			answers = lang.Text("alert_drift.answers_tls")
		case product != "":
			answers = lang.Text("alert_drift.answers_product", "Product", product)
		}
		return lang.Text("alert_drift.service_mismatch", "Where", where, "Rule", rule, "Approved", d.ApprovedService, "Service", d.Service, "Seen", answers)
	case driftrules.KindExpiredOpen:
		how := lang.Text("alert_drift.lapsed")
		switch {
		case facts.Revoked:
			how = lang.Text("alert_drift.revoked")
		case facts.Expired != "":
			how = lang.Text("alert_drift.expired_on", "Date", facts.Expired)
		}
		return lang.Text("alert_drift.expired_open", "Where", where, "Seen", seen, "Rule", rule, "How", how, "Weak", also(lang, weak))
	case driftrules.KindWeakConfig:
		condition := ""
		switch facts.Auth {
		case "required":
			condition = lang.Text("alert_drift.auth_required")
		case "capable":
			condition = lang.Text("alert_drift.auth_capable", "Service", d.Service)
		}
		return lang.Text("alert_drift.weak_config", "Where", where, "Rule", rule, "Weak", weak, "Condition", condition)
	case driftrules.KindTarpit:
		return lang.Text("alert_drift.tarpit", "Host", host)
	case driftrules.KindExposedExternally:
		public := ""
		if facts.PublicOf != "" {
			public = lang.Text("alert_drift.public_of", "Asset", facts.PublicOf)
		}
		if d.Severity == string(driftrules.SeverityHigh) {
			return lang.Text("alert_drift.exposed_internal_only", "Where", where, "Public", public)
		}
		return lang.Text("alert_drift.exposed_externally", "Where", where, "Public", public)
	}
	return d.Detail
}

// also is the weak configurations as a sentence of their own, "" for none.
func also(lang core.Language, weak string) string {
	if weak == "" {
		return ""
	}
	return lang.Text("alert_drift.also_weak", "Weak", weak)
}
