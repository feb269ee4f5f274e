package hasura

import (
	"encoding/json"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
)

// decodeParams decodes one request's JSON: exactly what decodeJSON gives,
// through a single-pass decoder made for the envelope, with encoding/json
// for whatever that declines (and for every error's words).
func decodeParams(body []byte, params *graphql.RawParams) error {
	if decodeEnvelope(body, params) {
		return nil
	}
	*params = graphql.RawParams{}
	return decodeJSON(body, params)
}

// decodeEnvelope decodes {"query", "operationName", "variables",
// "extensions"} as encoding/json decodes it into RawParams with
// UseNumber, or declines (false): for invalid JSON, another key or a key
// twice (encoding/json matches keys without regard to case and merges a
// repeated map), a value of the wrong type, a string of invalid UTF-8 or
// with an escaped surrogate (encoding/json replaces them), or nesting
// deeper than maxEnvelopeDepth.
func decodeEnvelope(body []byte, params *graphql.RawParams) bool {
	d := envelopeDecoder{data: body}
	var seen [4]bool
	d.space()
	ok := d.object(func(key string) bool {
		field := -1
		switch key {
		case "query":
			field = 0
		case "operationName":
			field = 1
		case "variables":
			field = 2
		case "extensions":
			field = 3
		}
		if field < 0 || seen[field] {
			return false
		}
		seen[field] = true
		if d.literal("null") {
			return true // encoding/json leaves the field as it is
		}
		switch field {
		case 0, 1:
			s, ok := d.string()
			if field == 0 {
				params.Query = s
			} else {
				params.OperationName = s
			}
			return ok
		}
		if d.peek() != '{' {
			return false
		}
		v, ok := d.value(0)
		if field == 2 {
			params.Variables, _ = v.(map[string]any)
		} else {
			params.Extensions, _ = v.(map[string]any)
		}
		return ok
	})
	return ok && d.end()
}

// maxEnvelopeDepth bounds the nesting the fast decoder follows; deeper
// values go to encoding/json, which has its own bound.
const maxEnvelopeDepth = 64

type envelopeDecoder struct {
	data []byte
	pos  int
}

func (d *envelopeDecoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *envelopeDecoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

func (d *envelopeDecoder) consume(c byte) bool {
	if d.peek() == c {
		d.pos++
		return true
	}
	return false
}

func (d *envelopeDecoder) literal(s string) bool {
	if len(d.data)-d.pos >= len(s) && string(d.data[d.pos:d.pos+len(s)]) == s {
		d.pos += len(s)
		return true
	}
	return false
}

// object reads an object, calling member with each key once the decoder
// stands at its value, for member to read it; false for a malformed object
// or when member returns false.
func (d *envelopeDecoder) object(member func(key string) bool) bool {
	if !d.consume('{') {
		return false
	}
	d.space()
	if d.consume('}') {
		return true
	}
	for {
		d.space()
		key, ok := d.string()
		if !ok {
			return false
		}
		d.space()
		if !d.consume(':') {
			return false
		}
		d.space()
		if !member(key) {
			return false
		}
		d.space()
		if d.consume(',') {
			continue
		}
		return d.consume('}')
	}
}

// end: nothing but white space after the value.
func (d *envelopeDecoder) end() bool {
	d.space()
	return d.pos == len(d.data)
}

func (d *envelopeDecoder) value(depth int) (any, bool) {
	if depth >= maxEnvelopeDepth {
		return nil, false
	}
	switch c := d.peek(); {
	case c == '{':
		m := map[string]any{}
		ok := d.object(func(key string) bool {
			v, ok := d.value(depth + 1)
			m[key] = v // the last of a repeated key, as encoding/json
			return ok
		})
		return m, ok
	case c == '[':
		d.pos++
		l := []any{}
		d.space()
		if d.consume(']') {
			return l, true
		}
		for {
			d.space()
			v, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			l = append(l, v)
			d.space()
			if d.consume(',') {
				continue
			}
			return l, d.consume(']')
		}
	case c == '"':
		return d.string()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return nil, false
}

// number reads a number of JSON's grammar, kept as its text.
func (d *envelopeDecoder) number() (any, bool) {
	start := d.pos
	d.consume('-')
	switch c := d.peek(); {
	case c == '0':
		d.pos++
	case c >= '1' && c <= '9':
		d.digits()
	default:
		return nil, false
	}
	if d.consume('.') {
		if !d.digits() {
			return nil, false
		}
	}
	if c := d.peek(); c == 'e' || c == 'E' {
		d.pos++
		if c := d.peek(); c == '+' || c == '-' {
			d.pos++
		}
		if !d.digits() {
			return nil, false
		}
	}
	return json.Number(d.data[start:d.pos]), true
}

func (d *envelopeDecoder) digits() bool {
	start := d.pos
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
	}
	return d.pos > start
}

// string reads a JSON string; false for one encoding/json would change
// (invalid UTF-8, an escaped surrogate) or refuse.
func (d *envelopeDecoder) string() (string, bool) {
	if !d.consume('"') {
		return "", false
	}
	start := d.pos
	ascii := true
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			s := d.data[start:d.pos]
			d.pos++
			if !ascii && !utf8.Valid(s) {
				return "", false
			}
			return string(s), true
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		d.pos++
	}
	return "", false
}

// escaped reads the rest of a string from its first backslash on.
func (d *envelopeDecoder) escaped(start int) (string, bool) {
	out := make([]byte, 0, d.pos-start+16)
	out = append(out, d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			if !utf8.Valid(out) {
				return "", false
			}
			return string(out), true
		case c < 0x20:
			return "", false
		case c != '\\':
			out = append(out, c)
			d.pos++
			continue
		}
		if d.pos+1 >= len(d.data) {
			return "", false
		}
		e := d.data[d.pos+1]
		d.pos += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok || utf16.IsSurrogate(r) {
				return "", false
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", false
		}
	}
	return "", false
}

func (d *envelopeDecoder) hex4() (rune, bool) {
	if len(d.data)-d.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	d.pos += 4
	return r, true
}
