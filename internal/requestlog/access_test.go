package requestlog

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// slogLine is the access line slog's text handler writes for a at now.
func slogLine(t testing.TB, now time.Time, a access) string {
	var out bytes.Buffer
	r := slog.NewRecord(now, slog.LevelInfo, "request", 0)
	r.AddAttrs(slog.String("method", a.method), slog.String("path", a.path), slog.Int("status", a.status),
		slog.Int("bytes", a.bytes), slog.Duration("took", a.took), slog.String("client", a.client), slog.String("request_id", a.id))
	if err := slog.NewTextHandler(&out, nil).Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// The hand-made access line is slog's, byte for byte, and declines what it
// would format differently.
func TestAccessLineIsSlogs(t *testing.T) {
	india := time.FixedZone("IST", 5*3600+1800)
	pacific := time.FixedZone("PST", -8*3600)
	base := access{method: "POST", path: "/v1/graphql", status: 200, bytes: 1234, took: 1234567 * time.Nanosecond, id: "0123456789abcdef01234567", client: "2001:db8::7"}
	for _, tt := range []struct {
		now      time.Time
		a        func(access) access
		declined bool
	}{
		{now: time.Date(2026, 12, 1, 14, 20, 54, 123456789, time.UTC)},
		{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{now: time.Date(2026, 12, 31, 23, 59, 59, 999999999, india)},
		{now: time.Date(2026, 7, 1, 0, 0, 0, 1000000, pacific)},
		{now: time.Date(999, 7, 1, 0, 0, 0, 5000000, time.UTC)},
		{now: time.Date(12026, 7, 1, 0, 0, 0, 0, time.UTC), declined: true},
		{now: time.Date(2026, 7, 1, 0, 0, 0, 0, time.FixedZone("LMT", 3600+30)), declined: true},
		{now: time.Now(), a: func(a access) access { a.path = "/a b"; return a }, declined: true},
		{now: time.Now(), a: func(a access) access { a.path = "/x=y"; return a }, declined: true},
		{now: time.Now(), a: func(a access) access { a.path = `/"q"`; return a }, declined: true},
		{now: time.Now(), a: func(a access) access { a.path = "/é"; return a }, declined: true},
		{now: time.Now(), a: func(a access) access { a.path = ""; return a }, declined: true},
		{now: time.Now(), a: func(a access) access { a.path = "/demo/~x%20y;a,b@c!d$e&f'g(h)i*j+k:l"; return a }},
		{now: time.Now(), a: func(a access) access { a.status, a.bytes, a.took = 101, 0, 0; return a }},
		{now: time.Now(), a: func(a access) access { a.took = 3*time.Minute + time.Second; return a }},
		{now: time.Now(), a: func(a access) access { a.client = "192.0.2.1"; return a }},
		{now: time.Now(), a: func(a access) access { a.client = ""; return a }, declined: true},
	} {
		a := base
		if tt.a != nil {
			a = tt.a(a)
		}
		got, ok := appendAccess(nil, tt.now, a)
		if ok == tt.declined {
			t.Errorf("%v %+v: formatted %v, want %v", tt.now, a, ok, !tt.declined)
			continue
		}
		if want := slogLine(t, tt.now, a); ok && string(got) != want {
			t.Errorf("%v %+v:\n got %q\nwant %q", tt.now, a, got, want)
		}
	}
}

// What the hand-made line declines, slog writes: the logger's output is
// slog's either way.
func TestAccessLogFallsBackToSlog(t *testing.T) {
	var out bytes.Buffer
	batch := NewBatch(&out, time.Hour)
	logger := slog.New(NewTextHandler(batch))
	logAccess(logger, time.Now(), access{method: "GET", path: "/a b", status: 404, bytes: 9, took: time.Millisecond, id: "x1", client: "192.0.2.1"})
	logAccess(logger, time.Now(), access{method: "GET", path: "/ok", status: 200, bytes: 2, took: time.Millisecond, id: "x2", client: "192.0.2.1"})
	// A logger with attributes added is not the plain one.
	logAccess(logger.With("instance", "a"), time.Now(), access{method: "GET", path: "/ok", status: 200, bytes: 2, took: time.Millisecond, id: "x3", client: "192.0.2.1"})
	if err := batch.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{
		`level=INFO msg=request method=GET path="/a b" status=404 bytes=9 took=1ms client=192.0.2.1 request_id=x1`,
		`level=INFO msg=request method=GET path=/ok status=200 bytes=2 took=1ms client=192.0.2.1 request_id=x2`,
		`level=INFO msg=request instance=a method=GET path=/ok status=200 bytes=2 took=1ms client=192.0.2.1 request_id=x3`,
	}
	if len(lines) != len(want) {
		t.Fatalf("lines: %q", lines)
	}
	for i, line := range lines {
		_, rest, _ := strings.Cut(line, " ")
		if !strings.HasPrefix(line, "time=") || rest != want[i] {
			t.Errorf("line %d: %q, want time=… %s", i, line, want[i])
		}
	}
}

func FuzzAccessLine(f *testing.F) {
	f.Add("POST", "/v1/graphql", "abc", "192.0.2.1", 200, 10, int64(1234567), int64(1764598854123456789), 0)
	f.Add("GET", "/a b", "x", "::1", 404, 0, int64(0), int64(0), 3600)
	f.Add("GET", "/é", "x", "fe80::1%eth0", 500, 1, int64(-5), int64(-62135596800000000), -1800)
	f.Fuzz(func(t *testing.T, method, path, id, client string, status, n int, took, unixNano int64, offset int) {
		now := time.Unix(0, unixNano).In(time.FixedZone("Z", offset%(18*3600)))
		a := access{method: method, path: path, status: status, bytes: n, took: time.Duration(took), id: id, client: client}
		if got, ok := appendAccess(nil, now, a); ok {
			if want := slogLine(t, now, a); string(got) != want {
				t.Fatalf("\n got %q\nwant %q", got, want)
			}
		}
	})
}
