// Package channels delivers Portcullis alerts about new drift items to a
// security operations centre: a signed JSON webhook, syslog (RFC 5424, or
// CEF inside RFC 5424) over UDP, TCP or TLS, and email over SMTP; and to
// where people read them: DingTalk, Feishu/Lark, WeCom, Slack and Teams
// groups, and SMS through Alibaba Cloud, Tencent Cloud or an HTTP gateway,
// each in its vendor's documented format and signing.
//
// The server builds an Alert per new drift item, with a stable ID, and hands
// it to a Dispatcher. The Dispatcher asks its Router which channels the
// alert's severity, zone and classification route to, tries each channel
// with exponential backoff, and returns one Result per channel for the
// server to store and show to admins.
//
// Deduplication is the server's: it records one delivery per drift item
// and channel, each sent by one job of its job engine. Nothing here
// remembers past deliveries. What the package does to help is keep every
// retry of an alert recognisable as the same one: the webhook's X-Portcullis-Delivery header, the syslog
// "id" parameter or CEF externalId, the email Message-ID, Slack's block_id,
// Alibaba's OutId, Tencent's SessionContext and the ID line of every chat
// message all derive from Alert.ID.
//
// Failures come in two kinds. Errors wrapped with Permanent (a 4xx webhook
// answer, a 5xx SMTP reply, a bad configuration) stop the retries at once;
// anything else (5xx, 408 and 429 answers, network errors, 4xx SMTP replies)
// is retried until the attempts run out or the context ends.
//
// Webhook receivers check deliveries with VerifySignature.
package channels
