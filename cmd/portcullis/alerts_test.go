package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portcullis/portcullis/models"
	"github.com/portcullis/portcullis/workflow/alerts/channels"
	"github.com/portcullis/portcullis/workflow/workflowtest"
)

func TestAlertsFile(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "alerts.yaml")
		os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	env := func(k string) string {
		if k == "SOC_SECRET" {
			return "x"
		}
		return ""
	}
	good := write(`
channels:
  - {name: soc-hook, type: webhook, url: "https://soc.example/hook", secret_env: SOC_SECRET}
  - {name: siem, type: syslog, network: tcp, address: "127.0.0.1:6514", format: cef}
routes:
  - {channel: siem}
  - {channel: soc-hook, min_severity: high, classifications: [dmz, internet]}
`)
	a, err := loadAlerting(good, env, nil)
	if err != nil || len(a.Channels) != 2 {
		t.Fatalf("good file: %v", err)
	}
	for body, want := range map[string]string{
		"channels: [{name: x, type: pager}]":                                                              `type "pager"`,
		"channels: [{name: x, type: webhook, url: 'https://a', secret_env: MISSING}]":                     "secret_env",
		"routes: [{channel: nowhere}]":                                                                    `no channel named "nowhere"`,
		"channels: [{name: s, type: syslog, address: 'a:1'}]\nroutes: [{channel: s, min_severity: dire}]": "severity",
		"chanels: []": "chanels",
	} {
		_, err := loadAlerting(write(body), env, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one mentioning %q", body, err, want)
		}
	}
}

// vendorEnv is an environment with every variable set but those named
// UNSET…; variables named …_URL hold webhook URLs under base.
func vendorEnv(base string) func(string) string {
	return func(k string) string {
		switch {
		case strings.HasSuffix(k, "_URL"):
			return base + "/hook/" + strings.ToLower(k)
		case k == "", strings.HasPrefix(k, "UNSET"):
			return ""
		}
		return "value-of-" + k
	}
}

func TestAlertsExampleFileParses(t *testing.T) {
	a, err := loadAlerting(filepath.Join("..", "..", "docs", "alerts.example.yaml"), vendorEnv("https://hooks.example"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"soc-hook", "siem", "soc-mail", "ops-ding", "ops-feishu", "ops-wecom", "soc-slack", "soc-teams", "oncall-sms", "oncall-sms-tencent", "oncall-gateway"}
	for _, name := range want {
		if a.Channels[name] == nil {
			t.Errorf("no channel %q", name)
		}
	}
	if len(a.Channels) != len(want) {
		t.Errorf("%d channels, want %d", len(a.Channels), len(want))
	}
}

func TestAlertsFileVendorErrors(t *testing.T) {
	env := vendorEnv("https://hooks.example")
	for body, want := range map[string]string{
		"channels: [{name: d, type: dingtalk, secret_env: S}]":                                                                               "channels[0] (d): token_env: name the environment variable",
		"channels: [{name: d, type: dingtalk, token_env: T, secret_env: UNSET_X}]":                                                           "(d): secret_env: UNSET_X is not set",
		"channels: [{name: d, type: dingtalk, token_env: T, secret_env: S, base_url: 'ftp://x'}]":                                            "(d): base_url is not an absolute http(s) URL",
		"channels: [{name: d, type: dingtalk, token_env: T, secret_env: S, base_url: 'http://dingtalk.example/'}]":                           "(d): base_url must be https",
		"channels: [{name: f, type: feishu, token_env: T}]":                                                                                  "(f): secret_env",
		"channels: [{name: w, type: wecom}]":                                                                                                 "(w): secret_env",
		"channels: [{name: s, type: slack, url: 'https://hooks.slack.com/services/x'}]":                                                      "(s): url: a slack webhook URL is its secret",
		"channels: [{name: s, type: slack, secret_env: NOT_A_HOOK}]":                                                                         "(s): secret_env: the webhook URL is not an absolute",
		"channels: [{name: t, type: teams, secret_env: TEAMS_URL, format: cards}]":                                                           `(t): format "cards"`,
		"channels: [{name: m, type: sms, provider: twilio}]":                                                                                 `(m): provider "twilio" is not aliyun, tencent or http`,
		"channels: [{name: m, type: sms, provider: aliyun, secret_env: S}]":                                                                  "(m): key_id: no AccessKey ID",
		"channels: [{name: m, type: sms, provider: aliyun, key_id: k, secret_env: S, sign_name: s, template: t}]":                            "(m): to: no phone numbers",
		"channels: [{name: m, type: sms, provider: tencent, key_id: k, secret_env: S, app_id: '1', sign_name: s, template: t, to: ['138']}]": "(m): to[0]",
		"channels: [{name: m, type: sms, provider: aliyun, params: [x=password]}]":                                                           `(m): params[0]: "password" is not one of`,
		"channels: [{name: m, type: sms, provider: http, url: 'https://gw.example/{{.Nope}}', to: ['13800138000']}]":                         "(m): url:",
		"channels: [{name: m, type: sms, provider: http, to: ['13800138000']}]":                                                              "(m): url: no gateway URL",
		"channels: [{name: q, type: pager}]":                                                                                                 `(q): type "pager" is not`,
	} {
		_, err := parseAlerting([]byte(body), env, nil, "alerts.yaml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s\n  error %v\n  want one mentioning %q", body, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "value-of-") {
			t.Errorf("%s: the error shows a secret: %v", body, err)
		}
	}
}

// TestVendorChannelsThroughTheOutbox runs chat and SMS channels, configured
// from a file, through the server's outbox: routing by severity and zone,
// a vendor's error answer recorded and retried later, and the delivery
// record.
func TestVendorChannelsThroughTheOutbox(t *testing.T) {
	var mu sync.Mutex
	var dingAnswers = []string{`{"errcode":130101,"errmsg":"send too fast"}`}
	var got []string
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r.URL.Path+" "+string(body))
		switch r.URL.Path {
		case "/robot/send":
			answer := `{"errcode":0,"errmsg":"ok"}`
			if len(dingAnswers) > 0 {
				answer, dingAnswers = dingAnswers[0], dingAnswers[1:]
			}
			io.WriteString(w, answer)
		case "/hook/slack_url":
			io.WriteString(w, "ok")
		default:
			http.NotFound(w, r)
		}
	}))
	defer vendor.Close()
	file := fmt.Sprintf(`
channels:
  - {name: ops-ding, type: dingtalk, token_env: DING_TOKEN, secret_env: DING_SECRET, base_url: "%s/robot/send"}
  - {name: pay-slack, type: slack, secret_env: SLACK_URL}
routes:
  - {channel: ops-ding, min_severity: high}
  - {channel: pay-slack, zones: [payments]}
`, vendor.URL)
	alerting, err := parseAlerting([]byte(file), vendorEnv(vendor.URL), func(id uint) string { return fmt.Sprintf("https://portcullis.test/drift/%d", id) }, "alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := workflowtest.SQLiteWorld(t)
	now := time.Now().UTC()
	w.App.Alerts.SetClock(func() time.Time { return now })
	w.App.Alerts.SetAlerting(alerting)

	queue := func(severity, zone string) models.DriftItem {
		d := models.DriftItem{Key: severity + zone, Kind: "open-unapproved", Severity: severity, Address: "10.50.0.10", Protocol: "tcp", Port: 3306,
			Zone: zone, State: "open", FirstSeen: now, LastSeen: now}
		workflowtest.Must(t, w.App.Alerts.DB().Transaction(func(tx *gorm.DB) error {
			if err := tx.Create(&d).Error; err != nil {
				return err
			}
			return w.App.Alerts.Queue(tx, d)
		}))
		return d
	}
	queue("low", "lab")                       // no route matches
	critical := queue("critical", "payments") // both
	queue("medium", "payments")               // Slack only

	deliveries := func() map[string]models.AlertDelivery {
		var rows []models.AlertDelivery
		workflowtest.Must(t, w.App.Alerts.DB().Order("id").Find(&rows).Error)
		out := map[string]models.AlertDelivery{}
		for _, r := range rows {
			out[fmt.Sprintf("%d %s", r.DriftItemID, r.Channel)] = r
		}
		return out
	}
	if rows := deliveries(); len(rows) != 3 {
		t.Fatalf("queued %v, want the critical item to both channels and the medium one to Slack", rows)
	}
	n := workflowtest.DeliverPending(t, w.App)
	ding := deliveries()[fmt.Sprintf("%d ops-ding", critical.ID)]
	if n != 2 || ding.Status != "pending" || ding.Attempts != 1 || !strings.Contains(ding.LastError, "130101") || !ding.NextAttempt.After(now) {
		t.Fatalf("after the first round: delivered %d, DingTalk %+v", n, ding)
	}
	now = now.Add(10 * time.Minute)
	n = workflowtest.DeliverPending(t, w.App)
	ding = deliveries()[fmt.Sprintf("%d ops-ding", critical.ID)]
	if n != 1 || ding.Status != "delivered" || ding.Attempts != 2 || ding.DeliveredAt == nil {
		t.Fatalf("after the retry: delivered %d, DingTalk %+v", n, ding)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 4 || !strings.Contains(strings.Join(got, "\n"), fmt.Sprintf("https://portcullis.test/drift/%d", critical.ID)) {
		t.Errorf("the vendors saw %d requests, want 4 carrying the item's link:\n%s", len(got), strings.Join(got, "\n"))
	}
}

// FuzzAlertsFile feeds the parser arbitrary files: it must never panic,
// never put a secret's value in an error, and a file it accepts must route
// only to channels it built.
func FuzzAlertsFile(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("..", "..", "docs", "alerts.example.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	for _, seed := range []string{
		"channels: [{name: d, type: dingtalk, token_env: T, secret_env: S}]\nroutes: [{channel: d, min_severity: high}]",
		"channels: [{name: m, type: sms, provider: http, url: 'https://gw.example/?t={{urlquery .Text}}', to: ['13800138000'], max_chars: 30}]",
		"channels: [{name: m, type: sms, provider: tencent, key_id: k, secret_env: S, app_id: '1', sign_name: s, template: t, to: ['+8613800138000'], params: ['1=severity', text]}]",
		"channels: [{name: s, type: slack, secret_env: SLACK_URL}, {name: t, type: teams, secret_env: TEAMS_URL, format: messagecard}]",
		"channels: [{name: f, type: lark, token_env: T, secret_env: S, base_url: 'http://127.0.0.1:1/x'}]",
		"channels: [{name: m, type: sms, provider: http, url: '{{.Secret}}', secret_env: S, to: ['1']}]",
		"channels: [{name: x, type: sms, provider: aliyun, params: ['=', 'a=b=c']}]",
	} {
		f.Add([]byte(seed))
	}
	const secretMark = "fuzz-secret-0123456789"
	env := func(k string) string {
		if strings.HasSuffix(k, "_URL") {
			return "https://hooks.example/" + secretMark
		}
		return secretMark
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, err := parseAlerting(raw, env, nil, "alerts.yaml")
		if err != nil {
			if strings.Contains(err.Error(), secretMark) {
				t.Fatalf("the error shows a secret: %v", err)
			}
			return
		}
		for _, ch := range a.Router.Match(channelsTestAlert()) {
			if a.Channels[ch.Name()] != ch {
				t.Fatalf("route to %q, a channel the configuration does not hold", ch.Name())
			}
		}
	})
}

func channelsTestAlert() channels.Alert {
	return channels.Alert{ID: "drift-1", Severity: "critical", Zone: "payments", Classification: "internet", Title: "t"}
}
