package authjwt

import (
	"net/http"
	"testing"
	"time"
)

// FuzzSessionToken: whatever a cookie holds, reading it never panics, and
// nothing but a token made with the secret is a session: the fuzzer cannot
// forge one, for the content encryption is authenticated. (It may write
// one of the seeds' otherwise: base64's spare low bits are ignored, as
// most decoders ignore them; the token is still the same token.)
func FuzzSessionToken(f *testing.F) {
	v := loadVectors(f)
	rd := New([]string{v.Secret}, allNames)
	now := time.Now()
	valid := map[string]bool{} // the jti of each live token made with the secret
	for _, token := range []string{v.V4, v.V5} {
		tok, ok := rd.Read(request(cookie(map[bool]string{true: "next-auth.session-token", false: "authjs.session-token"}[token == v.V4], token)), now)
		if !ok {
			f.Fatal("a seed is not read")
		}
		valid[string(tok.claims["jti"])] = true
	}
	for _, seed := range []string{v.V4, v.V5, v.V5Expired, v.V5Rotated, tamper(v.V5, 3), "eyJ.a.b.c.d", "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0....", ""} {
		f.Add(seed, uint8(0), uint8(1))
	}
	f.Fuzz(func(t *testing.T, value string, name, chunksOf uint8) {
		cookieName := allNames[int(name)%len(allNames)]
		var cookies []*http.Cookie
		if n := int(chunksOf % 4); n > 1 && len(value) >= n {
			cookies = chunks(cookieName, value, n)
		} else {
			cookies = []*http.Cookie{cookie(cookieName, value)}
		}
		tok, ok := rd.Read(request(cookies...), now)
		if ok && !valid[string(tok.claims["jti"])] {
			t.Fatalf("%q under %s read as a session of %q", value, cookieName, tok.Subject)
		}
		if ok {
			if _, _, err := rd.Renew(tok, now); err != nil {
				t.Fatal(err)
			}
		}
		// The CSRF cookie: never a panic, and valid only with its hash.
		r := request(cookie("next-auth.csrf-token", value))
		if token, ok := rd.CSRFToken(r); ok && token+"%7C"+csrfHash(token, v.Secret) != value && token+"|"+csrfHash(token, v.Secret) != value {
			t.Fatalf("CSRF cookie %q read as token %q", value, token)
		}
	})
}
