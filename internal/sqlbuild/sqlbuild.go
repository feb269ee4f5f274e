// Package sqlbuild assembles one SQL statement and its arguments. Values only
// ever enter a statement as numbered parameters ($1, $2, …); identifiers only
// from the server's own catalogue, quoted; GraphQL names (aliases) as
// literals, which their grammar keeps free of quotes.
package sqlbuild

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Builder is a statement being written and its arguments.
type Builder struct {
	sb   strings.Builder
	args []any
	// at is where each parameter's "$n" starts in the text, so that the
	// statement can be embedded in another one (Fragment).
	at []int
}

// S appends SQL text written by the server.
func (b *Builder) S(sql string) *Builder {
	b.sb.WriteString(sql)
	return b
}

// Arg appends a parameter for v, e.g. "$3".
func (b *Builder) Arg(v any) *Builder {
	b.args = append(b.args, v)
	b.at = append(b.at, b.sb.Len())
	b.sb.WriteByte('$')
	b.sb.WriteString(strconv.Itoa(len(b.args)))
	return b
}

// TypedArg appends a parameter for v cast to the SQL type typ, e.g. "$3::uuid".
func (b *Builder) TypedArg(v any, typ string) *Builder {
	return b.Arg(v).S("::" + typ)
}

// Name appends a GraphQL name — a field's alias, a type's name — as a text
// literal. GraphQL's grammar admits only [_A-Za-z][_0-9A-Za-z]* as a name,
// which holds no quote; anything else goes as a parameter. A literal keeps
// a statement's arguments to its values: fewer to encode and bind.
func (b *Builder) Name(name string) *Builder {
	if !isName(name) {
		return b.TypedArg(name, "text")
	}
	b.sb.WriteByte('\'')
	b.sb.WriteString(name)
	b.sb.WriteString("'::text")
	return b
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Ident appends a quoted identifier: a table, column or constraint name from
// the catalogue (never from a client).
func (b *Builder) Ident(name string) *Builder {
	b.sb.WriteByte('"')
	b.sb.WriteString(strings.ReplaceAll(name, `"`, `""`))
	b.sb.WriteByte('"')
	return b
}

// Literal appends a quoted string constant, for DDL, which takes no
// parameters (a trigger's arguments); never a client's value.
func (b *Builder) Literal(s string) *Builder {
	b.sb.WriteByte('\'')
	b.sb.WriteString(strings.ReplaceAll(s, "'", "''"))
	b.sb.WriteByte('\'')
	return b
}

// Col appends alias."column".
func (b *Builder) Col(alias, column string) *Builder {
	return b.S(alias).S(".").Ident(column)
}

// Wrap puts before and after around the text so far, e.g. to make the
// statement a subquery; its parameters keep their numbers.
func (b *Builder) Wrap(before, after string) *Builder {
	text := b.sb.String()
	b.sb.Reset()
	b.sb.WriteString(before)
	b.sb.WriteString(text)
	b.sb.WriteString(after)
	for i := range b.at {
		b.at[i] += len(before)
	}
	return b
}

// Fragment is SQL written apart, with its arguments, to be embedded in
// statements written by others (Embed): a value, not a callback, so the
// package that writes a statement needs nothing of the one that wrote the
// fragment.
type Fragment struct {
	sql  string
	args []any
	at   []int
}

// Fragment returns what b has written, as a Fragment.
func (b *Builder) Fragment() Fragment {
	return Fragment{sql: b.sb.String(), args: b.args, at: b.at}
}

// Embed appends f, its parameters numbered after b's.
func (b *Builder) Embed(f Fragment) *Builder {
	from := 0
	for i, at := range f.at {
		b.S(f.sql[from:at]).Arg(f.args[i])
		from = at + 1 + len(strconv.Itoa(i+1)) // past "$n"
	}
	return b.S(f.sql[from:])
}

// SQL is f's text, its parameters numbered from $1.
func (f Fragment) SQL() string { return f.sql }

// Args are f's arguments, in parameter order.
func (f Fragment) Args() []any { return f.args }

// WithArgs is f's text over other arguments, as many as f's: the same
// fragment for other values (a plan's, bound per request).
func (f Fragment) WithArgs(args []any) Fragment {
	if len(args) != len(f.args) {
		panic(fmt.Sprintf("sqlbuild: %d arguments for a fragment of %d", len(args), len(f.args)))
	}
	f.args = args
	return f
}

// Rebind is f's text with each parameter written as param gives it (i
// from 0): e.g. a value taken from a row of many requests' arguments, for
// one statement that answers them all.
func (f Fragment) Rebind(param func(i int) string) string {
	var sb strings.Builder
	from := 0
	for i, at := range f.at {
		sb.WriteString(f.sql[from:at])
		sb.WriteString(param(i))
		from = at + 1 + len(strconv.Itoa(i+1))
	}
	sb.WriteString(f.sql[from:])
	return sb.String()
}

// Key identifies f's text and arguments: fragments with equal keys write
// the same SQL.
func (f Fragment) Key() string {
	// The arguments' JSON tells "1" from 1; SQL text never holds a NUL.
	args, err := json.Marshal(f.args)
	if err != nil {
		args = fmt.Appendf(nil, "%#v", f.args)
	}
	return f.sql + "\x00" + string(args)
}

// SQL returns the statement text.
func (b *Builder) SQL() string { return b.sb.String() }

// Args returns the arguments, in parameter order.
func (b *Builder) Args() []any { return b.args }

// Len is the length of the text so far, to tell whether a part wrote anything.
func (b *Builder) Len() int { return b.sb.Len() }

// ArrayLiteral is PostgreSQL's array literal of texts, each quoted, for a
// parameter cast to an array type.
func ArrayLiteral(texts []string) string {
	b := []byte{'{'}
	for i, t := range texts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		for _, c := range []byte(t) {
			if c == '"' || c == '\\' {
				b = append(b, '\\')
			}
			b = append(b, c)
		}
		b = append(b, '"')
	}
	return string(append(b, '}'))
}
