package requestlog

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// One line per request, with its id — the client's, when sane, else a new
// one, sent back in X-Request-Id — and every record logged with the
// request's context carries the same id.
func TestEveryRequestIsLoggedWithItsID(t *testing.T) {
	var out bytes.Buffer
	logger := slog.New(Handler{Handler: slog.NewTextHandler(&out, nil)})
	h := Middleware(logger, nil, false)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.WarnContext(r.Context(), "inside")
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("12345"))
	}))
	for _, tt := range []struct{ sent, want string }{
		{"client-id.1", "client-id.1"},
		{"not sane!", ""},
		{"", ""},
	} {
		out.Reset()
		req := httptest.NewRequest(http.MethodPost, "/v1/graphql?secret=1", nil)
		if tt.sent != "" {
			req.Header.Set(Header, tt.sent)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		id := w.Header().Get(Header)
		if tt.want != "" && id != tt.want || tt.want == "" && !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(id) {
			t.Errorf("sent %q: id %q", tt.sent, id)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 2 {
			t.Fatalf("%d lines: %q", len(lines), out.String())
		}
		if !strings.Contains(lines[0], "level=WARN msg=inside request_id="+id) {
			t.Errorf("the handler's record: %s", lines[0])
		}
		if !regexp.MustCompile(`^time=\S+ level=INFO msg=request method=POST path=/v1/graphql status=418 bytes=5 took=\S+ client=192\.0\.2\.1 request_id=` + regexp.QuoteMeta(id) + `$`).MatchString(lines[1]) {
			t.Errorf("the access line: %s", lines[1])
		}
		if strings.Contains(out.String(), "secret") {
			t.Errorf("the query string was logged: %s", out.String())
		}
	}
}

// LOG_FORMAT=json: every line is a JSON object with the text line's keys,
// the access line and a record logged in the request among them; a level
// above info (HASURA_GRAPHQL_LOG_LEVEL=warn) drops the access lines and
// the info records, and keeps the warnings.
func TestJSONLinesAndLevels(t *testing.T) {
	for _, tt := range []struct {
		level string
		want  []string // each line's msg
	}{
		{"info", []string{"inside", "request"}},
		{"warn", []string{"inside"}},
		{"error", nil},
	} {
		var out bytes.Buffer
		batch := NewBatch(&out, 0)
		level, ok := ParseLevel(tt.level)
		if !ok {
			t.Fatalf("%s is a level", tt.level)
		}
		logger := slog.New(NewHandler(batch, true, level))
		h := Middleware(logger, nil, false)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			logger.InfoContext(r.Context(), "not at warn")
			logger.WarnContext(r.Context(), "inside", "n", 1)
			w.WriteHeader(http.StatusTeapot)
		}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/graphql", nil))
		_ = batch.Flush()
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if line == "" {
				continue
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("%s: not JSON: %q", tt.level, line)
			}
			if rec["request_id"] != w.Header().Get(Header) || rec["time"] == nil || rec["level"] == nil {
				t.Errorf("%s: %q lacks the request's id, time or level", tt.level, line)
			}
			if rec["msg"] == "request" && (rec["status"] != float64(http.StatusTeapot) || rec["method"] != "GET" || rec["path"] != "/v1/graphql") {
				t.Errorf("%s: access line %q", tt.level, line)
			}
			if msg, _ := rec["msg"].(string); msg != "not at warn" || tt.level == "info" {
				got = append(got, msg)
			}
		}
		want := tt.want
		if tt.level == "info" {
			want = []string{"not at warn", "inside", "request"}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: lines %v, want %v", tt.level, got, want)
		}
	}
	if _, ok := ParseLevel("verbose"); ok {
		t.Error("verbose is no level")
	}
}
