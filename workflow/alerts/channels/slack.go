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

// Slack posts each alert to a Slack channel through an incoming webhook.
// The webhook URL is the credential (its path is the secret), so it comes
// from the environment, never the alerts file.
//
// The message has a plain-text fallback ("text", shown in notifications)
// and blocks: a section with the headline, where, detail and link, and a
// context line with the alert ID. The section's block_id carries the alert
// ID too. Slack answers 200 "ok"; 400, 403, 404 and 410 answers
// (invalid_payload, action_prohibited, channel_not_found,
// channel_is_archived) are permanent, 429 and 5xx are retried.
type Slack struct {
	URL    string
	Client *http.Client
	Label  string
}

// slackSectionMax is Slack's limit on a section's text, in characters;
// bytes are counted here, which is stricter.
const slackSectionMax = 3000

// Name identifies the channel in delivery results.
func (s *Slack) Name() string { return cmp.Or(s.Label, "slack") }

// Check reports what is wrong with the configuration, naming the field.
func (s *Slack) Check() error {
	if s.URL == "" {
		return errors.New("secret_env: no webhook URL")
	}
	if err := CheckEndpoint(s.URL); err != nil {
		return fmt.Errorf("secret_env: the webhook URL %w", err)
	}
	return nil
}

// Deliver makes one post of a.
func (s *Slack) Deliver(ctx context.Context, a Alert) error {
	what := channelWhat("slack", s.Label)
	if err := s.Check(); err != nil {
		return Permanent(fmt.Errorf("%s: %w", what, err))
	}
	body, err := postJSON(ctx, s.Client, what, s.URL, slackPayload(a), a.ID)
	if err != nil {
		return err
	}
	// Slack's documented success answer is "ok"; an empty one (a proxy)
	// is taken as success too, anything else is not.
	if ans := string(bytes.TrimSpace(body)); ans != "ok" && ans != "" {
		return fmt.Errorf("%s: unexpected answer%s", what, describeBody(body))
	}
	return nil
}

func slackPayload(a Alert) map[string]any {
	var text strings.Builder
	text.WriteString("*" + slackText(headline(a)) + "*")
	if w := whereLine(a); w != "" {
		text.WriteString("\n" + slackText(w))
	}
	if d := strings.TrimSpace(a.Detail); d != "" {
		text.WriteString("\n" + slackText(truncate(d, detailMax)))
	}
	if l := safeLink(a.Link); l != "" {
		text.WriteString("\n<" + l + "|" + slackText(linkText(a)) + ">")
	}
	return map[string]any{
		"text": slackText(plainMessageLine(a)),
		"blocks": []any{
			map[string]any{
				"type":     "section",
				"block_id": truncate("portcullis-"+oneLine(a.ID), 255),
				"text":     map[string]string{"type": "mrkdwn", "text": truncate(text.String(), slackSectionMax)},
			},
			map[string]any{
				"type":     "context",
				"elements": []any{map[string]string{"type": "mrkdwn", "text": alertIDLine(a, slackText(a.ID))}},
			},
		},
	}
}

// plainMessageLine is the one-line fallback of a rich message: the
// headline and, if any, the link.
func plainMessageLine(a Alert) string {
	line := "Portcullis " + headline(a)
	if l := safeLink(a.Link); l != "" {
		line += " " + l
	}
	return line
}
