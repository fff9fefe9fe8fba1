package locale

import (
	"context"
	"testing"
	"time"
)

func mustCatalog(t testing.TB, lang, zone string) *Catalog {
	t.Helper()
	c, err := New(lang, zone)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLanguageChoice(t *testing.T) {
	for _, tc := range []struct {
		name, def, chosen, accept, want string
	}{
		{"nothing named: the default", "en", "", "", "en"},
		{"nothing named, Chinese default", "zh-CN", "", "", "zh-CN"},
		{"browser asks for Chinese", "en", "", "zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"},
		{"plain zh", "en", "", "zh", "zh-CN"},
		{"Taiwan's Chinese still finds the Chinese pages", "en", "", "zh-TW", "zh-CN"},
		{"browser prefers English", "zh-CN", "", "en-GB,zh-CN;q=0.5", "en"},
		{"browser asks for nothing offered: the default", "zh-CN", "", "fr-FR,de;q=0.8", "zh-CN"},
		{"profile choice beats the browser", "en", "en", "zh-CN", "en"},
		{"profile choice Chinese", "en", "zh-CN", "en-US", "zh-CN"},
		{"a choice no longer offered is passed over", "en", "fr", "zh-CN", "zh-CN"},
		{"an unreadable header is passed over", "zh-CN", "", "%%%;q=x", "zh-CN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := mustCatalog(t, tc.def, "UTC").Localizer(tc.chosen, tc.accept, "")
			if got := Lang(With(context.Background(), l)); got != tc.want {
				t.Errorf("language %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNewRefusesBadDefaults(t *testing.T) {
	if _, err := New("fr", "UTC"); err == nil {
		t.Error("the default language fr is not offered, yet accepted")
	}
	for _, z := range []string{"Mars/Olympus_Mons", "Local", "../../etc/passwd", "asia/shanghai "} {
		if _, err := New("en", z); err == nil {
			t.Errorf("the default time zone %q was accepted", z)
		}
	}
	if _, err := New("zh_cn", " Asia/Shanghai "); err != nil {
		t.Errorf("zh_cn and a padded zone name should be read as zh-CN and Asia/Shanghai: %v", err)
	}
}

func TestFormatsPerLanguageAndZone(t *testing.T) {
	at := time.Date(2026, 11, 30, 16, 5, 0, 0, time.UTC)
	for _, tc := range []struct {
		lang, chosenZone, defZone string
		time, date, day, number   string
	}{
		{"en", "", "UTC", "2026-11-30 16:05 UTC", "2026-11-30", "Nov 30", "12,345"},
		{"en", "Asia/Shanghai", "UTC", "2026-12-01 00:05 CST", "2026-12-01", "Nov 30", "12,345"},
		{"zh-CN", "", "Asia/Shanghai", "2026年12月1日 00:05", "2026年12月1日", "11月30日", "12,345"},
		{"zh-CN", "America/New_York", "Asia/Shanghai", "2026年11月30日 11:05", "2026年11月30日", "11月30日", "12,345"},
		{"zh-CN", "No/Such_Zone", "UTC", "2026年11月30日 16:05", "2026年11月30日", "11月30日", "12,345"},
	} {
		ctx := With(context.Background(), mustCatalog(t, "en", tc.defZone).Localizer(tc.lang, "", tc.chosenZone))
		if got := Time(ctx, at); got != tc.time {
			t.Errorf("%s in %q: time %q, want %q", tc.lang, tc.chosenZone, got, tc.time)
		}
		if got := Date(ctx, at); got != tc.date {
			t.Errorf("%s in %q: date %q, want %q", tc.lang, tc.chosenZone, got, tc.date)
		}
		if got := DayMonth(ctx, at); got != tc.day {
			t.Errorf("%s: day %q, want %q", tc.lang, got, tc.day)
		}
		if got := Number(ctx, 12345); got != tc.number {
			t.Errorf("%s: number %q, want %q", tc.lang, got, tc.number)
		}
		if Time(ctx, time.Time{}) != "" || TimePtr(ctx, nil) != "" {
			t.Errorf("%s: an unset time should show as nothing", tc.lang)
		}
	}
}

func TestMessagesAndPlurals(t *testing.T) {
	c := mustCatalog(t, "en", "UTC")
	en := With(context.Background(), c.Localizer("en", "", ""))
	zh := With(context.Background(), c.Localizer("zh-CN", "", ""))
	for _, tc := range []struct {
		ctx       context.Context
		got, want string
	}{
		{en, T(en, "nav.drift"), "Drift"},
		{zh, T(zh, "nav.drift"), "漂移"},
		{en, T(en, "layout.length_hint", "Max", Number(en, 4000)), "up to 4,000 characters"},
		{zh, T(zh, "layout.length_hint", "Max", Number(zh, 4000)), "最多 4,000 个字符"},
		{en, N(en, "profile.tokens_caption", 1), "Your token"},
		{en, N(en, "profile.tokens_caption", 1200), "Your 1,200 tokens"},
		{zh, N(zh, "profile.tokens_caption", 3), "我的令牌（共 3 个）"},
		{en, T(en, "no.such.message"), "no.such.message"},
		{context.Background(), T(context.Background(), "nav.drift"), "nav.drift"},
	} {
		if tc.got != tc.want {
			t.Errorf("%q, want %q", tc.got, tc.want)
		}
	}
	if !c.Has("zh-CN", "nav.drift") || c.Has("zh-CN", "no.such.message") {
		t.Error("Has does not tell which messages a catalog holds")
	}
}

// FuzzLocalizer: whatever a browser or a stored profile says, a page gets an
// offered language and a zone, never a panic.
func FuzzLocalizer(f *testing.F) {
	c := mustCatalog(f, "en", "UTC")
	f.Add("zh-CN", "zh-CN,zh;q=0.9", "Asia/Shanghai")
	f.Add("", "en-US,en;q=0.5,*;q=0.1", "")
	f.Add("xx", ";;;q=,,", "../../etc/passwd")
	f.Fuzz(func(t *testing.T, chosen, accept, zone string) {
		l := c.Localizer(chosen, accept, zone)
		ctx := With(context.Background(), l)
		if _, err := ParseLanguage(Lang(ctx)); err != nil {
			t.Fatalf("language %q is not offered", Lang(ctx))
		}
		if Zone(ctx) == nil {
			t.Fatal("no zone")
		}
		_ = Time(ctx, time.Unix(1<<31, 0))
	})
}

// FuzzLoadZone: a typed zone name loads or is refused, never panics.
func FuzzLoadZone(f *testing.F) {
	for _, s := range []string{"Asia/Shanghai", "", "Local", "UTC", "Etc/GMT+8", "/etc/passwd", "Asia/../../x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if loc, err := LoadZone(name); err == nil && loc == nil {
			t.Fatalf("%q: no error and no zone", name)
		}
	})
}

// BenchmarkRequestLocale is what each page view pays: a localizer from the
// Accept-Language header, then a message and a time.
func BenchmarkRequestLocale(b *testing.B) {
	c := mustCatalog(b, "en", "Asia/Shanghai")
	at := time.Date(2026, 11, 30, 16, 5, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		ctx := With(context.Background(), c.Localizer("", "zh-CN,zh;q=0.9,en;q=0.8", ""))
		_ = T(ctx, "nav.dashboard")
		_ = Time(ctx, at)
	}
}
