// Package sqlbuild assembles one SQL statement and its arguments. Values only
// ever enter a statement as numbered parameters ($1, $2, …); identifiers only
// from the server's own catalogue, quoted.
package sqlbuild

import (
	"strconv"
	"strings"
)

// Builder is a statement being written and its arguments.
type Builder struct {
	sb   strings.Builder
	args []any
}

// S appends SQL text written by the server.
func (b *Builder) S(sql string) *Builder {
	b.sb.WriteString(sql)
	return b
}

// Arg appends a parameter for v, e.g. "$3".
func (b *Builder) Arg(v any) *Builder {
	b.args = append(b.args, v)
	b.sb.WriteByte('$')
	b.sb.WriteString(strconv.Itoa(len(b.args)))
	return b
}

// TypedArg appends a parameter for v cast to the SQL type typ, e.g. "$3::uuid".
func (b *Builder) TypedArg(v any, typ string) *Builder {
	return b.Arg(v).S("::" + typ)
}

// Ident appends a quoted identifier: a table, column or constraint name from
// the catalogue (never from a client).
func (b *Builder) Ident(name string) *Builder {
	b.sb.WriteByte('"')
	b.sb.WriteString(strings.ReplaceAll(name, `"`, `""`))
	b.sb.WriteByte('"')
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
	return b
}

// SQL returns the statement text.
func (b *Builder) SQL() string { return b.sb.String() }

// Args returns the arguments, in parameter order.
func (b *Builder) Args() []any { return b.args }

// Len is the length of the text so far, to tell whether a part wrote anything.
func (b *Builder) Len() int { return b.sb.Len() }
