package web

// Need is one thing an auditor or an admin should look at, counted.
type Need struct {
	// ID names the card (need-overdue, need-critical…).
	ID          string
	Label, Href string
	N           int
	// Tone colours the card: "bad" for what is overdue or failing.
	Tone string
	// Names lists what is counted when it is short (zones, say).
	Names []string
}

// AssetLink is an asset with something to look at, linked to its page.
type AssetLink struct {
	Href, Address, Hostname string
	N                       int
}

// RiskRow is one of the dashboard's riskiest assets.
type RiskRow struct {
	Href, Address, Hostname, Zone string
	// BySeverity is the live drift per severity, most severe first.
	BySeverity []Count
	Score      int
}

// OldDriftRow is one of the dashboard's oldest live drift items.
type OldDriftRow struct {
	Href, DriftHref                     string
	Address, Hostname, Port, Kind, Zone string
	Severity, SeverityLabel, Since, Age string
}

// WorkQueueRow is a request in a work queue, with what the reader must know
// before opening it.
type WorkQueueRow struct {
	RequestRow
	// Severity is the most severe finding's ("" when none).
	Severity, SeverityLabel string
	// Exception: approval needs (or took) the exception path.
	Exception bool
	// Own: the reader filed it; FirstByMe: the reader gave its first
	// approval. Either way it is not offered to them.
	Own, FirstByMe bool
	RuleList       []RuleView
}
