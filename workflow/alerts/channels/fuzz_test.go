package channels

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// checkEscaped fails unless every delimiter in out is preceded by an
// escaping backslash, and out does not end inside an escape.
func checkEscaped(t *testing.T, what, out, delimiters string) {
	t.Helper()
	for i := 0; i < len(out); i++ {
		switch {
		case out[i] == '\\':
			if i+1 == len(out) {
				t.Fatalf("%s %q ends with a lone backslash", what, out)
			}
			i++
		case strings.IndexByte(delimiters, out[i]) >= 0:
			t.Fatalf("%s %q has an unescaped %q at %d", what, out, out[i], i)
		}
	}
}

// flattened is what the escapers keep of s before escaping.
func flattened(s string) string { return oneLine(s) }

// flattenedKeepingBreaks is flattened, except that CR and LF survive.
func flattenedKeepingBreaks(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if isControl(r) && r != '\r' && r != '\n' {
			return ' '
		}
		return r
	}, s)
}

func FuzzEscape(f *testing.F) {
	for _, seed := range []string{
		"", "plain", `a"b`, `a\b`, `a]b`, `\"]`, "a|b", "a=b", `\|\=\\`, "line\nbreak\r\n",
		"trailing\\", "\x00\x7f", "next\u0085line", "caf\u00e9", "\xff\xfe", `\n`, "x=y z=w",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sd := EscapeSDValue(s)
		checkEscaped(t, "SD value", sd, `"]`)
		if got := unescapeSDValue(sd); got != flattened(s) {
			t.Fatalf("SD value %q round-trips to %q, want %q", s, got, flattened(s))
		}

		header := EscapeCEFHeader(s)
		checkEscaped(t, "CEF header", header, "|")
		if got := unescapeCEFHeader(header); got != flattened(s) {
			t.Fatalf("CEF header field %q round-trips to %q", s, got)
		}

		ext := EscapeCEFExtension(s)
		checkEscaped(t, "CEF extension", ext, "=")
		if got := unescapeCEFExtension(ext); got != flattenedKeepingBreaks(s) {
			t.Fatalf("CEF extension value %q round-trips to %q", s, got)
		}

		for what, out := range map[string]string{"SD value": sd, "CEF header": header, "CEF extension": ext} {
			if !utf8.ValidString(out) || strings.ContainsFunc(out, isControl) {
				t.Fatalf("%s %q has invalid UTF-8 or a control character", what, out)
			}
		}

		// The same text in every field of a whole message still parses
		// back to itself.
		a := Alert{ID: s, Kind: s, Severity: s, Title: s, Asset: s, Zone: s, Service: s, Link: s}
		raw, err := (&Syslog{Network: NetworkUDP, Hostname: s}).Message(a, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		m, err := parseRFC5424(string(raw))
		if err != nil {
			t.Fatalf("message %q does not parse: %v", raw, err)
		}
		if s != "" && m.SD[0].param("asset") != flattened(s) {
			t.Fatalf("asset %q came back as %q", s, m.SD[0].param("asset"))
		}
		raw, err = (&Syslog{Network: NetworkUDP, Format: FormatCEF}).Message(a, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		m, err = parseRFC5424(string(raw))
		if err != nil {
			t.Fatalf("CEF message %q does not parse: %v", raw, err)
		}
		ev, err := parseCEF(m.Msg)
		if err != nil {
			t.Fatalf("CEF event %q does not parse: %v", m.Msg, err)
		}
		if ev.Header[5] != flattened(truncate(s, syslogTitleMax)) {
			t.Fatalf("CEF name %q came back as %q", s, ev.Header[5])
		}
		if s != "" && ev.Extension["app"] != flattenedKeepingBreaks(s) {
			t.Fatalf("CEF app %q came back as %q", s, ev.Extension["app"])
		}
	})
}

// FuzzChatText puts arbitrary text in every alert field: the chat and SMS
// messages must stay within their limits and valid UTF-8, and no field may
// add a markdown link, an HTML tag or a mention.
func FuzzChatText(f *testing.F) {
	for _, seed := range []string{
		"", "plain", "[x](https://evil.example)", "<@all>", "<at user_id=\"all\">", "**b** _i_ `c`", "\\](", "很长的横幅",
		"\xff\xfe", "line\nbreak", "a|b>c<d", "https://portcullis.example/drift/1?a=(b)",
	} {
		f.Add(seed, seed)
	}
	f.Fuzz(func(t *testing.T, s, link string) {
		a := Alert{ID: s, Kind: s, Severity: s, Title: s, Detail: s, Asset: s, Zone: s, Classification: s, Service: s, Protocol: s, Port: 1, Link: link}
		ours := 0
		if safeLink(link) != "" {
			ours = 1
		}
		for _, limit := range []int{100, weComTextMax, weComMarkdownMax} {
			if p := plainMessage(a, limit); len(p) > limit || !utf8.ValidString(p) {
				t.Fatalf("plainMessage(%d) is %d bytes or invalid: %q", limit, len(p), p)
			}
			md := markdownMessage(a, limit)
			if len(md) > limit || !utf8.ValidString(md) {
				t.Fatalf("markdownMessage(%d) is %d bytes or invalid", limit, len(md))
			}
			if unescapedLinks(md) > ours || strings.ContainsAny(md, "<>") {
				t.Fatalf("markdown lets a field add a link or a tag: %q", md)
			}
		}
		section := slackPayload(a)["blocks"].([]any)[0].(map[string]any)["text"].(map[string]string)["text"]
		if strings.Count(section, "<") > ours || strings.Count(section, ">") > ours {
			t.Fatalf("Slack text lets a field add a link or a mention: %q", section)
		}
		for _, n := range []int{smsMinText, 70, 140} {
			if m := smsText(a, n); utf8.RuneCountInString(m) > n || !utf8.ValidString(m) {
				t.Fatalf("smsText(%d) = %q", n, m)
			}
		}
		for _, field := range SMSFields {
			if v := smsField(a, field, AliyunParamMax); v == "" || utf8.RuneCountInString(v) > AliyunParamMax {
				t.Fatalf("smsField(%s) = %q", field, v)
			}
		}
	})
}

// unescapedLinks counts the "](" in markdown whose "]" no backslash escapes.
func unescapedLinks(md string) int {
	n := 0
	for i := 0; i+1 < len(md); i++ {
		if md[i] == '\\' {
			i++
			continue
		}
		if md[i] == ']' && md[i+1] == '(' {
			n++
		}
	}
	return n
}
