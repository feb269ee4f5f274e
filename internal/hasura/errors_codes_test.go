package hasura

import (
	"go/ast"
	"go/parser"
	"go/token"
	"testing"
)

// Every code this server sends is one a metric may name (knownCodes): read
// from the declarations, so a new code cannot be forgotten there.
func TestKnownCodesAreEveryCode(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := 0
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || spec.Type == nil {
			return true
		}
		if id, ok := spec.Type.(*ast.Ident); !ok || id.Name != "Code" {
			return true
		}
		for _, v := range spec.Values {
			lit := v.(*ast.BasicLit)
			declared++
			code := lit.Value[1 : len(lit.Value)-1]
			if !knownCodes[Code(code)] {
				t.Errorf("%s is not in knownCodes", code)
			}
		}
		return true
	})
	if declared != len(knownCodes) || declared < 20 {
		t.Errorf("%d codes declared, %d known", declared, len(knownCodes))
	}
}
