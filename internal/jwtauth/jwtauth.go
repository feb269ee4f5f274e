// Package jwtauth implements Hasura's JWT authentication mode: it reads
// HASURA_GRAPHQL_JWT_SECRET and turns an "Authorization: Bearer <JWT>" header
// (plus the optional x-hasura-role header) into the role a request runs as and
// its session variables, failing with the codes and messages Hasura sends
// (HGE server/src-lib/Hasura/Server/Auth/JWT.hs).
//
// Supported: type HS256, HS384, HS512 (key = the shared secret) and RS256
// (key = a PEM public key or an X.509 certificate), claims_namespace,
// claims_format, audience, issuer, allowed_skew and header {"type":
// "Authorization"}. jwk_url, claims_namespace_path, claims_map and cookie or
// custom headers are refused by ParseConfig rather than silently ignored.
package jwtauth

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/freshgraph/freshgraph/internal/hasura"
)

// DefaultClaimsNamespace is where Hasura looks for its claims by default.
const DefaultClaimsNamespace = "https://hasura.io/jwt/claims"

// Claims formats: the namespace value is a JSON object, or a string holding one.
const (
	ClaimsFormatJSON            = "json"
	ClaimsFormatStringifiedJSON = "stringified_json"
)

// Session-variable names with a meaning of their own.
const (
	AllowedRolesClaim = "x-hasura-allowed-roles"
	DefaultRoleClaim  = "x-hasura-default-role"
	RoleVar           = "x-hasura-role"
	UserIDVar         = "x-hasura-user-id"
)

// minHMACKeyBytes is Hasura's minimum secret length per algorithm: as many
// bytes as the hash has (HGE Auth/JWT/Internal.hs parseHmacKey).
var minHMACKeyBytes = map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}

// minRSABits is the smallest RSA modulus accepted; Go's crypto/rsa refuses to
// verify with anything smaller, so such a key is better refused at start-up.
const minRSABits = 1024

// Config is HASURA_GRAPHQL_JWT_SECRET's JSON. Printing a Config with the fmt
// package never shows Key.
type Config struct {
	// Type is the signing algorithm: HS256, HS384, HS512 or RS256.
	Type string `json:"type"`
	// Key is the HMAC secret, or for RS256 a PEM public key or X.509
	// certificate.
	Key string `json:"key"`
	// ClaimsNamespace is the top-level claim holding the x-hasura-* claims;
	// empty means DefaultClaimsNamespace.
	ClaimsNamespace string `json:"claims_namespace,omitempty"`
	// ClaimsFormat is ClaimsFormatJSON (the default when empty) or
	// ClaimsFormatStringifiedJSON.
	ClaimsFormat string `json:"claims_format,omitempty"`
	// Audience, if not empty, must contain one of the token's aud values.
	Audience Audience `json:"audience,omitempty"`
	// Issuer, if set, must equal the token's iss.
	Issuer string `json:"issuer,omitempty"`
	// AllowedSkew is the leeway, in seconds, for exp, nbf and iat.
	AllowedSkew int `json:"allowed_skew,omitempty"`
}

// String describes c without its key.
func (c Config) String() string {
	return fmt.Sprintf("jwtauth.Config{Type:%q Key:<redacted> ClaimsNamespace:%q ClaimsFormat:%q Audience:%q Issuer:%q AllowedSkew:%d}",
		c.Type, c.ClaimsNamespace, c.ClaimsFormat, []string(c.Audience), c.Issuer, c.AllowedSkew)
}

// Format prints c without its key, whatever the verb.
func (c Config) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// Audience is the audience setting: a JSON string or an array of strings.
type Audience []string

// UnmarshalJSON accepts "aud" or ["aud1", "aud2"].
func (a *Audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = Audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("audience must be a string or an array of strings")
	}
	*a = many
	return nil
}

// Verifier checks tokens against one configuration. It is safe for
// concurrent use.
type Verifier struct {
	alg         string
	key         any // []byte for HS*, *rsa.PublicKey for RS256
	namespace   string
	stringified bool
	audience    []string
	issuer      string
	parser      *jwt.Parser
}

// String describes v without its key.
func (v *Verifier) String() string {
	return fmt.Sprintf("jwtauth.Verifier{alg:%s namespace:%q}", v.alg, v.namespace)
}

// Format prints v without its key, whatever the verb.
func (v *Verifier) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, v.String()) }

// Algorithm is the only signing algorithm v accepts.
func (v *Verifier) Algorithm() string { return v.alg }

// rawConfig is the whole of what Hasura reads from the secret, so that
// settings freshgraph does not implement are refused rather than dropped.
type rawConfig struct {
	Type                *string         `json:"type"`
	Key                 *string         `json:"key"`
	JWKURL              json.RawMessage `json:"jwk_url"`
	ClaimsNamespace     *string         `json:"claims_namespace"`
	ClaimsNamespacePath json.RawMessage `json:"claims_namespace_path"`
	ClaimsFormat        *string         `json:"claims_format"`
	ClaimsMap           json.RawMessage `json:"claims_map"`
	Audience            Audience        `json:"audience"`
	Issuer              *string         `json:"issuer"`
	AllowedSkew         *float64        `json:"allowed_skew"`
	Header              json.RawMessage `json:"header"`
}

func present(m json.RawMessage) bool { return len(m) > 0 && string(m) != "null" }

// configError is what ParseConfig and NewVerifier fail with. Its messages
// name the setting at fault and never contain the key.
func configError(format string, args ...any) error {
	return fmt.Errorf("invalid HASURA_GRAPHQL_JWT_SECRET: "+format, args...)
}

// ParseConfig reads HASURA_GRAPHQL_JWT_SECRET's JSON and returns a Verifier
// for it.
func ParseConfig(jsonText string) (*Verifier, error) {
	if strings.TrimSpace(jsonText) == "" {
		return nil, configError("it is empty; expected a JSON object such as {\"type\": \"HS256\", \"key\": \"...\"}")
	}
	var raw rawConfig
	dec := json.NewDecoder(strings.NewReader(jsonText))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, describeJSONError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, configError("unexpected text after the JSON object")
	}

	if present(raw.JWKURL) {
		return nil, configError("jwk_url is not supported; set type and key (an HMAC secret, or a PEM public key or certificate) instead")
	}
	if present(raw.ClaimsNamespacePath) {
		return nil, configError("claims_namespace_path is not supported; use claims_namespace")
	}
	if present(raw.ClaimsMap) {
		return nil, configError("claims_map is not supported; put the x-hasura-* claims under claims_namespace")
	}
	if present(raw.Header) {
		var h struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(raw.Header, &h); err != nil || !strings.EqualFold(h.Type, "Authorization") {
			return nil, configError("header: only {\"type\": \"Authorization\"} is supported (no cookie or custom header)")
		}
	}

	if raw.Audience != nil && len(raw.Audience) == 0 {
		// Hasura would then refuse every token that has an aud claim and
		// accept every token that has none; neither can be what was meant.
		return nil, configError("audience must not be an empty array")
	}
	cfg := Config{Audience: raw.Audience}
	if raw.Type != nil {
		cfg.Type = *raw.Type
	}
	if raw.Key != nil {
		cfg.Key = *raw.Key
	}
	if raw.ClaimsNamespace != nil {
		if *raw.ClaimsNamespace == "" {
			return nil, configError("claims_namespace must not be empty")
		}
		cfg.ClaimsNamespace = *raw.ClaimsNamespace
	}
	if raw.ClaimsFormat != nil {
		if *raw.ClaimsFormat == "" {
			return nil, configError("claims_format must be %q or %q", ClaimsFormatJSON, ClaimsFormatStringifiedJSON)
		}
		cfg.ClaimsFormat = *raw.ClaimsFormat
	}
	if raw.Issuer != nil {
		if *raw.Issuer == "" {
			return nil, configError("issuer must not be empty")
		}
		cfg.Issuer = *raw.Issuer
	}
	if raw.AllowedSkew != nil {
		s := *raw.AllowedSkew
		if s != math.Trunc(s) || s < 0 || s > math.MaxInt32 {
			return nil, configError("allowed_skew must be a whole, non-negative number of seconds")
		}
		cfg.AllowedSkew = int(s)
	}
	return NewVerifier(cfg)
}

// describeJSONError explains a decoding failure without quoting the input,
// which holds the key.
func describeJSONError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return configError("not valid JSON (syntax error at byte %d)", syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return configError("not valid JSON (unexpected end of input)")
	case errors.As(err, &typ):
		// typ.Value is e.g. "number 42": keep only the kind, never the literal.
		kind, _, _ := strings.Cut(typ.Value, " ")
		if typ.Field == "" {
			return configError("expected a JSON object, found a JSON %s", kind)
		}
		return configError("%s must not be a JSON %s", typ.Field, kind)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return configError("unknown setting %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	case strings.HasPrefix(err.Error(), "audience "):
		return configError("%s", err.Error())
	}
	return configError("not a valid JSON object")
}

// NewVerifier checks cfg and returns a Verifier for it.
func NewVerifier(cfg Config) (*Verifier, error) {
	v := &Verifier{
		alg:       cfg.Type,
		namespace: cfg.ClaimsNamespace,
		issuer:    cfg.Issuer,
	}
	if v.namespace == "" {
		v.namespace = DefaultClaimsNamespace
	}
	switch cfg.ClaimsFormat {
	case "", ClaimsFormatJSON:
	case ClaimsFormatStringifiedJSON:
		v.stringified = true
	default:
		return nil, configError("claims_format must be %q or %q", ClaimsFormatJSON, ClaimsFormatStringifiedJSON)
	}
	for _, a := range cfg.Audience {
		if a == "" {
			return nil, configError("audience must not contain an empty string")
		}
	}
	if cfg.AllowedSkew < 0 {
		return nil, configError("allowed_skew must be a whole, non-negative number of seconds")
	}

	if cfg.Type == "" {
		return nil, configError("type is required (HS256, HS384, HS512 or RS256)")
	}
	switch cfg.Type {
	case "HS256", "HS384", "HS512":
		if cfg.Key == "" {
			return nil, configError("key is required: the %s shared secret", cfg.Type)
		}
		if n, minLen := len(cfg.Key), minHMACKeyBytes[cfg.Type]; n < minLen {
			return nil, configError("the %s key is too short (%d bytes); it must be at least %d bytes long", cfg.Type, n, minLen)
		}
		v.key = []byte(cfg.Key)
	case "RS256":
		if strings.TrimSpace(cfg.Key) == "" {
			return nil, configError("key is required: a PEM public key or X.509 certificate for RS256")
		}
		pub, err := parseRSAPublicKey(cfg.Key)
		if err != nil {
			return nil, configError("RS256 key: %s", err)
		}
		v.key = pub
	default:
		return nil, configError("type %s is not supported; use HS256, HS384, HS512 or RS256", describeType(cfg.Type))
	}

	if len(cfg.Audience) > 0 {
		v.audience = slices.Clone(cfg.Audience)
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{v.alg}),
		jwt.WithLeeway(time.Duration(cfg.AllowedSkew) * time.Second),
		// Hasura's JOSE library rejects an iat in the future (JWTIssuedAtFuture).
		jwt.WithIssuedAt(),
	}
	if len(v.audience) > 0 {
		opts = append(opts, jwt.WithAudience(v.audience...))
	}
	if v.issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.issuer))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// describeType quotes an unsupported type only if it looks like an algorithm
// name, so that a key pasted into the wrong field is not repeated.
func describeType(t string) string {
	if len(t) > 16 {
		return "(value not shown)"
	}
	for _, r := range t {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "(value not shown)"
		}
	}
	return strconv.Quote(t)
}

// parseRSAPublicKey reads the first PEM block of text: a PKIX ("PUBLIC KEY")
// or PKCS #1 ("RSA PUBLIC KEY") public key, or a certificate. Its errors
// never quote the key.
func parseRSAPublicKey(text string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(text)))
	if block == nil {
		return nil, errors.New("not PEM-encoded; expected -----BEGIN PUBLIC KEY----- or -----BEGIN CERTIFICATE-----")
	}
	var pub any
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, errors.New("the PUBLIC KEY block is not a valid PKIX public key")
		}
		pub = k
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, errors.New("the RSA PUBLIC KEY block is not a valid PKCS #1 public key")
		}
		pub = k
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, errors.New("the CERTIFICATE block is not a valid X.509 certificate")
		}
		pub = c.PublicKey
	default:
		if strings.Contains(block.Type, "PRIVATE KEY") {
			return nil, errors.New("a private key was given; configure the public key or certificate instead")
		}
		return nil, fmt.Errorf("unsupported PEM block %q; expected PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE", describePEMType(block.Type))
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the key is a %T, not an RSA public key", pub)
	}
	if bits := rsaPub.N.BitLen(); bits < minRSABits {
		return nil, fmt.Errorf("the RSA key has %d bits; at least %d are required", bits, minRSABits)
	}
	return rsaPub, nil
}

func describePEMType(t string) string {
	if len(t) > 40 {
		return t[:40] + "..."
	}
	return t
}

// Claims is what a verified token says about its bearer.
type Claims struct {
	// AllowedRoles is x-hasura-allowed-roles.
	AllowedRoles []string
	// DefaultRole is x-hasura-default-role.
	DefaultRole string
	// UserID is x-hasura-user-id, "" if the token has none.
	UserID string
	// Vars are the request's session variables as Hasura builds them: every
	// x-hasura-* claim of the namespace, keys lower-cased, except
	// x-hasura-allowed-roles and x-hasura-default-role, and with x-hasura-role
	// set to the role the request runs as.
	Vars map[string]string
	// Expires is the token's exp, zero if it has none.
	Expires time.Time
}

func authError(code hasura.Code, msg string) error {
	return &hasura.Error{Code: code, Message: msg, Path: "$"}
}

// MissingHeaderError is Hasura's answer to a request without an
// Authorization header in JWT mode when no unauthorized role is configured.
func MissingHeaderError() *hasura.Error {
	return &hasura.Error{Code: hasura.CodeInvalidHeaders, Message: "Missing Authorization header in JWT authentication mode", Path: "$"}
}

// Verify checks the Authorization header's bearer token and resolves the
// role: requestedRole (the x-hasura-role header, "" if absent) if given,
// else the token's default role; it must be one of the allowed roles. Every
// error is a *hasura.Error carrying Hasura's code and message; none quotes
// the token or the key.
func (v *Verifier) Verify(authorizationHeader string, requestedRole string) (role string, claims Claims, err error) {
	raw, ok := bearerToken(authorizationHeader)
	if !ok {
		return "", Claims{}, authError(hasura.CodeInvalidHeaders, "Malformed Authorization header")
	}

	mc := jwt.MapClaims{}
	tok, err := v.parser.ParseWithClaims(raw, mc, v.keyFunc)
	if err != nil {
		return "", Claims{}, authError(hasura.CodeInvalidJWT, "Could not verify JWT: "+v.failureReason(tok, mc, err))
	}

	hc, err := v.hasuraClaims(mc)
	if err != nil {
		return "", Claims{}, err
	}

	allowed, err := parseAllowedRoles(hc)
	if err != nil {
		return "", Claims{}, err
	}
	defaultRole, err := parseDefaultRole(hc)
	if err != nil {
		return "", Claims{}, err
	}
	role = requestedRole
	if role == "" {
		role = defaultRole
	}
	if !slices.Contains(allowed, role) {
		return "", Claims{}, authError(hasura.CodeAccessDenied, "Your requested role is not in allowed roles")
	}

	vars, err := sessionVars(hc)
	if err != nil {
		return "", Claims{}, err
	}
	vars[RoleVar] = role

	claims = Claims{
		AllowedRoles: allowed,
		DefaultRole:  defaultRole,
		UserID:       vars[UserIDVar],
		Vars:         vars,
	}
	if exp, err := mc.GetExpirationTime(); err == nil && exp != nil {
		claims.Expires = exp.Time
	}
	return role, claims, nil
}

// bearerToken returns the token of "Bearer <token>": "bearer" in any case,
// exactly one space, and a token without blanks.
func bearerToken(h string) (string, bool) {
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	tok := h[len(prefix):]
	if strings.ContainsAny(tok, " \t\r\n\v\f") {
		return "", false
	}
	return tok, true
}

func (v *Verifier) keyFunc(t *jwt.Token) (any, error) {
	// WithValidMethods has already refused other algorithms; this guards the
	// key against any future change of the parser options.
	if t.Method == nil || t.Method.Alg() != v.alg {
		return nil, errors.New("unexpected signing algorithm")
	}
	return v.key, nil
}

// failureReason names why a token was refused the way Hasura's JOSE library
// does (Crypto.JWT JWTError, shown), e.g. "JWTExpired" or
// "JWSError JWSInvalidSignature". Several claim failures at once are reported
// in JOSE's order: exp, iat, nbf, iss, aud.
func (v *Verifier) failureReason(tok *jwt.Token, mc jwt.MapClaims, err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "JWSError CompactDecodeError"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if tok != nil && tok.Method != nil && tok.Method.Alg() == jwt.SigningMethodNone.Alg() {
			// JOSE ignores unsigned signatures, leaving none to check.
			return "JWSError JWSNoSignatures"
		}
		// A bad signature, or a token in another algorithm than the
		// configured one (JOSE then fails to verify it with the key).
		return "JWSError JWSInvalidSignature"
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		switch {
		case errors.Is(err, jwt.ErrInvalidType):
			return "JWTClaimsSetDecodeError"
		case errors.Is(err, jwt.ErrTokenExpired):
			return "JWTExpired"
		case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
			return "JWTIssuedAtFuture"
		case errors.Is(err, jwt.ErrTokenNotValidYet):
			return "JWTNotYetValid"
		case errors.Is(err, jwt.ErrTokenInvalidIssuer):
			return "JWTNotInIssuer"
		case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
			// Only iss and aud are required, and only when configured.
			if iss, _ := mc.GetIssuer(); v.issuer != "" && iss == "" {
				return "JWTNotInIssuer"
			}
			return "JWTNotInAudience"
		case errors.Is(err, jwt.ErrTokenInvalidAudience):
			return "JWTNotInAudience"
		}
		return "JWTClaimsSetDecodeError"
	}
	return "JWSError CompactDecodeError"
}

// hasuraClaims returns the x-hasura-* claims of the namespace, keys
// lower-cased. Of keys equal but for case, the greatest original key wins,
// as in Hasura (an ordered key map folded into a hash map).
func (v *Verifier) hasuraClaims(mc jwt.MapClaims) (map[string]any, error) {
	nsValue, ok := mc[v.namespace]
	if !ok {
		return nil, authError(hasura.CodeJWTInvalidClaims, "claims key: '"+v.namespace+"' not found")
	}
	var obj map[string]any
	if v.stringified {
		s, ok := nsValue.(string)
		if !ok {
			return nil, authError(hasura.CodeJWTInvalidClaims, "expecting a string when claims_format is stringified_json")
		}
		var decoded any
		if json.Unmarshal([]byte(s), &decoded) == nil {
			obj, _ = decoded.(map[string]any)
		}
		if obj == nil {
			// Hasura adds ", but found: <the string>"; the token's content is
			// not repeated here.
			return nil, authError(hasura.CodeJWTInvalidClaims, "expecting stringified json at: 'claims_namespace "+v.namespace+"'")
		}
	} else {
		obj, ok = nsValue.(map[string]any)
		if !ok {
			return nil, authError(hasura.CodeJWTInvalidClaims, "expecting a json object when claims_format is json")
		}
	}

	out := make(map[string]any, len(obj))
	winner := make(map[string]string, len(obj))
	for k, val := range obj {
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, "x-hasura-") {
			continue
		}
		if prev, dup := winner[lk]; dup && prev > k {
			continue
		}
		winner[lk] = k
		out[lk] = val
	}
	return out, nil
}

func parseAllowedRoles(hc map[string]any) ([]string, error) {
	const hint = "invalid " + AllowedRolesClaim + "; should be a list of roles: "
	val, ok := hc[AllowedRolesClaim]
	if !ok {
		return nil, authError(hasura.CodeJWTMissingRoleClaims, "JWT claim does not contain "+AllowedRolesClaim)
	}
	list, ok := val.([]any)
	if !ok {
		return nil, authError(hasura.CodeJWTInvalidClaims, hint+"Error in $: parsing [] failed, expected Array, but encountered "+hasura.AesonKind(val))
	}
	roles := make([]string, 0, len(list))
	for i, item := range list {
		s, ok := item.(string)
		if !ok {
			return nil, authError(hasura.CodeJWTInvalidClaims, fmt.Sprintf("%sError in $[%d]: parsing Text failed, expected String, but encountered %s", hint, i, hasura.AesonKind(item)))
		}
		if s == "" {
			return nil, authError(hasura.CodeJWTInvalidClaims, fmt.Sprintf("%sError in $[%d]: empty role name", hint, i))
		}
		roles = append(roles, s)
	}
	return roles, nil
}

func parseDefaultRole(hc map[string]any) (string, error) {
	const hint = "invalid " + DefaultRoleClaim + "; should be a single role name: "
	val, ok := hc[DefaultRoleClaim]
	if !ok {
		return "", authError(hasura.CodeJWTMissingRoleClaims, "JWT claim does not contain "+DefaultRoleClaim)
	}
	s, ok := val.(string)
	if !ok {
		return "", authError(hasura.CodeJWTInvalidClaims, hint+"Error in $: parsing Text failed, expected String, but encountered "+hasura.AesonKind(val))
	}
	if s == "" {
		return "", authError(hasura.CodeJWTInvalidClaims, hint+"Error in $: empty role name")
	}
	return s, nil
}

// sessionVars returns the string-valued session variables; as in Hasura, a
// claim that is not a string fails the request.
func sessionVars(hc map[string]any) (map[string]string, error) {
	keys := make([]string, 0, len(hc))
	for k := range hc {
		if k != AllowedRolesClaim && k != DefaultRoleClaim {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	vars := make(map[string]string, len(keys)+1)
	for _, k := range keys {
		s, ok := hc[k].(string)
		if !ok {
			return nil, authError(hasura.CodeJWTInvalidClaims, fmt.Sprintf("x-hasura-* claims: Error in $['%s']: parsing Text failed, expected String, but encountered %s", strings.ReplaceAll(k, "'", "\\'"), hasura.AesonKind(hc[k])))
		}
		vars[k] = s
	}
	return vars, nil
}
