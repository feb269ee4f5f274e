package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestAuthJSHasuraAdapter drives every method of the real @auth/hasura-adapter
// from npm (pinned by test/authjs-adapter/package-lock.json) against this
// server, as an Auth.js app would: see test/authjs-adapter/adapter.test.mjs.
func TestAuthJSHasuraAdapter(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("test", "authjs-adapter")
	node := nodePackages(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
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

// npmInstalls are the package directories whose npm ci ran, once each.
var npmInstalls sync.Map // dir → func() error

// nodePackages returns the node binary once the packages pinned by dir's
// package-lock.json are installed there (npm ci, once per test binary and
// only when they changed); without Node.js and npm the test is skipped.
func nodePackages(t *testing.T, dir string) string {
	t.Helper()
	node, errNode := exec.LookPath("node")
	npm, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		t.Skipf("Node.js and npm are not installed: skipping %s (install nodejs to run it)", dir)
	}
	install, _ := npmInstalls.LoadOrStore(dir, sync.OnceValue(func() error {
		if upToDate(filepath.Join(dir, "node_modules", ".package-lock.json"), filepath.Join(dir, "package-lock.json")) {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("npm ci in %s: %v\n%s", dir, err, out)
		}
		return nil
	}))
	if err := install.(func() error)(); err != nil {
		t.Fatal(err)
	}
	return node
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
