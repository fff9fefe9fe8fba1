package policy

import (
	"strings"
	"testing"

	"github.com/portcullis/portcullis/workflow/core"
)

const textsCatalog = `services:
  - name: filer
    title: Filer
    ports: "2121"
    protocols: [tcp]
    category: transfer
    risk: elevated
    cleartext: true
    secure_alternative: filer over our VPN
    controls: ["Filer guest share off", "Filer logs kept 90 days"]
    zh-CN:
      secure_alternative: 经我们的 VPN 使用 filer
      controls: ["已关闭 filer 访客共享", "filer 日志保留 90 天"]
  - name: plain
    title: Plain
    ports: "2200"
    protocols: [tcp]
    category: application
    risk: standard
    cleartext: true
    secure_alternative: plain over TLS
    controls: ["Plain admin port closed"]
`

// TestCatalogEntriesGiveChineseWords: an entry's "zh-CN:" block gives its
// secure alternative and controls in Chinese; an entry without one (the
// format as it was) loads as before and has none.
func TestCatalogEntriesGiveChineseWords(t *testing.T) {
	c, err := LoadCatalog([]byte(textsCatalog))
	if err != nil {
		t.Fatal(err)
	}
	filer, _ := c.Lookup("filer")
	if got := filer.AlternativeTexts()["zh-CN"]; got != "经我们的 VPN 使用 filer" {
		t.Errorf("filer's alternative in Chinese: %q", got)
	}
	if got := filer.ControlTexts(1)["zh-CN"]; got != "filer 日志保留 90 天" {
		t.Errorf("filer's second control in Chinese: %q", got)
	}
	plain, _ := c.Lookup("plain")
	if plain.AlternativeTexts() != nil || plain.ControlTexts(0) != nil || plain.SecureAlternative != "plain over TLS" {
		t.Errorf("an entry without Chinese words has %+v", plain.Texts)
	}
}

func TestCatalogChineseBlockErrorsNameTheLine(t *testing.T) {
	for _, c := range []struct{ name, from, to, want string }{
		{"unknown field in the block", "      secure_alternative: 经", "      title: 文件\n      secure_alternative: 经", `catalog.yaml line 12: service "filer": zh-CN: unknown field "title"`},
		{"fewer controls", `["已关闭 filer 访客共享", "filer 日志保留 90 天"]`, `["已关闭 filer 访客共享"]`, `catalog.yaml line 11: service "filer": zh-CN gives 1 controls for the entry's 2`},
		{"not a mapping", "    zh-CN:\n      secure_alternative: 经我们的 VPN 使用 filer\n      controls: [\"已关闭 filer 访客共享\", \"filer 日志保留 90 天\"]", "    zh-CN: 文件", `catalog.yaml line 11: service "filer": zh-CN must be a mapping`},
		{"another language", "    zh-CN:\n", "    fr:\n", `catalog.yaml line 11: service "filer": unknown field "fr"`},
		{"alternative without the English", "    secure_alternative: filer over our VPN\n", "", `catalog.yaml line 2: service "filer": a cleartext service needs a secure_alternative`},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := strings.Replace(textsCatalog, c.from, c.to, 1)
			if doc == textsCatalog {
				t.Fatalf("replacement %q did not apply", c.from)
			}
			_, err := LoadCatalog([]byte(doc))
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("error %v\nwant prefix %q", err, c.want)
			}
		})
	}
}

// TestStoredCatalogTakesTheShippedWords: a catalog stored before entries
// carried Chinese (the shipped file without its zh-CN blocks) reads in
// Chinese where its words are the shipped ones; words an admin changed
// have no translation and read as written.
func TestStoredCatalogTakesTheShippedWords(t *testing.T) {
	var old []string
	skip := false
	for _, line := range strings.Split(string(CatalogYAML()), "\n") {
		switch {
		case strings.HasPrefix(line, "    zh-CN:"):
			skip = true
			continue
		case skip && strings.HasPrefix(line, "      "):
			continue
		}
		skip = false
		old = append(old, line)
	}
	doc := strings.Join(old, "\n")
	if strings.Contains(doc, "zh-CN:\n") {
		t.Fatal("the zh-CN blocks were not removed")
	}
	doc = strings.Replace(doc, `controls: ["Anonymous FTP login disabled"]`, `controls: ["No anonymous FTP, ever"]`, 1)
	c, err := LoadCatalog([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	ftp, _ := c.Lookup("ftp")
	if got := ftp.AlternativeTexts()["zh-CN"]; got != "sftp 或 ftps" {
		t.Errorf("ftp's unchanged alternative in Chinese: %q", got)
	}
	if got := ftp.ControlTexts(0)["zh-CN"]; got != "" {
		t.Errorf("an admin's changed control took the shipped words %q", got)
	}
	ssh, _ := c.Lookup("ssh")
	for k := range ssh.Controls {
		if ssh.ControlTexts(k)["zh-CN"] == "" {
			t.Errorf("ssh's unchanged control %q has no Chinese", ssh.Controls[k])
		}
	}
}

// TestFindingsCarryTheCatalogsWords: a cleartext finding names the secure
// alternative in the catalog's words for each language, and the controls
// finding carries each control's; the English message is as before.
func TestFindingsCarryTheCatalogsWords(t *testing.T) {
	c, err := LoadCatalog([]byte(textsCatalog))
	if err != nil {
		t.Fatal(err)
	}
	p := DefaultPolicy()
	p.Catalog = c
	fs := p.Evaluate([]ProposedRule{newRule(on(TCP, "2121"), service("filer")), newRule(on(TCP, "2200"), service("plain"))}, nil, testNow)
	clear := findingsWith(fs, CodeCleartext)
	if len(clear) != 2 {
		t.Fatalf("cleartext findings: %+v", fs)
	}
	if want := "filer carries credentials and data in clear text: use the secure alternative (filer → filer over our VPN)"; clear[0].Message != want {
		t.Errorf("English message %q, want %q", clear[0].Message, want)
	}
	if got := givenIn(clear[0].Said, "zh-CN"); !slices0(got, "filer → 经我们的 VPN 使用 filer") {
		t.Errorf("the finding's message does not carry the Chinese alternative: %q", got)
	}
	if got := givenIn(clear[1].Said, "zh-CN"); len(got) != 0 {
		t.Errorf("an alternative without Chinese carries %q", got)
	}
	controls := findingsWith(fs, CodeServiceControls)
	if len(controls) != 2 {
		t.Fatalf("controls findings: %+v", fs)
	}
	f := controls[0]
	if len(f.ControlTexts) != len(f.RequiredControls) || f.ControlTexts[0]["zh-CN"] != "已关闭 filer 访客共享" || f.RequiredControls[0] != "Filer guest share off" {
		t.Errorf("filer's controls %q in Chinese %v", f.RequiredControls, f.ControlTexts)
	}
	if controls[1].ControlTexts != nil {
		t.Errorf("plain's controls carry words no one gave: %v", controls[1].ControlTexts)
	}
}

// givenIn collects the words given in lang anywhere in m.
func givenIn(m core.Message, lang string) []string {
	var out []string
	if t, ok := m.Texts[lang]; ok {
		out = append(out, t)
	}
	for _, a := range m.Args {
		if n, ok := a.Value.(core.Message); ok {
			out = append(out, givenIn(n, lang)...)
		}
	}
	return out
}

func slices0(got []string, want string) bool { return len(got) == 1 && got[0] == want }
