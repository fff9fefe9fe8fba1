package periodic

import (
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

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
func (r Report) SectionsUpTo(max int) []Section {
	secs := r.Sections()
	for i := range secs {
		if n := len(secs[i].Rows); n > max {
			secs[i].Rows, secs[i].More = secs[i].Rows[:max], n-max
		}
	}
	return secs
}

const timeFormat = "2006-01-02 15:04 UTC"

// Summary is the report's headline figures; a nothing-new report is these
// figures and nothing else.
func (r Report) Summary() []report.Field {
	scan := func(s *ScanRef) string {
		if s == nil {
			return "none"
		}
		return fmt.Sprintf("#%d, finished %s (%d of %d hosts up)", s.RunID, s.Finished.Format(timeFormat), s.HostsUp, s.Hosts)
	}
	fields := []report.Field{
		{Name: "Zone", Value: r.Zone + " (" + r.Classification + ")"},
	}
	if r.Team != "" {
		fields = append(fields, report.Field{Name: "Owner team", Value: r.Team})
	}
	fields = append(fields,
		report.Field{Name: "Window", Value: r.From.Format(timeFormat) + " to " + r.To.Format(timeFormat)},
		report.Field{Name: "Assets", Value: strconv.Itoa(r.Assets)},
		report.Field{Name: "Scan", Value: scan(r.Scan)},
		report.Field{Name: "Compared with", Value: scan(r.Previous)},
		report.Field{Name: "Newly opened", Value: strconv.Itoa(len(r.Opened))},
		report.Field{Name: "Newly closed", Value: strconv.Itoa(len(r.Closed))},
		report.Field{Name: "Unapproved open ports", Value: strconv.Itoa(len(r.Unapproved))},
		report.Field{Name: "High-risk exposures", Value: strconv.Itoa(len(r.HighRisk))},
		report.Field{Name: "Weak configurations", Value: strconv.Itoa(len(r.Weak))},
		report.Field{Name: fmt.Sprintf("Approvals expiring within %d days", int(ExpiryHorizon.Hours()/24)), Value: strconv.Itoa(len(r.Expiring))},
		report.Field{Name: "Resolved", Value: strconv.Itoa(len(r.Resolved))},
	)
	return fields
}

// Lead is the report's first sentence.
func (r Report) Lead() string {
	if r.NothingNew {
		return fmt.Sprintf("Nothing new in zone %s since the previous %s scan: no port opened or closed, no new drift, nothing resolved.", r.scopeName(), r.Kind)
	}
	return fmt.Sprintf("What changed in zone %s: %s.", r.scopeName(), r.Headline())
}

func (r Report) scopeName() string {
	if r.Team != "" {
		return r.Zone + " (team " + r.Team + ")"
	}
	return r.Zone
}

func port(proto string, n int) string { return proto + "/" + strconv.Itoa(n) }

func request(id uint) string {
	if id == 0 {
		return ""
	}
	return "#" + strconv.FormatUint(uint64(id), 10)
}

// Sections are the report's lists; none for a nothing-new report.
func (r Report) Sections() []Section {
	if r.NothingNew {
		return nil
	}
	approved := func(ok bool, id uint) string {
		if ok {
			return "yes, request " + request(id)
		}
		return "no"
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
			when := d.FirstSeen.Format(timeFormat)
			if resolved && d.ResolvedAt != nil {
				when = d.ResolvedAt.Format(timeFormat)
			} else if d.New {
				when += " (new)"
			}
			rows = append(rows, []string{d.Severity, d.Kind, d.Address, d.Hostname, port(d.Protocol, d.Port), d.Service, when, "#" + strconv.FormatUint(uint64(d.DriftID), 10)})
		}
		return rows
	}
	var exposures, weak, expiring [][]string
	for _, e := range r.HighRisk {
		facing := "internal"
		if e.InternetFacing {
			facing = "internet-facing"
		}
		exposures = append(exposures, []string{facing, e.Address, e.Hostname, port(e.Protocol, int(e.Port)), e.Service, e.Category, approved(e.Approved, e.RequestID)})
	}
	for _, w := range r.Weak {
		weak = append(weak, []string{w.Severity, w.Finding, w.Address, w.Hostname, port(w.Protocol, int(w.Port)), w.Detail})
	}
	for _, e := range r.Expiring {
		expiring = append(expiring, []string{request(e.RequestID), e.Title, e.Team, e.ExpiresAt.Format(time.DateOnly), strconv.Itoa(e.DaysLeft), e.Openings})
	}
	driftCols := func(when string) []string {
		return []string{"Severity", "Kind", "Address", "Host", "Port", "Service", when, "Drift"}
	}
	return []Section{
		{Key: "opened", Title: "Newly opened ports", Columns: []string{"Address", "Host", "Team", "Port", "Service", "Approved"}, Rows: changes(r.Opened, true),
			Empty: "No port opened since the previous scan."},
		{Key: "closed", Title: "Newly closed ports", Columns: []string{"Address", "Host", "Team", "Port", "Service"}, Rows: changes(r.Closed, false),
			Empty: "No port closed since the previous scan."},
		{Key: "unapproved", Title: "Unapproved open ports", Columns: driftCols("First seen"), Rows: drift(r.Unapproved, false),
			Empty: "No port is open without an approval."},
		{Key: "high-risk", Title: "High-risk exposures (internet-facing first)", Columns: []string{"Exposure", "Address", "Host", "Port", "Service", "Category", "Approved"}, Rows: exposures,
			Empty: "No high-risk service answers."},
		{Key: "weak", Title: "Weak configurations", Columns: []string{"Severity", "Finding", "Address", "Host", "Port", "Detail"}, Rows: weak,
			Empty: "The scanner confirmed no weak configuration."},
		{Key: "expiring", Title: fmt.Sprintf("Approvals expiring within %d days", int(ExpiryHorizon.Hours()/24)), Columns: []string{"Request", "Title", "Team", "Expires", "Days left", "Openings"}, Rows: expiring,
			Empty: "No approval expires soon."},
		{Key: "resolved", Title: "Resolved", Columns: driftCols("Resolved at"), Rows: drift(r.Resolved, true),
			Empty: "Nothing was resolved in this window."},
	}
}

// Text renders the report as plain text (the e-mail's text part).
func (r Report) Text(link string) string {
	var b strings.Builder
	b.WriteString(r.Title() + "\n\n" + r.Lead() + "\n\n")
	for _, f := range r.Summary() {
		fmt.Fprintf(&b, "%-36s %s\n", f.Name+":", f.Value)
	}
	for _, n := range r.Notes {
		b.WriteString("\n" + n + "\n")
	}
	for _, s := range r.SectionsUpTo(MaxMailRows) {
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
			fmt.Fprintf(&b, "... and %d more: see the report's page or its PDF.\n", s.More)
		}
	}
	if link != "" {
		b.WriteString("\nThe report on Portcullis: " + link + "\n")
	}
	return b.String()
}

var htmlReport = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.R.Title}}</title></head>
<body style="font-family: sans-serif; font-size: 14px">
<h1 style="font-size: 20px">{{.R.Title}}</h1>
<p><strong>{{.R.Lead}}</strong></p>
<table style="border-collapse: collapse">
{{range .R.Summary}}<tr><th style="text-align: left; padding: 2px 12px 2px 0">{{.Name}}</th><td>{{.Value}}</td></tr>
{{end}}</table>
{{range .R.Notes}}<p>{{.}}</p>
{{end}}{{range .Sections}}<h2 style="font-size: 16px">{{.Title}}</h2>
{{if .Rows}}<table style="border-collapse: collapse" border="1" cellpadding="4">
<tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{if .More}}<p>… and {{.More}} more: see the report's page or its PDF.</p>{{end}}
{{else}}<p>{{.Empty}}</p>
{{end}}{{end}}{{if .Link}}<p><a href="{{.Link}}">The report on Portcullis</a></p>{{end}}
</body></html>
`))

// HTML renders the report as an HTML document (the e-mail's HTML part);
// link, when set, points at the report's page.
func (r Report) HTML(w io.Writer, link string) error {
	return htmlReport.Execute(w, struct {
		R        Report
		Sections []Section
		Link     string
	}{r, r.SectionsUpTo(MaxMailRows), link})
}

// PDF renders the report with the export PDF writer: the title and summary
// on the first page, then each list as a table. opts chooses the font.
func (r Report) PDF(w io.Writer, opts report.Options) error {
	if opts.MaxPDFRows == 0 {
		// Every row: a report is as large as its zone, not its history,
		// and it has no CSV for the rest.
		opts.MaxPDFRows = -1
	}
	pw, err := report.New("pdf", w, opts)
	if err != nil {
		return err
	}
	notes := append([]string{r.Lead()}, r.Notes...)
	err = pw.Begin(report.Document{Title: r.Title(), Subtitle: r.Kind.periodLabel() + " " + r.Period, GeneratedAt: r.To, GeneratedBy: "Portcullis",
		Summary: r.Summary(), Notes: notes})
	for _, s := range r.Sections() {
		if err != nil {
			break
		}
		cols := make([]report.Column, len(s.Columns))
		for i, c := range s.Columns {
			cols[i] = report.Column{Key: strings.ToLower(strings.ReplaceAll(c, " ", "_")), Title: c}
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

func (k Kind) periodLabel() string {
	if k == Weekly {
		return "Week"
	}
	return "Day"
}
