package scalar

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/freshgraph/freshgraph/internal/hasura"
)

// FuzzScalars checks, for any variable value a client could send for a uuid
// or a timestamptz (any JSON value, or any string), that unmarshalling never
// panics and fails only with a data-exception, and that a timestamptz read
// is kept to the microsecond and written in PostgreSQL's JSON form, which
// reads back as the same time.
func FuzzScalars(f *testing.F) {
	for _, seed := range []string{
		`"2016-07-20T17:30:15.234890+05:30"`,
		`"2016-07-20 17:30:15.23489+0530"`,
		`"2016-07-20T12:00:15.2348904Z"`,
		`"2016-07-20T17:30+05:30"`,
		`"2016-07-20T17:30:15+05"`,
		`"2016-07-20"`,
		`"  2016-07-20T12:00:15  "`,
		`"9999-12-31T23:59:59.9999999Z"`,
		`"0000-01-01T00:00:00+05:00"`,
		`"2016-13-40T25:61:61Z"`,
		`"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`,
		`"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"`,
		`"yesterday"`, `""`, `42`, `1.5e300`, `true`, `null`, `[]`, `{"_eq": "x"}`,
		`2016-07-20T17:30:15Z`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if dec.Decode(&v) != nil {
			v = string(data) // not JSON: fuzz the string itself
		}
		s, isString := v.(string)

		id, err := UnmarshalUUID(v)
		checkDataException(t, "UnmarshalUUID", v, err)
		if (err == nil) != isString || id != s {
			t.Fatalf("UnmarshalUUID(%#v) = %q, %v", v, id, err)
		}
		var buf bytes.Buffer
		MarshalUUID(id).MarshalGQL(&buf)
		var back string
		if err := json.Unmarshal(buf.Bytes(), &back); err != nil || utf8.ValidString(id) && back != id {
			t.Fatalf("MarshalUUID(%q) = %s, which reads back as %q, %v", id, buf.String(), back, err)
		}

		ts, err := UnmarshalTimestamptz(v)
		checkDataException(t, "UnmarshalTimestamptz", v, err)
		if err != nil {
			if isString && err.Error() != "invalid input syntax for type timestamp with time zone: "+strconv.Quote(s) {
				t.Fatalf("UnmarshalTimestamptz(%q): %v", s, err)
			}
			return
		}
		if !isString {
			t.Fatalf("UnmarshalTimestamptz(%#v) = %v, want an error", v, ts)
		}
		if ts.Nanosecond()%1000 != 0 {
			t.Fatalf("UnmarshalTimestamptz(%q) = %v, not kept to the microsecond", s, ts)
		}
		buf.Reset()
		MarshalTimestamptz(ts).MarshalGQL(&buf)
		var text string
		if err := json.Unmarshal(buf.Bytes(), &text); err != nil {
			t.Fatalf("MarshalTimestamptz(%v) = %s, not a JSON string", ts, buf.String())
		}
		if y := ts.UTC().Year(); y < 0 || y > 9999 {
			return // PostgreSQL's range, but beyond the four-digit years parsed here
		}
		if !strings.HasSuffix(text, "+00:00") {
			t.Fatalf("MarshalTimestamptz(%v) = %s, want the +00:00 offset", ts, buf.String())
		}
		again, err := UnmarshalTimestamptz(text)
		if err != nil || !again.Equal(ts) {
			t.Fatalf("%q was read as %v and written as %s, which reads back as %v, %v", s, ts, text, again, err)
		}
	})
}

func checkDataException(t *testing.T, fn string, v any, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var he *hasura.Error
	if !errors.As(err, &he) || he.Code != hasura.CodeDataException {
		t.Fatalf("%s(%#v) failed with %T %v, want a data-exception", fn, v, err, err)
	}
}
