package main

import (
	"encoding/json"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/goccy/go-yaml"
)

// hasuraFixture is a file of testdata/hasura: cases in the form of Hasura's
// own test fixtures (hasura/graphql-engine server/tests-py/queries/…), a
// request and its exact expected response, run in order against one server
// whose database setup has prepared.
type hasuraFixture struct {
	// Project names a Hasura project of testdata/hasura/projects (its
	// metadata and migrations: the tables of Hasura's own fixtures) that
	// the server serves; none, freshgraph's own tables only.
	Project string `yaml:"project"`
	// Env is the server's settings besides the tests' own.
	Env   map[string]string `yaml:"env"`
	Setup string            `yaml:"setup"` // SQL run before the cases
	// ActionHandler starts Hasura's test handler of Actions
	// (hasuraActionHandler) at ACTION_WEBHOOK_HANDLER.
	ActionHandler bool         `yaml:"action_handler"`
	Cases         []hasuraCase `yaml:"cases"`
}

type hasuraCase struct {
	Description string `yaml:"description"`
	// Source is where Hasura's answer comes from: a file of its source or
	// of its fixtures.
	Source string `yaml:"source"`
	// Headers are sent besides the admin secret: X-Hasura-Role and the
	// session variables pick a role, as in Hasura's fixtures.
	Headers map[string]string `yaml:"headers"`
	// Setup is SQL run before the case (Hasura's fixtures reset their
	// rows before each).
	Setup    string         `yaml:"setup"`
	Query    map[string]any `yaml:"query"`
	Response any            `yaml:"response"`
}

// Hasura's answers, byte for byte in message, code and path: every case of
// every file of testdata/hasura. Adding a case is adding an entry.
func TestHasuraFixtures(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/hasura/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var fx hasuraFixture
			if err := yaml.UnmarshalWithOptions(raw, &fx, yaml.Strict()); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			var configure []func(*config)
			var handler *hasuraActionHandler
			if fx.ActionHandler {
				handler = &hasuraActionHandler{}
				hook := httptest.NewServer(handler)
				t.Cleanup(hook.Close)
				fx.Env = maps.Clone(fx.Env)
				if fx.Env == nil {
					fx.Env = map[string]string{}
				}
				fx.Env["ACTION_WEBHOOK_HANDLER"] = hook.URL
			}
			if fx.Project != "" {
				configure = append(configure, withProject(t, filepath.Join("testdata", "hasura", "projects", fx.Project), fx.Env))
			} else if fx.Env != nil {
				configure = append(configure, func(c *config) { *c = testConfig(t, fx.Env) })
			}
			s := newTestServer(t, configure...)
			if handler != nil {
				handler.pool.Store(s.pool)
			}
			if fx.Setup != "" {
				s.exec(t, fx.Setup)
			}
			for _, c := range fx.Cases {
				if c.Description == "" || c.Source == "" || c.Query == nil || c.Response == nil {
					t.Fatalf("%s: a case needs a description, a source, a query and a response: %+v", file, c)
				}
				body, err := json.Marshal(c.Query)
				if err != nil {
					t.Fatal(err)
				}
				headers := map[string]string{"X-Hasura-Admin-Secret": testAdminSecret}
				for k, v := range c.Headers {
					headers[k] = v
				}
				want, err := json.Marshal(c.Response)
				if err != nil {
					t.Fatal(err)
				}
				if c.Setup != "" {
					s.exec(t, c.Setup)
				}
				got := s.post(t, string(body), headers)
				t.Run(c.Description, func(t *testing.T) { assertJSON(t, got, string(want)) })
			}
		})
	}
}
