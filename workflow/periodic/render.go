package periodic

import (
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"

	"github.com/portcullis/portcullis/workflow/core"
	"github.com/portcullis/portcullis/workflow/report"
)

// Section is one list of a report as every rendering shows it: the web
// page, the e-mail (text and HTML) and the PDF.
type Section struct {
	Key, Title string
	Columns    []string
	Rows       [][]string
	// Empty is what is said when there are no rows.
	Empty string
	// More counts the rows left out (SectionsUpTo).
	More int
}

// MaxMailRows bounds each list of a report e-mail: a zone with thousands
// of findings gets a readable message; the page and the PDF hold the rest.
const MaxMailRows = 200

// SectionsUpTo are the sections with at most max rows each, More counting
// the rest.
func (r Report) SectionsUpTo(lang core.Language, max int) []Section {
	secs := r.Sections(lang)
	for i := range secs {
		if n := len(secs[i].Rows); n > max {
			secs[i].Rows, secs[i].More = secs[i].Rows[:max], n-max
		}
	}
	return secs
}

// term is a domain word (a severity, a drift kind) in lang; a word the
// catalogs lack is shown as it is.
func term(lang core.Language, family, word string) string {
	id := family + "." + word
	if s := lang.Text(id); s != id {
		return s
	}
	return word
}

// expiryDays is ExpiryHorizon in days, as the report names it.
func expiryDays() int { return int(ExpiryHorizon.Hours() / 24) }

// Summary is the report's headline figures in lang; a nothing-new report
// is these figures and nothing else.
func (r Report) Summary(lang core.Language) []report.Field {
	scan := func(s *ScanRef) string {
		if s == nil {
			return lang.Text("periodic.scan_none")
		}
		return lang.Text("periodic.scan_ref", "ID", s.RunID, "Finished", lang.Time(s.Finished), "Up", s.HostsUp, "Hosts", s.Hosts)
	}
	count := func(n int) string { return strconv.Itoa(n) }
	fields := []report.Field{
		{Name: lang.Text("periodic.zone"), Value: r.Zone + " (" + r.Classification + ")"},
	}
	if r.Team != "" {
		fields = append(fields, report.Field{Name: lang.Text("periodic.owner_team"), Value: r.Team})
	}
	fields = append(fields,
		report.Field{Name: lang.Text("periodic.window"), Value: lang.Text("periodic.window_value", "From", lang.Time(r.From), "To", lang.Time(r.To))},
		report.Field{Name: lang.Text("periodic.assets"), Value: count(r.Assets)},
		report.Field{Name: lang.Text("periodic.scan"), Value: scan(r.Scan)},
		report.Field{Name: lang.Text("periodic.compared_with"), Value: scan(r.Previous)},
		report.Field{Name: lang.Text("periodic.newly_opened"), Value: count(len(r.Opened))},
		report.Field{Name: lang.Text("periodic.newly_closed"), Value: count(len(r.Closed))},
		report.Field{Name: lang.Text("periodic.sec_unapproved"), Value: count(len(r.Unapproved))},
		report.Field{Name: lang.Text("periodic.high_risk"), Value: count(len(r.HighRisk))},
		report.Field{Name: lang.Text("periodic.sec_weak"), Value: count(len(r.Weak))},
		report.Field{Name: lang.Text("periodic.sec_expiring", "Days", expiryDays()), Value: count(len(r.Expiring))},
		report.Field{Name: lang.Text("periodic.sec_resolved"), Value: count(len(r.Resolved))},
	)
	return fields
}

// Lead is the report's first sentence in lang.
func (r Report) Lead(lang core.Language) string {
	if r.NothingNew {
		return lang.Text("periodic.lead_nothing_new", "Scope", r.scopeName(lang), "Kind", term(lang, "report_kind", string(r.Kind)))
	}
	return lang.Text("periodic.lead_changed", "Scope", r.scopeName(lang), "Headline", r.Headline(lang))
}

func (r Report) scopeName(lang core.Language) string {
	if r.Team != "" {
		return lang.Text("periodic.scope_team", "Zone", r.Zone, "Team", r.Team)
	}
	return r.Zone
}

// NotesIn are the report's notes (why there is nothing to compare) in
// lang; Notes keeps them in English for the JSON of the API and the CLI.
func (r Report) NotesIn(lang core.Language) []string {
	kind := term(lang, "report_kind", string(r.Kind))
	switch {
	case r.Scan == nil:
		return []string{lang.Text("periodic.note_no_scan", "Kind", kind, "Zone", r.Zone)}
	case !r.Scan.Finished.After(r.From) || r.Scan.Finished.After(r.To):
		return []string{lang.Text("periodic.note_stale", "Kind", kind, "Zone", r.Zone, "ID", r.Scan.RunID, "Finished", lang.Time(r.Scan.Finished))}
	case r.Previous == nil:
		return []string{lang.Text("periodic.note_baseline", "Kind", kind, "Zone", r.Zone, "ID", r.Scan.RunID)}
	}
	return nil
}

func port(proto string, n int) string { return proto + "/" + strconv.Itoa(n) }

func request(id uint) string {
	if id == 0 {
		return ""
	}
	return "#" + strconv.FormatUint(uint64(id), 10)
}

// columns are a section's column titles in lang, from their message ids.
func columns(lang core.Language, ids ...string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = lang.Text(id)
	}
	return out
}

// Sections are the report's lists in lang; none for a nothing-new report.
func (r Report) Sections(lang core.Language) []Section {
	if r.NothingNew {
		return nil
	}
	approved := func(ok bool, id uint) string {
		if ok {
			return lang.Text("periodic.approved_yes", "Request", request(id))
		}
		return lang.Text("periodic.approved_no")
	}
	changes := func(cs []PortChange, withApproval bool) [][]string {
		var rows [][]string
		for _, c := range cs {
			row := []string{c.Address, c.Hostname, c.Team, port(c.Protocol, int(c.Port)), c.Service}
			if withApproval {
				row = append(row, approved(c.Approved, c.RequestID))
			}
			rows = append(rows, row)
		}
		return rows
	}
	drift := func(ds []DriftLine, resolved bool) [][]string {
		var rows [][]string
		for _, d := range ds {
			when := lang.Time(d.FirstSeen)
			if resolved && d.ResolvedAt != nil {
				when = lang.Time(*d.ResolvedAt)
			} else if d.New {
				when += lang.Text("periodic.new_suffix")
			}
			rows = append(rows, []string{term(lang, "severity", d.Severity), term(lang, "drift_kind", d.Kind), d.Address, d.Hostname, port(d.Protocol, d.Port), d.Service, when, "#" + strconv.FormatUint(uint64(d.DriftID), 10)})
		}
		return rows
	}
	var exposures, weak, expiring [][]string
	for _, e := range r.HighRisk {
		facing := lang.Text("periodic.internal")
		if e.InternetFacing {
			facing = lang.Text("periodic.internet_facing")
		}
		exposures = append(exposures, []string{facing, e.Address, e.Hostname, port(e.Protocol, int(e.Port)), e.Service, e.Category, approved(e.Approved, e.RequestID)})
	}
	for _, w := range r.Weak {
		weak = append(weak, []string{term(lang, "severity", w.Severity), w.Finding, w.Address, w.Hostname, port(w.Protocol, int(w.Port)), w.Detail})
	}
	for _, e := range r.Expiring {
		expiring = append(expiring, []string{request(e.RequestID), e.Title, e.Team, lang.Date(e.ExpiresAt), strconv.Itoa(e.DaysLeft), e.Openings})
	}
	driftColumns := func(whenID string) []string {
		return []string{"periodic.col_severity", "periodic.col_kind", "periodic.col_address", "periodic.col_host", "periodic.col_port",
			"periodic.col_service", whenID, "periodic.col_drift"}
	}
	sec := func(key, titleID, emptyID string, cols []string, rows [][]string, args ...any) Section {
		return Section{Key: key, Title: lang.Text(titleID, args...), Columns: columns(lang, cols...), Rows: rows, Empty: lang.Text(emptyID)}
	}
	return []Section{
		sec("opened", "periodic.sec_opened", "periodic.empty_opened",
			[]string{"periodic.col_address", "periodic.col_host", "periodic.col_team", "periodic.col_port", "periodic.col_service", "periodic.col_approved"},
			changes(r.Opened, true)),
		sec("closed", "periodic.sec_closed", "periodic.empty_closed",
			[]string{"periodic.col_address", "periodic.col_host", "periodic.col_team", "periodic.col_port", "periodic.col_service"},
			changes(r.Closed, false)),
		sec("unapproved", "periodic.sec_unapproved", "periodic.empty_unapproved", driftColumns("periodic.col_first_seen"), drift(r.Unapproved, false)),
		sec("high-risk", "periodic.sec_high_risk", "periodic.empty_high_risk",
			[]string{"periodic.col_exposure", "periodic.col_address", "periodic.col_host", "periodic.col_port", "periodic.col_service", "periodic.col_category", "periodic.col_approved"},
			exposures),
		sec("weak", "periodic.sec_weak", "periodic.empty_weak",
			[]string{"periodic.col_severity", "periodic.col_finding", "periodic.col_address", "periodic.col_host", "periodic.col_port", "periodic.col_detail"},
			weak),
		sec("expiring", "periodic.sec_expiring", "periodic.empty_expiring",
			[]string{"periodic.col_request", "periodic.col_title", "periodic.col_team", "periodic.col_expires", "periodic.col_days_left", "periodic.col_openings"},
			expiring, "Days", expiryDays()),
		sec("resolved", "periodic.sec_resolved", "periodic.empty_resolved", driftColumns("periodic.col_resolved_at"), drift(r.Resolved, true)),
	}
}

// Text renders the report as plain text (the e-mail's text part).
func (r Report) Text(lang core.Language, link string) string {
	var b strings.Builder
	b.WriteString(r.Title(lang) + "\n\n" + r.Lead(lang) + "\n\n")
	for _, f := range r.Summary(lang) {
		fmt.Fprintf(&b, "%-36s %s\n", f.Name+":", f.Value)
	}
	for _, n := range r.NotesIn(lang) {
		b.WriteString("\n" + n + "\n")
	}
	for _, s := range r.SectionsUpTo(lang, MaxMailRows) {
		b.WriteString("\n" + s.Title + "\n" + strings.Repeat("-", len(s.Title)) + "\n")
		if len(s.Rows) == 0 {
			b.WriteString(s.Empty + "\n")
			continue
		}
		for _, row := range s.Rows {
			var cells []string
			for i, c := range row {
				if c != "" {
					cells = append(cells, s.Columns[i]+": "+c)
				}
			}
			b.WriteString("- " + strings.Join(cells, "; ") + "\n")
		}
		if s.More > 0 {
			b.WriteString(lang.Text("periodic.more", "N", s.More) + "\n")
		}
	}
	if link != "" {
		b.WriteString("\n" + lang.Text("periodic.on_portcullis") + ": " + link + "\n")
	}
	return b.String()
}

var htmlReport = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family: sans-serif; font-size: 14px">
<h1 style="font-size: 20px">{{.Title}}</h1>
<p><strong>{{.Lead}}</strong></p>
<table style="border-collapse: collapse">
{{range .Summary}}<tr><th style="text-align: left; padding: 2px 12px 2px 0">{{.Name}}</th><td>{{.Value}}</td></tr>
{{end}}</table>
{{range .Notes}}<p>{{.}}</p>
{{end}}{{range .Sections}}<h2 style="font-size: 16px">{{.Title}}</h2>
{{if .Rows}}<table style="border-collapse: collapse" border="1" cellpadding="4">
<tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{if .More}}<p>{{call $.MoreText .More}}</p>{{end}}
{{else}}<p>{{.Empty}}</p>
{{end}}{{end}}{{if .Link}}<p><a href="{{.Link}}">{{.OnPortcullis}}</a></p>{{end}}
</body></html>
`))

// HTML renders the report as an HTML document (the e-mail's HTML part);
// link, when set, points at the report's page.
func (r Report) HTML(lang core.Language, w io.Writer, link string) error {
	return htmlReport.Execute(w, struct {
		Lang, Title, Lead, Link, OnPortcullis string
		Summary                               []report.Field
		Notes                                 []string
		Sections                              []Section
		MoreText                              func(int) string
	}{lang.Tag(), r.Title(lang), r.Lead(lang), link, lang.Text("periodic.on_portcullis"), r.Summary(lang), r.NotesIn(lang),
		r.SectionsUpTo(lang, MaxMailRows), func(n int) string { return lang.Text("periodic.more", "N", n) }})
}

// PDF renders the report with the export PDF writer: the title and summary
// on the first page, then each list as a table. opts chooses the font.
func (r Report) PDF(lang core.Language, w io.Writer, opts report.Options) error {
	if opts.MaxPDFRows == 0 {
		// Every row: a report is as large as its zone, not its history,
		// and it has no CSV for the rest.
		opts.MaxPDFRows = -1
	}
	pw, err := report.New("pdf", w, opts)
	if err != nil {
		return err
	}
	notes := append([]string{r.Lead(lang)}, r.NotesIn(lang)...)
	subtitle := lang.Text("periodic.period_daily", "Period", r.Period)
	if r.Kind == Weekly {
		subtitle = lang.Text("periodic.period_weekly", "Period", r.Period)
	}
	err = pw.Begin(report.Document{Title: r.Title(lang), Subtitle: subtitle, GeneratedAt: r.To, GeneratedBy: "Portcullis",
		Summary: r.Summary(lang), Notes: notes})
	for _, s := range r.Sections(lang) {
		if err != nil {
			break
		}
		cols := make([]report.Column, len(s.Columns))
		for i, c := range s.Columns {
			cols[i] = report.Column{Key: strconv.Itoa(i), Title: c}
		}
		if err = pw.StartTable(report.Table{Key: s.Key, Title: s.Title, Columns: cols}); err != nil {
			break
		}
		for _, row := range s.Rows {
			if err = pw.Row(row...); err != nil {
				break
			}
		}
		if err == nil {
			err = pw.EndTable()
		}
	}
	if cerr := pw.Close(); err == nil {
		err = cerr
	}
	return err
}
