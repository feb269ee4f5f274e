package main

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/freshgraph/freshgraph/internal/graphiql"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	secret := strings.Repeat("s", 32)

	cfg, err := loadConfig(env())
	if err != nil || !cfg.embedded() || cfg.addr() != "127.0.0.1:8080" || cfg.DataDir != ".freshgraph" {
		t.Errorf("defaults: %+v, %v", cfg, err)
	}
	if cfg.Session.MaxAge != 30*24*time.Hour || cfg.Session.UpdateAge != 24*time.Hour || !cfg.Session.Secure {
		t.Errorf("session defaults: %+v", cfg.Session)
	}

	cfg, err = loadConfig(env("HASURA_GRAPHQL_DATABASE_URL", "postgres://h/db", "HASURA_GRAPHQL_SERVER_PORT", "9000", "SESSION_SECRET", secret))
	if err != nil || cfg.DatabaseURL != "postgres://h/db" || cfg.addr() != ":9000" {
		t.Errorf("Hasura's names: %+v, %v", cfg, err)
	}
	cfg, err = loadConfig(env("DATABASE_URL", "postgres://ours/db", "HASURA_GRAPHQL_DATABASE_URL", "postgres://h/db", "SESSION_SECRET", secret))
	if err != nil || cfg.DatabaseURL != "postgres://ours/db" {
		t.Errorf("freshgraph's name wins: %+v, %v", cfg, err)
	}

	cfg, err = loadConfig(env("DATABASE_URL", "postgres://h/db", "SESSION_SECRET", "new-"+secret+", old-"+secret,
		"SESSION_MAX_AGE", "48h", "SESSION_UPDATE_AGE", "1h", "SESSION_COOKIE_SECURE", "false",
		"SESSION_MAX_LIFETIME", "168h", "SESSION_CLEANUP_INTERVAL", "0", "SESSION_API_ROOT_FIELDS", "session:me, signIn:logIn"))
	if err != nil || len(cfg.Session.Secrets) != 2 || cfg.Session.Secrets[0] != "new-"+secret ||
		cfg.Session.MaxAge != 48*time.Hour || cfg.Session.UpdateAge != time.Hour || cfg.Session.Secure ||
		cfg.Session.MaxLifetime != 168*time.Hour || cfg.SessionCleanupInterval != 0 ||
		!maps.Equal(cfg.SessionAPIRenames, map[string]string{"session": "me", "signIn": "logIn"}) {
		t.Errorf("session settings: %+v, %v", cfg.Session, err)
	}
	if cfg, err = loadConfig(env("DATABASE_URL", "postgres://h/db", "SESSION_SECRET", secret)); err != nil ||
		cfg.Session.MaxLifetime != 90*24*time.Hour || cfg.SessionCleanupInterval != 10*time.Minute || cfg.SessionAPIRenames != nil ||
		!slices.Equal(cfg.AuthJSCookies, []string{"authjs.session-token", "__Secure-authjs.session-token", "next-auth.session-token", "__Secure-next-auth.session-token"}) {
		t.Errorf("session defaults: %+v, %v", cfg.Session, err)
	}

	for v, want := range map[string][]string{"off": nil, "my-app.session, __Host-my-app.session": {"my-app.session", "__Host-my-app.session"}} {
		if cfg, err = loadConfig(env("AUTHJS_SESSION_COOKIES", v)); err != nil || !slices.Equal(cfg.AuthJSCookies, want) {
			t.Errorf("AUTHJS_SESSION_COOKIES=%s: %q, %v", v, cfg.AuthJSCookies, err)
		}
	}

	// Auth.js's secrets under Auth.js's names, newest first.
	for _, c := range []struct {
		env  func(string) string
		want []string
	}{
		{env(), nil},
		{env("NEXTAUTH_SECRET", "v4-secret"), []string{"v4-secret"}},
		{env("AUTH_SECRET", "v5-secret", "NEXTAUTH_SECRET", "v4-secret"), []string{"v5-secret"}},
		{env("AUTH_SECRET", "new, old"), []string{"new", "old"}},
		{env("AUTH_SECRET", "s", "AUTH_SECRET_1", "s1", "AUTH_SECRET_3", "s3"), []string{"s3", "s1", "s"}},
	} {
		if cfg, err = loadConfig(c.env); err != nil || !slices.Equal(cfg.AuthJSSecrets, c.want) {
			t.Errorf("Auth.js secrets %q, %v; want %q", cfg.AuthJSSecrets, err, c.want)
		}
	}

	// Hasura's settings, its booleans read as Hasura reads them.
	cfg, err = loadConfig(env("HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES", "Yes", "HASURA_GRAPHQL_UNAUTHORIZED_ROLE", "public"))
	if err != nil || !cfg.StringifyNumbers || cfg.UnauthorizedRole != "public" {
		t.Errorf("Hasura's settings: %+v, %v", cfg, err)
	}
	if cfg, err = loadConfig(env("GRAPHIQL_CDN", "true", "HASURA_GRAPHQL_CONSOLE_ASSETS_DIR", "/srv/console")); err != nil ||
		cfg.GraphiQL != (graphiql.Options{CDN: true, AssetsDir: "/srv/console"}) {
		t.Errorf("GraphiQL's settings: %+v, %v", cfg.GraphiQL, err)
	}
	if cfg, err = loadConfig(env()); err != nil || cfg.StringifyNumbers || cfg.UnauthorizedRole != "anonymous" || cfg.GraphiQL != (graphiql.Options{}) {
		t.Errorf("Hasura's settings' defaults: %+v, %v", cfg, err)
	}

	for _, tt := range []struct {
		env  func(string) string
		want string
	}{
		{env("HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES", "1"), `HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES: "1" is not a boolean`},
		{env("HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS", "maybe"), `HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS: "maybe" is not a boolean`},
		{env("LOG_FORMAT", "xml"), `LOG_FORMAT: "xml" is not text or json`},
		{env("GRAPHIQL_CDN", "cdn"), `GRAPHIQL_CDN: "cdn" is not a boolean`},
		{env("SHUTDOWN_DRAIN_DELAY", "-1s"), `SHUTDOWN_DRAIN_DELAY: must not be negative`},
		{env("HASURA_GRAPHQL_LOG_LEVEL", "verbose"), `HASURA_GRAPHQL_LOG_LEVEL: "verbose" is not debug, info, warn or error`},
		{env("HASURA_GRAPHQL_UNAUTHORIZED_ROLE", "admin"), `HASURA_GRAPHQL_UNAUTHORIZED_ROLE cannot be "admin"`},
		{env("DATABASE_URL", "postgres://h/db"), "SESSION_SECRET is not set"},
		{env("DATABASE_URL", "postgres://h/db", "SESSION_SECRET", "short"), "at least 32 characters"},
		{env("DATABASE_URL", "postgres://h/db", "SESSION_SECRET", secret+",short"), "at least 32 characters"},
		{env("PORT", "http"), "PORT must be a TCP port number"},
		{env("SESSION_MAX_AGE", "forever"), "SESSION_MAX_AGE must be a duration"},
		{env("SESSION_MAX_AGE", "1h", "SESSION_UPDATE_AGE", "2h"), "at least SESSION_UPDATE_AGE"},
		{env("SESSION_COOKIE_SECURE", "no"), "SESSION_COOKIE_SECURE must be true or false"},
		{env("SESSION_MAX_LIFETIME", "a month"), "SESSION_MAX_LIFETIME must be a duration"},
		{env("SESSION_CLEANUP_INTERVAL", "-1m"), "SESSION_CLEANUP_INTERVAL must be a duration"},
		{env("SESSION_API_ROOT_FIELDS", "session"), `SESSION_API_ROOT_FIELDS: "session" is not name:new_name`},
		{env("AUTHJS_SESSION_COOKIES", "a b"), `AUTHJS_SESSION_COOKIES: "a b" is not a cookie name`},
		{env("PASSWORD_RESET_URL", "https://app.example.com/reset"), "PASSWORD_RESET_URL must contain {token}"},
		{env("AUTHJS_SESSION_COOKIES", "freshgraph.session-token"), `AUTHJS_SESSION_COOKIES: "freshgraph.session-token" is not a cookie name`},
	} {
		if _, err := loadConfig(tt.env); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("got %v, want an error containing %q", err, tt.want)
		}
	}
	// The secret itself never appears in an error.
	if _, err := loadConfig(env("DATABASE_URL", "x", "SESSION_SECRET", "tooshort-secret")); err == nil || strings.Contains(err.Error(), "tooshort-secret") {
		t.Errorf("error %v", err)
	}
}
