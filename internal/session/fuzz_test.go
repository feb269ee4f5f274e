package session

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Secrets of the cookie tests: the current one, the one before it, and one
// this server never had.
const (
	newSecret     = "new-session-secret-0123456789abcdefghij"
	oldSecret     = "old-session-secret-0123456789abcdefghij"
	foreignSecret = "foreign-secret-0123456789abcdefghijklmn"
)

func testCookies(t testing.TB, secrets ...string) *Cookies {
	t.Helper()
	// No database: Token and EncodeCookie never use it.
	s, err := NewCookies(Config{Secrets: secrets, MaxAge: 30 * 24 * time.Hour, UpdateAge: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// cookieRequest is a request whose Cookie header is exactly header.
func cookieRequest(header string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://localhost/v1/graphql", nil)
	r.Header.Set("Cookie", header)
	return r
}

func mustEncode(t testing.TB, s *Cookies, token string) string {
	t.Helper()
	v, err := s.EncodeCookie(token)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Tokens the cookie seeds carry, by the secret they were encoded with. The
// lists are fixed, so that they hold in every fuzzing process and for the
// corpus a previous run left.
var (
	currentTokens = []string{"Xp3vJ0c8c2l6Hk9mYtQ1bQ2n4r5s6t7u8v9w0x1y2z3", "t", strings.Repeat("long-token.", 100), "tok|en|with|bars", "\x00binary\xff"}
	oldTokens     = []string{"old-token-7Hk9mYtQ1bQ2n4r5s6t7u8v9w0x1y2z3a"}
	foreignTokens = []string{"foreign-token-forged-by-another-server"}
)

// FuzzSessionCookie checks, for any Cookie header, that reading the session
// token never panics and never accepts a cookie the encoder did not make:
// every token accepted is one the seeds' cookies carry, under the current or
// the previous secret, never one encoded with another secret. A forged,
// tampered, truncated or foreign cookie is no session.
func FuzzSessionCookie(f *testing.F) {
	rotated := testCookies(f, newSecret, oldSecret)
	old := testCookies(f, oldSecret)
	foreign := testCookies(f, foreignSecret)
	var cookies []string
	for _, tok := range currentTokens {
		cookies = append(cookies, mustEncode(f, rotated, tok))
	}
	for _, tok := range oldTokens {
		cookies = append(cookies, mustEncode(f, old, tok))
	}
	for _, tok := range foreignTokens {
		cookies = append(cookies, mustEncode(f, foreign, tok))
	}
	for _, c := range cookies {
		f.Add(CookieName + "=" + c)
		f.Add("theme=dark; " + CookieName + "=" + c + "; other=1")
		f.Add(CookieName + `="` + c + `"`)
		f.Add(CookieName + "=" + c[:len(c)/2])
		f.Add(CookieName + "=" + c + "A")
	}
	good := cookies[0]
	// Bytes flipped, a MAC from another cookie, padding gone.
	f.Add(CookieName + "=" + good[:10] + "A" + good[11:])
	f.Add(CookieName + "=" + strings.TrimRight(good, "="))
	raw, _ := base64.URLEncoding.DecodeString(good)
	parts := strings.SplitN(string(raw), "|", 3)
	f.Add(CookieName + "=" + base64.URLEncoding.EncodeToString([]byte("1|"+parts[1]+"|"+parts[2])))
	f.Add(CookieName + "=" + base64.URLEncoding.EncodeToString([]byte(parts[0]+"||"+parts[2])))
	f.Add(CookieName + "=")
	f.Add(CookieName + "=not-a-cookie")
	f.Add("")

	allowed := map[string]bool{}
	for _, tok := range append(append([]string{}, currentTokens...), oldTokens...) {
		allowed[tok] = true
	}
	newOnly := testCookies(f, newSecret)
	f.Fuzz(func(t *testing.T, header string) {
		r := cookieRequest(header)
		token, ok := rotated.Token(r)
		if !ok {
			if token != "" {
				t.Fatalf("no session, but token %q", token)
			}
			return
		}
		if !allowed[token] {
			t.Fatalf("cookie header %q accepted with token %q, which no cookie the encoder made carries", header, token)
		}
		// Once the previous secret is dropped, its cookies are no session.
		if tok, ok := newOnly.Token(r); ok && !contains(currentTokens, tok) {
			t.Fatalf("cookies without the previous secret accepted its token %q", tok)
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// FuzzSessionCookieRoundTrip checks that any token survives the cookie: the
// value EncodeCookie makes is a valid cookie value that Token reads back as
// the same token, with the current secret and, after a rotation, with the
// previous one.
func FuzzSessionCookieRoundTrip(f *testing.F) {
	for _, tok := range append(append([]string{}, currentTokens...), oldTokens...) {
		f.Add(tok)
	}
	f.Add(NewToken())
	f.Add("token; Path=/; HttpOnly")
	f.Add(`"quoted"`)
	f.Add("")
	rotated := testCookies(f, newSecret, oldSecret)
	old := testCookies(f, oldSecret)
	f.Fuzz(func(t *testing.T, token string) {
		for _, enc := range []*Cookies{rotated, old} {
			value, err := enc.EncodeCookie(token)
			if err != nil {
				// securecookie refuses values over 4096 bytes once encoded.
				if len(token) < 2048 {
					t.Fatalf("EncodeCookie(%q): %v", token, err)
				}
				continue
			}
			if err := (&http.Cookie{Name: CookieName, Value: value}).Valid(); err != nil {
				t.Fatalf("EncodeCookie(%q) = %q, not a valid cookie value: %v", token, value, err)
			}
			got, ok := rotated.Token(cookieRequest("a=b; " + CookieName + "=" + value))
			switch {
			case token == "" && ok:
				t.Fatalf("the empty token read back as a session %q", got)
			case token != "" && (!ok || got != token):
				t.Fatalf("token %q read back as %q, %v", token, got, ok)
			}
		}
	})
}

// A cookie's last base64 character can carry bits that the decoder ignores
// (when the encoding ends in padding), so a few spellings of such a cookie
// decode to the same signed bytes and are accepted with the same token: a
// cookie value "not produced by the encoder" but harmless, since the MAC
// covers the decoded bytes and no other token can be had this way.
// FuzzSessionCookie therefore checks the tokens accepted, not the spellings.
func TestCookieSpellingsDecodeToTheSameSignedBytes(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	s := testCookies(t, newSecret)
	tried := 0
	for i := 0; tried < 3 && i < 100; i++ {
		tok := NewToken()
		c := mustEncode(t, s, tok)
		trimmed := strings.TrimRight(c, "=")
		if trimmed == c {
			continue
		}
		tried++
		// With one padding character the last data character's low 2 bits
		// are unused, with two its low 4 bits: flip the lowest.
		last := strings.IndexByte(alphabet, trimmed[len(trimmed)-1])
		variant := trimmed[:len(trimmed)-1] + string(alphabet[last^1]) + c[len(trimmed):]
		if variant == c {
			t.Fatal("the variant is the cookie itself")
		}
		got, ok := s.Token(cookieRequest(CookieName + "=" + variant))
		if !ok || got != tok {
			t.Fatalf("variant %q of %q: token %q, %v; want %q", variant, c, got, ok, tok)
		}
	}
	if tried == 0 {
		t.Fatal("no cookie ended in padding")
	}
}
