package channels

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

const (
	dingToken  = "ding-access-token-0123"
	dingSecret = "SEC0123456789abcdef"
	larkToken  = "5e3d587e-aaaa-bbbb-cccc-265f269f86fd"
	larkSecret = "feishu-signing-secret"
	wecomKey   = "693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa"
)

// Neither DingTalk's nor Feishu's documentation prints a signature for its
// example timestamp, so these vectors were computed with openssl:
//
//	printf '1599360473000\nSECtestsecret' | openssl dgst -sha256 -hmac SECtestsecret -binary | base64
//	printf '' | openssl dgst -sha256 -hmac "$(printf '1599360473\ntest-secret')" -binary | base64
func TestChatSignKnownAnswers(t *testing.T) {
	if got, want := DingTalkSign("SECtestsecret", 1599360473000), "vhoLqApxy9zT1hKJD4TEZPeigHt3IUmn3vGb/W3zqYg="; got != want {
		t.Errorf("DingTalkSign = %s, want %s", got, want)
	}
	if got, want := FeishuSign("test-secret", 1599360473), "wSds2BzzFIIGf/WrhUO+NI1q/9j+FRJd3JNHKAq0NZY="; got != want {
		t.Errorf("FeishuSign = %s, want %s", got, want)
	}
}

// dingTalkCheck checks a request as DingTalk documents a signed custom
// robot's: POST /robot/send with access_token, timestamp (ms, within an
// hour) and sign, the URL-encoded base64 HMAC-SHA256 keyed with the secret
// of timestamp+"\n"+secret; a JSON body of msgtype text or markdown.
func dingTalkCheck(r *http.Request, body []byte) (string, vendorReply) {
	ok := vendorReply{200, `{"errcode":0,"errmsg":"ok"}`}
	if r.Method != http.MethodPost || r.URL.Path != "/robot/send" {
		return "not a POST to /robot/send: " + r.Method + " " + r.URL.Path, ok
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return "content type " + r.Header.Get("Content-Type"), ok
	}
	q := r.URL.Query()
	if q.Get("access_token") != dingToken {
		return "wrong access_token", ok
	}
	ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
	if err != nil || time.Since(time.UnixMilli(ts)).Abs() > time.Hour {
		return "timestamp missing, not in milliseconds or more than an hour off", ok
	}
	mac := hmac.New(sha256.New, []byte(dingSecret))
	fmt.Fprintf(mac, "%d\n%s", ts, dingSecret)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if q.Get("sign") != want {
		return "sign does not match", ok
	}
	// The base64 must arrive URL-encoded: a raw '+' would read as a space.
	if strings.ContainsAny(rawParam(r.URL.RawQuery, "sign"), "+/=") {
		return "sign is not URL-encoded", ok
	}
	m, problem := decodeJSON(body)
	if problem != "" {
		return problem, ok
	}
	switch str(m, "msgtype") {
	case "markdown":
		if str(m, "markdown", "title") == "" || str(m, "markdown", "text") == "" {
			return "markdown without title or text", ok
		}
	case "text":
		if str(m, "text", "content") == "" {
			return "text without content", ok
		}
	default:
		return "msgtype " + str(m, "msgtype"), ok
	}
	return "", ok
}

// rawParam is the undecoded value of name in a raw query.
func rawParam(rawQuery, name string) string {
	for _, kv := range strings.Split(rawQuery, "&") {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v
		}
	}
	return ""
}

func TestDingTalkPostsSignedMarkdown(t *testing.T) {
	v := startVendor(t, vendorReply{200, `{"errcode":310000,"errmsg":"sign not match"}`}, dingTalkCheck)
	ch := &DingTalk{BaseURL: v.URL + "/robot/send", AccessToken: dingToken, Secret: dingSecret, Label: "ops-ding"}
	a := hostileAlert()
	if err := ch.Deliver(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	req := v.wantAllGood(t, 1)[0]
	m, _ := decodeJSON(req.Body)
	text := str(m, "markdown", "text")
	for _, want := range []string{"HIGH", "New open port on web01", "[Open in Portcullis](" + a.Link + ")", "Alert ID drift-42"} {
		if !strings.Contains(text, want) {
			t.Errorf("markdown lacks %q:\n%s", want, text)
		}
	}
	noInjectedLink(t, "dingtalk markdown", text)
	if req.Request.Header.Get(HeaderDelivery) != a.ID {
		t.Errorf("delivery header %q", req.Request.Header.Get(HeaderDelivery))
	}
}

func TestDingTalkText(t *testing.T) {
	v := startVendor(t, vendorReply{200, `{"errcode":310000,"errmsg":"sign not match"}`}, dingTalkCheck)
	ch := &DingTalk{BaseURL: v.URL + "/robot/send", AccessToken: dingToken, Secret: dingSecret, Format: "text"}
	if err := ch.Deliver(context.Background(), testAlert()); err != nil {
		t.Fatal(err)
	}
	m, _ := decodeJSON(v.wantAllGood(t, 1)[0].Body)
	if c := str(m, "text", "content"); !strings.Contains(c, testAlert().Link) || !strings.Contains(c, "Alert ID drift-42") {
		t.Errorf("text content %q", c)
	}
}

func TestDingTalkErrcodeIsRetried(t *testing.T) {
	v := startVendor(t, vendorReply{200, `{"errcode":310000,"errmsg":"sign not match"}`}, dingTalkCheck,
		vendorReply{200, `{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`})
	ch := &DingTalk{BaseURL: v.URL + "/robot/send", AccessToken: dingToken, Secret: dingSecret}

	first := deliverOnce(ch, testAlert())
	if first.Delivered || first.Err == nil || IsPermanent(first.Err) || !strings.Contains(first.Err.Error(), "130101") {
		t.Fatalf("errcode 130101: delivered=%v err=%v; want a retryable failure naming the code", first.Delivered, first.Err)
	}
	res := quickRetries(3).DeliverTo(context.Background(), testAlert(), []Channel{ch})[0]
	if !res.Delivered || res.Attempts != 1 {
		t.Fatalf("after the rate limit: %+v", res)
	}
	v.wantAllGood(t, 2)

	// A wrong secret is refused by the receiver's own check and retried
	// until the attempts run out.
	wrong := &DingTalk{BaseURL: v.URL + "/robot/send", AccessToken: dingToken, Secret: "SECwrong"}
	res = quickRetries(3).DeliverTo(context.Background(), testAlert(), []Channel{wrong})[0]
	if res.Delivered || res.Attempts != 3 || !strings.Contains(res.Err.Error(), "310000") {
		t.Fatalf("wrong secret: %+v", res)
	}
}

// feishuCheck checks a request as Feishu documents a custom bot's with
// signature verification: POST to /open-apis/bot/v2/hook/<token>, a JSON
// body with timestamp (seconds, a string, within an hour), sign (base64
// HMAC-SHA256 keyed with timestamp+"\n"+secret over nothing), msg_type and
// content.
func feishuCheck(r *http.Request, body []byte) (string, vendorReply) {
	ok := vendorReply{200, `{"code":0,"data":{},"msg":"success"}`}
	if r.Method != http.MethodPost || r.URL.Path != "/open-apis/bot/v2/hook/"+larkToken {
		return "not a POST to the hook: " + r.URL.Path, ok
	}
	m, problem := decodeJSON(body)
	if problem != "" {
		return problem, ok
	}
	ts, err := strconv.ParseInt(str(m, "timestamp"), 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > time.Hour {
		return "timestamp is not a string of seconds within an hour", ok
	}
	mac := hmac.New(sha256.New, []byte(str(m, "timestamp")+"\n"+larkSecret))
	if str(m, "sign") != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		return "sign does not match", ok
	}
	switch str(m, "msg_type") {
	case "text":
		if str(m, "content", "text") == "" {
			return "text without content.text", ok
		}
	case "post":
		post, _ := path(m, "content", "post").(map[string]any)
		if len(post) == 0 {
			return "post without a language", ok
		}
		for _, lang := range post {
			if str(lang, "title") == "" || path(lang, "content", "0", "0", "tag") == nil {
				return "post without title or paragraphs of tagged elements", ok
			}
		}
	default:
		return "msg_type " + str(m, "msg_type"), ok
	}
	return "", ok
}

func TestFeishuPostsSignedRichText(t *testing.T) {
	v := startVendor(t, vendorReply{200, `{"code":19021,"data":{},"msg":"sign match fail or timestamp is not within one hour from current time"}`}, feishuCheck)
	ch := &Feishu{BaseURL: v.URL + "/open-apis/bot/v2/hook", Token: larkToken, Secret: larkSecret}
	a := testAlert()
	if err := ch.Deliver(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	m, _ := decodeJSON(v.wantAllGood(t, 1)[0].Body)
	post := path(m, "content", "post", "zh_cn")
	var link, id bool
	for _, p := range path(post, "content").([]any) {
		el := path(p, "0")
		link = link || (str(el, "tag") == "a" && str(el, "href") == a.Link)
		id = id || strings.Contains(str(el, "text"), a.ID)
	}
	if !link || !id || !strings.Contains(str(post, "title"), "HIGH") {
		t.Errorf("post lacks the link, the ID or the severity: %s", v.seen()[0].Body)
	}
}

func TestFeishuErrorCodesAreRetried(t *testing.T) {
	for _, answer := range []string{
		`{"code":11232,"data":{},"msg":"frequency limited psm"}`,
		`{"StatusCode":9499,"StatusMessage":"Bad Request"}`,
		`not json`,
	} {
		v := startVendor(t, vendorReply{200, `{"code":19021}`}, feishuCheck, vendorReply{200, answer})
		ch := &Feishu{BaseURL: v.URL + "/open-apis/bot/v2/hook/", Token: larkToken, Secret: larkSecret, Format: "text"}
		res := quickRetries(2).DeliverTo(context.Background(), testAlert(), []Channel{ch})[0]
		if !res.Delivered || res.Attempts != 2 {
			t.Errorf("answer %s: %+v; want delivered on the second attempt", answer, res)
		}
		v.wantAllGood(t, 2)
	}
	// The older answer shape, on success.
	v := startVendor(t, vendorReply{200, `{"code":19021}`}, feishuCheck, vendorReply{200, `{"Extra":null,"StatusCode":0,"StatusMessage":"success"}`})
	if err := (&Feishu{BaseURL: v.URL + "/open-apis/bot/v2/hook/", Token: larkToken, Secret: larkSecret}).Deliver(context.Background(), testAlert()); err != nil {
		t.Errorf("StatusCode 0: %v", err)
	}
}

// weComCheck checks a request as WeCom documents a group robot's: POST to
// /cgi-bin/webhook/send?key=…, JSON msgtype text (content ≤ 2048 bytes) or
// markdown (content ≤ 4096 bytes).
func weComCheck(r *http.Request, body []byte) (string, vendorReply) {
	ok := vendorReply{200, `{"errcode":0,"errmsg":"ok"}`}
	if r.Method != http.MethodPost || r.URL.Path != "/cgi-bin/webhook/send" || r.URL.Query().Get("key") != wecomKey {
		return "not a POST to /cgi-bin/webhook/send with the key", ok
	}
	m, problem := decodeJSON(body)
	if problem != "" {
		return problem, ok
	}
	limit := map[string]int{"text": 2048, "markdown": 4096}[str(m, "msgtype")]
	content := str(m, str(m, "msgtype"), "content")
	if limit == 0 || content == "" || len(content) > limit || !utf8.ValidString(content) {
		return fmt.Sprintf("msgtype %q with %d bytes of content", str(m, "msgtype"), len(content)), ok
	}
	return "", ok
}

func TestWeComPostsMarkdownWithinLimits(t *testing.T) {
	v := startVendor(t, vendorReply{200, `{"errcode":93000,"errmsg":"invalid webhook url"}`}, weComCheck)
	ch := &WeCom{BaseURL: v.URL + "/cgi-bin/webhook/send", Key: wecomKey}
	a := hostileAlert()
	a.Detail = strings.Repeat("很长的横幅", 2000)
	if err := ch.Deliver(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	m, _ := decodeJSON(v.wantAllGood(t, 1)[0].Body)
	content := str(m, "markdown", "content")
	noInjectedLink(t, "wecom markdown", content)
	if !strings.Contains(content, "[Open in Portcullis]("+a.Link+")") {
		t.Errorf("markdown lacks the link: %s", content)
	}

	text := &WeCom{BaseURL: v.URL + "/cgi-bin/webhook/send", Key: wecomKey, Format: "text"}
	if err := text.Deliver(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	v.wantAllGood(t, 2)
}

func TestWeComErrcodeIsRetried(t *testing.T) {
	v := startVendor(t, vendorReply{200, `{"errcode":93000,"errmsg":"invalid webhook url"}`}, weComCheck,
		vendorReply{200, `{"errcode":45009,"errmsg":"api freq out of limit"}`})
	ch := &WeCom{BaseURL: v.URL + "/cgi-bin/webhook/send", Key: wecomKey}
	res := quickRetries(2).DeliverTo(context.Background(), testAlert(), []Channel{ch})[0]
	if !res.Delivered || res.Attempts != 2 {
		t.Fatalf("%+v", res)
	}
	if wrong := deliverOnce(&WeCom{BaseURL: v.URL + "/cgi-bin/webhook/send", Key: "other"}, testAlert()); wrong.Delivered || !strings.Contains(wrong.Err.Error(), "93000") {
		t.Fatalf("wrong key: %+v", wrong)
	}
}

// slackCheck checks a request as Slack documents an incoming webhook's:
// a JSON POST with text (the notification fallback) and, if blocks, a
// section of mrkdwn text whose block_id is at most 255 characters.
func slackCheck(r *http.Request, body []byte) (string, vendorReply) {
	ok := vendorReply{200, "ok"}
	if r.Method != http.MethodPost || r.URL.Path != "/services/T000/B000/XXXX" {
		return "not a POST to the hook", vendorReply{}
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return "content type " + r.Header.Get("Content-Type"), ok
	}
	m, problem := decodeJSON(body)
	if problem != "" {
		return problem, ok
	}
	if str(m, "text") == "" {
		return "no text", ok
	}
	if str(m, "blocks", "0", "type") != "section" || str(m, "blocks", "0", "text", "type") != "mrkdwn" ||
		len(str(m, "blocks", "0", "block_id")) > 255 || len(str(m, "blocks", "0", "text", "text")) > 3000 {
		return "the first block is not a section of mrkdwn within Slack's limits", ok
	}
	return "", ok
}

func TestSlackPostsBlocks(t *testing.T) {
	v := startVendor(t, vendorReply{400, "invalid_payload"}, slackCheck)
	ch := &Slack{URL: v.URL + "/services/T000/B000/XXXX"}
	a := hostileAlert()
	if err := ch.Deliver(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	m, _ := decodeJSON(v.wantAllGood(t, 1)[0].Body)
	section := str(m, "blocks", "0", "text", "text")
	if !strings.Contains(section, "<"+a.Link+"|Open in Portcullis>") || strings.Contains(section, "<@all>") || strings.Contains(section, "<https://phish") {
		t.Errorf("section text %q", section)
	}
	if str(m, "blocks", "0", "block_id") != "portcullis-drift-42" || !strings.Contains(str(m, "blocks", "1", "elements", "0", "text"), "drift-42") {
		t.Errorf("the alert ID is not in block_id and the context: %s", v.seen()[0].Body)
	}
}

func TestSlackAnswers(t *testing.T) {
	for _, tc := range []struct {
		reply     vendorReply
		permanent bool
	}{
		{vendorReply{400, "invalid_payload"}, true},
		{vendorReply{403, "action_prohibited"}, true},
		{vendorReply{404, "channel_not_found"}, true},
		{vendorReply{410, "channel_is_archived"}, true},
		{vendorReply{429, "rate_limited"}, false},
		{vendorReply{500, "rollup_error"}, false},
	} {
		v := startVendor(t, vendorReply{400, "invalid_payload"}, slackCheck, tc.reply)
		res := deliverOnce(&Slack{URL: v.URL + "/services/T000/B000/XXXX"}, testAlert())
		if res.Delivered || IsPermanent(res.Err) != tc.permanent || !strings.Contains(res.Err.Error(), tc.reply.Body) {
			t.Errorf("%d %s: %+v, want permanent=%v", tc.reply.Status, tc.reply.Body, res, tc.permanent)
		}
		if strings.Contains(res.Err.Error(), "XXXX") {
			t.Errorf("the error shows the secret URL: %v", res.Err)
		}
	}
}

// teamsCheck checks a request as Microsoft documents a Teams webhook's:
// either a message whose attachment is an Adaptive Card
// (application/vnd.microsoft.card.adaptive, type AdaptiveCard, a version,
// a body) or a MessageCard (@type, @context, summary or text).
func teamsCheck(r *http.Request, body []byte) (string, vendorReply) {
	m, problem := decodeJSON(body)
	if problem != "" {
		return problem, vendorReply{}
	}
	if str(m, "@type") == "MessageCard" {
		if str(m, "@context") != "https://schema.org/extensions" || (str(m, "summary") == "" && str(m, "text") == "") {
			return "MessageCard without @context or summary", vendorReply{}
		}
		return "", vendorReply{200, "1"}
	}
	if str(m, "type") != "message" || str(m, "attachments", "0", "contentType") != "application/vnd.microsoft.card.adaptive" {
		return "not a message with an Adaptive Card attachment", vendorReply{}
	}
	card := path(m, "attachments", "0", "content")
	if str(card, "type") != "AdaptiveCard" || str(card, "version") == "" || path(card, "body", "0", "type") == nil {
		return "the attachment is not an Adaptive Card with a version and a body", vendorReply{}
	}
	return "", vendorReply{202, ""}
}

func TestTeamsAdaptiveCard(t *testing.T) {
	v := startVendor(t, vendorReply{400, `{"error":{"code":"InvalidRequestContent"}}`}, teamsCheck)
	a := testAlert()
	if err := (&Teams{URL: v.URL + "/workflows/x?sig=secret"}).Deliver(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	m, _ := decodeJSON(v.wantAllGood(t, 1)[0].Body)
	card := path(m, "attachments", "0", "content")
	if str(card, "actions", "0", "type") != "Action.OpenUrl" || str(card, "actions", "0", "url") != a.Link {
		t.Errorf("no link action: %s", v.seen()[0].Body)
	}
	if !strings.Contains(string(v.seen()[0].Body), `"Alert ID"`) {
		t.Errorf("the card does not carry the alert ID")
	}
}

func TestTeamsMessageCard(t *testing.T) {
	v := startVendor(t, vendorReply{400, "Summary or Text is required."}, teamsCheck,
		vendorReply{200, "Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0"})
	ch := &Teams{URL: v.URL + "/webhookb2/x", Format: TeamsMessageCard}
	res := quickRetries(2).DeliverTo(context.Background(), testAlert(), []Channel{ch})[0]
	if !res.Delivered || res.Attempts != 2 {
		t.Fatalf("an error answered with 200 must be retried: %+v", res)
	}
	m, _ := decodeJSON(v.wantAllGood(t, 2)[1].Body)
	if str(m, "potentialAction", "0", "targets", "0", "uri") != testAlert().Link {
		t.Errorf("no OpenUri action: %s", v.seen()[1].Body)
	}
}

func TestChatChecks(t *testing.T) {
	for _, tc := range []struct {
		ch   interface{ Check() error }
		want string
	}{
		{&DingTalk{Secret: "s"}, "token_env"},
		{&DingTalk{AccessToken: "t"}, "secret_env"},
		{&DingTalk{AccessToken: "t", Secret: "s", BaseURL: "http://dingtalk.example/robot/send"}, "base_url must be https"},
		{&DingTalk{AccessToken: "t", Secret: "s", Format: "html"}, "format"},
		{&Feishu{Token: "t"}, "secret_env"},
		{&Feishu{Token: "t", Secret: "s", BaseURL: "ftp://x"}, "base_url is not an absolute http(s) URL"},
		{&WeCom{}, "secret_env: no robot key"},
		{&Slack{URL: "hooks.slack.com/services/x"}, "secret_env: the webhook URL"},
		{&Teams{URL: "https://x.example/hook", Format: "card"}, "format"},
	} {
		err := tc.ch.Check()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%T: %v, want an error mentioning %q", tc.ch, err, tc.want)
		}
	}
	// A bad configuration fails for good at delivery too.
	res := deliverOnce(&WeCom{}, testAlert())
	if !IsPermanent(res.Err) {
		t.Errorf("unconfigured WeCom: %v", res.Err)
	}
}
