// Package locale translates the pages: the message catalogs (one TOML file
// per language and page area, embedded), the choice of language and time
// zone for each request, and the formatting of numbers, dates and times in
// them. Handlers put a Localizer in the request context; templ components
// and handlers read it with T, N, Time and friends.
package locale

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	// The time zone database is embedded so that a zone chosen on the
	// profile means the same on every host, with or without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed locales/*.toml
var catalogFiles embed.FS

// Language is one language the pages are offered in.
type Language struct {
	Tag  string // BCP 47, as in <html lang>: en, zh-CN
	Name string // in its own language, as people pick it: English, 简体中文
}

// Offered are the languages with a catalog; the first is the source
// language every message is written in first.
var Offered = []Language{{Tag: "en", Name: "English"}, {Tag: "zh-CN", Name: "简体中文"}}

// Catalog is every message in every offered language, with the server's
// defaults for people who chose nothing.
type Catalog struct {
	bundle      *i18n.Bundle
	tags        []language.Tag // the default language first: the matcher falls back to it
	matcher     language.Matcher
	defaultZone *time.Location
	// langs is what every request in one language shares: built once, as
	// building it per request cost more than a page's translations.
	langs map[string]*langShared
	// zones are the time zones loaded so far by name: loading one reads
	// the embedded zone database.
	zones sync.Map
}

// langShared is one language's part of the catalog, safe for concurrent use.
type langShared struct {
	msgs    *i18n.Localizer
	printer *message.Printer
	// plain keeps the messages asked for without arguments (navigation,
	// labels, headings): the same text every time, looked up once instead
	// of on every page view.
	plain *sync.Map
	// filled are the messages whose text only puts arguments in place
	// ({{.Name}}), split once so that a row's message is filled in without
	// running a text/template.
	filled map[string]fillIn
	// groupsByComma is set when the language writes whole numbers as
	// 1,234,567, as checked against its printer when the catalog is built.
	groupsByComma bool
}

// New loads the embedded catalogs. defaultLanguage ("": the source
// language, en) is used when neither the user's choice nor Accept-Language
// names an offered language; defaultZone (an IANA name such as
// Asia/Shanghai; "": UTC) when the user chose no time zone.
func New(defaultLanguage, defaultZone string) (*Catalog, error) {
	if strings.TrimSpace(defaultLanguage) == "" {
		defaultLanguage = Offered[0].Tag
	}
	def, err := ParseLanguage(defaultLanguage)
	if err != nil {
		return nil, err
	}
	zone, err := LoadZone(defaultZone)
	if err != nil {
		return nil, err
	}
	bundle := i18n.NewBundle(language.English)
	bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	paths, err := fs.Glob(catalogFiles, "locales/*.toml")
	if err != nil {
		return nil, err
	}
	texts := map[string]map[string]string{} // message text (its "other" form) by language and id
	for _, p := range paths {
		f, err := bundle.LoadMessageFileFS(catalogFiles, p)
		if err != nil {
			return nil, fmt.Errorf("message catalog %s: %w", p, err)
		}
		lang := f.Tag.String()
		if texts[lang] == nil {
			texts[lang] = map[string]string{}
		}
		for _, m := range f.Messages {
			texts[lang][m.ID] = m.Other
		}
	}
	c := &Catalog{bundle: bundle, defaultZone: zone}
	c.tags = append(c.tags, language.MustParse(def))
	for _, l := range Offered {
		if l.Tag != def {
			c.tags = append(c.tags, language.MustParse(l.Tag))
		}
	}
	c.matcher = language.NewMatcher(c.tags)
	c.langs = map[string]*langShared{}
	for _, t := range c.tags {
		lang := t.String()
		shared := &langShared{msgs: i18n.NewLocalizer(bundle, lang), printer: message.NewPrinter(t), plain: &sync.Map{}, filled: fillIns(texts[lang])}
		shared.groupsByComma = printsGroupsByComma(shared.printer)
		c.langs[lang] = shared
	}
	return c, nil
}

// ParseLanguage returns the offered language tag s names (case and
// separators as people write them: zh-cn, zh_CN), or an error listing them.
func ParseLanguage(s string) (string, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), "_", "-")
	for _, l := range Offered {
		if strings.EqualFold(l.Tag, s) {
			return l.Tag, nil
		}
	}
	tags := make([]string, len(Offered))
	for i, l := range Offered {
		tags[i] = l.Tag
	}
	return "", fmt.Errorf("language %q is not offered (choose %s)", s, strings.Join(tags, " or "))
}

// LoadZone returns the IANA time zone name names ("" is UTC). "Local" is
// refused: it would mean whatever the server's host is set to.
func LoadZone(name string) (*time.Location, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return time.UTC, nil
	}
	if name == "Local" {
		return nil, fmt.Errorf("time zone %q is not an IANA name such as Asia/Shanghai or Europe/Paris", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q is not in the time zone database (use an IANA name such as Asia/Shanghai or Europe/Paris)", name)
	}
	return loc, nil
}

// Localizer speaks one language in one time zone: what a request's pages use.
type Localizer struct {
	lang string // the offered tag: en, zh-CN
	*langShared
	zone *time.Location
}

// Localizer picks the language — the user's choice, else the best offered
// match of the Accept-Language header, else the default — and the time
// zone — the user's choice, else the default. A choice no longer offered or
// no longer in the zone database is passed over, never an error.
func (c *Catalog) Localizer(chosenLanguage, acceptLanguage, chosenZone string) *Localizer {
	tag := c.tags[0]
	if lang, err := ParseLanguage(chosenLanguage); err == nil && chosenLanguage != "" {
		tag = language.MustParse(lang)
	} else if acceptLanguage != "" {
		if prefs, _, err := language.ParseAcceptLanguage(acceptLanguage); err == nil && len(prefs) > 0 {
			if _, i, conf := c.matcher.Match(prefs...); conf != language.No {
				tag = c.tags[i]
			}
		}
	}
	zone := c.defaultZone
	if chosenZone != "" {
		if z, ok := c.zones.Load(chosenZone); ok {
			zone = z.(*time.Location)
		} else if z, err := LoadZone(chosenZone); err == nil {
			// Only names the zone database has are kept: a bounded set.
			c.zones.Store(chosenZone, z)
			zone = z
		}
	}
	lang := tag.String()
	return &Localizer{lang: lang, langShared: c.langs[lang], zone: zone}
}

// Has reports whether id is in the catalog of lang (tests and checks).
func (c *Catalog) Has(lang, id string) bool {
	_, tag, err := i18n.NewLocalizer(c.bundle, lang).LocalizeWithTag(&i18n.LocalizeConfig{MessageID: id})
	return err == nil && tag.String() == lang
}

// The methods below make a Localizer the domain's core.Language: the text
// of e-mails, alerts and report documents, outside any request.

// Tag is the localizer's language: en, zh-CN.
func (l *Localizer) Tag() string { return l.lang }

// Text is T without a request.
func (l *Localizer) Text(id string, args ...any) string {
	return T(With(context.Background(), l), id, args...)
}

// Time is Time without a request.
func (l *Localizer) Time(t time.Time) string { return Time(With(context.Background(), l), t) }

// Date is Date without a request.
func (l *Localizer) Date(t time.Time) string { return Date(With(context.Background(), l), t) }

type ctxKey struct{}

// With returns ctx carrying l.
func With(ctx context.Context, l *Localizer) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From returns the request's localizer; nil when none was placed, which
// the helpers below answer with message ids and UTC.
func From(ctx context.Context) *Localizer {
	l, _ := ctx.Value(ctxKey{}).(*Localizer)
	return l
}

// Lang is the language of the page, for <html lang>.
func Lang(ctx context.Context) string {
	if l := From(ctx); l != nil {
		return l.lang
	}
	return Offered[0].Tag
}

// Zone is the reader's time zone.
func Zone(ctx context.Context) *time.Location {
	if l := From(ctx); l != nil {
		return l.zone
	}
	return time.UTC
}

// T is the message id in the reader's language. args are name/value pairs
// for the message's {{.Name}} placeholders. A missing message shows its id,
// which the catalog test catches before anyone reads it.
func T(ctx context.Context, id string, args ...any) string {
	if len(args) == 0 {
		if l := From(ctx); l != nil && l.plain != nil {
			if s, ok := l.plain.Load(id); ok {
				return s.(string)
			}
			s, err := l.msgs.Localize(&i18n.LocalizeConfig{MessageID: id})
			if err != nil {
				return id
			}
			l.plain.Store(id, s)
			return s
		}
	}
	if l := From(ctx); l != nil {
		if f, ok := l.filled[id]; ok {
			if s, ok := f.fill(args); ok {
				return s
			}
		}
	}
	return localize(ctx, &i18n.LocalizeConfig{MessageID: id, TemplateData: templateData(args)})
}

// N is the message id in its plural form for count (available to the
// message as {{.Count}}, already formatted for the language).
func N(ctx context.Context, id string, count int, args ...any) string {
	data := templateData(args)
	data["Count"] = Number(ctx, count)
	return localize(ctx, &i18n.LocalizeConfig{MessageID: id, PluralCount: count, TemplateData: data})
}

func localize(ctx context.Context, cfg *i18n.LocalizeConfig) string {
	l := From(ctx)
	if l == nil {
		return cfg.MessageID
	}
	s, err := l.msgs.Localize(cfg)
	if err != nil {
		return cfg.MessageID
	}
	return s
}

func templateData(args []any) map[string]any {
	data := make(map[string]any, len(args)/2+1)
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok {
			data[k] = args[i+1]
		}
	}
	return data
}

// Number formats n with the language's digit grouping.
func Number(ctx context.Context, n int) string {
	if l := From(ctx); l != nil {
		if l.groupsByComma {
			return groupByComma(n)
		}
		return l.printer.Sprintf("%d", n)
	}
	return fmt.Sprint(n)
}

// The layouts of times and dates per language; English keeps the ISO order
// the pages always used.
var layouts = map[string]struct{ dateTime, date, dayMonth string }{
	"en":    {"2006-01-02 15:04 MST", "2006-01-02", "Jan 2"},
	"zh-CN": {"2006年1月2日 15:04", "2006年1月2日", "1月2日"},
}

func layoutsFor(ctx context.Context) (string, string, string) {
	ls, ok := layouts[Lang(ctx)]
	if !ok {
		ls = layouts["en"]
	}
	return ls.dateTime, ls.date, ls.dayMonth
}

// Time is t in the reader's zone and language; "" for the zero time.
func Time(ctx context.Context, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	layout, _, _ := layoutsFor(ctx)
	return t.In(Zone(ctx)).Format(layout)
}

// TimePtr is Time for an optional time; "" for nil.
func TimePtr(ctx context.Context, t *time.Time) string {
	if t == nil {
		return ""
	}
	return Time(ctx, *t)
}

// Date is the calendar day of t in the reader's zone.
func Date(ctx context.Context, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	_, layout, _ := layoutsFor(ctx)
	return t.In(Zone(ctx)).Format(layout)
}

// DayMonth is a short day label (chart axes): Jan 2, 1月2日. It does not
// change zone: the day is already a calendar day.
func DayMonth(ctx context.Context, day time.Time) string {
	_, _, layout := layoutsFor(ctx)
	return day.Format(layout)
}

// CommonZones are offered as suggestions beside the profile's time zone
// field; any name of the time zone database is accepted.
var CommonZones = []string{
	"UTC", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo",
	"Asia/Kolkata", "Asia/Dubai", "Europe/London", "Europe/Paris", "Europe/Berlin",
	"Europe/Moscow", "America/New_York", "America/Chicago", "America/Los_Angeles",
	"America/Sao_Paulo", "Australia/Sydney",
}

// Say is the message id in the reader's language filled with data, or
// english (the same template, written where the message is raised) filled
// with it when the reader's catalog lacks the id. Domain errors come this
// way: they carry their English with them, for logs and the command line.
// It is "" when neither can be filled, or without a localizer.
func Say(ctx context.Context, id, english string, data map[string]any) string {
	l := From(ctx)
	if l == nil {
		return ""
	}
	s, err := l.msgs.Localize(&i18n.LocalizeConfig{
		MessageID: id, TemplateData: data,
		DefaultMessage: &i18n.Message{ID: id, Other: english},
	})
	if err != nil && s == "" {
		return ""
	}
	return s
}
