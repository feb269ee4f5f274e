package requestlog

import (
	"bytes"
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
	h := Middleware(logger, nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
