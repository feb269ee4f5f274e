package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/freshgraph/freshgraph/internal/accounts"
	"github.com/freshgraph/freshgraph/internal/events"
	"github.com/freshgraph/freshgraph/internal/forwarded"
	"github.com/freshgraph/freshgraph/internal/graphiql"
	"github.com/freshgraph/freshgraph/internal/jwtauth"
	"github.com/freshgraph/freshgraph/internal/limits"
	"github.com/freshgraph/freshgraph/internal/livequery"
	"github.com/freshgraph/freshgraph/internal/metadata"
	"github.com/freshgraph/freshgraph/internal/metrics"
	"github.com/freshgraph/freshgraph/internal/requestlog"
	"github.com/freshgraph/freshgraph/internal/session"
	"github.com/freshgraph/freshgraph/internal/tracing"
)

// config is everything the server reads from its environment. Each setting
// has one freshgraph name; Hasura's name for the same setting is accepted too,
// so a Hasura deployment can swap its engine without renaming its variables.
type config struct {
	Host        string
	Port        int
	DatabaseURL string // empty: start the embedded PostgreSQL under DataDir
	DataDir     string
	AdminSecret string            // empty: admin access is off, except in embedded mode
	JWT         *jwtauth.Verifier // nil: no JWT mode
	// AllowedOrigins are the hosts (patterns such as "*.example.com") whose
	// pages may open a WebSocket; same-origin is always allowed.
	AllowedOrigins []string
	KeepAlive      time.Duration // how often idle WebSockets are pinged
	// LiveQueryInterval is the least time between two runs of one group of
	// live queries while writes keep coming.
	LiveQueryInterval time.Duration
	// LiveCapture is how live queries learn of writes (LIVE_QUERIES_CAPTURE).
	LiveCapture livequery.CaptureMode
	// LiveQueryPoll, if set, polls every live query this often instead of
	// following writes, as Hasura does: for comparison only.
	LiveQueryPoll time.Duration
	// GraphiQL says where GraphiQL's scripts come from: embedded in the
	// binary unless a directory or the CDN is asked for.
	GraphiQL graphiql.Options
	// Limits bound each GraphQL request's work (see internal/limits).
	Limits limits.Config
	// MetadataDir is a Hasura project's metadata directory, if any; what of
	// it is served is in Limits and IntrospectionDisabled, and what is not
	// in MetadataNotServed, for the log.
	MetadataDir           string
	Metadata              *metadata.Metadata
	IntrospectionDisabled []string
	MetadataNotServed     []string
	// MigrationsDir is a Hasura project's migrations directory, applied at
	// start; Source is the project's name for the database ("default").
	MigrationsDir string
	Source        string
	// HTTP is what one connection may send, and how long shutdown waits.
	HTTP httpLimits
	// Session is how sessions are kept; its Secrets are empty until run
	// generates them in embedded mode.
	Session session.Config
	// UnauthorizedRole is the role of callers with no credentials at all.
	UnauthorizedRole string
	// StringifyNumbers writes bigint, numeric, double precision and money
	// values as JSON strings, which JavaScript clients read without loss.
	StringifyNumbers bool
	// MetricsSecret guards /v1/metrics: a scraper sends it as
	// Authorization: Bearer <secret> (HASURA_GRAPHQL_METRICS_SECRET).
	// Without one, the metrics are served only in embedded mode.
	MetricsSecret string
	// LogJSON writes the log as one JSON object per line (LOG_FORMAT=json);
	// LogLevel drops records below it (HASURA_GRAPHQL_LOG_LEVEL: debug,
	// info, warn, error; info as in Hasura).
	LogJSON  bool
	LogLevel slog.Level
	// InferFunctionPermissions lets every role that reads a query
	// function's table run it (HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS,
	// true as in Hasura).
	InferFunctionPermissions bool
	// SessionAPIRenames serves session API root fields under other names
	// (SESSION_API_ROOT_FIELDS=session:me,signIn:logIn), for a project
	// whose table has a root field of that name.
	SessionAPIRenames map[string]string
	// SessionCleanupInterval is how often expired session rows are deleted
	// (and once at start); zero: never.
	SessionCleanupInterval time.Duration
	// AuthJSCookies are the names of Auth.js's session cookies accepted as
	// a session (AUTHJS_SESSION_COOKIES; "off": none).
	AuthJSCookies []string
	// AuthJSSecrets are the app's Auth.js secrets, newest first
	// (AUTH_SECRET, NEXTAUTH_SECRET, AUTH_SECRET_1…3): with them its JWT
	// strategy's session cookie is a session, and its CSRF cookie is
	// checked at /api/auth/session.
	AuthJSSecrets []string
	// TrustedProxies may name a request's client in X-Forwarded-For
	// (TRUSTED_PROXIES), for the rate limits, the device list and the log.
	TrustedProxies forwarded.Proxies
	// PasswordResetURL is the link a password reset mail carries, {token}
	// replaced by the token (PASSWORD_RESET_URL).
	PasswordResetURL string
	// Events is how event and cron triggers are delivered (HASURA_GRAPHQL_EVENTS_*,
	// EVENTS_RETENTION); Getenv resolves what their metadata takes from the
	// environment (webhook_from_env, value_from_env, {{VAR}}).
	Events events.Config
	Getenv func(string) string
	// Tracer exports the server's traces (nil: off); run makes it from the
	// OTEL_* variables.
	Tracer *tracing.Tracer
	// Metrics are the server's (nil: NewServer makes its own); run makes
	// them first, for the HTTP server to count its connections in.
	Metrics *metrics.Metrics
	// Draining, once set, has /readyz answer that the server is stopping
	// (nil: never).
	Draining *atomic.Bool
	// Mailer delivers password reset links: set in Go by a deployment that
	// builds its own binary (nil: the log in embedded mode, else none).
	Mailer accounts.Mailer
}

// defaultAuthJSCookies are the session cookies of Auth.js's database
// strategy: v5's, and v4's (next-auth), each with its __Secure- form.
var defaultAuthJSCookies = []string{"authjs.session-token", "__Secure-authjs.session-token", "next-auth.session-token", "__Secure-next-auth.session-token"}

// authJSSecrets are the Auth.js secrets named as Auth.js names them:
// AUTH_SECRET (or next-auth v4's NEXTAUTH_SECRET), a comma-separated list
// newest first, and before them AUTH_SECRET_1, _2 and _3 in Auth.js's own
// order (_3 first).
func authJSSecrets(getenv func(string) string) []string {
	var secrets []string
	for _, name := range []string{"AUTH_SECRET_3", "AUTH_SECRET_2", "AUTH_SECRET_1"} {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			secrets = append(secrets, v)
		}
	}
	list := getenv("AUTH_SECRET")
	if list == "" {
		list = getenv("NEXTAUTH_SECRET")
	}
	for _, v := range strings.Split(list, ",") {
		if v = strings.TrimSpace(v); v != "" {
			secrets = append(secrets, v)
		}
	}
	return secrets
}

// httpLimits bound what a client may send over HTTP and WebSocket.
type httpLimits struct {
	BodyBytes   int64         // a request body
	ReadTimeout time.Duration // to receive a whole request, headers and body
	HeaderBytes int64
	// MessageBytes bounds one WebSocket message (and so each of its frames).
	MessageBytes int64
	InitTimeout  time.Duration // for a WebSocket's connection_init
	// Operations bounds the operations one WebSocket runs at once.
	Operations int
	// ShutdownGrace is how long in-flight requests may take to finish once
	// the server is asked to stop.
	ShutdownGrace time.Duration
	// DrainDelay is how long a stopping server keeps serving, not ready,
	// before it stops accepting: the time a load balancer takes to see
	// /readyz fail and send new requests elsewhere.
	DrainDelay time.Duration
}

// embedded reports whether the server runs its own PostgreSQL (dev mode).
func (c config) embedded() bool { return c.DatabaseURL == "" }

// addr is the address to listen on. The embedded mode serves only this
// machine: it is a development database with a generated admin secret.
func (c config) addr() string {
	host := c.Host
	if host == "" && c.embedded() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(c.Port))
}

func loadConfig(getenv func(string) string) (config, error) {
	first := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	cfg := config{
		Host:              first("HOST"),
		DatabaseURL:       first("DATABASE_URL", "HASURA_GRAPHQL_DATABASE_URL"),
		DataDir:           first("FRESHGRAPH_DATA_DIR"),
		GraphiQL:          graphiql.Options{AssetsDir: first("GRAPHIQL_ASSETS_DIR", "HASURA_GRAPHQL_CONSOLE_ASSETS_DIR")},
		AdminSecret:       first("HASURA_GRAPHQL_ADMIN_SECRET"),
		MetricsSecret:     first("HASURA_GRAPHQL_METRICS_SECRET"),
		Port:              8080,
		KeepAlive:         25 * time.Second,
		LiveQueryInterval: 50 * time.Millisecond,
		LiveCapture:       livequery.CaptureAuto,
		Limits:            limits.Defaults(),
		Getenv:            getenv,
		HTTP: httpLimits{
			BodyBytes:     1 << 20,
			ReadTimeout:   10 * time.Second,
			HeaderBytes:   64 << 10,
			MessageBytes:  1 << 20,
			InitTimeout:   3 * time.Second, // Hasura's default
			Operations:    100,
			ShutdownGrace: 60 * time.Second, // Hasura's default
		},
	}
	cfg.Source = "default"
	if cfg.UnauthorizedRole = first("HASURA_GRAPHQL_UNAUTHORIZED_ROLE"); cfg.UnauthorizedRole == "" {
		cfg.UnauthorizedRole = "anonymous"
	} else if cfg.UnauthorizedRole == "admin" {
		// A safe default refuses what would open the admin API to everyone.
		return config{}, errors.New(`HASURA_GRAPHQL_UNAUTHORIZED_ROLE cannot be "admin": it would give every caller without credentials the admin's access`)
	}
	if cfg.PasswordResetURL = first("PASSWORD_RESET_URL"); cfg.PasswordResetURL != "" && !strings.Contains(cfg.PasswordResetURL, "{token}") {
		return config{}, errors.New("PASSWORD_RESET_URL must contain {token}, where the reset token goes")
	}
	switch v := first("AUTHJS_SESSION_COOKIES"); v {
	case "":
		cfg.AuthJSCookies = defaultAuthJSCookies
	case "off":
	default:
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" || strings.ContainsAny(name, " \t\"(),/:;<=>?@[\\]{}") || name == session.CookieName {
				return config{}, fmt.Errorf("AUTHJS_SESSION_COOKIES: %q is not a cookie name of Auth.js's", name)
			}
			cfg.AuthJSCookies = append(cfg.AuthJSCookies, name)
		}
	}
	cfg.AuthJSSecrets = authJSSecrets(getenv)
	proxies, err := forwarded.Parse(first("TRUSTED_PROXIES"))
	if err != nil {
		return config{}, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	cfg.TrustedProxies = proxies
	if v := first("SESSION_API_ROOT_FIELDS"); v != "" {
		cfg.SessionAPIRenames = map[string]string{}
		for _, pair := range strings.Split(v, ",") {
			from, to, ok := strings.Cut(strings.TrimSpace(pair), ":")
			if !ok || from == "" || to == "" {
				return config{}, fmt.Errorf("SESSION_API_ROOT_FIELDS: %q is not name:new_name", pair)
			}
			if _, twice := cfg.SessionAPIRenames[from]; twice {
				return config{}, fmt.Errorf("SESSION_API_ROOT_FIELDS: %s is renamed twice", from)
			}
			cfg.SessionAPIRenames[from] = to
		}
	}
	switch v := first("LOG_FORMAT"); v {
	case "", "text":
	case "json":
		cfg.LogJSON = true
	default:
		return config{}, fmt.Errorf("LOG_FORMAT: %q is not text or json", v)
	}
	if v := first("HASURA_GRAPHQL_LOG_LEVEL"); v != "" {
		level, ok := requestlog.ParseLevel(v)
		if !ok {
			return config{}, fmt.Errorf("HASURA_GRAPHQL_LOG_LEVEL: %q is not debug, info, warn or error", v)
		}
		cfg.LogLevel = level
	}
	if v := first("GRAPHIQL_CDN"); v != "" {
		if cfg.GraphiQL.CDN, err = hasuraBool(v); err != nil {
			return config{}, fmt.Errorf("GRAPHIQL_CDN: %w", err)
		}
	}
	cfg.InferFunctionPermissions = true
	if v := first("HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS"); v != "" {
		b, err := hasuraBool(v)
		if err != nil {
			return config{}, fmt.Errorf("HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS: %w", err)
		}
		cfg.InferFunctionPermissions = b
	}
	if v := first("HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES"); v != "" {
		b, err := hasuraBool(v)
		if err != nil {
			return config{}, fmt.Errorf("HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES: %w", err)
		}
		cfg.StringifyNumbers = b
	}
	if cfg.MigrationsDir = first("HASURA_GRAPHQL_MIGRATIONS_DIR"); cfg.MigrationsDir != "" {
		if info, err := os.Stat(cfg.MigrationsDir); err != nil || !info.IsDir() {
			return config{}, fmt.Errorf("HASURA_GRAPHQL_MIGRATIONS_DIR: %s is not a directory", cfg.MigrationsDir)
		}
	}
	// The metadata's api_limits come before the environment, which
	// overrides them.
	if cfg.MetadataDir = first("HASURA_GRAPHQL_METADATA_DIR"); cfg.MetadataDir != "" {
		if err := loadMetadata(&cfg, first); err != nil {
			return config{}, err
		}
	}
	if err := loadLimits(&cfg, first); err != nil {
		return config{}, err
	}
	cfg.Session = session.Config{MaxAge: 30 * 24 * time.Hour, UpdateAge: 24 * time.Hour, MaxLifetime: 90 * 24 * time.Hour, Secure: true}
	cfg.SessionCleanupInterval = 10 * time.Minute
	if v := first("SESSION_SECRET"); v != "" {
		secrets, err := session.ParseSecrets(v)
		if err != nil {
			return config{}, err
		}
		cfg.Session.Secrets = secrets
	} else if !cfg.embedded() {
		return config{}, fmt.Errorf("SESSION_SECRET is not set: it signs and encrypts session cookies; set it to at least %d random characters, e.g. the output of: openssl rand -base64 32", session.MinSecretLength)
	}
	for name, d := range map[string]*time.Duration{"SESSION_MAX_AGE": &cfg.Session.MaxAge, "SESSION_UPDATE_AGE": &cfg.Session.UpdateAge,
		"SESSION_MAX_LIFETIME": &cfg.Session.MaxLifetime, "SESSION_CLEANUP_INTERVAL": &cfg.SessionCleanupInterval} {
		if v := first(name); v != "" {
			parsed, err := time.ParseDuration(v)
			if err != nil || parsed < 0 {
				return config{}, fmt.Errorf("%s must be a duration such as 720h, got %q", name, v)
			}
			*d = parsed
		}
	}
	if cfg.Session.MaxAge <= 0 || cfg.Session.UpdateAge > cfg.Session.MaxAge {
		return config{}, errors.New("SESSION_MAX_AGE must be positive and at least SESSION_UPDATE_AGE")
	}
	switch v := first("SESSION_COOKIE_SECURE"); v {
	case "", "true":
	case "false":
		cfg.Session.Secure = false
	default:
		return config{}, fmt.Errorf("SESSION_COOKIE_SECURE must be true or false, got %q", v)
	}
	if cfg.DataDir == "" {
		cfg.DataDir = ".freshgraph"
	}
	for _, o := range strings.Split(first("CORS_ALLOWED_ORIGINS", "HASURA_GRAPHQL_CORS_DOMAIN"), ",") {
		o = strings.TrimSpace(o)
		if _, host, ok := strings.Cut(o, "://"); ok {
			o = host // patterns match the origin's host[:port]
		}
		if o != "" {
			cfg.AllowedOrigins = append(cfg.AllowedOrigins, o)
		}
	}
	if v := first("HASURA_GRAPHQL_JWT_SECRET"); v != "" {
		verifier, err := jwtauth.ParseConfig(v)
		if err != nil {
			return config{}, err
		}
		cfg.JWT = verifier
	}
	if p := first("PORT", "HASURA_GRAPHQL_SERVER_PORT"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			return config{}, fmt.Errorf("PORT must be a TCP port number, got %q", p)
		}
		cfg.Port = n
	}
	return cfg, nil
}

// hasuraBool reads a boolean setting as Hasura does (parseStrAsBool):
// true, t, yes, y or false, f, no, n, in any case.
func hasuraBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "t", "yes", "y":
		return true, nil
	case "false", "f", "no", "n":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean: true, t, yes, y or false, f, no, n, in any case", v)
}

// loadLimits reads the limits' variables. Per-role limits take "20",
// "20,anonymous=5" or "admin=off"; durations are seconds or Go durations;
// sizes are bytes or KiB, MiB, GiB.
func loadLimits(cfg *config, first func(...string) string) error {
	l, h := &cfg.Limits, &cfg.HTTP
	var errs []error
	set := func(name string, parse func(string) error) {
		if v := first(name); v != "" {
			if err := parse(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	}
	set("TOKEN_LIMIT", positive(&l.Tokens, limits.ParseCount))
	set("DIRECTIVE_LIMIT", positive(&l.Directives, limits.ParseCount))
	set("SELECTION_LIMIT", positive(&l.Selections, limits.ParseCount))
	set("DEPTH_LIMIT", func(v string) error { return limits.ParsePerRole(&l.Depth, v, limits.ParseCount) })
	set("NODE_LIMIT", func(v string) error { return limits.ParsePerRole(&l.Nodes, v, limits.ParseCount) })
	set("BATCH_LIMIT", func(v string) error { return limits.ParsePerRole(&l.Batch, v, limits.ParseCount) })
	set("TIME_LIMIT", func(v string) error { return limits.ParsePerRole(&l.Time, v, limits.ParseDuration) })
	set("RESPONSE_SIZE_LIMIT", positive(&l.ResponseBytes, limits.ParseBytes))
	set("BODY_SIZE_LIMIT", positive(&h.BodyBytes, limits.ParseBytes))
	set("BODY_READ_TIMEOUT", positive(&h.ReadTimeout, limits.ParseDuration))
	set("HEADER_SIZE_LIMIT", positive(&h.HeaderBytes, limits.ParseBytes))
	set("WEBSOCKET_MESSAGE_LIMIT", positive(&h.MessageBytes, limits.ParseBytes))
	set("HASURA_GRAPHQL_WEBSOCKET_CONNECTION_INIT_TIMEOUT", positive(&h.InitTimeout, limits.ParseDuration))
	set("WEBSOCKET_OPERATION_LIMIT", positive(&h.Operations, limits.ParseCount))
	set("HASURA_GRAPHQL_GRACEFUL_SHUTDOWN_TIMEOUT", positive(&h.ShutdownGrace, limits.ParseDuration))
	set("SHUTDOWN_DRAIN_DELAY", func(v string) (err error) {
		if h.DrainDelay, err = limits.ParseDuration(v); err == nil && h.DrainDelay < 0 {
			err = errors.New("must not be negative")
		}
		return err
	})
	set("HASURA_GRAPHQL_LIVE_QUERIES_MULTIPLEXED_REFETCH_INTERVAL", positive(&cfg.LiveQueryInterval, milliseconds))
	set("LIVE_QUERIES_POLL_INTERVAL", positive(&cfg.LiveQueryPoll, limits.ParseDuration))
	set("HASURA_GRAPHQL_EVENTS_HTTP_POOL_SIZE", positive(&cfg.Events.HTTPPoolSize, limits.ParseCount))
	set("HASURA_GRAPHQL_EVENTS_FETCH_INTERVAL", positive(&cfg.Events.FetchInterval, milliseconds))
	set("HASURA_GRAPHQL_EVENTS_FETCH_BATCH_SIZE", positive(&cfg.Events.FetchBatchSize, limits.ParseCount))
	set("EVENTS_RETENTION", positive(&cfg.Events.Retention, limits.ParseDuration))
	set("LIVE_QUERIES_CAPTURE", func(v string) (err error) {
		cfg.LiveCapture, err = livequery.ParseCaptureMode(v)
		return err
	})
	return errors.Join(errs...)
}

// milliseconds reads a duration as Hasura's refetch interval is written,
// in milliseconds, or as a Go duration.
func milliseconds(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Millisecond, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("expected milliseconds or a duration such as 50ms, got %q", s)
	}
	return d, nil
}

// positive parses a limit that must be above zero into dst.
func positive[T limits.Limit](dst *T, parse func(string) (T, error)) func(string) error {
	return func(v string) error {
		n, err := parse(v)
		if err == nil && n <= 0 {
			err = errors.New("must be positive")
		}
		*dst = n
		return err
	}
}

// loadMetadata reads the Hasura project's metadata directory: its tables
// (served beside the built-in ones, or instead of them where it tracks them
// itself), api_limits and introspection settings.
func loadMetadata(cfg *config, first func(...string) string) error {
	md, err := metadata.Load(cfg.MetadataDir)
	if err != nil {
		return fmt.Errorf("HASURA_GRAPHQL_METADATA_DIR: %w", err)
	}
	if enabled, _ := hasuraBool(first("HASURA_GRAPHQL_ENABLE_ALLOWLIST")); md.AllowList && enabled {
		return fmt.Errorf("HASURA_GRAPHQL_METADATA_DIR: %s: the allow list is enabled (HASURA_GRAPHQL_ENABLE_ALLOWLIST) and freshgraph does not enforce it",
			filepath.Join(cfg.MetadataDir, "allow_list.yaml"))
	}
	cfg.MetadataNotServed = append(cfg.MetadataNotServed, md.NotServed...)
	if md.AllowList {
		cfg.MetadataNotServed = append(cfg.MetadataNotServed, "allow_list.yaml: the allow list is not enforced")
	}
	cfg.Metadata = md
	cfg.IntrospectionDisabled = md.IntrospectionDisabledFor
	if md.Source != "" {
		cfg.Source = md.Source
	}
	if l := md.APILimits; l != nil && !l.Disabled {
		applyLimit(&cfg.Limits.Depth, l.DepthLimit, 1)
		applyLimit(&cfg.Limits.Nodes, l.NodeLimit, 1)
		applyLimit(&cfg.Limits.Batch, l.BatchLimit, 1)
		applyLimit(&cfg.Limits.Time, l.TimeLimit, time.Second) // Hasura's are whole seconds
	}
	return nil
}

// applyLimit sets dst from an api_limits entry counted in units of unit.
func applyLimit[T limits.Limit](dst *limits.PerRole[T], src *metadata.Limit, unit T) {
	if src == nil {
		return
	}
	if src.Global != nil {
		dst.Global = T(*src.Global) * unit
	}
	for role, v := range src.PerRole {
		if dst.PerRole == nil {
			dst.PerRole = map[string]T{}
		}
		dst.PerRole[role] = T(v) * unit
	}
}
