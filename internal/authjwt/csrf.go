package authjwt

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Auth.js's CSRF cookie is a double-submit token: "token|hash", the hash
// sha256hex(token + secret), URL-encoded as it writes every cookie value.
// A POST is verified when the cookie's hash is right and the body's
// csrfToken is the cookie's token.

// defaultCSRFNames are Auth.js's CSRF cookies: v5's and v4's, over http
// and https.
var defaultCSRFNames = []string{"authjs.csrf-token", "__Host-authjs.csrf-token", "next-auth.csrf-token", "__Host-next-auth.csrf-token"}

// csrfNames are the CSRF cookies read: Auth.js's own, and those that go
// with other session cookies (Auth.js names them alike, "__Host-" where
// the session's is "__Secure-").
func (rd *Reader) csrfNames() []string {
	names := slices.Clone(defaultCSRFNames)
	for _, name := range rd.names {
		if !strings.HasSuffix(name, "session-token") {
			continue
		}
		name = strings.TrimSuffix(name, "session-token") + "csrf-token"
		if rest, ok := strings.CutPrefix(name, "__Secure-"); ok {
			name = "__Host-" + rest
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// csrfSecrets are the strings a CSRF hash may be made with: each secret
// (Auth.js's with one), and all of them comma-joined (Auth.js v5's with
// several: JavaScript writes an array so into the string it hashes), which
// is also the one a new token is made with.
func (rd *Reader) csrfSecrets() []string {
	if len(rd.secrets) == 1 {
		return rd.secrets
	}
	return append([]string{strings.Join(rd.secrets, ",")}, rd.secrets...)
}

func csrfHash(token, secret string) string {
	sum := sha256.Sum256([]byte(token + secret))
	return hex.EncodeToString(sum[:])
}

// CSRFToken returns the token of the request's valid CSRF cookie, if it
// has one.
func (rd *Reader) CSRFToken(r *http.Request) (string, bool) {
	if rd == nil {
		return "", false
	}
	for _, name := range rd.csrfNames() {
		c, err := r.Cookie(name)
		if err != nil {
			continue
		}
		value, err := url.QueryUnescape(c.Value)
		if err != nil {
			continue
		}
		token, hash, ok := strings.Cut(value, "|")
		if !ok {
			continue
		}
		for _, secret := range rd.csrfSecrets() {
			if subtle.ConstantTimeCompare([]byte(hash), []byte(csrfHash(token, secret))) == 1 {
				return token, true
			}
		}
	}
	return "", false
}

// CSRFVerified reports whether bodyToken, a POST's csrfToken, is the
// token of the request's valid CSRF cookie.
func (rd *Reader) CSRFVerified(r *http.Request, bodyToken string) bool {
	token, ok := rd.CSRFToken(r)
	return ok && bodyToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(bodyToken)) == 1
}

// NewCSRF mints a CSRF token and its cookie, as Auth.js does: named for
// v5 ("authjs.") or v4 ("next-auth."), "__Host-" and Secure over https.
func (rd *Reader) NewCSRF(v5, secure bool) (string, *http.Cookie) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	name := "next-auth.csrf-token"
	if v5 {
		name = "authjs.csrf-token"
	}
	if secure {
		name = "__Host-" + name
	}
	value := token + "%7C" + csrfHash(token, rd.csrfSecrets()[0])
	return token, &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure}
}
