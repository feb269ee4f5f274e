package main

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// authJSCSRFCookie is an Auth.js CSRF cookie's value: token|sha256hex(token
// + secret), URL-encoded as Auth.js writes it.
func authJSCSRFCookie(token, secret string) string {
	sum := sha256.Sum256([]byte(token + secret))
	return token + "%7C" + hex.EncodeToString(sum[:])
}

// POST /api/auth/session, what useSession().update() sends, answers as GET
// does — the session read fresh — once the body's csrfToken is its CSRF
// cookie's; else 400, as Auth.js answers. GET /api/auth/csrf hands out the
// token, setting its cookie only when the request has none.
func TestAuthJSSessionPostAndCSRF(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withAuthSecret)
	userID := queryStrings(t, s, `INSERT INTO users (name, email) VALUES ('Bea', 'bea@example.com') RETURNING id::text`)[0]
	s.exec(t, `INSERT INTO sessions ("sessionToken", "userId", expires) VALUES ('9a0c1f7e-post-token', '`+userID+`', '2100-01-01T00:00:00Z')`)
	session := `{"user":{"name":"Bea","email":"bea@example.com","image":null},"expires":"2100-01-01T00:00:00.000Z"}` + "\n"
	token := strings.Repeat("ab", 32)
	send := func(method, path, cookie, contentType, body string, header ...string) (string, *http.Response) {
		t.Helper()
		req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		for i := 0; i < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		b, resp := rawDo(t, http.DefaultClient, req)
		return string(b), resp
	}
	const json = "application/json"
	const form = "application/x-www-form-urlencoded"
	sess := "authjs.session-token=9a0c1f7e-post-token"
	csrf := "; authjs.csrf-token=" + authJSCSRFCookie(token, authSecret)
	for _, c := range []struct {
		name, cookie, contentType, body string
		status                          int
		want                            string
	}{
		{"JSON, as update() sends it", sess + csrf, json, `{"csrfToken":"` + token + `","data":{"name":"Eve"}}`, 200, session},
		{"a form", sess + csrf, form, "csrfToken=" + token, 200, session},
		{"the v4 cookie, __Host-", sess + "; __Host-next-auth.csrf-token=" + authJSCSRFCookie(token, authSecret), json, `{"csrfToken":"` + token + `"}`, 200, session},
		{"the cookie of the previous secret", sess + "; authjs.csrf-token=" + authJSCSRFCookie(token, oldAuthSecret), json, `{"csrfToken":"` + token + `"}`, 200, session},
		{"v5's hash of both secrets", sess + "; authjs.csrf-token=" + authJSCSRFCookie(token, authSecret+","+oldAuthSecret), json, `{"csrfToken":"` + token + `"}`, 200, session},
		{"signed out", strings.TrimPrefix(csrf, "; "), json, `{"csrfToken":"` + token + `"}`, 200, "null"},
		{"another token", sess + csrf, json, `{"csrfToken":"` + strings.Repeat("cd", 32) + `"}`, 400, "null"},
		{"no token", sess + csrf, json, `{"data":{}}`, 400, "null"},
		{"no CSRF cookie", sess, json, `{"csrfToken":"` + token + `"}`, 400, "null"},
		{"a cookie of another secret", sess + "; authjs.csrf-token=" + authJSCSRFCookie(token, "not-the-apps-secret-0123456789"), json, `{"csrfToken":"` + token + `"}`, 400, "null"},
		{"the token as the cookie, no hash", sess + "; authjs.csrf-token=" + token, json, `{"csrfToken":"` + token + `"}`, 400, "null"},
		{"not JSON", sess + csrf, json, `{"csrfToken":`, 400, "null"},
		{"too big", sess + csrf, json, `{"data":"` + strings.Repeat("x", 2<<20) + `","csrfToken":"` + token + `"}`, 400, "null"},
		{"a v4 app's", "next-auth.session-token=9a0c1f7e-post-token", json, `{"csrfToken":"` + token + `"}`, 400, "{}"},
	} {
		got, resp := send(http.MethodPost, "/api/auth/session", c.cookie, c.contentType, c.body)
		if resp.StatusCode != c.status || got != c.want || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "private, no-cache, no-store" {
			t.Errorf("%s: %d %s %q, want %d %s", c.name, resp.StatusCode, got, resp.Header, c.status, c.want)
		}
	}
	if _, resp := send(http.MethodPut, "/api/auth/session", sess, json, "{}"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %d", resp.StatusCode)
	}

	// The CSRF endpoint: a new token and its cookie, named for the app
	// (v4's unless a v5 cookie says otherwise), __Host- over https.
	for _, c := range []struct {
		name, cookie string
		header       []string
		want         string
	}{
		{"no cookie", "", nil, "next-auth.csrf-token"},
		{"a v5 app", "authjs.callback-url=x", nil, "authjs.csrf-token"},
		{"over https", "", []string{"X-Forwarded-Proto", "https"}, "__Host-next-auth.csrf-token"},
	} {
		body, resp := send(http.MethodGet, "/api/auth/csrf", c.cookie, json, "", c.header...)
		cookies := resp.Cookies()
		if len(cookies) != 1 || cookies[0].Name != c.want || !cookies[0].HttpOnly || cookies[0].Path != "/" || cookies[0].Secure != strings.HasPrefix(c.want, "__Host-") {
			t.Fatalf("%s: cookies %v", c.name, cookies)
		}
		raw, _ := url.QueryUnescape(cookies[0].Value)
		minted, _, _ := strings.Cut(raw, "|")
		if body != `{"csrfToken":"`+minted+`"}`+"\n" || len(minted) != 64 || resp.Header.Get("Cache-Control") != "private, no-cache, no-store" {
			t.Errorf("%s: %s, cookie %s", c.name, body, cookies[0].Value)
		}
		// Accepted back by the session endpoint, and handed out again
		// as it is, with no new cookie.
		got, resp := send(http.MethodPost, "/api/auth/session", sess+"; "+cookies[0].Name+"="+cookies[0].Value, json, `{"csrfToken":"`+minted+`"}`)
		if resp.StatusCode != 200 || got != session {
			t.Errorf("%s: the minted token is refused: %d %s", c.name, resp.StatusCode, got)
		}
		again, resp := send(http.MethodGet, "/api/auth/csrf", cookies[0].Name+"="+cookies[0].Value, json, "")
		if again != body || len(resp.Cookies()) != 0 {
			t.Errorf("%s: asked again: %s %v", c.name, again, resp.Cookies())
		}
	}

	// Without an Auth.js secret there is no CSRF token to check: a POST
	// reads the session as GET does (it changes nothing), and there is no
	// CSRF endpoint.
	plain := newTestServerOn(t, s.dbURL)
	req, _ := http.NewRequest(http.MethodPost, plain.URL+"/api/auth/session", strings.NewReader(`{"csrfToken":"whatever"}`))
	req.Header.Set("Cookie", sess)
	if body, resp := rawDo(t, http.DefaultClient, req); resp.StatusCode != 200 || string(body) != session {
		t.Errorf("POST without a secret: %d %s", resp.StatusCode, body)
	}
	req, _ = http.NewRequest(http.MethodGet, plain.URL+"/api/auth/csrf", nil)
	if _, resp := rawDo(t, http.DefaultClient, req); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/api/auth/csrf without a secret: %d", resp.StatusCode)
	}
}
