package sqlbuild

import (
	"slices"
	"testing"
)

// A fragment keeps its text and its arguments wherever it is embedded,
// wrapped or not, its parameters renumbered after the statement's own.
func TestEmbed(t *testing.T) {
	var f Builder
	f.S("json_build_object(").Arg("name").S(", u.").Ident(`na$1me`).S(", ").TypedArg(10, "int").S(")")
	f.Wrap("(", ")")
	var b Builder
	b.S("SELECT ").Arg("x").S(", ").Embed(f.Fragment()).S(" WHERE id = ").Arg(7)
	b.Embed(f.Fragment())
	want := `SELECT $1, (json_build_object($2, u."na$1me", $3::int)) WHERE id = $4(json_build_object($5, u."na$1me", $6::int))`
	if b.SQL() != want {
		t.Errorf("got  %s\nwant %s", b.SQL(), want)
	}
	if args := b.Args(); !slices.Equal(args, []any{"x", "name", 10, 7, "name", 10}) {
		t.Errorf("args %v", args)
	}
	// Twelve parameters: two-digit numbers are skipped whole.
	var many Builder
	for i := range 12 {
		many.Arg(i).S(",")
	}
	var outer Builder
	outer.Arg("a").Embed(many.Fragment())
	if want := "$1$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,"; outer.SQL() != want {
		t.Errorf("got %s", outer.SQL())
	}
	var other Builder
	other.S("json_build_object(").Arg("name").S(", u.").Ident(`na$1me`).S(", ").TypedArg("10", "int").S(")")
	other.Wrap("(", ")")
	if f.Fragment().Key() == other.Fragment().Key() {
		t.Error("fragments of different arguments share a key")
	}
}

// A GraphQL name is written as a literal; anything else, which the
// GraphQL parser never lets through as a name, still goes as a parameter.
func TestName(t *testing.T) {
	for _, tt := range []struct{ name, sql string }{
		{"user_1", `'user_1'::text`},
		{"_typename", `'_typename'::text`},
		{"Z", `'Z'::text`},
		{"1a", `$1::text`},
		{"a'b", `$1::text`},
		{"é", `$1::text`},
		{"", `$1::text`},
	} {
		var b Builder
		b.Name(tt.name)
		if b.SQL() != tt.sql {
			t.Errorf("Name(%q) = %s, want %s", tt.name, b.SQL(), tt.sql)
		}
		if params := len(b.Args()); (params == 1) != (tt.sql == `$1::text`) || params == 1 && b.Args()[0] != tt.name {
			t.Errorf("Name(%q): arguments %v", tt.name, b.Args())
		}
	}
}
