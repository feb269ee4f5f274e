package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser tests: the seed's acceptance steps in headless Chromium (Debian's
// chromium package, never a downloaded browser), against the demo page and
// GraphiQL. Each step is photographed; when a test fails its screenshots are
// kept in test-artifacts/browser/ (or $FRESHGRAPH_ARTIFACTS).

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("Chromium is not installed: skipping the browser tests (apt-get install chromium to run them)")
	return ""
}

// browserSession is one headless Chromium; its tabs share cookies.
type browserSession struct {
	t     *testing.T
	ctx   context.Context
	base  string // http://localhost:PORT: browsers treat localhost as secure, so Secure cookies work
	mu    sync.Mutex
	shots map[string][]byte
}

// offline gives the browser no route outside the machine: every host name
// but localhost fails to resolve.
var offline = chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost")

func newBrowserSession(t *testing.T, s *testServer, more ...chromedp.ExecAllocatorOption) *browserSession {
	t.Helper()
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // the tests may run as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	opts = append(opts, more...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	b := &browserSession{t: t, ctx: ctx, base: strings.Replace(s.URL, "127.0.0.1", "localhost", 1), shots: map[string][]byte{}}
	t.Cleanup(func() {
		if t.Failed() {
			b.keepScreenshots()
		}
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return b
}

// tab opens another tab of the same browser (same cookies).
func (b *browserSession) tab() context.Context {
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	// The tab lives as long as the context of its first Run: open it now,
	// not under a step's deadline.
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("open a tab: %v", err)
	}
	return ctx
}

// step runs actions in tab, with a deadline, and photographs the result.
func (b *browserSession) step(tab context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(tab, 15*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, actions...)
	// A tab in the background renders no frames: give up on its picture
	// rather than wait for one.
	shotCtx, cancelShot := context.WithTimeout(tab, 3*time.Second)
	defer cancelShot()
	if shot, serr := chromedp.Run(shotCtx, chromedp.CaptureScreenshot()); serr == nil {
		b.mu.Lock()
		b.shots[fmt.Sprintf("%02d-%s", len(b.shots)+1, name)] = shot
		b.mu.Unlock()
	}
	if err != nil {
		text, _ := chromedp.Run(shotCtx, chromedp.Evaluate[string](`document.body.innerText`))
		b.t.Fatalf("step %q: %v\npage text:\n%s", name, err, text)
	}
}

func (b *browserSession) keepScreenshots() {
	dir := os.Getenv("FRESHGRAPH_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("test-artifacts", "browser")
	}
	dir = filepath.Join(dir, b.t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for name, shot := range b.shots {
		_ = os.WriteFile(filepath.Join(dir, name+".png"), shot, 0o644)
	}
	b.t.Logf("screenshots of each step: %s", dir)
}

// until waits until the JavaScript expression is true.
func until(expression string) chromedp.Action[chromedp.Void] {
	// Polled on an interval: a background tab runs no animation frames.
	poll := chromedp.Poll[bool](expression, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := poll(ctx, t)
		return chromedp.Void{}, err
	}
}

// textIs waits until the element's text is want.
func textIs(sel, want string) chromedp.Action[chromedp.Void] {
	return until(fmt.Sprintf(`document.querySelector(%q) !== null && document.querySelector(%q).textContent.trim() === %q`, sel, sel, want))
}

// shown waits until the element is displayed.
func shown(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }

// fill clears an input and types value into it, as a person would.
func fill(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(eval(fmt.Sprintf(`document.querySelector(%q).value = ""`, sel)), chromedp.SendKeys(chromedp.CSS(sel), value))
}

// eval runs JavaScript for its effect.
func eval(expression string) chromedp.Action[chromedp.Void] {
	run := chromedp.Evaluate[any](expression)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := run(ctx, t)
		return chromedp.Void{}, err
	}
}

func TestBrowserSeedScenario(t *testing.T) {
	s := newTestServer(t)
	b := newBrowserSession(t, s)
	page := b.ctx

	// (a) The seed's steps: sign in, change the name, the button and its menu
	// show it without a reload; reload, still there.
	b.step(page, "open demo", chromedp.Navigate(b.base+"/demo"), shown("#signup-form"))
	b.step(page, "sign up",
		fill("#signup-name", "Fill Murray"), fill("#signup-email", "fill@murray.com"),
		fill("#signup-password", "correct horse battery"), click("#signup-submit"),
		textIs("#user-name", "Fill Murray"), shown("#profile-form"))
	b.step(page, "rename",
		fill("#profile-name", "Bill Murray"), click("#profile-save"),
		textIs("#user-name", "Bill Murray"))
	b.step(page, "open the menu", click("#user-button"), shown("#user-menu"),
		textIs("#menu-name", "Bill Murray"), textIs("#menu-email", "fill@murray.com"))
	b.step(page, "reload", chromedp.Reload(), textIs("#user-name", "Bill Murray"), textIs("#connection", "live"))

	// (b) Two pages sharing the cookie: a change in one shows in the other
	// within a second.
	other := b.tab()
	b.step(other, "second page", chromedp.Navigate(b.base+"/demo"), textIs("#user-name", "Bill Murray"), textIs("#connection", "live"))
	b.step(page, "rename again", fill("#profile-name", "William Murray"), click("#profile-save"),
		textIs("#user-name", "William Murray"))
	start := time.Now()
	b.step(other, "second page follows", textIs("#user-name", "William Murray"))
	if d := time.Since(start); d > time.Second {
		t.Errorf("the other page showed the new name after %v, want within a second", d)
	}

	// A bad input gets a clear message and changes nothing.
	b.step(page, "bad image URL",
		eval(`document.querySelector("#profile-image").type = "text"`),
		fill("#profile-image", "javascript:alert(1)"), click("#profile-save"),
		textIs("#message", "image must be an absolute http or https URL of at most 2048 characters"))

	// (c) Signing out in one page signs out the other.
	b.step(page, "sign out", click("#user-button"), shown("#sign-out"),
		click("#sign-out"), shown("#signed-out"))
	b.step(other, "second page signed out", shown("#signed-out"))
}

// GraphiQL works with no network route outside the machine: its scripts are
// in the binary. The Explorer builds a query by clicking, from the signed-in
// role's schema, and GraphiQL runs it with the browser's cookie.
func TestBrowserGraphiQLOffline(t *testing.T) {
	s := newTestServer(t)
	b := newBrowserSession(t, s, offline)
	page := b.ctx
	// Sign in through the demo page, so the cookie is the browser's.
	b.step(page, "sign up", chromedp.Navigate(b.base+"/demo"), shown("#signup-form"),
		fill("#signup-name", "GraphiQL User"), fill("#signup-email", "gq@example.com"),
		fill("#signup-password", "correct horse battery"), click("#signup-submit"),
		textIs("#user-name", "GraphiQL User"))
	b.step(page, "open GraphiQL", chromedp.Navigate(b.base+"/"), shown(".graphiql-execute-button"),
		until(`document.querySelector(".graphiql-query-editor .CodeMirror") !== null`),
		eval(`document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.setValue("")`))
	b.step(page, "open the Explorer", click(`button[aria-label="Show GraphiQL Explorer"]`),
		until(`document.querySelector('.graphiql-explorer-root [data-field-name="session"]') !== null`))

	// The Explorer offers the signed-in role's query_root: what introspection
	// answers with the cookie, not what it answers without.
	fields := func(credentials string) string {
		return fmt.Sprintf(`fetch("/v1/graphql", {method: "POST", credentials: %q, headers: {"Content-Type": "application/json"},
			body: JSON.stringify({query: "{ __schema { queryType { fields { name } } } }"})})
			.then(r => r.json()).then(r => r.data.__schema.queryType.fields.map(f => f.name).sort().join(" "))`, credentials)
	}
	evaluate := func(expression string, opts ...chromedp.EvaluateOption) string {
		ctx, cancel := context.WithTimeout(page, 10*time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expression, opts...))
		if err != nil {
			t.Fatalf("%s: %v", expression, err)
		}
		return v
	}
	shownFields := evaluate(`[...document.querySelectorAll(".graphiql-explorer-root span[data-field-name]")].filter(e => e.closest(".graphiql-explorer-node").parentElement.closest(".graphiql-explorer-node") === null).map(e => e.dataset.fieldName).sort().join(" ")`)
	userFields := evaluate(fields("same-origin"), chromedp.EvalAwaitPromise)
	anonymousFields := evaluate(fields("omit"), chromedp.EvalAwaitPromise)
	if shownFields != userFields || userFields == anonymousFields {
		t.Errorf("the Explorer shows %q\nthe user's query_root: %q\nthe anonymous role's: %q", shownFields, userFields, anonymousFields)
	}

	b.step(page, "build a query by clicking", click(`.graphiql-explorer-root [data-field-name="session"]`),
		shown(`.graphiql-explorer-session [data-field-name="user"]`), click(`.graphiql-explorer-session [data-field-name="user"]`),
		shown(`.graphiql-explorer-user [data-field-name="email"]`), click(`.graphiql-explorer-user [data-field-name="email"]`),
		until(`document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.getValue().includes("email")`))
	b.step(page, "run it", click(".graphiql-execute-button"),
		until(`(document.querySelector(".graphiql-response") || {textContent: ""}).textContent.includes("gq@example.com")`))
	// Every file came from this server.
	external, err := chromedp.Run(page, chromedp.Evaluate[int](`performance.getEntriesByType("resource").filter(e => !e.name.startsWith(location.origin)).length`))
	if err != nil || external != 0 {
		t.Errorf("%d resources came from outside the server (%v)", external, err)
	}
}
