// Package authjwt reads and renews the session cookie of Auth.js's JWT
// strategy, and checks and mints its CSRF cookie: the cookies Auth.js
// makes with its secret (AUTH_SECRET, NEXTAUTH_SECRET).
//
// The session cookie is a JWE whose subject is the signed-in user. Auth.js
// v5's (@auth/core) is dir + A256CBC-HS512, its key derived with HKDF
// salted by the cookie's name and named by its JWK thumbprint (kid);
// next-auth v4's is dir + A256GCM under one unsalted key. Either may be
// whole or chunked into name.0, name.1, … . Only the subject and the
// expiry are read: whatever profile the token carries is stale by design,
// and the user is read fresh by id.
package authjwt

import (
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
)

// Auth.js's own constants: the clock tolerance of its decode (for nbf), its default
// session maxAge, and the longest value its SessionStore puts in one cookie
// (4096 less its estimate of the attributes: 163 in v4, 160 in v5).
const (
	clockTolerance = 15 * time.Second
	defaultMaxAge  = 30 * 24 * time.Hour
	v4ChunkSize    = 4096 - 163
	v5ChunkSize    = 4096 - 160
)

// key is one content encryption key; kid is v5's name for it (v4's have
// none).
type key struct {
	bytes []byte
	kid   string
}

// Reader reads the JWT session cookies of the given names with the given
// secrets, newest first: a token of an older secret is still read, and a
// renewed one is written with the newest.
type Reader struct {
	names   []string
	secrets []string
	v4      []key // one per secret
	// v5 are per cookie name (the salt), then content encryption: Auth.js
	// writes A256CBC-HS512 and reads A256GCM too.
	v5 map[string]map[jose.ContentEncryption][]key
}

// New returns a Reader of the session cookies names; nil when there is no
// secret.
func New(secrets []string, names []string) *Reader {
	if len(secrets) == 0 {
		return nil
	}
	rd := &Reader{names: names, secrets: secrets, v5: map[string]map[jose.ContentEncryption][]key{}}
	for _, s := range secrets {
		rd.v4 = append(rd.v4, key{bytes: derive(s, "", "NextAuth.js Generated Encryption Key", 32)})
	}
	for _, name := range names {
		info := "Auth.js Generated Encryption Key (" + name + ")"
		keys := map[jose.ContentEncryption][]key{}
		for _, s := range secrets {
			for enc, length := range map[jose.ContentEncryption]int{jose.A256CBC_HS512: 64, jose.A256GCM: 32} {
				k := derive(s, name, info, length)
				keys[enc] = append(keys[enc], key{bytes: k, kid: thumbprint(k)})
			}
		}
		rd.v5[name] = keys
	}
	return rd
}

// derive is Auth.js's getDerivedEncryptionKey: HKDF-SHA256.
func derive(secret, salt, info string, length int) []byte {
	k, err := hkdf.Key(sha256.New, []byte(secret), []byte(salt), info, length)
	if err != nil {
		panic(err) // only for a length HKDF-SHA256 cannot give
	}
	return k
}

// thumbprint is a symmetric key's RFC 7638 JWK thumbprint, with the digest
// of the key's size as Auth.js takes it (jose's calculateJwkThumbprint):
// SHA-512 for the 64-byte key, SHA-256 for the 32-byte one.
func thumbprint(k []byte) string {
	jwk := `{"k":"` + base64.RawURLEncoding.EncodeToString(k) + `","kty":"oct"}`
	if len(k) == 64 {
		sum := sha512.Sum512([]byte(jwk))
		return base64.RawURLEncoding.EncodeToString(sum[:])
	}
	sum := sha256.Sum256([]byte(jwk))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Token is a valid session token read from a request.
type Token struct {
	Subject string
	Expires time.Time
	name    string // its cookie's name, unchunked
	v4      bool
	claims  map[string]json.RawMessage
	sent    []string // the names of the cookies that carried it
}

// Read returns the first of the request's session cookies that is a valid
// session token at now. A token that does not decrypt with any secret,
// has expired, or names no subject is none.
func (rd *Reader) Read(r *http.Request, now time.Time) (Token, bool) {
	if rd == nil {
		return Token{}, false
	}
	cookies := r.Cookies()
	for _, name := range rd.names {
		value, sent := cookieValue(cookies, name)
		if !Shaped(value) {
			continue
		}
		if t, ok := rd.decrypt(name, value, now); ok {
			t.sent = sent
			return t, true
		}
	}
	return Token{}, false
}

// Shaped reports whether v is shaped like a compact JWE, as a JWT
// strategy's session cookie is, whether or not it decrypts.
func Shaped(v string) bool { return strings.Count(v, ".") == 4 && strings.HasPrefix(v, "eyJ") }

func (rd *Reader) decrypt(name, token string, now time.Time) (Token, bool) {
	jwe, err := jose.ParseEncryptedCompact(token, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256CBC_HS512, jose.A256GCM})
	if err != nil {
		return Token{}, false
	}
	enc, _ := jwe.Header.ExtraHeaders["enc"].(string)
	candidates := rd.v5[name][jose.ContentEncryption(enc)]
	if kid := jwe.Header.KeyID; kid != "" {
		// As Auth.js: a kid names the secret; one that names none of ours is
		// not ours.
		candidates = slices.DeleteFunc(slices.Clone(candidates), func(k key) bool { return k.kid != kid })
	} else if jose.ContentEncryption(enc) == jose.A256GCM {
		candidates = append(slices.Clone(rd.v4), candidates...)
	}
	for _, k := range candidates {
		payload, err := jwe.Decrypt(k.bytes)
		if err != nil {
			continue
		}
		t, ok := readClaims(payload, now)
		t.name, t.v4 = name, k.kid == ""
		return t, ok
	}
	return Token{}, false
}

// readClaims reads a token's payload: its subject, and its expiry, which
// must not have passed; nor may its nbf be ahead, and its dates are
// numbers.
func readClaims(payload []byte, now time.Time) (Token, bool) {
	var claims map[string]json.RawMessage
	if json.Unmarshal(payload, &claims) != nil || claims == nil {
		return Token{}, false
	}
	var sub string
	if json.Unmarshal(claims["sub"], &sub) != nil || sub == "" {
		return Token{}, false
	}
	// Auth.js always writes exp: a token without one is not its session.
	// The session ends at exp, without Auth.js's tolerance of 15 s (for
	// its servers' clocks): the caller's session ends when its role does.
	exp, hasExp, ok := numericDate(claims["exp"])
	if !ok || !hasExp || !now.Before(exp) {
		return Token{}, false
	}
	t := Token{Subject: sub, Expires: exp, claims: claims}
	if nbf, hasNbf, ok := numericDate(claims["nbf"]); !ok || hasNbf && nbf.After(now.Add(clockTolerance)) {
		return Token{}, false
	}
	if _, _, ok := numericDate(claims["iat"]); !ok {
		return Token{}, false
	}
	return t, true
}

// numericDate reads a JWT NumericDate claim: absent is fine, anything but
// a number is not (jose refuses the token).
func numericDate(raw json.RawMessage) (time.Time, bool, bool) {
	if raw == nil {
		return time.Time{}, false, true
	}
	seconds, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return time.Time{}, false, false
	}
	return time.Unix(int64(seconds), 0), true, true
}

// Renew is what Auth.js's session endpoint sends back for a token it read:
// the same claims, issued now and expiring after the same lifetime (the
// token's exp less its iat: the app's session maxAge), encrypted with the
// newest secret in the token's own format, in as many chunks as Auth.js
// would write, and the stale chunks expired. It returns the cookies and the
// new expiry.
func (rd *Reader) Renew(t Token, now time.Time) ([]*http.Cookie, time.Time, error) {
	maxAge := defaultMaxAge
	exp, hasExp, _ := numericDate(t.claims["exp"])
	iat, hasIat, _ := numericDate(t.claims["iat"])
	if hasExp && hasIat && exp.After(iat) {
		maxAge = exp.Sub(iat)
	}
	now = now.Truncate(time.Second)
	expires := now.Add(maxAge)
	claims := make(map[string]json.RawMessage, len(t.claims)+3)
	for k, v := range t.claims {
		claims[k] = v
	}
	claims["iat"] = json.RawMessage(strconv.FormatInt(now.Unix(), 10))
	claims["exp"] = json.RawMessage(strconv.FormatInt(expires.Unix(), 10))
	jti, _ := json.Marshal(uuid.NewString())
	claims["jti"] = jti
	payload, err := json.Marshal(claims)
	if err != nil {
		return nil, time.Time{}, err
	}
	enc, k, chunkSize := jose.A256CBC_HS512, rd.v5[t.name][jose.A256CBC_HS512][0], v5ChunkSize
	if t.v4 {
		enc, k, chunkSize = jose.A256GCM, rd.v4[0], v4ChunkSize
	}
	encrypter, err := jose.NewEncrypter(enc, jose.Recipient{Algorithm: jose.DIRECT, Key: k.bytes, KeyID: k.kid}, nil)
	if err != nil {
		return nil, time.Time{}, err
	}
	jwe, err := encrypter.Encrypt(payload)
	if err != nil {
		return nil, time.Time{}, err
	}
	token, err := jwe.CompactSerialize()
	if err != nil {
		return nil, time.Time{}, err
	}
	secure := strings.HasPrefix(t.name, "__Secure-") || strings.HasPrefix(t.name, "__Host-")
	cookie := func(name, value string) *http.Cookie {
		return &http.Cookie{Name: name, Value: value, Path: "/", Expires: expires, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure}
	}
	var out []*http.Cookie
	if len(token) <= chunkSize {
		out = append(out, cookie(t.name, token))
	} else {
		for i := 0; i*chunkSize < len(token); i++ {
			out = append(out, cookie(t.name+"."+strconv.Itoa(i), token[i*chunkSize:min(len(token), (i+1)*chunkSize)]))
		}
	}
	for _, name := range t.sent {
		if !slices.ContainsFunc(out, func(c *http.Cookie) bool { return c.Name == name }) {
			stale := cookie(name, "")
			stale.Expires, stale.MaxAge = time.Time{}, -1
			out = append(out, stale)
		}
	}
	return out, expires, nil
}

// cookieValue is the value of the cookie name, whole or joined from its
// chunks name.0, name.1, … in order (Auth.js's SessionStore splits a token
// over 4 KB so), and the names of the cookies it came from.
func cookieValue(cookies []*http.Cookie, name string) (string, []string) {
	var whole string
	var sent []string
	chunks := map[int]string{}
	for _, c := range cookies {
		switch {
		case c.Name == name:
			if whole == "" {
				whole = c.Value
				sent = append(sent, c.Name)
			}
		case strings.HasPrefix(c.Name, name+"."):
			i, err := strconv.Atoi(c.Name[len(name)+1:])
			if err != nil || i < 0 || i >= 64 {
				continue
			}
			if _, dup := chunks[i]; !dup {
				chunks[i] = c.Value
				sent = append(sent, c.Name)
			}
		}
	}
	if len(chunks) == 0 {
		return whole, sent
	}
	var b strings.Builder
	for i := range len(chunks) {
		part, ok := chunks[i]
		if !ok {
			return "", sent // a chunk is missing
		}
		b.WriteString(part)
	}
	return b.String(), sent
}
