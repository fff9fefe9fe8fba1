package locale

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// catalogTexts reads one catalog file into id → text (plural tables are
// left out: domain errors have no plural forms).
func catalogTexts(t *testing.T, path string) map[string]string {
	t.Helper()
	raw, err := fs.ReadFile(catalogFiles, path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := toml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]string{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			id := strings.TrimPrefix(prefix+"."+k, ".")
			switch v := v.(type) {
			case string:
				out[id] = v
			case map[string]any:
				walk(id, v)
			}
		}
	}
	walk("", doc)
	return out
}

// raisedMessage is one core.M (or core.NotFound) call with a literal id.
type raisedMessage struct {
	id, english, at string
}

// raisedMessages finds every message the domain and the handlers raise
// with a literal id: core.M("id", "English", …) and core.NotFound("kind", …).
func raisedMessages(t *testing.T) []raisedMessage {
	t.Helper()
	root := filepath.Join("..", "..")
	var out []raisedMessage
	for _, dir := range []string{"workflow", "handlers", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, p, nil, 0)
			if err != nil {
				return err
			}
			inCore := filepath.Base(filepath.Dir(p)) == "core"
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				var name string
				switch fn := call.Fun.(type) {
				case *ast.SelectorExpr:
					if x, ok := fn.X.(*ast.Ident); ok && x.Name == "core" {
						name = fn.Sel.Name
					}
				case *ast.Ident:
					if inCore {
						name = fn.Name
					}
				}
				lit := func(i int) (string, bool) {
					if i >= len(call.Args) {
						return "", false
					}
					b, ok := call.Args[i].(*ast.BasicLit)
					if !ok || b.Kind != token.STRING {
						return "", false
					}
					s, err := strconv.Unquote(b.Value)
					return s, err == nil
				}
				at := fset.Position(call.Pos()).String()
				switch name {
				case "M":
					id, ok := lit(0)
					english, ok2 := lit(1)
					if ok && ok2 {
						out = append(out, raisedMessage{id, english, at})
					}
				case "NotFound":
					if what, ok := lit(0); ok {
						out = append(out, raisedMessage{"err.not_found." + what, strings.ReplaceAll(what, "_", " ") + " {{.ID}} does not exist", at})
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) < 200 {
		t.Fatalf("found only %d raised messages: the source walk is broken", len(out))
	}
	return out
}

// TestRaisedMessagesAreInTheCatalogs: every message a refusal carries is
// in every language's catalog, and the English catalog says exactly what
// the code says (the code's English is what logs and the command line show).
func TestRaisedMessagesAreInTheCatalogs(t *testing.T) {
	texts := map[string]map[string]string{}
	paths, err := fs.Glob(catalogFiles, "locales/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		_, lang, _ := strings.Cut(strings.TrimSuffix(filepath.Base(p), ".toml"), ".")
		if texts[lang] == nil {
			texts[lang] = map[string]string{}
		}
		for id, s := range catalogTexts(t, p) {
			texts[lang][id] = s
		}
	}
	source := Offered[0].Tag
	for _, m := range raisedMessages(t) {
		for _, l := range Offered {
			if _, ok := texts[l.Tag][m.id]; !ok {
				t.Errorf("%s: message %s is missing from the %s catalogs", m.at, m.id, l.Tag)
			}
		}
		if got, ok := texts[source][m.id]; ok && got != m.english {
			t.Errorf("%s: message %s says %q in the code but %q in the English catalog", m.at, m.id, m.english, got)
		}
	}
}
