package metadata

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// Expression is a value of the metadata that the catalogue gives a meaning
// to — a permission's boolean expression, its column presets — as written:
// JSON's values (nil, bool, string, []any, map[string]any), numbers as
// written (json.Number, never through float64), and where each part of it
// is in its file, for a message that points at it.
type Expression struct {
	Value any
	node  ast.Node
}

// UnmarshalYAML reads any YAML value.
func (e *Expression) UnmarshalYAML(n ast.Node) error {
	v, err := exactValue(n)
	if err != nil {
		return err
	}
	*e = Expression{Value: v, node: n}
	return nil
}

// Object is the expression as an object: nil for none (absent or null).
func (e Expression) Object() (map[string]any, bool) {
	if e.Value == nil {
		return nil, true
	}
	m, ok := e.Value.(map[string]any)
	return m, ok
}

// Position is the line and column, in its file, of the part of e at path
// (object keys and list indices), or of the closest part of it there is.
func (e Expression) Position(path ...any) (line, column int) {
	n := e.node
	for _, step := range path {
		next := child(n, step)
		if next == nil {
			break
		}
		n = next
	}
	if n == nil || n.GetToken() == nil {
		return 0, 0
	}
	pos := n.GetToken().Position
	return pos.Line, pos.Column
}

// child is the part of n at step: a mapping's value by key, a sequence's
// item by index.
func child(n ast.Node, step any) ast.Node {
	switch n := unwrap(n).(type) {
	case *ast.MappingNode:
		if key, ok := step.(string); ok {
			for _, kv := range n.Values {
				if keyText(kv) == key {
					return kv.Value
				}
			}
		}
	case *ast.MappingValueNode:
		if key, ok := step.(string); ok && keyText(n) == key {
			return n.Value
		}
	case *ast.SequenceNode:
		if i, ok := step.(int); ok && i >= 0 && i < len(n.Values) {
			return n.Values[i]
		}
	}
	return nil
}

func keyText(kv *ast.MappingValueNode) string {
	if s, ok := unwrap(kv.Key).(*ast.StringNode); ok {
		return s.Value
	}
	return kv.Key.String()
}

// unwrap is the node an anchor or a tag stands for.
func unwrap(n ast.Node) ast.Node {
	for {
		switch x := n.(type) {
		case *ast.AnchorNode:
			n = x.Value
		case *ast.TagNode:
			n = x.Value
		default:
			return n
		}
	}
}

// exactValue decodes n as JSON would, keeping numbers as written.
func exactValue(n ast.Node) (any, error) {
	switch x := unwrap(n).(type) {
	case nil, *ast.NullNode:
		return nil, nil
	case *ast.IntegerNode:
		return yamlNumber(x.Token.Value, x)
	case *ast.FloatNode:
		return yamlNumber(x.Token.Value, x)
	case *ast.MappingNode:
		out := make(map[string]any, len(x.Values))
		for _, kv := range x.Values {
			k := keyText(kv)
			if _, dup := out[k]; dup {
				return nil, &nodeError{kv, fmt.Sprintf("key %q is given twice", k)}
			}
			v, err := exactValue(kv.Value)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case *ast.MappingValueNode:
		v, err := exactValue(x.Value)
		if err != nil {
			return nil, err
		}
		return map[string]any{keyText(x): v}, nil
	case *ast.SequenceNode:
		out := make([]any, len(x.Values))
		for i, item := range x.Values {
			v, err := exactValue(item)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	var v any
	if err := yaml.NodeToValue(n, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// yamlNumber is a YAML number's text as JSON's: decimal, as written where
// it already is (YAML also writes 0x1F, 0o17, 1_000, .5).
func yamlNumber(text string, n ast.Node) (any, error) {
	if json.Valid([]byte(text)) {
		return json.Number(text), nil
	}
	var v any
	if err := yaml.NodeToValue(n, &v); err != nil {
		return nil, err
	}
	var number string
	switch x := v.(type) {
	case int64:
		number = strconv.FormatInt(x, 10)
	case uint64:
		number = strconv.FormatUint(x, 10)
	case float64:
		number = strconv.FormatFloat(x, 'g', -1, 64)
	}
	if number != "" && json.Valid([]byte(number)) {
		return json.Number(number), nil
	}
	return nil, &nodeError{n, fmt.Sprintf("%q is not a number JSON can hold", text)}
}
