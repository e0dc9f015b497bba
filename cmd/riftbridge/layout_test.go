package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLayering keeps the tree honest: the Riot data model, the mapper, the
// sinks, the dashboards and the config link none of the I/O-heavy
// dependencies the sources and the state need.
func TestLayering(t *testing.T) {
	heavy := []string{"go.etcd.io/bbolt", "github.com/redis/go-redis", "github.com/KnutZuidema/golio", "github.com/sourcegraph/conc"}
	for pkg, extra := range map[string][]string{
		"../../mapper":     nil,
		"../../sink":       nil,
		"../../dashboards": nil,
		"../../config":     nil,
		// The data model links no HTTP client and no state either.
		"../../riot": {"net/http", "github.com/riftbridge/riftbridge/state"},
	} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for dep := range strings.FieldsSeq(string(out)) {
			for _, banned := range append(extra, heavy...) {
				if dep == banned || strings.HasPrefix(dep, banned+"/") {
					t.Errorf("%s links %s", pkg, dep)
				}
			}
		}
	}
}

// TestMainStartsNothing: cmd/riftbridge holds flags, commands and exit
// codes; goroutines, tickers and servers belong to the bridge.
func TestMainStartsNothing(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	banned := map[string]bool{
		"time.NewTicker": true, "time.Tick": true, "time.NewTimer": true, "time.AfterFunc": true,
		"net.Listen": true, "http.ListenAndServe": true, "http.Serve": true,
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				t.Errorf("%s: a go statement", fset.Position(n.Pos()))
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && banned[x.Name+"."+n.Sel.Name] {
					t.Errorf("%s: %s.%s", fset.Position(n.Pos()), x.Name, n.Sel.Name)
				}
			}
			return true
		})
	}
}
