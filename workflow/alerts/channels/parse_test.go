package channels

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The parsers here read what the channels send, the way a strict receiver
// would, so the tests check the wire format rather than the code's own idea
// of it.

func testAlert() Alert {
	return Alert{
		ID:             "drift-42",
		Kind:           "drift.new_port",
		Severity:       SeverityHigh,
		Title:          "New open port on web01",
		Detail:         "Port 8443/tcp answered a scan but no approved request covers it.",
		Asset:          "web01",
		Zone:           "dmz-east",
		Classification: "dmz",
		Protocol:       "tcp",
		Port:           8443,
		Service:        "https-alt",
		RequestID:      17,
		FirstSeen:      time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC),
		Link:           "https://portcullis.example.com/drift/42",
	}
}

// syslogMessage is an RFC 5424 message taken apart.
type syslogMessage struct {
	Priority  int
	Timestamp time.Time
	Hostname  string
	AppName   string
	ProcID    string
	MsgID     string
	SD        []sdElement
	Msg       string
}

type sdElement struct {
	ID     string
	Params [][2]string
}

func (e sdElement) param(name string) string {
	for _, p := range e.Params {
		if p[0] == name {
			return p[1]
		}
	}
	return ""
}

// parseRFC5424 parses one message following the RFC 5424 ABNF, including
// structured-data escapes.
func parseRFC5424(raw string) (syslogMessage, error) {
	var m syslogMessage
	rest, ok := strings.CutPrefix(raw, "<")
	if !ok {
		return m, errors.New("no PRI")
	}
	pri, rest, ok := strings.Cut(rest, ">")
	if !ok || len(pri) == 0 || len(pri) > 3 {
		return m, errors.New("bad PRI")
	}
	p, err := strconv.Atoi(pri)
	if err != nil || p > 191 {
		return m, fmt.Errorf("bad PRI %q", pri)
	}
	m.Priority = p
	fields := strings.SplitN(rest, " ", 7)
	if len(fields) != 7 {
		return m, errors.New("too few header fields")
	}
	if fields[0] != "1" {
		return m, fmt.Errorf("version %q", fields[0])
	}
	if m.Timestamp, err = time.Parse(time.RFC3339Nano, fields[1]); err != nil {
		return m, err
	}
	for i, max := range []int{255, 48, 128, 32} {
		f := fields[2+i]
		if f == "" || len(f) > max {
			return m, fmt.Errorf("header field %d is %q", 2+i, f)
		}
		for _, c := range []byte(f) {
			if c < 33 || c > 126 {
				return m, fmt.Errorf("header field %q has byte %#x", f, c)
			}
		}
	}
	m.Hostname, m.AppName, m.ProcID, m.MsgID = fields[2], fields[3], fields[4], fields[5]
	rest = fields[6]
	if after, ok := strings.CutPrefix(rest, "-"); ok {
		rest = after
	} else {
		for strings.HasPrefix(rest, "[") {
			var e sdElement
			if e, rest, err = parseSDElement(rest); err != nil {
				return m, err
			}
			m.SD = append(m.SD, e)
		}
		if len(m.SD) == 0 {
			return m, errors.New("no structured data")
		}
	}
	if rest != "" {
		msg, ok := strings.CutPrefix(rest, " ")
		if !ok {
			return m, errors.New("no space before MSG")
		}
		m.Msg = msg
	}
	return m, nil
}

func parseSDElement(s string) (sdElement, string, error) {
	var e sdElement
	s = s[1:]
	end := strings.IndexAny(s, " ]")
	if end <= 0 {
		return e, "", errors.New("bad SD-ID")
	}
	e.ID, s = s[:end], s[end:]
	for {
		if rest, ok := strings.CutPrefix(s, "]"); ok {
			return e, rest, nil
		}
		s, _ = strings.CutPrefix(s, " ")
		name, rest, ok := strings.Cut(s, `="`)
		if !ok || name == "" || strings.ContainsAny(name, ` ="]`) || len(name) > 32 {
			return e, "", fmt.Errorf("bad SD-PARAM at %q", s)
		}
		var value strings.Builder
		i := 0
		for ; i < len(rest); i++ {
			c := rest[i]
			if c == '\\' && i+1 < len(rest) && strings.IndexByte(`"\]`, rest[i+1]) >= 0 {
				value.WriteByte(rest[i+1])
				i++
				continue
			}
			if c == '"' {
				break
			}
			if c == ']' {
				return e, "", fmt.Errorf("unescaped ] in value of %s", name)
			}
			value.WriteByte(c)
		}
		if i == len(rest) {
			return e, "", errors.New("unterminated PARAM-VALUE")
		}
		e.Params = append(e.Params, [2]string{name, value.String()})
		s = rest[i+1:]
	}
}

// unescapeSDValue undoes EscapeSDValue. A backslash before any other
// character stays, as RFC 5424 says.
func unescapeSDValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`"\]`, s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unescapeCEFHeader(s string) string {
	return strings.NewReplacer(`\\`, `\`, `\|`, `|`).Replace(s)
}

func unescapeCEFExtension(s string) string {
	return strings.NewReplacer(`\\`, `\`, `\=`, `=`, `\n`, "\n", `\r`, "\r").Replace(s)
}

// cefEvent is a CEF event taken apart.
type cefEvent struct {
	Header    []string // Version through Severity, unescaped
	Extension map[string]string
}

func parseCEF(s string) (cefEvent, error) {
	var ev cefEvent
	if !strings.HasPrefix(s, "CEF:") {
		return ev, errors.New("no CEF: prefix")
	}
	s = s[len("CEF:"):]
	start := 0
	for i := 0; i < len(s) && len(ev.Header) < 7; i++ {
		switch s[i] {
		case '\\':
			i++
		case '|':
			ev.Header = append(ev.Header, unescapeCEFHeader(s[start:i]))
			start = i + 1
		}
	}
	if len(ev.Header) != 7 {
		return ev, fmt.Errorf("%d header fields", len(ev.Header))
	}
	ev.Extension = parseCEFExtension(s[start:])
	return ev, nil
}

// parseCEFExtension splits "k1=v1 k2=v 2" at the unescaped '=' signs: a key
// is the word before one, its value runs to the space before the next key.
func parseCEFExtension(s string) map[string]string {
	var equals []int
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '=':
			equals = append(equals, i)
		}
	}
	out := make(map[string]string)
	for k, eq := range equals {
		keyStart := strings.LastIndexByte(s[:eq], ' ') + 1
		valueEnd := len(s)
		if k+1 < len(equals) {
			valueEnd = strings.LastIndexByte(s[:equals[k+1]], ' ')
		}
		out[s[keyStart:eq]] = unescapeCEFExtension(s[eq+1 : valueEnd])
	}
	return out
}

func TestParsersRejectBrokenInput(t *testing.T) {
	for _, raw := range []string{
		"no pri",
		"<999>1 2026-11-25T09:30:00Z h a 1 m -",
		"<13>2 2026-11-25T09:30:00Z h a 1 m -",
		`<13>1 2026-11-25T09:30:00Z h a 1 m [x@1 a="b]"]`,
		`<13>1 2026-11-25T09:30:00Z h a 1 m [x@1 a="b`,
		"<13>1 2026-11-25T09:30:00Z h a 1 m -x",
	} {
		if _, err := parseRFC5424(raw); err == nil {
			t.Errorf("parseRFC5424(%q) accepted broken input", raw)
		}
	}
}
