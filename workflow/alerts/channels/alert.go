package channels

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
	"unicode/utf8"
)

// Alert is one notification to the SOC about one new drift item. Its JSON
// form is the body of a webhook delivery.
type Alert struct {
	// ID is the server's stable key for the drift item. It is the
	// deduplication key: the server sends one alert per ID, whatever the
	// number of scans that see the item.
	ID       string `json:"id"`
	Kind     string `json:"kind"`     // what happened, e.g. "drift.new_port"
	Severity string `json:"severity"` // info, low, medium, high or critical
	Title    string `json:"title"`
	Detail   string `json:"detail"`

	Asset          string `json:"asset"`
	Zone           string `json:"zone"`
	Classification string `json:"classification"`
	Protocol       string `json:"protocol"`
	Port           int    `json:"port"`
	Service        string `json:"service"`

	RequestID int64     `json:"request_id"` // the change request concerned, 0 if none
	FirstSeen time.Time `json:"first_seen"`
	Link      string    `json:"link"` // URL of the item in Portcullis

	// Language gives the human words a channel adds (labels, severity
	// words, the link text): the server's default language. nil means
	// English. It is not part of the webhook body.
	Language Texts `json:"-"`
}

// The severities an alert can carry, from the least to the most urgent.
const (
	SeverityInfo     = "info"
	SeverityLow      = "low"
	SeverityMedium   = "medium"
	SeverityHigh     = "high"
	SeverityCritical = "critical"
)

var severityOrder = [...]string{SeverityInfo, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// ValidSeverity reports whether s is one of the five severity words (any
// case, surrounding space ignored).
func ValidSeverity(s string) bool {
	_, ok := lookupSeverity(s)
	return ok
}

func lookupSeverity(s string) (int, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, name := range severityOrder {
		if s == name {
			return i, true
		}
	}
	return 0, false
}

// severityRank orders severities. An unknown severity ranks as critical: an
// alert must never be dropped or played down because its severity is
// misspelt.
func severityRank(s string) int {
	if i, ok := lookupSeverity(s); ok {
		return i
	}
	return len(severityOrder) - 1
}

// normalSeverity is the severity word to show for s, following severityRank.
func normalSeverity(s string) string {
	return severityOrder[severityRank(s)]
}

// Channel delivers alerts to one destination. Deliver makes one attempt;
// retrying is the Dispatcher's job. An error wrapped with Permanent tells the
// Dispatcher that trying again cannot help.
//
// Name identifies the channel in delivery results; routes that share a
// channel must give it the same name, and different channels different names.
type Channel interface {
	Name() string
	Deliver(ctx context.Context, a Alert) error
}

// permanentError marks a failure that retrying cannot fix: a refused
// request, a bad configuration.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as a failure that retrying cannot fix. Permanent(nil)
// is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked with
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// defaultTimeout bounds one delivery attempt when the context has no
// deadline, so a receiver that accepts a connection and then stalls cannot
// hold a delivery forever.
const defaultTimeout = 30 * time.Second

// withDefaultTimeout gives ctx a deadline if it has none.
func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, defaultTimeout)
}

// bindConn makes conn honour ctx: its deadline becomes the connection's, and
// cancelling ctx unblocks any read or write in progress. Call the returned
// function when done with conn.
func bindConn(ctx context.Context, conn net.Conn) (stop func()) {
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	stopAfter := context.AfterFunc(ctx, func() {
		conn.SetDeadline(time.Unix(1, 0))
	})
	return func() { stopAfter() }
}

// ctxErr prefers the context's error to the I/O error it caused, so that a
// cancelled delivery reads as cancelled rather than as an i/o timeout.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() == nil || err == nil || errors.Is(err, ctx.Err()) {
		return err
	}
	return fmt.Errorf("%w (%w)", ctx.Err(), err)
}

// oneLine replaces control characters (CR, LF, tab, the other C0 codes,
// DEL and the C1 codes, NEL among them) with spaces and invalid UTF-8 with
// U+FFFD. Values built into headers and line-oriented formats go through it
// so that no alert field can start a new line.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, s)
}

func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f)
}

// truncate shortens s to at most limit bytes without splitting a UTF-8
// sequence, marking the cut with an ellipsis.
func truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	const mark = "…"
	cut := max(0, limit-len(mark))
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
