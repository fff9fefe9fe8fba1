package web

import (
	"context"
	"io"
	"strconv"

	"github.com/a-h/templ"

	"github.com/portcullis/portcullis/web/locale"
)

// The long lists (requests, queues, register, drift) write these on every
// row. templ's { s } copies each string through fmt.Sprint (two allocations
// per expression) and its class={ … } builds two maps and a slice per
// element: together most of what a row cost to render. Called as
// @Text(…) on a concrete type, they write the same bytes with at most one
// allocation.

// Text writes s HTML-escaped, as { s } does.
type Text string

// Render writes the escaped text.
func (t Text) Render(_ context.Context, w io.Writer) error {
	_, err := io.WriteString(w, templ.EscapeString(string(t)))
	return err
}

// Ref writes a record's number after a #, as #{ idStr(id) } does.
type Ref uint

// Render writes the reference.
func (id Ref) Render(_ context.Context, w io.Writer) error {
	if _, err := io.WriteString(w, "#"); err != nil {
		return err
	}
	_, err := io.WriteString(w, strconv.FormatUint(uint64(id), 10))
	return err
}

// Badge is <span class="badge PREFIXVALUE">label</span>, as
// <span class={ "badge", PREFIX + value }>{ label }</span> writes it (the
// prefixes are plain words: nothing in them to escape). A state badge also
// carries its state as data-state, which browser tests read instead of the
// label's words.
type Badge struct {
	prefix, value, label string
	dataState            bool
}

// Render writes the badge.
func (b Badge) Render(_ context.Context, w io.Writer) error {
	value := templ.EscapeString(b.value)
	attr := ""
	if b.dataState {
		attr = `" data-state="` + value
	}
	for _, s := range [...]string{`<span class="badge `, b.prefix, value, attr, `">`, templ.EscapeString(b.label), `</span>`} {
		if _, err := io.WriteString(w, s); err != nil {
			return err
		}
	}
	return nil
}

// StateBadge is a request's state as a coloured badge.
func StateBadge(state, label string) Badge { return Badge{"state-", state, label, true} }

// SeverityBadge is a finding's severity as a coloured badge.
func SeverityBadge(severity, label string) Badge {
	return Badge{prefix: "sev-", value: severity, label: label}
}

// RefLink is <a href="HREF">#ID</a>, as <a href={ templ.SafeURL(href) }>@Ref(id)</a>
// writes it, without the attribute's two allocations.
type RefLink struct {
	Href string
	ID   uint
}

// Render writes the link.
func (l RefLink) Render(ctx context.Context, w io.Writer) error {
	if err := writeStrings(w, `<a href="`, templ.EscapeString(l.Href), `">`); err != nil {
		return err
	}
	if err := Ref(l.ID).Render(ctx, w); err != nil {
		return err
	}
	return writeStrings(w, `</a>`)
}

// TextLink is <a href="HREF">text</a>, as <a href={ templ.SafeURL(href) }>@Text(text)</a> writes it.
type TextLink struct{ Href, Text string }

// Render writes the link.
func (l TextLink) Render(_ context.Context, w io.Writer) error {
	return writeStrings(w, `<a href="`, templ.EscapeString(l.Href), `">`, templ.EscapeString(l.Text), `</a>`)
}

func writeStrings(w io.Writer, parts ...string) error {
	for _, s := range parts {
		if _, err := io.WriteString(w, s); err != nil {
			return err
		}
	}
	return nil
}

// Render writes the cell as <td class={ c.Class }> with its count linked
// (or 0) would, without templ's class and href allocations: the seeded
// dashboard's heat map has 125 cells.
func (c HeatCell) Render(ctx context.Context, w io.Writer) error {
	if c.N <= 0 {
		return writeStrings(w, `<td class="`, templ.EscapeString(c.Class), `">0</td>`)
	}
	return writeStrings(w, `<td class="`, templ.EscapeString(c.Class), `"><a href="`, templ.EscapeString(c.Href), `">`,
		templ.EscapeString(locale.Number(ctx, c.N)), `</a></td>`)
}
