package channels

import (
	"encoding/json"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/web/locale"
)

// languageOf is the server's default language as handlers.New wires it.
func languageOf(t *testing.T, tag string) Texts {
	t.Helper()
	catalog, err := locale.New(tag, "UTC")
	if err != nil {
		t.Fatal(err)
	}
	return catalog.Localizer("", "", "")
}

// jsonOf is v as the JSON a channel posts.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// emailText is the e-mail as a reader sees it: decoded headers and body.
func emailText(t *testing.T, a Alert) (subject, severityHeader, body string) {
	t.Helper()
	raw, err := testEmail("127.0.0.1:25").Message(a, time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	r := io.Reader(m.Body)
	if m.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return subject, m.Header.Get("X-Portcullis-Severity"), string(b)
}

// channelMessages are what each channel sends of a, by channel and format,
// as the Deliver methods build them (signatures and timestamps aside).
func channelMessages(t *testing.T, a Alert) map[string]string {
	subject, sev, body := emailText(t, a)
	return map[string]string{
		"dingtalk markdown": truncate(headline(a), 100) + "\n" + markdownMessage(a, chatMax),
		"dingtalk text":     plainMessage(a, chatMax),
		"wecom markdown":    markdownMessage(a, weComMarkdownMax),
		"wecom text":        plainMessage(a, weComTextMax),
		"feishu post":       jsonOf(t, feishuPost(a)),
		"feishu text":       plainMessage(a, chatMax),
		"slack":             jsonOf(t, slackPayload(a)),
		"teams adaptive":    jsonOf(t, teamsAdaptive(a)),
		"teams messagecard": jsonOf(t, teamsMessageCard(a)),
		"sms text":          smsText(a, 70),
		"sms parameters":    smsField(a, "severity", 35) + " " + smsField(a, "text", 70),
		"email":             subject + "\n" + sev + "\n" + body,
		"webhook":           jsonOf(t, a),
	}
}

// TestEnglishServerMessagesUnchanged: an English server's messages are the
// ones a channel writes with no language at all, word for word.
func TestEnglishServerMessagesUnchanged(t *testing.T) {
	a := testAlert()
	want := channelMessages(t, a)
	a.Language = languageOf(t, "en")
	for name, got := range channelMessages(t, a) {
		if got != want[name] {
			t.Errorf("%s in English changed:\n got %q\nwant %q", name, got, want[name])
		}
	}
}

// TestChineseServerMessages: a zh-CN server's message in every channel
// holds Chinese words and none of the English framing, while the machine
// parts (alert ID, link, kind and severity codes, JSON keys) stay as they
// are. The title and detail arrive translated (alertOf's job).
func TestChineseServerMessages(t *testing.T) {
	a := testAlert()
	a.Title = "web01 tcp/8443：未经批准的开放端口"
	a.Detail = "web01 的 tcp/8443 处于开放状态，但没有任何规则批准它。"
	english := a
	a.Language = languageOf(t, "zh-CN")
	zh := channelMessages(t, a)
	en := channelMessages(t, english)
	englishWords := []string{"HIGH", "Alert ID", "Open in Portcullis", "zone ", "service ", "Severity", "Zone", "Service", "Classification", "First seen", "Link:", "Kind:", "Request:", "sends one alert", " on ", "alert_message."}
	for _, tc := range []struct {
		channel string
		chinese []string // words of ours the message must hold
		machine []string // parts that stay as they are
	}{
		{"dingtalk markdown", []string{"【高危】", "区域 dmz-east (dmz)", "服务 https-alt", "[在 Portcullis 中查看](" + a.Link + ")", "告警编号 drift-42"}, nil},
		{"dingtalk text", []string{"Portcullis 【高危】", "区域 dmz-east (dmz)，服务 https-alt", "告警编号 drift-42"}, []string{a.Link}},
		{"wecom markdown", []string{"【高危】", "告警编号 drift-42"}, []string{"](" + a.Link + ")"}},
		{"wecom text", []string{"【高危】", "告警编号 drift-42"}, []string{a.Link}},
		{"feishu post", []string{`"title":"【高危】`, `"text":"在 Portcullis 中查看"`, "告警编号 drift-42"}, []string{`"href":"` + a.Link + `"`, `"tag":"a"`}},
		{"feishu text", []string{"【高危】", "告警编号 drift-42"}, []string{a.Link}},
		{"slack", []string{"【高危】", "|在 Portcullis 中查看\\u003e", "告警编号 drift-42"}, []string{`"block_id":"portcullis-drift-42"`, a.Link}},
		{"teams adaptive", []string{`"title":"严重程度","value":"高危"`, `"title":"区域"`, `"title":"告警编号","value":"drift-42"`, `"title":"在 Portcullis 中查看"`}, []string{`"type":"Action.OpenUrl"`, `"url":"` + a.Link + `"`}},
		{"teams messagecard", []string{`"name":"严重程度","value":"高危"`, `"name":"在 Portcullis 中查看"`}, []string{`"uri":"` + a.Link + `"`, `"themeColor":"D83B01"`}},
		{"sms text", []string{"Portcullis 【高危】"}, []string{a.Link}},
		{"sms parameters", []string{"高危 Portcullis 【高危】"}, nil},
		{"email", []string{"[Portcullis] 高危 drift.new_port：web01:8443", "严重程度:       高危\r\n", "区域:           dmz-east\r\n", "变更请求:", "首次发现:", "链接:", "告警编号：drift-42"}, []string{"\nhigh\n", "drift.new_port", "2026-11-25T09:30:00Z", a.Link}},
	} {
		t.Run(tc.channel, func(t *testing.T) {
			msg := zh[tc.channel]
			for _, w := range append(tc.chinese, tc.machine...) {
				if !strings.Contains(msg, w) {
					t.Errorf("lacks %q:\n%s", w, msg)
				}
			}
			for _, w := range englishWords {
				if strings.Contains(msg, w) {
					t.Errorf("holds the English %q:\n%s", w, msg)
				}
			}
			for _, w := range tc.machine {
				if !strings.Contains(en[tc.channel], w) {
					t.Errorf("the English message lacks the machine part %q too: it is not machine-stable", w)
				}
			}
		})
	}
	// The webhook body is all machine fields besides the title and detail:
	// the language adds nothing to it.
	if zh["webhook"] != en["webhook"] || strings.Contains(strings.ToLower(zh["webhook"]), "language") {
		t.Errorf("webhook body changed with the language:\n%s\n%s", zh["webhook"], en["webhook"])
	}
}

// TestEverySeverityWordIsTranslated: each of the five severities, and an
// unknown one (read as critical), has its own Chinese word.
func TestEverySeverityWordIsTranslated(t *testing.T) {
	zh := languageOf(t, "zh-CN")
	for sev, want := range map[string]string{
		SeverityInfo: "提示", SeverityLow: "低危", SeverityMedium: "中危", SeverityHigh: "高危", SeverityCritical: "严重", "bogus": "严重",
	} {
		if got := severityWord(Alert{Severity: sev, Language: zh}); got != want {
			t.Errorf("severity %s reads %q, want %q", sev, got, want)
		}
	}
	a := Alert{Kind: "tarpit", Asset: "10.0.0.5", Severity: "low", Language: zh}
	if got, want := headline(a), "【低危】10.0.0.5：tarpit"; got != want {
		t.Errorf("headline without a title %q, want %q", got, want)
	}
}

// alertMessageID finds the alert catalog ids the sources ask for; they are
// literal strings, never built.
var alertMessageID = regexp.MustCompile(`"(alert_(?:message|drift)\.[a-z_]+)"`)

// TestEveryAlertMessageIsInBothCatalogs: each alert catalog id in the
// sources of alerts and its channels has a message in English and Chinese
// (the web catalog test sees only locale.T calls).
func TestEveryAlertMessageIsInBothCatalogs(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	parent, _ := filepath.Glob("../*.go")
	ids := map[string]bool{}
	for _, f := range append(files, parent...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range alertMessageID.FindAllStringSubmatch(string(src), -1) {
			ids[m[1]] = true
		}
	}
	if len(ids) < 40 {
		t.Fatalf("found only %d alert message ids: the scan is broken", len(ids))
	}
	for _, tag := range []string{"en", "zh-CN"} {
		lang := languageOf(t, tag)
		for id := range ids {
			if got := lang.Text(id); got == id || got == "" {
				t.Errorf("%s has no %s message", id, tag)
			}
		}
	}
}
