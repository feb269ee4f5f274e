package scalar

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/freshgraph/freshgraph/internal/hasura"
)

func TestMarshalTimestamptzWritesPostgresJSON(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+1800)
	for _, tt := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2024, 1, 15, 10, 20, 30, 123000000, time.UTC), `"2024-01-15T10:20:30.123+00:00"`},
		{time.Date(2024, 1, 15, 10, 20, 30, 0, time.UTC), `"2024-01-15T10:20:30+00:00"`},
		{time.Date(2016, 7, 20, 17, 30, 15, 234890000, ist), `"2016-07-20T12:00:15.23489+00:00"`},
		{time.Date(2024, 1, 15, 10, 20, 30, 1000, time.UTC), `"2024-01-15T10:20:30.000001+00:00"`},
	} {
		var buf bytes.Buffer
		MarshalTimestamptz(tt.in).MarshalGQL(&buf)
		if buf.String() != tt.want {
			t.Errorf("MarshalTimestamptz(%v) = %s, want %s", tt.in, buf.String(), tt.want)
		}
	}
}

func TestUnmarshalTimestamptzAcceptsISO8601(t *testing.T) {
	want := time.Date(2016, 7, 20, 12, 0, 15, 234890000, time.UTC)
	for _, in := range []string{
		"2016-07-20T12:00:15.23489Z",
		"2016-07-20T17:30:15.234890+05:30",
		"2016-07-20 17:30:15.23489+0530",
		"2016-07-20T12:00:15.234890",
		"2016-07-20T12:00:15.2348904Z", // rounded to the microsecond, as PostgreSQL does
	} {
		got, err := UnmarshalTimestamptz(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("UnmarshalTimestamptz(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if got, err := UnmarshalTimestamptz("2016-07-20"); err != nil || !got.Equal(time.Date(2016, 7, 20, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("date only: %v, %v", got, err)
	}
}

func TestUnmarshalRejectsBadInputWithDataException(t *testing.T) {
	_, err := UnmarshalTimestamptz("yesterday-ish")
	var he *hasura.Error
	if !errors.As(err, &he) || he.Code != hasura.CodeDataException ||
		he.Message != `invalid input syntax for type timestamp with time zone: "yesterday-ish"` {
		t.Errorf("got %#v", err)
	}
	for _, v := range []any{42, nil, true} {
		if _, err := UnmarshalTimestamptz(v); !errors.As(err, &he) || he.Code != hasura.CodeDataException {
			t.Errorf("UnmarshalTimestamptz(%v): %v", v, err)
		}
		if _, err := UnmarshalUUID(v); !errors.As(err, &he) || he.Code != hasura.CodeDataException {
			t.Errorf("UnmarshalUUID(%v): %v", v, err)
		}
	}
}
