package static

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"testing"
)

// rgb is a colour as the stylesheet writes it, 0–255 per channel.
type rgb [3]float64

func parseHex(t *testing.T, s string) rgb {
	t.Helper()
	if len(s) == 4 {
		s = "#" + string([]byte{s[1], s[1], s[2], s[2], s[3], s[3]})
	}
	if len(s) != 7 || s[0] != '#' {
		t.Fatalf("%q is not a #rgb or #rrggbb colour", s)
	}
	var c rgb
	for i := range 3 {
		n, err := strconv.ParseUint(s[1+2*i:3+2*i], 16, 8)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		c[i] = float64(n)
	}
	return c
}

// luminance is WCAG 2.1's relative luminance.
func luminance(c rgb) float64 {
	var l [3]float64
	for i, v := range c {
		v /= 255
		if v <= 0.03928 {
			l[i] = v / 12.92
		} else {
			l[i] = math.Pow((v+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
}

func contrast(a, b rgb) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// mix is CSS color-mix(in srgb, c p%, with): a straight blend of the channels.
func mix(c rgb, p float64, with rgb) rgb {
	var out rgb
	for i := range 3 {
		out[i] = math.Round(c[i]*p + with[i]*(1-p))
	}
	return out
}

// The severity colours of the tiles, badges and heat map, read from the
// stylesheet itself, meet WCAG AA for normal text (4.5:1). The critical tile
// once read at 1.6:1 (dark ink on dark red).
func TestSeverityColoursContrast(t *testing.T) {
	css, err := Files.ReadFile("portcullis.css")
	if err != nil {
		t.Fatal(err)
	}
	prop := func(name string) rgb {
		m := regexp.MustCompile(`--` + regexp.QuoteMeta(name) + `:\s*(#[0-9a-fA-F]{3,6})\s*;`).FindSubmatch(css)
		if m == nil {
			t.Fatalf("portcullis.css sets no --%s", name)
		}
		return parseHex(t, string(m[1]))
	}
	const aa = 4.5
	white, ink := parseHex(t, "#fff"), prop("ink")
	heat := map[int]float64{}
	for _, m := range regexp.MustCompile(`\.heat td\.heat-([1-3]) \{ background: color-mix\(in srgb, var\(--solid\) (\d+)%, #fff\); \}`).FindAllSubmatch(css, -1) {
		level, _ := strconv.Atoi(string(m[1]))
		p, _ := strconv.Atoi(string(m[2]))
		heat[level] = float64(p) / 100
	}
	if len(heat) != 3 {
		t.Fatalf("portcullis.css mixes %d heat levels with the severity colour, want heat-1 … heat-3: %v", len(heat), heat)
	}
	for _, sev := range []string{"critical", "high", "medium", "low", "info"} {
		bg, fg, solid := prop("sev-"+sev+"-bg"), prop("sev-"+sev+"-fg"), prop("sev-"+sev+"-solid")
		cases := []struct {
			what   string
			fg, bg rgb
		}{
			{"tile and badge", fg, bg},
			{"heat-4 (white on the solid colour)", white, solid},
		}
		for level := 1; level <= 3; level++ {
			cases = append(cases, struct {
				what   string
				fg, bg rgb
			}{fmt.Sprintf("heat-%d (ink on %.0f%% of it)", level, heat[level]*100), ink, mix(solid, heat[level], white)})
		}
		for _, c := range cases {
			if got := contrast(c.fg, c.bg); got < aa {
				t.Errorf("%s %s: contrast %.2f:1, want at least %.1f:1", sev, c.what, got, aa)
			}
		}
	}
	if got := contrast(parseHex(t, "#7f1d1d"), ink); got > 2 {
		t.Fatalf("the contrast formula is wrong: ink on dark red reads %.2f:1, the issue measured ~1.6:1", got)
	}
}

// The formula against WCAG's own reference points.
func TestContrastFormula(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want float64
	}{
		{"#000", "#fff", 21},
		{"#fff", "#fff", 1},
		{"#767676", "#fff", 4.54},
	} {
		if got := contrast(parseHex(t, c.a), parseHex(t, c.b)); math.Abs(got-c.want) > 0.01 {
			t.Errorf("contrast(%s, %s) = %.3f, want %.2f", c.a, c.b, got, c.want)
		}
	}
}
