package engine

import (
	"slices"
	"testing"
)

// Paths as Hasura's Data.Parser.JSONPath reads them.
func TestJSONPath(t *testing.T) {
	for text, want := range map[string][]string{
		"$":                 nil,
		"a":                 {"a"},
		"$.a.b":             {"a", "b"},
		"a[0].b":            {"a", "0", "b"},
		"$[007]":            {"7"},
		`$["x.y"]`:          {"x.y"},
		`['it\'s'].k-2`:     {"it's", "k-2"},
		`["say \"hi\""]`:    {`say "hi"`},
		`['a"b']`:           {`a"b`},
		"_x.é":              {"_x", "é"},
		`$.a["\u00e9"].[1]`: {"a", "é", "1"},
	} {
		got, err := jsonPath(text)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("jsonPath(%q) = %q, %v; want %q", text, got, err, want)
		}
	}
	for _, text := range []string{"", "$.", "1a", "a..b", "a[", "a[x]", `a["b"`, "a b", "[-1]", "a.-"} {
		if got, err := jsonPath(text); err == nil {
			t.Errorf("jsonPath(%q) = %q, want an error", text, got)
		} else if want := text + `. Accept letters, digits, underscore (_) or hyphen (-) only. Use quotes enclosed in bracket (["..."]) if there is any special character`; err.Error() != want {
			t.Errorf("jsonPath(%q): %v", text, err)
		}
	}
}
