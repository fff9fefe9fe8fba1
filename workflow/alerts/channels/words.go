package channels

import "strings"

// Texts is where the human words of a message come from: the server's
// default language (a core.Language is one). The catalog ids are in
// web/locale/locales/alerts.*.toml; the machine parts of a message (kind,
// severity code, IDs, keys, links) never go through it.
type Texts interface {
	Text(id string, args ...any) string
}

// text is message id in the alert's language, or english (already filled)
// when the alert carries none: a channel used on its own writes English.
func (a Alert) text(english, id string, args ...any) string {
	if a.Language == nil {
		return english
	}
	return a.Language.Text(id, args...)
}

// severityWord is the alert's severity for people, in capitals in English:
// "HIGH". An unknown severity reads as critical, as severityRank ranks it.
func severityWord(a Alert) string {
	s := normalSeverity(a.Severity)
	upper := strings.ToUpper(s)
	switch s {
	case SeverityInfo:
		return a.text(upper, "alert_message.severity_info")
	case SeverityLow:
		return a.text(upper, "alert_message.severity_low")
	case SeverityMedium:
		return a.text(upper, "alert_message.severity_medium")
	case SeverityHigh:
		return a.text(upper, "alert_message.severity_high")
	default:
		return a.text(upper, "alert_message.severity_critical")
	}
}

// linkText is the text of the link to the item.
func linkText(a Alert) string {
	return a.text("Open in Portcullis", "alert_message.open_link")
}

// alertIDLine is "Alert ID drift-7", the line that ends a chat message.
func alertIDLine(a Alert, id string) string {
	return a.text("Alert ID "+id, "alert_message.alert_id", "ID", id)
}
