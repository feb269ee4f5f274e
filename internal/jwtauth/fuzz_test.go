package jwtauth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/freshgraph/freshgraph/internal/hasura"
)

// FuzzParseConfig checks, for any HASURA_GRAPHQL_JWT_SECRET, that ParseConfig
// never panics, returns either a Verifier or an error, never quotes the key
// in its error, and that a Verifier it returns never prints its key and can
// verify a token.
func FuzzParseConfig(f *testing.F) {
	rsa := testRSA(f)
	for _, seed := range []string{
		`{"type": "HS256", "key": "` + secret256 + `"}`,
		`{"type": "HS384", "key": "` + secret384 + `", "claims_namespace": "hasura", "claims_format": "stringified_json"}`,
		`{"type": "HS512", "key": "` + secret512 + `", "audience": ["a", "b"], "issuer": "https://issuer.example", "allowed_skew": 30}`,
		`{"type": "HS256", "key": "` + secret256 + `", "audience": "app", "header": {"type": "Authorization"}}`,
		configJSON(f, map[string]any{"type": "RS256", "key": rsa.pubPEM}),
		configJSON(f, map[string]any{"type": "RS256", "key": rsa.pkcs1}),
		configJSON(f, map[string]any{"type": "RS256", "key": rsa.certPEM}),
		configJSON(f, map[string]any{"type": "RS256", "key": rsa.privPEM}),
		`{"type": "HS256", "key": "too-short-secret-value"}`,
		`{"type": "ES256", "key": "` + secret256 + `"}`,
		`{"type": "` + secret256 + `", "key": "` + secret256 + `"}`,
		`{"jwk_url": "https://example.com/jwks.json"}`,
		`{"type": "HS256", "key": "` + secret256 + `", "claims_map": {"x-hasura-user-id": {"path": "$.sub"}}}`,
		`{"type": "HS256", "key": "` + secret256 + `", "header": {"type": "Cookie", "name": "jwt"}}`,
		`{"type": "HS256", "key": "` + secret256 + `", "allowed_skew": 1.5}`,
		`{"type": "HS256", "key": "` + secret256 + `", "audience": []}`,
		`{"type": "HS256", "key": "` + secret256 + `", "audience": [""]}`,
		`{"type": "HS256", "key": "` + secret256 + `"} trailing`,
		`{"type": "HS256", "key": 12345678901234567890123456789012}`,
		`{"type": "HS256", "key": "` + secret256 + `", "unknown": true}`,
		`{"TYPE": "HS256", "Key": "` + secret256 + `"}`,
		`[]`, `null`, `"HS256"`, ``, `{`, `{"type": "RS256", "key": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"}`,
	} {
		f.Add(seed)
	}
	// The message templates: a key that is part of them is not quoted.
	source, err := os.ReadFile("jwtauth.go")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		v, err := ParseConfig(text)
		if (v == nil) == (err == nil) {
			t.Fatalf("ParseConfig returned %v and %v", v, err)
		}
		key := configKey(text)
		if err != nil {
			const prefix = "invalid HASURA_GRAPHQL_JWT_SECRET: "
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Fatalf("error %q does not start with %q", err, prefix)
			}
			if len(key) >= 8 && strings.Contains(err.Error(), key) && !bytes.Contains(source, []byte(key)) && !echoedElsewhere(text, key) {
				t.Fatalf("error %q quotes the key", err)
			}
			return
		}
		if !slices.Contains([]string{"HS256", "HS384", "HS512", "RS256"}, v.Algorithm()) {
			t.Fatalf("verifier for algorithm %q", v.Algorithm())
		}
		printed := fmt.Sprintf("%v %+v %#v %s %q %x", v, v, v, v, v, v)
		if len(key) >= 8 && strings.Contains(printed, key) {
			t.Fatalf("printing the verifier shows the key: %s", printed)
		}
		// The verifier works: a token signed with its key (for HMAC) gets an
		// answer, whatever the other settings make of it.
		tok := "a.b.c"
		if strings.HasPrefix(v.Algorithm(), "HS") {
			tok = signRaw(v.Algorithm(), []byte(`{"alg":"`+v.Algorithm()+`","typ":"JWT"}`), []byte(validClaims), string(v.key.([]byte)))
		}
		role, claims, err := v.Verify(bearer(tok), "")
		checkVerifyResult(t, v, tok, "", role, claims, err)
	})
}

// configKey is the key the config text sets, as ParseConfig reads it ("" if
// it sets none or is not a JSON object).
func configKey(text string) string {
	var c struct {
		Key *string `json:"key"`
	}
	if json.NewDecoder(strings.NewReader(text)).Decode(&c) != nil || c.Key == nil {
		return ""
	}
	return *c.Key
}

// echoedElsewhere reports whether the key also appears where an error may
// quote the text: the type's value (describeType) or a setting's name.
func echoedElsewhere(text, key string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(text), &m) != nil {
		return true // not an object: any quoting comes from another value
	}
	for name, raw := range m {
		if strings.Contains(name, key) {
			return true
		}
		var s string
		if strings.EqualFold(name, "type") && json.Unmarshal(raw, &s) == nil && strings.Contains(s, key) {
			return true
		}
	}
	return false
}

// validClaims are Hasura claims valid until 2100.
const validClaims = `{"sub":"42","iat":1700000000,"exp":4102444800,"https://hasura.io/jwt/claims":{"x-hasura-allowed-roles":["user","editor"],"x-hasura-default-role":"user","x-hasura-user-id":"42"}}`

// signRaw builds a token from the exact header and payload bytes, signed
// with secret in the HMAC algorithm alg.
func signRaw(alg string, header, payload []byte, secret string) string {
	enc := base64.RawURLEncoding
	s := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	h := sha256.New
	switch alg {
	case "HS384":
		h = sha512.New384
	case "HS512":
		h = sha512.New
	}
	mac := hmac.New(h, []byte(secret))
	mac.Write([]byte(s))
	return s + "." + enc.EncodeToString(mac.Sum(nil))
}

// codes are the error codes Verify may fail with.
var codes = []hasura.Code{
	hasura.CodeInvalidHeaders, hasura.CodeInvalidJWT, hasura.CodeAccessDenied,
	hasura.CodeJWTInvalidClaims, hasura.CodeJWTMissingRoleClaims,
}

// checkVerifyResult checks what Verify returned for the token tok and the
// requested role: a *hasura.Error with one of Hasura's codes that quotes
// neither the token nor the key, or a role and claims that follow Hasura's
// rules.
func checkVerifyResult(t *testing.T, v *Verifier, tok, requested, role string, claims Claims, err error) {
	t.Helper()
	if err != nil {
		var he *hasura.Error
		if !errors.As(err, &he) {
			t.Fatalf("Verify failed with a %T, not a *hasura.Error: %v", err, err)
		}
		if !slices.Contains(codes, he.Code) {
			t.Fatalf("Verify failed with code %q: %v", he.Code, err)
		}
		if he.Path != "$" {
			t.Fatalf("Verify failed with path %q", he.Path)
		}
		if len(tok) >= 16 && strings.Contains(he.Message, tok) {
			t.Fatalf("error %q quotes the token", he.Message)
		}
		if k, ok := v.key.([]byte); ok && strings.Contains(he.Message, string(k)) {
			t.Fatalf("error %q quotes the key", he.Message)
		}
		if role != "" || claims.Vars != nil {
			t.Fatalf("Verify failed but returned role %q and claims %+v", role, claims)
		}
		return
	}
	want := requested
	if want == "" {
		want = claims.DefaultRole
	}
	switch {
	case role == "":
		t.Fatal("Verify succeeded with no role")
	case role != want:
		t.Fatalf("role %q, want %q (requested %q, default %q)", role, want, requested, claims.DefaultRole)
	case !slices.Contains(claims.AllowedRoles, role):
		t.Fatalf("role %q is not in the allowed roles %q", role, claims.AllowedRoles)
	case claims.DefaultRole == "" || slices.Contains(claims.AllowedRoles, ""):
		t.Fatalf("empty role name in %+v", claims)
	case claims.Vars[RoleVar] != role:
		t.Fatalf("x-hasura-role is %q, want %q", claims.Vars[RoleVar], role)
	case claims.UserID != claims.Vars[UserIDVar]:
		t.Fatalf("user id %q, but x-hasura-user-id is %q", claims.UserID, claims.Vars[UserIDVar])
	}
	for k := range claims.Vars {
		if k != strings.ToLower(k) || !strings.HasPrefix(k, "x-hasura-") || k == AllowedRolesClaim || k == DefaultRoleClaim {
			t.Fatalf("session variable %q", k)
		}
	}
}

// FuzzVerify checks, for any Authorization header and x-hasura-role, that
// Verify never panics and answers as checkVerifyResult requires.
func FuzzVerify(f *testing.F) {
	v := mustVerifier(f, map[string]any{"type": "HS256", "key": secret256})
	header := []byte(`{"alg":"HS256","typ":"JWT"}`)
	good := signRaw("HS256", header, []byte(validClaims), secret256)
	for _, seed := range []struct{ header, role string }{
		{bearer(good), ""},
		{bearer(good), "editor"},
		{bearer(good), "admin"},
		{"bearer " + good, "user"},
		{"Bearer  " + good, ""},
		{"Basic dXNlcjpwYXNz", ""},
		{bearer(tamper(good)), ""},
		{bearer(signRaw("HS384", []byte(`{"alg":"HS384","typ":"JWT"}`), []byte(validClaims), secret384)), ""},
		{bearer(base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(validClaims)) + "."), ""},
		{bearer("a.b.c"), ""},
		{bearer("...."), ""},
		{"Bearer ", ""},
		{"", ""},
	} {
		f.Add(seed.header, seed.role)
	}
	f.Fuzz(func(t *testing.T, header, requested string) {
		role, claims, err := v.Verify(header, requested)
		tok := header
		if len(tok) > 7 && strings.EqualFold(tok[:7], "bearer ") {
			tok = tok[7:]
		}
		checkVerifyResult(t, v, tok, requested, role, claims, err)
	})
}

// FuzzVerifyClaims signs any payload with the verifier's key, so that the
// claims parser is reached, and checks that Verify never panics, answers as
// checkVerifyResult requires, and agrees with hasuraRules: when it succeeds,
// on the role, the allowed and default roles and the session variables;
// when it refuses the claims, in refusing them too.
func FuzzVerifyClaims(f *testing.F) {
	plain := mustVerifier(f, map[string]any{"type": "HS256", "key": secret256})
	stringified := mustVerifier(f, map[string]any{"type": "HS256", "key": secret256, "claims_namespace": "hasura", "claims_format": "stringified_json"})
	for _, seed := range []struct {
		payload, role string
		stringified   bool
	}{
		{validClaims, "", false},
		{validClaims, "editor", false},
		{validClaims, "admin", false},
		{`{"https://hasura.io/jwt/claims":{"X-Hasura-Allowed-Roles":["user"],"X-Hasura-Default-Role":"user","X-HASURA-USER-ID":"7","x-hasura-user-id":"8","x-hasura-org-id":"1"}}`, "", false},
		{`{"https://hasura.io/jwt/claims":{"x-hasura-allowed-roles":"user","x-hasura-default-role":"user"}}`, "", false},
		{`{"https://hasura.io/jwt/claims":{"x-hasura-allowed-roles":["user",""],"x-hasura-default-role":"user"}}`, "", false},
		{`{"https://hasura.io/jwt/claims":{"x-hasura-allowed-roles":["user"],"x-hasura-default-role":"user","x-hasura-org-id":7}}`, "", false},
		{`{"https://hasura.io/jwt/claims":{"x-hasura-allowed-roles":["user"],"x-hasura-default-role":"user","x-hasura-role":"admin"}}`, "", false},
		{`{"https://hasura.io/jwt/claims":{"x-hasura-allowed-roles":["user"]}}`, "", false},
		{`{"https://hasura.io/jwt/claims":"{}"}`, "", false},
		{`{"https://hasura.io/jwt/claims":{"x-hasura-allowed-roles":["user"],"x-hasura-default-role":"user"},"exp":1}`, "", false},
		{`{"https://hasura.io/jwt/claims":{"x-hasura-allowed-roles":["user"],"x-hasura-default-role":"user"},"exp":"soon"}`, "", false},
		{`{"https://hasura.io/jwt/claims":{"x-hasura-allowed-roles":["user"],"x-hasura-default-role":"user"},"iat":4102444800}`, "", false},
		{`{"hasura":"{\"x-hasura-allowed-roles\":[\"user\",\"editor\"],\"x-hasura-default-role\":\"editor\",\"x-hasura-user-id\":\"42\"}"}`, "", true},
		{`{"hasura":"{\"x-hasura-allowed-roles\":[\"user\"],\"x-hasura-default-role\":\"user\"}"}`, "user", true},
		{`{"hasura":{"x-hasura-allowed-roles":["user"],"x-hasura-default-role":"user"}}`, "", true},
		{`{"hasura":"[1, 2]"}`, "", true},
		{`{"hasura":"not json"}`, "", true},
		{`{} trailing`, "", false},
		{`null`, "", false},
		{`[]`, "", false},
	} {
		f.Add([]byte(seed.payload), seed.role, seed.stringified)
	}
	header := []byte(`{"alg":"HS256","typ":"JWT"}`)
	f.Fuzz(func(t *testing.T, payload []byte, requested string, isStringified bool) {
		v := plain
		if isStringified {
			v = stringified
		}
		tok := signRaw("HS256", header, payload, secret256)
		role, claims, err := v.Verify(bearer(tok), requested)
		checkVerifyResult(t, v, tok, requested, role, claims, err)
		want, wantErr := hasuraRules(payload, v.namespace, v.stringified, requested)
		var he *hasura.Error
		switch {
		case err == nil && wantErr != "":
			t.Fatalf("Verify accepted claims that Hasura's rules refuse (%s): role %q, claims %+v", wantErr, role, claims)
		case err == nil:
			if role != want.role || !slices.Equal(claims.AllowedRoles, want.allowed) || claims.DefaultRole != want.defaultRole || !maps.Equal(claims.Vars, want.vars) {
				t.Fatalf("Verify: role %q, claims %+v; Hasura's rules: %+v", role, claims, want)
			}
		case errors.As(err, &he) && he.Code != hasura.CodeInvalidJWT && wantErr == "":
			t.Fatalf("Verify refused claims that Hasura's rules accept: %v; want %+v", err, want)
		}
	})
}

type hasuraResult struct {
	role, defaultRole string
	allowed           []string
	vars              map[string]string
}

// hasuraRules works out independently of Verify what Hasura makes of a
// payload whose signature and registered claims are valid: the role and
// session variables, or why the claims are refused.
func hasuraRules(payload []byte, namespace string, stringified bool, requested string) (hasuraResult, string) {
	var top map[string]any
	// The JWT library decodes the payload with a json.Decoder, which stops
	// after the first value.
	if json.NewDecoder(bytes.NewReader(payload)).Decode(&top) != nil {
		return hasuraResult{}, "not an object"
	}
	ns, ok := top[namespace]
	if !ok {
		return hasuraResult{}, "no namespace"
	}
	if stringified {
		s, ok := ns.(string)
		if !ok {
			return hasuraResult{}, "namespace not a string"
		}
		ns = nil
		_ = json.Unmarshal([]byte(s), &ns)
	}
	obj, ok := ns.(map[string]any)
	if !ok {
		return hasuraResult{}, "namespace not an object"
	}
	// Of keys equal but for case, the greatest one (in byte order) wins.
	keys := slices.Sorted(maps.Keys(obj))
	hc := map[string]any{}
	for _, k := range keys {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-hasura-") {
			hc[lk] = obj[k]
		}
	}
	list, ok := hc[AllowedRolesClaim].([]any)
	if !ok {
		return hasuraResult{}, "allowed roles not a list"
	}
	var r hasuraResult
	for _, item := range list {
		s, ok := item.(string)
		if !ok || s == "" {
			return hasuraResult{}, "allowed role not a name"
		}
		r.allowed = append(r.allowed, s)
	}
	if r.defaultRole, ok = hc[DefaultRoleClaim].(string); !ok || r.defaultRole == "" {
		return hasuraResult{}, "default role not a name"
	}
	r.role = requested
	if r.role == "" {
		r.role = r.defaultRole
	}
	if !slices.Contains(r.allowed, r.role) {
		return hasuraResult{}, "role not allowed"
	}
	r.vars = map[string]string{}
	for k, val := range hc {
		if k == AllowedRolesClaim || k == DefaultRoleClaim {
			continue
		}
		s, ok := val.(string)
		if !ok {
			return hasuraResult{}, "session variable " + k + " not a string"
		}
		r.vars[k] = s
	}
	r.vars[RoleVar] = r.role
	return r, ""
}
