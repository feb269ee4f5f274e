package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestAuthJSHasuraAdapter drives every method of the real @auth/hasura-adapter
// from npm (pinned by test/authjs-adapter/package-lock.json) against this
// server, as an Auth.js app would: see test/authjs-adapter/adapter.test.mjs.
func TestAuthJSHasuraAdapter(t *testing.T) {
	t.Parallel()
	node, errNode := exec.LookPath("node")
	npm, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		t.Skip("Node.js and npm are not installed: skipping the @auth/hasura-adapter test (install nodejs to run it)")
	}
	dir := filepath.Join("test", "authjs-adapter")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if !upToDate(filepath.Join(dir, "node_modules", ".package-lock.json"), filepath.Join(dir, "package-lock.json")) {
		install := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		install.Dir = dir
		if out, err := install.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	s := newTestServer(t)
	test := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "adapter.test.mjs")
	test.Dir = dir
	test.Env = append(os.Environ(), "ENDPOINT="+s.URL+"/v1/graphql", "ADMIN_SECRET="+testAdminSecret)
	out, err := test.CombinedOutput()
	if err != nil {
		t.Fatalf("the adapter's tests failed: %v\n%s\nserver log:\n%s", err, out, s.log)
	}
	t.Logf("%s", out)
}

// upToDate reports whether target exists and is newer than source.
func upToDate(target, source string) bool {
	ti, err := os.Stat(target)
	if err != nil {
		return false
	}
	si, err := os.Stat(source)
	return err == nil && !ti.ModTime().Before(si.ModTime())
}
