package limits

import (
	"fmt"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/hasura"
)

// TokenError is the refusal of a document over the parser's token limit.
func TokenError(limit int) *hasura.Error {
	return exceeded("token_limit", hasura.CodeValidationFailed, "token_limit of %d exceeded: the query has more tokens", limit)
}

// CheckDocument checks doc against the parser's limits and role's depth and
// node limits. The work is linear in the document: each fragment is measured
// once, however often it is spread.
func (c Config) CheckDocument(doc *ast.QueryDocument, role auth.Role) *hasura.Error {
	m := measurer{c: c, doc: doc, fragments: map[string]*size{}}
	var total size
	for _, op := range doc.Operations {
		if err := m.directives(op.Directives); err != nil {
			return err
		}
		s, err := m.set(op.SelectionSet)
		if err != nil {
			return err
		}
		total = total.merge(s)
	}
	// Fragments no operation spreads are still validated: they count too.
	for _, f := range doc.Fragments {
		if _, spread := m.fragments[f.Name]; spread {
			continue
		}
		s, err := m.fragment(f.Name)
		if err != nil {
			return err
		}
		total = total.merge(s)
	}
	r := string(role)
	if limit := c.Depth.For(r); limit > 0 && total.depth > limit {
		return exceeded("depth_limit", hasura.CodeValidationFailed,
			"%s exceeded: the query is %d levels deep", roleLimit("depth_limit", limit, r), total.depth)
	}
	if limit := c.Nodes.For(r); limit > 0 && total.nodes > limit {
		return exceeded("node_limit", hasura.CodeValidationFailed,
			"%s exceeded: the query has %s nodes", roleLimit("node_limit", limit, r), countString(total.nodes))
	}
	return nil
}

// size is what a selection set adds to a document: its nodes (fields,
// nested ones included), its depth, and its own fields (those that share
// its level, from fragments too).
type size struct{ nodes, depth, fields int }

// saturated stands for "more than any limit": spreads of spreads can
// describe more fields than an int holds.
const saturated = 1 << 40

func add(a, b int) int { return min(a+b, saturated) }

func (s size) merge(o size) size {
	return size{nodes: add(s.nodes, o.nodes), depth: max(s.depth, o.depth), fields: add(s.fields, o.fields)}
}

func countString(n int) string {
	if n >= saturated {
		return "more than " + fmt.Sprint(saturated)
	}
	return fmt.Sprint(n)
}

type measurer struct {
	c         Config
	doc       *ast.QueryDocument
	fragments map[string]*size // nil while being measured: a cycle, which validation refuses
}

func (m *measurer) set(sel ast.SelectionSet) (size, *hasura.Error) {
	var s size
	for _, sel := range sel {
		switch sel := sel.(type) {
		case *ast.Field:
			if err := m.directives(sel.Directives); err != nil {
				return s, err
			}
			child, err := m.set(sel.SelectionSet)
			if err != nil {
				return s, err
			}
			s.nodes = add(s.nodes, add(1, child.nodes))
			s.depth = max(s.depth, child.depth+1)
			s.fields = add(s.fields, 1)
		case *ast.InlineFragment:
			if err := m.directives(sel.Directives); err != nil {
				return s, err
			}
			inner, err := m.set(sel.SelectionSet)
			if err != nil {
				return s, err
			}
			s = s.merge(inner)
		case *ast.FragmentSpread:
			if err := m.directives(sel.Directives); err != nil {
				return s, err
			}
			inner, err := m.fragment(sel.Name)
			if err != nil {
				return s, err
			}
			s = s.merge(inner)
		}
	}
	if limit := m.c.Selections; limit > 0 && s.fields > limit {
		return s, exceeded("selection_limit", hasura.CodeValidationFailed,
			"selection_limit of %d exceeded: a selection set has %s fields", limit, countString(s.fields))
	}
	return s, nil
}

// fragment measures the fragment called name once; an unknown fragment or
// a cycle counts nothing here, and validation refuses it.
func (m *measurer) fragment(name string) (size, *hasura.Error) {
	if s, seen := m.fragments[name]; seen {
		if s == nil {
			return size{}, nil // a cycle: validation will say so
		}
		return *s, nil
	}
	def := m.doc.Fragments.ForName(name)
	if def == nil {
		return size{}, nil
	}
	m.fragments[name] = nil
	if err := m.directives(def.Directives); err != nil {
		return size{}, err
	}
	s, err := m.set(def.SelectionSet)
	if err != nil {
		return size{}, err
	}
	m.fragments[name] = &s
	return s, nil
}

func (m *measurer) directives(d ast.DirectiveList) *hasura.Error {
	if limit := m.c.Directives; limit > 0 && len(d) > limit {
		return exceeded("directive_limit", hasura.CodeValidationFailed,
			"directive_limit of %d exceeded: one place has %d directives", limit, len(d))
	}
	return nil
}
