package web

// ReportsPage is the Reports page: the history of the daily and weekly
// port reports the reader may see, and their subscriptions.
type ReportsPage struct {
	Rows  []ReportRow
	Links ListLinks
	// Filters: the kind and zone the list is narrowed to.
	Kinds, Zones []Option
	// Subscriptions are the reader's; Zones and Teams what they may add.
	Subscriptions      []SubscriptionRow
	SubZones, SubTeams []Option
	Error              string
}

// ReportRow is one stored report in the history.
type ReportRow struct {
	ID                                uint
	Href, PDFHref                     string
	Kind, Zone, Team, Period, Created string
	Headline                          string
	NothingNew                        bool
}

// SubscriptionRow is one of the reader's subscriptions; Zone or Team is set.
type SubscriptionRow struct {
	Zone, Team string
	Default    bool // their own team's, received unless they opt out
	Active     bool
}

// ReportView is one report shown in full.
type ReportView struct {
	Title, Lead, PDFHref string
	NothingNew           bool
	Summary              []Field
	Notes                []string
	Sections             []ReportSection
}

// ReportSection is one list of a report.
type ReportSection struct {
	Key, Title, Empty string
	Columns           []string
	Rows              [][]string
	More              int // rows not shown
}

// Field is a name and its value.
type Field struct{ Name, Value string }
