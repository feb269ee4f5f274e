// Package scalar implements Hasura's PostgreSQL scalars for gqlgen, with the
// JSON forms Hasura clients see: uuid as a lower-case string and timestamptz as
// PostgreSQL renders it in JSON.
package scalar

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/freshgraph/freshgraph/internal/hasura"
)

// MarshalUUID writes a uuid, which PostgreSQL already renders lower-case.
func MarshalUUID(id string) graphql.Marshaler { return graphql.MarshalString(id) }

// UnmarshalUUID takes a uuid as a string and leaves checking it to
// PostgreSQL, which accepts the same spellings Hasura accepts and reports a bad
// one with the message Hasura clients know: invalid input syntax for type uuid.
func UnmarshalUUID(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", &hasura.Error{Code: hasura.CodeDataException, Message: "a uuid must be given as a string"}
	}
	return s, nil
}

// postgresJSONLayout is how PostgreSQL writes a timestamptz in JSON with the
// session time zone UTC: "2024-01-15T10:20:30.123+00:00", trailing zeros of
// the fraction dropped, never "Z".
const postgresJSONLayout = "2006-01-02T15:04:05.999999-07:00"

// MarshalTimestamptz writes t as PostgreSQL (and so Hasura) writes it in JSON.
func MarshalTimestamptz(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		var buf [40]byte
		b := append(buf[:0], '"')
		b = t.UTC().AppendFormat(b, postgresJSONLayout)
		_, _ = w.Write(append(b, '"'))
	})
}

// timestamptzLayouts are the ISO 8601 forms accepted, after a space between
// date and time has been turned into "T"; fractions of a second are optional in
// each. A time without an offset is UTC, the server's session time zone.
var timestamptzLayouts = []string{
	time.RFC3339,               // 2016-07-20T17:30:15+05:30, …Z
	"2006-01-02T15:04:05Z07",   // 2016-07-20T17:30:15+05
	"2006-01-02T15:04:05Z0700", // 2016-07-20T17:30:15+0530
	"2006-01-02T15:04:05",      // 2016-07-20T17:30:15
	"2006-01-02T15:04Z07:00",   // 2016-07-20T17:30+05:30
	"2006-01-02T15:04",         // 2016-07-20T17:30
	"2006-01-02",               // 2016-07-20
}

// UnmarshalTimestamptz parses an ISO 8601 time, kept to the microsecond as
// PostgreSQL keeps it (rounded, as PostgreSQL rounds).
func UnmarshalTimestamptz(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, &hasura.Error{Code: hasura.CodeDataException, Message: "a timestamptz must be given as a string"}
	}
	norm := strings.TrimSpace(s)
	if len(norm) > 10 && norm[10] == ' ' {
		norm = norm[:10] + "T" + norm[11:]
	}
	for _, layout := range timestamptzLayouts {
		if t, err := time.Parse(layout, norm); err == nil {
			return t.Round(time.Microsecond), nil
		}
	}
	return time.Time{}, &hasura.Error{
		Code:    hasura.CodeDataException,
		Message: "invalid input syntax for type timestamp with time zone: " + strconv.Quote(s),
	}
}
