package channels

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// The card formats a Teams channel can post.
const (
	TeamsAdaptiveCard = "adaptive"    // an Adaptive Card in a message: Workflows webhooks and the old connectors
	TeamsMessageCard  = "messagecard" // the legacy Office 365 connector card
)

// Teams posts each alert to a Microsoft Teams channel through an incoming
// webhook: a Workflows ("When a Teams webhook request is received") URL, or
// an Office 365 connector's. The URL is the credential (Workflows URLs
// carry a signature in their query), so it comes from the environment.
//
// Workflows accept the request with 202; connectors answer 200 with the
// body "1", and some failures (throttling among them) also come back as 200
// with an error text in the body, which counts as a failed delivery and is
// retried.
type Teams struct {
	URL    string
	Format string // TeamsAdaptiveCard (default) or TeamsMessageCard
	Client *http.Client
	Label  string
}

// Name identifies the channel in delivery results.
func (t *Teams) Name() string { return cmp.Or(t.Label, "teams") }

// Check reports what is wrong with the configuration, naming the field.
func (t *Teams) Check() error {
	var problems []error
	if t.URL == "" {
		problems = append(problems, errors.New("secret_env: no webhook URL"))
	} else if err := CheckEndpoint(t.URL); err != nil {
		problems = append(problems, fmt.Errorf("secret_env: the webhook URL %w", err))
	}
	if t.Format != "" && t.Format != TeamsAdaptiveCard && t.Format != TeamsMessageCard {
		problems = append(problems, fmt.Errorf("format %q is not %s or %s", t.Format, TeamsAdaptiveCard, TeamsMessageCard))
	}
	return errors.Join(problems...)
}

// Deliver makes one post of a.
func (t *Teams) Deliver(ctx context.Context, a Alert) error {
	what := channelWhat("teams", t.Label)
	if err := t.Check(); err != nil {
		return Permanent(fmt.Errorf("%s: %w", what, err))
	}
	var payload any = teamsAdaptive(a)
	if t.Format == TeamsMessageCard {
		payload = teamsMessageCard(a)
	}
	body, err := postJSON(ctx, t.Client, what, t.URL, payload, a.ID)
	if err != nil {
		return err
	}
	if ans := string(bytes.TrimSpace(body)); ans != "" && ans != "1" {
		return fmt.Errorf("%s: unexpected answer%s", what, describeBody(body))
	}
	return nil
}

// teamsFacts are the name/value pairs both card formats show.
func teamsFacts(a Alert) [][2]string {
	var facts [][2]string
	add := func(name, value string) {
		if v := strings.TrimSpace(value); v != "" {
			facts = append(facts, [2]string{name, markdownText(v)})
		}
	}
	add(a.text("Severity", "alert_message.label_severity"), severityWord(a))
	add(a.text("Zone", "alert_message.label_zone"), a.Zone)
	add(a.text("Classification", "alert_message.label_classification"), a.Classification)
	add(a.text("Service", "alert_message.label_service"), a.Service)
	add(a.text("Alert ID", "alert_message.label_alert_id"), a.ID)
	return facts
}

// teamsAdaptive is the alert as an Adaptive Card (schema 1.4) in the
// message envelope Teams webhooks take.
func teamsAdaptive(a Alert) map[string]any {
	var facts []any
	for _, f := range teamsFacts(a) {
		facts = append(facts, map[string]string{"title": f[0], "value": f[1]})
	}
	body := []any{
		map[string]any{"type": "TextBlock", "text": markdownText(headline(a)), "weight": "Bolder", "size": "Medium", "wrap": true},
		map[string]any{"type": "FactSet", "facts": facts},
	}
	if d := strings.TrimSpace(a.Detail); d != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": markdownText(truncate(d, detailMax)), "wrap": true})
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body":    body,
	}
	if l := safeLink(a.Link); l != "" {
		card["actions"] = []any{map[string]string{"type": "Action.OpenUrl", "title": linkText(a), "url": l}}
	}
	return map[string]any{
		"type": "message",
		"attachments": []any{map[string]any{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content":     card,
		}},
	}
}

// teamsMessageCard is the alert as a legacy MessageCard.
func teamsMessageCard(a Alert) map[string]any {
	var facts []any
	for _, f := range teamsFacts(a) {
		facts = append(facts, map[string]string{"name": f[0], "value": f[1]})
	}
	card := map[string]any{
		"@type":      "MessageCard",
		"@context":   "https://schema.org/extensions",
		"summary":    truncate(headline(a), 200),
		"themeColor": severityColour(a.Severity),
		"title":      markdownText(headline(a)),
		"sections":   []any{map[string]any{"facts": facts, "text": markdownText(truncate(strings.TrimSpace(a.Detail), detailMax))}},
	}
	if l := safeLink(a.Link); l != "" {
		card["potentialAction"] = []any{map[string]any{
			"@type":   "OpenUri",
			"name":    linkText(a),
			"targets": []any{map[string]string{"os": "default", "uri": l}},
		}}
	}
	return card
}

// severityColour is the card's accent colour, hex RGB.
func severityColour(s string) string {
	switch normalSeverity(s) {
	case SeverityCritical:
		return "8B0000"
	case SeverityHigh:
		return "D83B01"
	case SeverityMedium:
		return "FFB900"
	default:
		return "0078D7"
	}
}
