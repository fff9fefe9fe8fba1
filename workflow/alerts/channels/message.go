package channels

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// The people who read chat and SMS alerts want one glance: how bad, what,
// where, and a link to the item. These builders make that text for every
// vendor from the same parts. Alert fields partly come from what a scanned
// service said about itself, so the markdown builders neutralise anything a
// banner could use to add links, mentions or formatting.

// detailMax bounds the detail paragraph of a chat message, in bytes.
const detailMax = 400

// headline says how bad and what: "HIGH: open-unapproved on 10.0.0.5 tcp/8443".
func headline(a Alert) string {
	what := strings.TrimSpace(oneLine(a.Title))
	if what == "" {
		kind, asset := oneLine(a.Kind), oneLine(a.Asset)
		what = strings.TrimSpace(a.text(kind+" on "+asset, "alert_message.kind_on_asset", "Kind", kind, "Asset", asset))
	}
	sev := severityWord(a)
	return a.text(sev+": "+what, "alert_message.headline", "Severity", sev, "What", what)
}

// whereLine says where: "zone dmz-east (dmz), service https-alt", or "" if
// the alert says nothing of it.
func whereLine(a Alert) string {
	var parts []string
	if z := strings.TrimSpace(oneLine(a.Zone)); z != "" {
		if c := strings.TrimSpace(oneLine(a.Classification)); c != "" {
			z += " (" + c + ")"
		}
		parts = append(parts, a.text("zone "+z, "alert_message.where_zone", "Zone", z))
	}
	if s := strings.TrimSpace(oneLine(a.Service)); s != "" {
		parts = append(parts, a.text("service "+s, "alert_message.where_service", "Service", s))
	}
	return strings.Join(parts, a.text(", ", "alert_message.list_separator"))
}

// safeLink is the alert's link if it is an absolute http(s) URL, with the
// characters that would end a markdown or Slack link percent-encoded; ""
// otherwise.
func safeLink(link string) string {
	u, err := url.Parse(strings.TrimSpace(link))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return strings.NewReplacer("(", "%28", ")", "%29", "<", "%3C", ">", "%3E", "|", "%7C", " ", "%20", "[", "%5B", "]", "%5D").Replace(u.String())
}

// plainMessage is the alert as a few lines of plain text within limit bytes.
func plainMessage(a Alert, limit int) string {
	lines := []string{"Portcullis " + headline(a)}
	if w := whereLine(a); w != "" {
		lines = append(lines, w)
	}
	if d := strings.TrimSpace(oneLine(a.Detail)); d != "" {
		lines = append(lines, truncate(d, detailMax))
	}
	if l := safeLink(a.Link); l != "" {
		lines = append(lines, l)
	}
	lines = append(lines, alertIDLine(a, oneLine(a.ID)))
	return truncate(strings.Join(lines, "\n"), limit)
}

// markdownText makes s inert in the markdown of DingTalk, WeCom and Teams:
// one line, the markdown punctuation that starts emphasis, code, links,
// headings and tables backslash-escaped (parentheses are harmless once "]"
// is), and angle brackets (HTML, WeCom's <@user> mentions) swapped for
// full-width ones.
func markdownText(s string) string {
	var b strings.Builder
	for _, r := range oneLine(s) {
		switch r {
		case '<':
			b.WriteRune('＜')
		case '>':
			b.WriteRune('＞')
		case '\\', '`', '*', '_', '[', ']', '#', '~', '|':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// markdownMessage is the alert in common markdown, within limit bytes.
func markdownMessage(a Alert, limit int) string {
	var b strings.Builder
	b.WriteString("**" + markdownText(headline(a)) + "**\n\n")
	if w := whereLine(a); w != "" {
		b.WriteString(markdownText(w) + "\n\n")
	}
	if d := strings.TrimSpace(a.Detail); d != "" {
		b.WriteString(markdownText(truncate(d, detailMax)) + "\n\n")
	}
	if l := safeLink(a.Link); l != "" {
		b.WriteString("[" + markdownText(linkText(a)) + "](" + l + ")\n\n")
	}
	b.WriteString(alertIDLine(a, markdownText(a.ID)))
	return truncate(b.String(), limit)
}

// slackText makes s inert in Slack's mrkdwn: one line, and the three
// characters Slack asks to be escaped.
func slackText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(oneLine(s))
}

// smsMinText is the fewest characters of description worth sending
// beside a link; below it the link is left out.
const smsMinText = 20

// smsText is the alert as one SMS: "Portcullis HIGH: <what> <link>", within
// maxRunes characters (SMS counts characters, not bytes). The link is kept
// whole and the description shortened; a link that cannot fit is left out.
func smsText(a Alert, maxRunes int) string {
	text := "Portcullis " + headline(a)
	link := safeLink(a.Link)
	if room := maxRunes - utf8.RuneCountInString(link) - 1; link != "" && room >= smsMinText {
		return truncateRunes(text, room) + " " + link
	}
	return truncateRunes(text, maxRunes)
}

// truncateRunes shortens s to at most n characters, marking a cut with an
// ellipsis.
func truncateRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n-1]) + "…"
}
