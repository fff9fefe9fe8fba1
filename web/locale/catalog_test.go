package locale

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// catalogIDs reads one catalog file into its message ids: nested tables
// join with ".", and a table of plural forms (one, other, …) is one message.
func catalogIDs(t *testing.T, path string) map[string]bool {
	t.Helper()
	raw, err := fs.ReadFile(catalogFiles, path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := toml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	ids := map[string]bool{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			id := k
			if prefix != "" {
				id = prefix + "." + k
			}
			sub, ok := v.(map[string]any)
			if !ok {
				ids[id] = true
				continue
			}
			if _, plural := sub["other"]; plural {
				ids[id] = true
				continue
			}
			walk(id, sub)
		}
	}
	walk("", doc)
	return ids
}

// catalogsByArea is area → language → ids, from the file names AREA.LANG.toml.
func catalogsByArea(t *testing.T) map[string]map[string]map[string]bool {
	t.Helper()
	paths, err := fs.Glob(catalogFiles, "locales/*.toml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no catalogs embedded: %v", err)
	}
	out := map[string]map[string]map[string]bool{}
	for _, p := range paths {
		area, lang, ok := strings.Cut(strings.TrimSuffix(filepath.Base(p), ".toml"), ".")
		if !ok {
			t.Fatalf("%s: a catalog is named AREA.LANGUAGE.toml", p)
		}
		if _, err := ParseLanguage(lang); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if out[area] == nil {
			out[area] = map[string]map[string]bool{}
		}
		out[area][lang] = catalogIDs(t, p)
	}
	return out
}

// TestCatalogsMirrorEachOther: every area has a file in every offered
// language, and each holds the same ids as the source language's.
func TestCatalogsMirrorEachOther(t *testing.T) {
	source := Offered[0].Tag
	for area, langs := range catalogsByArea(t) {
		for _, l := range Offered {
			if langs[l.Tag] == nil {
				t.Errorf("area %s has no %s catalog (locales/%s.%s.toml)", area, l.Tag, area, l.Tag)
				continue
			}
			for id := range langs[source] {
				if !langs[l.Tag][id] {
					t.Errorf("%s is in %s.%s.toml but missing from %s.%s.toml", id, area, source, area, l.Tag)
				}
			}
			for id := range langs[l.Tag] {
				if !langs[source][id] {
					t.Errorf("%s is in %s.%s.toml but not in the source catalog %s.%s.toml", id, area, l.Tag, area, source)
				}
			}
		}
	}
}

// messageCall finds the message ids the code asks for: locale.T(ctx, "id"
// and locale.N(ctx, "id", in Go and templ sources.
var messageCall = regexp.MustCompile(`\blocale\.[TN]\(\s*[A-Za-z_][\w.]*(?:\(\))?\s*,\s*"([^"]+)"`)

// TestEveryUsedMessageIsInEveryCatalog scans the sources for message ids
// and fails on one that a catalog lacks, and on an id in two areas.
func TestEveryUsedMessageIsInEveryCatalog(t *testing.T) {
	all := map[string]map[string]bool{} // language → ids
	where := map[string]string{}        // id → area
	for area, langs := range catalogsByArea(t) {
		for lang, ids := range langs {
			if all[lang] == nil {
				all[lang] = map[string]bool{}
			}
			for id := range ids {
				all[lang][id] = true
				if other, ok := where[id]; ok && other != area {
					t.Errorf("%s is defined in two areas, %s and %s", id, other, area)
				}
				where[id] = area
			}
		}
	}
	root := filepath.Join("..", "..")
	used := map[string][]string{} // id → files
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		name := d.Name()
		if d.IsDir() || strings.HasSuffix(name, "_templ.go") || strings.HasSuffix(name, "_test.go") || !(strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".templ")) {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range messageCall.FindAllSubmatch(src, -1) {
			used[string(m[1])] = append(used[string(m[1])], path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(used) < 50 {
		t.Fatalf("found only %d message ids in the sources: the scan is broken", len(used))
	}
	ids := make([]string, 0, len(used))
	for id := range used {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		for _, l := range Offered {
			if !all[l.Tag][id] {
				t.Errorf("%s (used in %s) is missing from the %s catalogs", id, strings.Join(slices.Compact(used[id]), ", "), l.Tag)
			}
		}
	}
}
