package authjwt

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// vectors were written by Auth.js's own code (next-auth 4.24.15's
// next-auth/jwt encode, @auth/core 0.40.0's encode and its CSRF cookie),
// with the secret "fixture-secret-please-change" and the payload
// {"name":"Ann Example","email":"ann@example.com","picture":…,"sub":"user-42","role":"admin"},
// live until 2126 except the expired ones. The end-to-end test
// (nextauth_test.go) makes fresh ones with the published packages.
type vectors struct {
	Secret      string `json:"secret"`
	V4          string `json:"v4"`
	V4Expired   string `json:"v4Expired"`
	V5          string `json:"v5"`
	V5Expired   string `json:"v5Expired"`
	V5Kid       string `json:"v5Kid"`
	V5Secure    string `json:"v5Secure"`
	V5SecureKid string `json:"v5SecureKid"`
	V5Rotated   string `json:"v5Rotated"` // made with "old-secret", subject "old"
	CSRFToken   string `json:"csrfToken"`
	CSRFCookie  string `json:"csrfCookie"`
}

func loadVectors(t testing.TB) vectors {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

var allNames = []string{"authjs.session-token", "__Secure-authjs.session-token", "next-auth.session-token", "__Secure-next-auth.session-token"}

func request(cookies ...*http.Cookie) *http.Request {
	r, _ := http.NewRequest("GET", "http://app.test/api/auth/session", nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

func cookie(name, value string) *http.Cookie { return &http.Cookie{Name: name, Value: value} }

// tamper flips one bit of the part-th part of a compact JWE.
func tamper(token string, part int) string {
	parts := strings.Split(token, ".")
	b, _ := base64.RawURLEncoding.DecodeString(parts[part])
	b[len(b)/2] ^= 1
	parts[part] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

// chunks splits v into n cookies name.0 … name.n-1, sent last first.
func chunks(name, v string, n int) []*http.Cookie {
	size := (len(v) + n - 1) / n
	var out []*http.Cookie
	for i := n - 1; i >= 0; i-- {
		out = append(out, cookie(name+"."+string(rune('0'+i)), v[i*size:min(len(v), (i+1)*size)]))
	}
	return out
}

func TestRead(t *testing.T) {
	v := loadVectors(t)
	now := time.Now()
	newest := "a-newer-secret-than-the-fixtures"
	for _, c := range []struct {
		name    string
		secrets []string
		cookies []*http.Cookie
		want    string // the subject; "" none
	}{
		{"v4", []string{v.Secret}, []*http.Cookie{cookie("next-auth.session-token", v.V4)}, "user-42"},
		{"v4 __Secure- (one key for both names)", []string{v.Secret}, []*http.Cookie{cookie("__Secure-next-auth.session-token", v.V4)}, "user-42"},
		{"v5", []string{v.Secret}, []*http.Cookie{cookie("authjs.session-token", v.V5)}, "user-42"},
		{"v5 __Secure-", []string{v.Secret}, []*http.Cookie{cookie("__Secure-authjs.session-token", v.V5Secure)}, "user-42"},
		{"v5 under the other name (the name salts the key)", []string{v.Secret}, []*http.Cookie{cookie("__Secure-authjs.session-token", v.V5)}, ""},
		{"v5 under a v4 name", []string{v.Secret}, []*http.Cookie{cookie("next-auth.session-token", v.V5)}, ""},
		{"v4 under a v5 name: the same secret made it", []string{v.Secret}, []*http.Cookie{cookie("authjs.session-token", v.V4)}, "user-42"},
		{"v4 expired", []string{v.Secret}, []*http.Cookie{cookie("next-auth.session-token", v.V4Expired)}, ""},
		{"v5 expired", []string{v.Secret}, []*http.Cookie{cookie("authjs.session-token", v.V5Expired)}, ""},
		{"wrong secret v4", []string{newest}, []*http.Cookie{cookie("next-auth.session-token", v.V4)}, ""},
		{"wrong secret v5", []string{newest}, []*http.Cookie{cookie("authjs.session-token", v.V5)}, ""},
		{"rotated: older secret second", []string{v.Secret, "old-secret"}, []*http.Cookie{cookie("authjs.session-token", v.V5Rotated)}, "old"},
		{"rotated: the old secret gone", []string{v.Secret}, []*http.Cookie{cookie("authjs.session-token", v.V5Rotated)}, ""},
		{"v4 of an older secret", []string{newest, v.Secret}, []*http.Cookie{cookie("next-auth.session-token", v.V4)}, "user-42"},
		{"v4 ciphertext tampered", []string{v.Secret}, []*http.Cookie{cookie("next-auth.session-token", tamper(v.V4, 3))}, ""},
		{"v4 tag tampered", []string{v.Secret}, []*http.Cookie{cookie("next-auth.session-token", tamper(v.V4, 4))}, ""},
		{"v4 iv tampered", []string{v.Secret}, []*http.Cookie{cookie("next-auth.session-token", tamper(v.V4, 2))}, ""},
		{"v5 ciphertext tampered", []string{v.Secret}, []*http.Cookie{cookie("authjs.session-token", tamper(v.V5, 3))}, ""},
		{"v5 tag tampered", []string{v.Secret}, []*http.Cookie{cookie("authjs.session-token", tamper(v.V5, 4))}, ""},
		{"v5 header tampered", []string{v.Secret}, []*http.Cookie{cookie("authjs.session-token", tamper(v.V5, 0))}, ""},
		{"v5 chunked, sent out of order", []string{v.Secret}, chunks("authjs.session-token", v.V5, 3), "user-42"},
		{"v4 chunked", []string{v.Secret}, chunks("next-auth.session-token", v.V4, 2), "user-42"},
		{"a chunk missing", []string{v.Secret}, chunks("authjs.session-token", v.V5, 3)[1:], ""},
		{"a session token, not a JWE", []string{v.Secret}, []*http.Cookie{cookie("authjs.session-token", "3f1a3c9e-5d7b-4a8e-9a3c-2f1e0d9c8b7a")}, ""},
		{"garbage with four dots", []string{v.Secret}, []*http.Cookie{cookie("authjs.session-token", "eyJ.a.b.c.d")}, ""},
		{"an unread name", []string{v.Secret}, []*http.Cookie{cookie("other.session-token", v.V5)}, ""},
		{"the second of two cookies", []string{v.Secret}, []*http.Cookie{cookie("authjs.session-token", "junk"), cookie("next-auth.session-token", v.V4)}, "user-42"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := New(c.secrets, allNames).Read(request(c.cookies...), now)
			if ok != (c.want != "") || got.Subject != c.want {
				t.Fatalf("Read = %q, %v; want %q", got.Subject, ok, c.want)
			}
			if ok && got.Expires.Unix() != 4949967755 {
				t.Errorf("Expires = %d, want the token's exp 4949967755", got.Expires.Unix())
			}
		})
	}
	if New(nil, allNames) != nil {
		t.Error("a Reader without a secret")
	}
}

// TestKeys checks the derived keys' names against Auth.js's kid.
func TestKeys(t *testing.T) {
	v := loadVectors(t)
	rd := New([]string{v.Secret}, allNames)
	if got := rd.v5["authjs.session-token"]["A256CBC-HS512"][0].kid; got != v.V5Kid {
		t.Errorf("kid = %s, want %s", got, v.V5Kid)
	}
	if got := rd.v5["__Secure-authjs.session-token"]["A256CBC-HS512"][0].kid; got != v.V5SecureKid {
		t.Errorf("__Secure- kid = %s, want %s", got, v.V5SecureKid)
	}
}

// TestClaims is jose's claim checks as Auth.js runs them: numbers only,
// nbf within 15 s, an object with a subject; and exp, which must be there,
// without the tolerance: the session ends at exp.
func TestClaims(t *testing.T) {
	now := time.Unix(2_000_000_000, 0)
	for payload, ok := range map[string]bool{
		`{"sub":"u","exp":2000000001}`:                  true,
		`{"sub":"u","exp":2000000000}`:                  false, // expired now
		`{"sub":"u","exp":1999999990}`:                  false, // within Auth.js's 15 s, but the session has ended
		`{"sub":"u","exp":2000000001.5,"iat":1}`:        true,
		`{"sub":"u","exp":"2100000000"}`:                false,
		`{"sub":"u"}`:                                   false,
		`{"sub":"u","exp":2100000000,"nbf":2000000015}`: true,
		`{"sub":"u","exp":2100000000,"nbf":2000000016}`: false,
		`{"sub":"u","exp":2100000000,"nbf":"1"}`:        false,
		`{"sub":"","exp":2100000000}`:                   false,
		`{"sub":42,"exp":2100000000}`:                   false,
		`{"exp":2100000000}`:                            false,
		`["sub"]`:                                       false,
		`null`:                                          false,
		`{"sub":"u","exp":null}`:                        false,
		`{"sub":"u","exp":2100000000,"iat":"later"}`:    false,
	} {
		if _, got := readClaims([]byte(payload), now); got != ok {
			t.Errorf("%s: ok = %v, want %v", payload, got, ok)
		}
	}
}

func TestRenew(t *testing.T) {
	v := loadVectors(t)
	now := time.Now()
	newest := "a-newer-secret-than-the-fixtures"
	for _, c := range []struct {
		name, cookie, token string
		header              string
	}{
		{"v5", "authjs.session-token", v.V5Rotated, `{"alg":"dir","enc":"A256CBC-HS512","kid":"` + New([]string{newest}, allNames).v5["authjs.session-token"]["A256CBC-HS512"][0].kid + `"}`},
		{"v4", "next-auth.session-token", v.V4, `{"alg":"dir","enc":"A256GCM"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			rd := New([]string{newest, v.Secret, "old-secret"}, allNames)
			tok, ok := rd.Read(request(cookie(c.cookie, c.token)), now)
			if !ok {
				t.Fatal("not read")
			}
			out, expires, err := rd.Renew(tok, now)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != 1 || out[0].Name != c.cookie || !out[0].HttpOnly || out[0].Path != "/" || out[0].SameSite != http.SameSiteLaxMode || out[0].Secure {
				t.Fatalf("cookies = %+v", out)
			}
			// The token's lifetime, exp less iat, is kept (100 years here).
			if want := now.Truncate(time.Second).Add(4949967755*time.Second - 1796367755*time.Second); !expires.Equal(want) || !out[0].Expires.Equal(want) {
				t.Errorf("expires %v, cookie %v; want %v", expires, out[0].Expires, want)
			}
			header, _ := base64.RawURLEncoding.DecodeString(strings.Split(out[0].Value, ".")[0])
			if string(header) != c.header {
				t.Errorf("header %s, want %s", header, c.header)
			}
			// Written with the newest secret: read without the old ones.
			again, ok := New([]string{newest}, allNames).Read(request(out[0]), now)
			if !ok || again.Subject != tok.Subject || !again.Expires.Equal(expires) {
				t.Fatalf("renewed token read as %+v, %v", again, ok)
			}
			for k, val := range tok.claims {
				if k != "iat" && k != "exp" && k != "jti" && string(again.claims[k]) != string(val) {
					t.Errorf("claim %s = %s, want %s", k, again.claims[k], val)
				}
			}
			if string(again.claims["jti"]) == string(tok.claims["jti"]) || string(again.claims["iat"]) != jsonInt(now.Unix()) {
				t.Errorf("jti %s (was %s), iat %s", again.claims["jti"], tok.claims["jti"], again.claims["iat"])
			}
		})
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestRenewChunks: a token too long for one cookie is written in Auth.js's
// chunks and read back joined; the cookies it came in and no longer needs
// are expired.
func TestRenewChunks(t *testing.T) {
	v := loadVectors(t)
	now := time.Now()
	rd := New([]string{v.Secret}, allNames)
	tok, ok := rd.Read(request(chunks("__Secure-authjs.session-token", v.V5Secure, 3)...), now)
	if !ok {
		t.Fatal("not read")
	}
	tok.claims["big"], _ = json.Marshal(strings.Repeat("x", 5000))
	out, _, err := rd.Renew(tok, now)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range out {
		names = append(names, c.Name)
		if !c.Secure {
			t.Errorf("%s is not Secure", c.Name)
		}
	}
	if want := "__Secure-authjs.session-token.0 __Secure-authjs.session-token.1 __Secure-authjs.session-token.2"; strings.Join(names, " ") != want {
		t.Fatalf("cookies %s, want %s", strings.Join(names, " "), want)
	}
	if len(out[0].Value) != v5ChunkSize {
		t.Errorf("chunk 0 is %d long, want %d", len(out[0].Value), v5ChunkSize)
	}
	again, ok := rd.Read(request(out...), now)
	if !ok || string(again.claims["big"]) != string(tok.claims["big"]) {
		t.Fatal("the chunked token is not read back")
	}
	// Smaller again: one whole cookie, and its three chunks expired.
	delete(again.claims, "big")
	out, _, err = rd.Renew(again, now)
	if err != nil {
		t.Fatal(err)
	}
	names = nil
	for _, c := range out {
		names = append(names, c.Name+map[bool]string{true: "(expired)"}[c.MaxAge < 0])
	}
	if want := "__Secure-authjs.session-token __Secure-authjs.session-token.0(expired) __Secure-authjs.session-token.1(expired) __Secure-authjs.session-token.2(expired)"; strings.Join(names, " ") != want {
		t.Fatalf("cookies %s, want %s", strings.Join(names, " "), want)
	}
}

func TestCSRF(t *testing.T) {
	v := loadVectors(t)
	rd := New([]string{v.Secret}, allNames)
	for _, name := range []string{"next-auth.csrf-token", "__Host-next-auth.csrf-token", "authjs.csrf-token", "__Host-authjs.csrf-token"} {
		r := request(cookie(name, v.CSRFCookie))
		if token, ok := rd.CSRFToken(r); !ok || token != v.CSRFToken {
			t.Errorf("%s: token %q, %v", name, token, ok)
		}
		if !rd.CSRFVerified(r, v.CSRFToken) || rd.CSRFVerified(r, "") || rd.CSRFVerified(r, strings.Repeat("0", 64)) {
			t.Errorf("%s: verified wrongly", name)
		}
	}
	// Unencoded "|" is read too; a wrong hash or secret is no token.
	raw := strings.Replace(v.CSRFCookie, "%7C", "|", 1)
	if !rd.CSRFVerified(request(cookie("next-auth.csrf-token", raw)), v.CSRFToken) {
		t.Error("unencoded | not read")
	}
	for name, r := range map[string]*http.Request{
		"other secret": request(cookie("next-auth.csrf-token", v.CSRFCookie)),
		"no cookie":    request(),
		"hash changed": request(cookie("next-auth.csrf-token", v.CSRFCookie[:len(v.CSRFCookie)-1]+"0")),
		"no hash":      request(cookie("next-auth.csrf-token", v.CSRFToken)),
		"other name":   request(cookie("csrf-token", v.CSRFCookie)),
	} {
		reader := rd
		if name == "other secret" {
			reader = New([]string{"another-secret-entirely-not-the-fixture"}, allNames)
		}
		if reader.CSRFVerified(r, v.CSRFToken) {
			t.Errorf("%s: verified", name)
		}
	}
	// Several secrets: Auth.js v5 hashes them comma-joined; a token minted
	// here is read back, and one made with any single one of them is read.
	rotated := New([]string{"new-secret", v.Secret}, allNames)
	if !rotated.CSRFVerified(request(cookie("authjs.csrf-token", v.CSRFCookie)), v.CSRFToken) {
		t.Error("a CSRF cookie of the older secret is not read")
	}
	token, c := rotated.NewCSRF(true, true)
	if c.Name != "__Host-authjs.csrf-token" || !c.Secure || !c.HttpOnly || c.Path != "/" || c.Value != token+"%7C"+csrfHash(token, "new-secret,"+v.Secret) {
		t.Errorf("new CSRF cookie %+v", c)
	}
	if !rotated.CSRFVerified(request(c), token) {
		t.Error("a minted CSRF cookie is not verified")
	}
	if _, c := rd.NewCSRF(false, false); c.Name != "next-auth.csrf-token" || c.Secure {
		t.Errorf("v4 http CSRF cookie %+v", c)
	}
}
