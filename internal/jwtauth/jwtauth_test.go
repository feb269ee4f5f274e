package jwtauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/freshgraph/freshgraph/internal/hasura"
)

// Secrets of exactly the minimum length for each algorithm.
const (
	secret256 = "hs256-secret-0123456789abcdefXYZ"                                   // 32 bytes
	secret384 = "hs384-secret-0123456789abcdefghijklmnopqrstuvXYZ"                   // 48 bytes
	secret512 = "hs512-secret-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNXYZ" // 64 bytes
)

type rsaFixture struct {
	priv    *rsa.PrivateKey
	pubPEM  string // PKIX "PUBLIC KEY"
	pkcs1   string // PKCS #1 "RSA PUBLIC KEY"
	certPEM string // self-signed certificate
	privPEM string // PKCS #8 "PRIVATE KEY"
}

var (
	rsaOnce sync.Once
	rsaFix  rsaFixture
)

// testRSA generates one RSA key (and its PEM forms) for the whole test binary.
func testRSA(t testing.TB) rsaFixture {
	t.Helper()
	rsaOnce.Do(func() {
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		pkix1, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: "freshgraph test"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
		if err != nil {
			panic(err)
		}
		p8, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			panic(err)
		}
		rsaFix = rsaFixture{
			priv:    priv,
			pubPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix1})),
			pkcs1:   string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&priv.PublicKey)})),
			certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
			privPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})),
		}
	})
	return rsaFix
}

// configJSON marshals a config object, so PEM newlines are escaped properly.
func configJSON(t testing.TB, m map[string]any) string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustVerifier(t testing.TB, m map[string]any) *Verifier {
	t.Helper()
	v, err := ParseConfig(configJSON(t, m))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	return v
}

func sign(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// unsigned builds an "alg": "none" token by hand.
func unsigned(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	enc := base64.RawURLEncoding
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc.EncodeToString(body) + "."
}

// claimsWith returns a valid payload (exp in an hour) with the standard
// Hasura claims under the default namespace, then applies the edits.
func claimsWith(edits ...func(c jwt.MapClaims, h map[string]any)) jwt.MapClaims {
	now := time.Now()
	h := map[string]any{
		"x-hasura-allowed-roles": []any{"user", "editor"},
		"x-hasura-default-role":  "user",
		"x-hasura-user-id":       "42",
		"x-hasura-org-id":        "7",
	}
	c := jwt.MapClaims{
		"sub":                  "42",
		"iat":                  now.Unix(),
		"exp":                  now.Add(time.Hour).Unix(),
		DefaultClaimsNamespace: h,
	}
	for _, e := range edits {
		e(c, h)
	}
	return c
}

func bearer(tok string) string { return "Bearer " + tok }

func TestVerify(t *testing.T) {
	r := testRSA(t)
	now := time.Now()
	exp := now.Add(time.Hour).Truncate(time.Second)

	hs256 := mustVerifier(t, map[string]any{"type": "HS256", "key": secret256})
	hs384 := mustVerifier(t, map[string]any{"type": "HS384", "key": secret384})
	hs512 := mustVerifier(t, map[string]any{"type": "HS512", "key": secret512})
	rsPub := mustVerifier(t, map[string]any{"type": "RS256", "key": r.pubPEM})
	rsCert := mustVerifier(t, map[string]any{"type": "RS256", "key": r.certPEM})
	rsPKCS1 := mustVerifier(t, map[string]any{"type": "RS256", "key": r.pkcs1})
	skewed := mustVerifier(t, map[string]any{"type": "HS256", "key": secret256, "allowed_skew": 60})
	withAud := mustVerifier(t, map[string]any{"type": "HS256", "key": secret256, "audience": []string{"freshgraph", "other-api"}})
	withOneAud := mustVerifier(t, map[string]any{"type": "HS256", "key": secret256, "audience": "freshgraph"})
	withIss := mustVerifier(t, map[string]any{"type": "HS256", "key": secret256, "issuer": "https://auth.example.com"})
	customNS := mustVerifier(t, map[string]any{"type": "HS256", "key": secret256, "claims_namespace": "hasura"})
	stringified := mustVerifier(t, map[string]any{"type": "HS256", "key": secret256, "claims_format": "stringified_json"})

	hsTok := func(edits ...func(jwt.MapClaims, map[string]any)) string {
		return sign(t, jwt.SigningMethodHS256, []byte(secret256), claimsWith(edits...))
	}
	setExp := func(c jwt.MapClaims, _ map[string]any) { c["exp"] = exp.Unix() }
	noExp := func(c jwt.MapClaims, _ map[string]any) { delete(c, "exp") }
	set := func(k string, val any) func(jwt.MapClaims, map[string]any) {
		return func(c jwt.MapClaims, _ map[string]any) { c[k] = val }
	}
	setH := func(k string, val any) func(jwt.MapClaims, map[string]any) {
		return func(_ jwt.MapClaims, h map[string]any) { h[k] = val }
	}
	delH := func(k string) func(jwt.MapClaims, map[string]any) {
		return func(_ jwt.MapClaims, h map[string]any) { delete(h, k) }
	}
	moveNS := func(to string, stringify bool) func(jwt.MapClaims, map[string]any) {
		return func(c jwt.MapClaims, h map[string]any) {
			delete(c, DefaultClaimsNamespace)
			if stringify {
				b, _ := json.Marshal(h)
				c[to] = string(b)
			} else {
				c[to] = h
			}
		}
	}

	wantVars := map[string]string{"x-hasura-user-id": "42", "x-hasura-org-id": "7", "x-hasura-role": "user"}
	okClaims := Claims{AllowedRoles: []string{"user", "editor"}, DefaultRole: "user", UserID: "42", Vars: wantVars}

	const (
		invalidJWT = hasura.CodeInvalidJWT
		headers    = hasura.CodeInvalidHeaders
		denied     = hasura.CodeAccessDenied
		badClaims  = hasura.CodeJWTInvalidClaims
		roleClaims = hasura.CodeJWTMissingRoleClaims
	)

	tests := []struct {
		name     string
		v        *Verifier
		header   string
		role     string
		wantRole string
		want     *Claims // checked when no error is expected
		wantCode hasura.Code
		wantMsg  string
	}{
		// Valid tokens, every algorithm and key form.
		{name: "HS256 default role", v: hs256, header: bearer(hsTok(setExp)), wantRole: "user",
			want: &Claims{AllowedRoles: okClaims.AllowedRoles, DefaultRole: "user", UserID: "42", Vars: wantVars, Expires: exp}},
		{name: "HS384", v: hs384, header: bearer(sign(t, jwt.SigningMethodHS384, []byte(secret384), claimsWith(setExp))), wantRole: "user",
			want: &Claims{AllowedRoles: okClaims.AllowedRoles, DefaultRole: "user", UserID: "42", Vars: wantVars, Expires: exp}},
		{name: "HS512", v: hs512, header: bearer(sign(t, jwt.SigningMethodHS512, []byte(secret512), claimsWith(setExp))), wantRole: "user",
			want: &Claims{AllowedRoles: okClaims.AllowedRoles, DefaultRole: "user", UserID: "42", Vars: wantVars, Expires: exp}},
		{name: "RS256 public key", v: rsPub, header: bearer(sign(t, jwt.SigningMethodRS256, r.priv, claimsWith(setExp))), wantRole: "user",
			want: &Claims{AllowedRoles: okClaims.AllowedRoles, DefaultRole: "user", UserID: "42", Vars: wantVars, Expires: exp}},
		{name: "RS256 certificate", v: rsCert, header: bearer(sign(t, jwt.SigningMethodRS256, r.priv, claimsWith(noExp))), wantRole: "user",
			want: &okClaims},
		{name: "RS256 PKCS1 public key", v: rsPKCS1, header: bearer(sign(t, jwt.SigningMethodRS256, r.priv, claimsWith(noExp))), wantRole: "user",
			want: &okClaims},
		{name: "requested role allowed", v: hs256, header: bearer(hsTok(noExp)), role: "editor", wantRole: "editor",
			want: &Claims{AllowedRoles: okClaims.AllowedRoles, DefaultRole: "user", UserID: "42",
				Vars: map[string]string{"x-hasura-user-id": "42", "x-hasura-org-id": "7", "x-hasura-role": "editor"}}},
		{name: "lower-case bearer", v: hs256, header: "bearer " + hsTok(noExp), wantRole: "user", want: &okClaims},
		{name: "upper-case bearer", v: hs256, header: "BEARER " + hsTok(noExp), wantRole: "user", want: &okClaims},
		{name: "claim keys case-insensitive", v: hs256, wantRole: "user", want: &okClaims,
			header: bearer(sign(t, jwt.SigningMethodHS256, []byte(secret256), jwt.MapClaims{DefaultClaimsNamespace: map[string]any{
				"X-Hasura-Allowed-Roles": []any{"user", "editor"},
				"X-HASURA-DEFAULT-ROLE":  "user",
				"X-Hasura-User-Id":       "42",
				"x-Hasura-Org-ID":        "7",
				"not-hasura":             123, // ignored, whatever its type
			}}))},
		{name: "token's own x-hasura-role is replaced", v: hs256, header: bearer(hsTok(noExp, setH("x-hasura-role", "admin"))), wantRole: "user", want: &okClaims},
		{name: "exp within allowed skew", v: skewed, header: bearer(hsTok(set("exp", now.Add(-10*time.Second).Unix()))), wantRole: "user"},
		{name: "nbf within allowed skew", v: skewed, header: bearer(hsTok(set("nbf", now.Add(10*time.Second).Unix()))), wantRole: "user"},
		{name: "audience matches one of several", v: withAud, header: bearer(hsTok(set("aud", []string{"x", "other-api"}))), wantRole: "user"},
		{name: "audience as a string", v: withOneAud, header: bearer(hsTok(set("aud", "freshgraph"))), wantRole: "user"},
		{name: "issuer matches", v: withIss, header: bearer(hsTok(set("iss", "https://auth.example.com"))), wantRole: "user"},
		{name: "custom namespace", v: customNS, header: bearer(hsTok(noExp, moveNS("hasura", false))), wantRole: "user", want: &okClaims},
		{name: "stringified_json", v: stringified, header: bearer(hsTok(noExp, moveNS(DefaultClaimsNamespace, true))), wantRole: "user", want: &okClaims},

		// Roles.
		{name: "requested role not allowed", v: hs256, header: bearer(hsTok()), role: "admin",
			wantCode: denied, wantMsg: "Your requested role is not in allowed roles"},
		{name: "default role not allowed", v: hs256, header: bearer(hsTok(setH("x-hasura-default-role", "admin"))),
			wantCode: denied, wantMsg: "Your requested role is not in allowed roles"},
		{name: "role names are case-sensitive", v: hs256, header: bearer(hsTok()), role: "User",
			wantCode: denied, wantMsg: "Your requested role is not in allowed roles"},

		// Time claims.
		{name: "expired", v: hs256, header: bearer(hsTok(set("exp", now.Add(-10*time.Second).Unix()))),
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWTExpired"},
		{name: "expired beyond allowed skew", v: skewed, header: bearer(hsTok(set("exp", now.Add(-2*time.Minute).Unix()))),
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWTExpired"},
		{name: "nbf in the future", v: hs256, header: bearer(hsTok(set("nbf", now.Add(time.Hour).Unix()))),
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWTNotYetValid"},
		{name: "iat in the future", v: hs256, header: bearer(hsTok(set("iat", now.Add(time.Hour).Unix()))),
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWTIssuedAtFuture"},
		{name: "expired and not yet valid reports exp first", v: hs256,
			header:   bearer(hsTok(set("exp", now.Add(-time.Hour).Unix()), set("nbf", now.Add(time.Hour).Unix()))),
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWTExpired"},
		{name: "exp of the wrong type", v: hs256, header: bearer(hsTok(set("exp", "tomorrow"))),
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWTClaimsSetDecodeError"},

		// Signature and algorithm.
		{name: "bad signature", v: hs256, header: bearer(sign(t, jwt.SigningMethodHS256, []byte(secret256+"-other"), claimsWith())),
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWSError JWSInvalidSignature"},
		{name: "tampered payload", v: hs256, header: bearer(tamper(hsTok())),
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWSError JWSInvalidSignature"},
		{name: "alg none", v: hs256, header: bearer(unsigned(t, claimsWith())),
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWSError JWSNoSignatures"},
		{name: "alg none against RS256", v: rsPub, header: bearer(unsigned(t, claimsWith())),
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWSError JWSNoSignatures"},
		{name: "RS256 token against HS256 config", v: hs256, header: bearer(sign(t, jwt.SigningMethodRS256, r.priv, claimsWith())),
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWSError JWSInvalidSignature"},
		{name: "HS256 token signed with the RSA public key against RS256 config", v: rsPub,
			header:   bearer(sign(t, jwt.SigningMethodHS256, []byte(r.pubPEM), claimsWith())),
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWSError JWSInvalidSignature"},
		{name: "HS256 token signed with the certificate against RS256 config", v: rsCert,
			header:   bearer(sign(t, jwt.SigningMethodHS256, []byte(r.certPEM), claimsWith())),
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWSError JWSInvalidSignature"},
		{name: "HS384 token against HS256 config", v: hs256, header: bearer(sign(t, jwt.SigningMethodHS384, []byte(secret256), claimsWith())),
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWSError JWSInvalidSignature"},
		{name: "not a JWT", v: hs256, header: "Bearer abc",
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWSError CompactDecodeError"},
		{name: "bad base64", v: hs256, header: "Bearer a!b.c.d",
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWSError CompactDecodeError"},
		{name: "unknown alg", v: hs256, header: bearer(withHeader(t, `{"alg":"HS1","typ":"JWT"}`, hsTok())),
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWSError CompactDecodeError"},

		// Audience and issuer.
		{name: "wrong audience", v: withAud, header: bearer(hsTok(set("aud", "someone-else"))),
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWTNotInAudience"},
		{name: "missing audience", v: withAud, header: bearer(hsTok()),
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWTNotInAudience"},
		{name: "wrong issuer", v: withIss, header: bearer(hsTok(set("iss", "https://evil.example.com"))),
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWTNotInIssuer"},
		{name: "missing issuer", v: withIss, header: bearer(hsTok()),
			wantCode: invalidJWT, wantMsg: "Could not verify JWT: JWTNotInIssuer"},

		// Claims.
		{name: "missing namespace", v: hs256, header: bearer(hsTok(moveNS("elsewhere", false))),
			wantCode: badClaims, wantMsg: "claims key: 'https://hasura.io/jwt/claims' not found"},
		{name: "missing custom namespace", v: customNS, header: bearer(hsTok()),
			wantCode: badClaims, wantMsg: "claims key: 'hasura' not found"},
		{name: "namespace not an object", v: hs256, header: bearer(hsTok(set(DefaultClaimsNamespace, "x"))),
			wantCode: badClaims, wantMsg: "expecting a json object when claims_format is json"},
		{name: "stringified_json given an object", v: stringified, header: bearer(hsTok()),
			wantCode: badClaims, wantMsg: "expecting a string when claims_format is stringified_json"},
		{name: "stringified_json not JSON", v: stringified, header: bearer(hsTok(set(DefaultClaimsNamespace, "{nope"))),
			wantCode: badClaims, wantMsg: "expecting stringified json at: 'claims_namespace https://hasura.io/jwt/claims'"},
		{name: "stringified_json not an object", v: stringified, header: bearer(hsTok(set(DefaultClaimsNamespace, "null"))),
			wantCode: badClaims, wantMsg: "expecting stringified json at: 'claims_namespace https://hasura.io/jwt/claims'"},
		{name: "missing allowed roles", v: hs256, header: bearer(hsTok(delH("x-hasura-allowed-roles"))),
			wantCode: roleClaims, wantMsg: "JWT claim does not contain x-hasura-allowed-roles"},
		{name: "missing default role", v: hs256, header: bearer(hsTok(delH("x-hasura-default-role"))),
			wantCode: roleClaims, wantMsg: "JWT claim does not contain x-hasura-default-role"},
		{name: "missing both role claims reports allowed roles", v: hs256,
			header:   bearer(hsTok(delH("x-hasura-default-role"), delH("x-hasura-allowed-roles"))),
			wantCode: roleClaims, wantMsg: "JWT claim does not contain x-hasura-allowed-roles"},
		{name: "allowed roles not a list", v: hs256, header: bearer(hsTok(setH("x-hasura-allowed-roles", "user"))),
			wantCode: badClaims, wantMsg: "invalid x-hasura-allowed-roles; should be a list of roles: Error in $: parsing [] failed, expected Array, but encountered String"},
		{name: "allowed role not a string", v: hs256, header: bearer(hsTok(setH("x-hasura-allowed-roles", []any{"user", 3}))),
			wantCode: badClaims, wantMsg: "invalid x-hasura-allowed-roles; should be a list of roles: Error in $[1]: parsing Text failed, expected String, but encountered Number"},
		{name: "default role not a string", v: hs256, header: bearer(hsTok(setH("x-hasura-default-role", []any{"user"}))),
			wantCode: badClaims, wantMsg: "invalid x-hasura-default-role; should be a single role name: Error in $: parsing Text failed, expected String, but encountered Array"},
		{name: "empty default role", v: hs256, header: bearer(hsTok(setH("x-hasura-default-role", ""))),
			wantCode: badClaims, wantMsg: "invalid x-hasura-default-role; should be a single role name: Error in $: empty role name"},
		{name: "keys equal but for case: the greatest key wins", v: hs256, header: bearer(hsTok(noExp, setH("X-Hasura-User-Id", 1))),
			wantRole: "user", want: &okClaims},
		{name: "session variable not a string", v: hs256, header: bearer(hsTok(setH("x-hasura-user-id", 42))),
			wantCode: badClaims, wantMsg: "x-hasura-* claims: Error in $['x-hasura-user-id']: parsing Text failed, expected String, but encountered Number"},

		// Malformed Authorization headers.
		{name: "empty header", v: hs256, header: "", wantCode: headers, wantMsg: "Malformed Authorization header"},
		{name: "Basic", v: hs256, header: "Basic x", wantCode: headers, wantMsg: "Malformed Authorization header"},
		{name: "Bearer alone", v: hs256, header: "Bearer", wantCode: headers, wantMsg: "Malformed Authorization header"},
		{name: "Bearer and a space", v: hs256, header: "Bearer ", wantCode: headers, wantMsg: "Malformed Authorization header"},
		{name: "two tokens", v: hs256, header: "Bearer a b", wantCode: headers, wantMsg: "Malformed Authorization header"},
		{name: "two spaces", v: hs256, header: "Bearer  " + hsTok(), wantCode: headers, wantMsg: "Malformed Authorization header"},
		{name: "tab", v: hs256, header: "Bearer\t" + hsTok(), wantCode: headers, wantMsg: "Malformed Authorization header"},
		{name: "trailing space", v: hs256, header: bearer(hsTok()) + " ", wantCode: headers, wantMsg: "Malformed Authorization header"},
		{name: "no scheme", v: hs256, header: hsTok(), wantCode: headers, wantMsg: "Malformed Authorization header"},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			role, claims, err := tc.v.Verify(tc.header, tc.role)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("Verify: unexpected error %v", err)
				}
				if role != tc.wantRole {
					t.Errorf("role = %q, want %q", role, tc.wantRole)
				}
				if tc.want != nil {
					checkClaims(t, claims, *tc.want)
				}
				return
			}
			if role != "" {
				t.Errorf("role = %q on error, want empty", role)
			}
			var he *hasura.Error
			if !errors.As(err, &he) {
				t.Fatalf("error = %#v (%v), want *hasura.Error", err, err)
			}
			if he.Code != tc.wantCode || he.Message != tc.wantMsg || he.Path != "$" {
				t.Errorf("error = {%s %q %q}, want {%s %q \"$\"}", he.Code, he.Message, he.Path, tc.wantCode, tc.wantMsg)
			}
			for _, secret := range []string{secret256, secret384, secret512, r.pubPEM} {
				if strings.Contains(he.Message, secret) {
					t.Errorf("message contains a key")
				}
			}
			if tok, ok := strings.CutPrefix(tc.header, "Bearer "); ok && len(tok) > 8 && strings.Contains(he.Message, tok) {
				t.Errorf("message contains the token")
			}
		})
	}
}

func checkClaims(t *testing.T, got, want Claims) {
	t.Helper()
	if !slices.Equal(got.AllowedRoles, want.AllowedRoles) {
		t.Errorf("AllowedRoles = %q, want %q", got.AllowedRoles, want.AllowedRoles)
	}
	if got.DefaultRole != want.DefaultRole {
		t.Errorf("DefaultRole = %q, want %q", got.DefaultRole, want.DefaultRole)
	}
	if got.UserID != want.UserID {
		t.Errorf("UserID = %q, want %q", got.UserID, want.UserID)
	}
	if fmt.Sprint(got.Vars) != fmt.Sprint(want.Vars) { // fmt sorts map keys
		t.Errorf("Vars = %v, want %v", got.Vars, want.Vars)
	}
	if !got.Expires.Equal(want.Expires) {
		t.Errorf("Expires = %v, want %v", got.Expires, want.Expires)
	}
}

// tamper flips the payload of a signed token to one granting admin.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		panic(err)
	}
	body = []byte(strings.Replace(string(body), `"user","editor"`, `"user","admin"`, 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(body)
	return strings.Join(parts, ".")
}

// withHeader replaces a token's JOSE header.
func withHeader(t testing.TB, header, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	parts[0] = base64.RawURLEncoding.EncodeToString([]byte(header))
	return strings.Join(parts, ".")
}

func TestParseConfig(t *testing.T) {
	r := testRSA(t)
	v := mustVerifier(t, map[string]any{"type": "HS256", "key": secret256})
	if v.Algorithm() != "HS256" || v.namespace != DefaultClaimsNamespace || v.stringified || v.audience != nil || v.issuer != "" {
		t.Errorf("defaults: %+v", *v)
	}
	v = mustVerifier(t, map[string]any{
		"type": "RS256", "key": r.certPEM, "claims_namespace": "ns", "claims_format": "stringified_json",
		"audience": "a", "issuer": "i", "allowed_skew": 5, "header": map[string]any{"type": "Authorization"},
	})
	if v.Algorithm() != "RS256" || v.namespace != "ns" || !v.stringified || !slices.Equal(v.audience, []string{"a"}) || v.issuer != "i" {
		t.Errorf("settings not applied: %v", v)
	}
	if _, ok := v.key.(*rsa.PublicKey); !ok {
		t.Errorf("key is %T", v.key)
	}
	// An RSA key whose PEM text has surrounding blank lines still parses.
	mustVerifier(t, map[string]any{"type": "RS256", "key": "\n\n" + r.pubPEM + "\n"})
}

func TestParseConfigErrors(t *testing.T) {
	r := testRSA(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER}))
	smallN := new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 511), big.NewInt(1)) // a 512-bit modulus
	smallPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsa.PublicKey{N: smallN, E: 65537})}))
	garbagePEM := "-----BEGIN PUBLIC KEY-----\nc2VjcmV0LWJ5dGVzLXRoYXQtYXJlLW5vdC1hLWtleQ==\n-----END PUBLIC KEY-----\n"

	const short = "short-secret-DO-NOT-LEAK" // 24 bytes
	const prefix = "invalid HASURA_GRAPHQL_JWT_SECRET: "
	tests := []struct {
		name    string
		json    string
		wantMsg string
		secrets []string // must not appear in the message
	}{
		{"empty", "  ", prefix + `it is empty; expected a JSON object such as {"type": "HS256", "key": "..."}`, nil},
		{"bad JSON", `{"type": "HS256", "key": "` + secret256 + `" "x"}`, prefix + "not valid JSON (syntax error at byte 61)", []string{secret256}},
		{"bad escape in key", `{"type": "HS256", "key": "abc\qhidden"}`, prefix + "not valid JSON (syntax error at byte 31)", []string{"q", "hidden"}},
		{"truncated JSON", `{"type": "HS256", "key": "` + secret256, prefix + "not valid JSON (unexpected end of input)", []string{secret256}},
		{"trailing text", `{"type": "HS256", "key": "` + secret256 + `"} x`, prefix + "unexpected text after the JSON object", []string{secret256}},
		{"bare string", `"` + secret256 + `"`, prefix + "expected a JSON object, found a JSON string", []string{secret256}},
		{"key as a number", `{"type": "HS256", "key": 12345678901234567890123456789012345}`, prefix + "key must not be a JSON number", []string{"12345678901234567890"}},
		{"unknown field", `{"type": "HS256", "key": "` + secret256 + `", "audiance": "x"}`, prefix + `unknown setting "audiance"`, []string{secret256}},
		{"missing type", `{"key": "` + secret256 + `"}`, prefix + "type is required (HS256, HS384, HS512 or RS256)", []string{secret256}},
		{"missing key", `{"type": "HS256"}`, prefix + "key is required: the HS256 shared secret", nil},
		{"unknown type", `{"type": "RS384", "key": "` + secret256 + `"}`, prefix + `type "RS384" is not supported; use HS256, HS384, HS512 or RS256`, []string{secret256}},
		{"key in the type field", `{"type": "` + secret256 + `", "key": "x"}`, prefix + "type (value not shown) is not supported; use HS256, HS384, HS512 or RS256", []string{secret256}},
		{"short HS256 key", `{"type": "HS256", "key": "` + short + `"}`, prefix + "the HS256 key is too short (24 bytes); it must be at least 32 bytes long", []string{short}},
		{"short HS384 key", `{"type": "HS384", "key": "` + secret256 + `"}`, prefix + "the HS384 key is too short (32 bytes); it must be at least 48 bytes long", []string{secret256}},
		{"short HS512 key", `{"type": "HS512", "key": "` + secret384 + `"}`, prefix + "the HS512 key is too short (48 bytes); it must be at least 64 bytes long", []string{secret384}},
		{"RS256 key not PEM", `{"type": "RS256", "key": "` + secret256 + `"}`, prefix + "RS256 key: not PEM-encoded; expected -----BEGIN PUBLIC KEY----- or -----BEGIN CERTIFICATE-----", []string{secret256}},
		{"RS256 key bad PEM body", configJSON(t, map[string]any{"type": "RS256", "key": garbagePEM}), prefix + "RS256 key: the PUBLIC KEY block is not a valid PKIX public key", []string{"c2VjcmV0"}},
		{"RS256 private key", configJSON(t, map[string]any{"type": "RS256", "key": r.privPEM}), prefix + "RS256 key: a private key was given; configure the public key or certificate instead", []string{r.privPEM[30:60]}},
		{"RS256 EC key", configJSON(t, map[string]any{"type": "RS256", "key": ecPEM}), prefix + "RS256 key: the key is a *ecdsa.PublicKey, not an RSA public key", nil},
		{"RS256 small key", configJSON(t, map[string]any{"type": "RS256", "key": smallPEM}), prefix + "RS256 key: the RSA key has 512 bits; at least 1024 are required", nil},
		{"RS256 empty key", `{"type": "RS256", "key": ""}`, prefix + "key is required: a PEM public key or X.509 certificate for RS256", nil},
		{"jwk_url", `{"jwk_url": "https://example.com/jwks.json"}`, prefix + "jwk_url is not supported; set type and key (an HMAC secret, or a PEM public key or certificate) instead", nil},
		{"jwk_url and key", `{"type": "HS256", "key": "` + secret256 + `", "jwk_url": "https://example.com/jwks.json"}`, prefix + "jwk_url is not supported; set type and key (an HMAC secret, or a PEM public key or certificate) instead", []string{secret256}},
		{"claims_namespace_path", `{"type": "HS256", "key": "` + secret256 + `", "claims_namespace_path": "$.hasura"}`, prefix + "claims_namespace_path is not supported; use claims_namespace", []string{secret256}},
		{"claims_map", `{"type": "HS256", "key": "` + secret256 + `", "claims_map": {}}`, prefix + "claims_map is not supported; put the x-hasura-* claims under claims_namespace", []string{secret256}},
		{"cookie header", `{"type": "HS256", "key": "` + secret256 + `", "header": {"type": "Cookie", "name": "jwt"}}`, prefix + `header: only {"type": "Authorization"} is supported (no cookie or custom header)`, []string{secret256}},
		{"bad claims_format", `{"type": "HS256", "key": "` + secret256 + `", "claims_format": "xml"}`, prefix + `claims_format must be "json" or "stringified_json"`, []string{secret256}},
		{"empty claims_namespace", `{"type": "HS256", "key": "` + secret256 + `", "claims_namespace": ""}`, prefix + "claims_namespace must not be empty", []string{secret256}},
		{"bad audience", `{"type": "HS256", "key": "` + secret256 + `", "audience": 5}`, prefix + "audience must be a string or an array of strings", []string{secret256}},
		{"empty audience", `{"type": "HS256", "key": "` + secret256 + `", "audience": ""}`, prefix + "audience must not contain an empty string", []string{secret256}},
		{"empty audience array", `{"type": "HS256", "key": "` + secret256 + `", "audience": []}`, prefix + "audience must not be an empty array", []string{secret256}},
		{"negative allowed_skew", `{"type": "HS256", "key": "` + secret256 + `", "allowed_skew": -1}`, prefix + "allowed_skew must be a whole, non-negative number of seconds", []string{secret256}},
		{"fractional allowed_skew", `{"type": "HS256", "key": "` + secret256 + `", "allowed_skew": 1.5}`, prefix + "allowed_skew must be a whole, non-negative number of seconds", []string{secret256}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := ParseConfig(tc.json)
			if err == nil {
				t.Fatalf("ParseConfig succeeded (%v), want error %q", v, tc.wantMsg)
			}
			if err.Error() != tc.wantMsg {
				t.Errorf("error = %q\nwant    %q", err.Error(), tc.wantMsg)
			}
			for _, s := range tc.secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains secret %q", err.Error(), s)
				}
			}
		})
	}
}

func TestPrintingNeverShowsKey(t *testing.T) {
	cfg := Config{Type: "HS256", Key: secret256, Audience: Audience{"a"}}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		for _, arg := range []any{cfg, &cfg, v} {
			if out := fmt.Sprintf(verb, arg); strings.Contains(out, secret256) || strings.Contains(out, fmt.Sprintf("%x", secret256)) {
				t.Errorf("Sprintf(%s, %T) = %s shows the key", verb, arg, out)
			}
		}
	}
	if k, _ := v.key.([]byte); string(k) != secret256 {
		// Sanity check of the test itself: the key is there to be hidden.
		t.Fatal("test setup: verifier has no key")
	}
}

func TestMissingHeaderError(t *testing.T) {
	e := MissingHeaderError()
	if e.Code != hasura.CodeInvalidHeaders || e.Message != "Missing Authorization header in JWT authentication mode" || e.Path != "$" {
		t.Errorf("MissingHeaderError() = %+v", e)
	}
}

func BenchmarkVerifyHS256(b *testing.B) {
	v := mustVerifier(b, map[string]any{"type": "HS256", "key": secret256})
	header := bearer(sign(b, jwt.SigningMethodHS256, []byte(secret256), claimsWith()))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := v.Verify(header, ""); err != nil {
			b.Fatal(err)
		}
	}
}
