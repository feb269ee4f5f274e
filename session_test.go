package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/freshgraph/freshgraph/internal/session"
)

// browser is one cookie jar: a tab, a device.
type browser struct {
	t      testing.TB
	client *http.Client
}

func newBrowser(t testing.TB) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, client: &http.Client{Jar: jar}}
}

// gql runs query on server s with this browser's cookies.
func (b *browser) gql(s *testServer, query string, vars map[string]any) []byte {
	b.t.Helper()
	body, _ := b.gqlResp(s, query, vars)
	return body
}

func (b *browser) gqlResp(s *testServer, query string, vars map[string]any) ([]byte, *http.Response) {
	b.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		b.t.Fatal(err)
	}
	return s.postWith(b.t, b.client, string(body), nil)
}

// cookie returns this browser's session cookie for s, or nil.
func (b *browser) cookie(s *testServer) *http.Cookie {
	u, _ := url.Parse(s.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == session.CookieName {
			return c
		}
	}
	return nil
}

// withCookie sends a request carrying exactly the given session cookie value.
func withCookie(t testing.TB, s *testServer, value, query string) []byte {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/graphql", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: session.CookieName, Value: value})
	return s.do(t, req)
}

const (
	sessionQuery = `{ session { user { name email image } } }`
	signUp       = `mutation SignUp($email: String!, $password: String!, $name: String) {
		signUp(email: $email, password: $password, name: $name) { user { id name email } expires } }`
	signIn = `mutation SignIn($email: String!, $password: String!) {
		signIn(email: $email, password: $password) { user { id name } } }`
	rename = `mutation Rename($name: String) { updateUserProfile(name: $name) { id name image } }`
)

// signUpAs signs b up as email with name and returns the new user's id.
func signUpAs(t testing.TB, b *browser, s *testServer, email, name string) string {
	t.Helper()
	vars := map[string]any{"email": email, "password": "correct horse battery", "name": name}
	if name == "" {
		vars["name"] = nil
	}
	got, resp := b.gqlResp(s, signUp, vars)
	var out struct {
		Data struct {
			SignUp struct {
				User    struct{ ID, Name, Email string }
				Expires string
			}
		}
	}
	if err := json.Unmarshal(got, &out); err != nil || out.Data.SignUp.User.ID == "" {
		t.Fatalf("signUp: %s", got)
	}
	if out.Data.SignUp.User.Email != email || out.Data.SignUp.User.Name != name {
		t.Errorf("signUp returned %+v", out.Data.SignUp.User)
	}
	expires, err := time.Parse(time.RFC3339, out.Data.SignUp.Expires)
	if err != nil || time.Until(expires) < 29*24*time.Hour || time.Until(expires) > 31*24*time.Hour {
		t.Errorf("signUp expires %q, want 30 days from now", out.Data.SignUp.Expires)
	}
	checkSessionCookie(t, resp)
	return out.Data.SignUp.User.ID
}

// checkSessionCookie checks the attributes of the session cookie resp sets.
func checkSessionCookie(t testing.TB, resp *http.Response) {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name != session.CookieName {
			continue
		}
		if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != 30*24*3600 {
			t.Errorf("session cookie attributes: %s", c.String())
		}
		if strings.Contains(c.Value, "Fill") || len(c.Value) > 200 {
			t.Errorf("session cookie carries more than a token: %q", c.Value)
		}
		return
	}
	t.Errorf("no %s cookie set; Set-Cookie: %q", session.CookieName, resp.Header.Values("Set-Cookie"))
}

func TestSeedScenarioSessionIsNeverStale(t *testing.T) {
	t.Parallel()
	a := newTestServer(t)
	tab := newBrowser(t)
	signUpAs(t, tab, a, "fill@murray.com", "Fill Murray")
	assertJSON(t, tab.gql(a, sessionQuery, nil),
		`{"data":{"session":{"user":{"name":"Fill Murray","email":"fill@murray.com","image":null}}}}`)

	id := jsonID(t, a, "fill@murray.com")
	a.sql.take()
	assertJSON(t, tab.gql(a, rename, map[string]any{"name": "Bill Murray"}),
		`{"data":{"updateUserProfile":{"id":`+id+`,"name":"Bill Murray","image":null}}}`)
	if n := len(a.sql.take()); n != 1 {
		t.Errorf("updateUserProfile took %d SQL statements, want 1", n)
	}

	// The very next session, from this tab: the new name, no refresh call.
	assertJSON(t, tab.gql(a, sessionQuery, nil),
		`{"data":{"session":{"user":{"name":"Bill Murray","email":"fill@murray.com","image":null}}}}`)
	if sqls := a.sql.take(); len(sqls) != 1 {
		t.Errorf("session took %d SQL statements, want 1: %q", len(sqls), sqls)
	}

	// Another device, signed in on its own.
	phone := newBrowser(t)
	assertJSON(t, phone.gql(a, signIn, map[string]any{"email": "FILL@murray.com ", "password": "correct horse battery"}),
		`{"data":{"signIn":{"user":{"id":`+id+`,"name":"Bill Murray"}}}}`)
	assertJSON(t, phone.gql(a, sessionQuery, nil),
		`{"data":{"session":{"user":{"name":"Bill Murray","email":"fill@murray.com","image":null}}}}`)

	// Another instance on the same database, with the same cookie.
	b := newTestServerOn(t, a.dbURL)
	assertJSON(t, tab.gql(b, sessionQuery, nil),
		`{"data":{"session":{"user":{"name":"Bill Murray","email":"fill@murray.com","image":null}}}}`)
	// A write through B is what A's next session shows.
	tab.gql(b, rename, map[string]any{"name": "William Murray"})
	assertJSON(t, phone.gql(a, sessionQuery, nil),
		`{"data":{"session":{"user":{"name":"William Murray","email":"fill@murray.com","image":null}}}}`)

	// A restart: instance A goes away, a new one comes up on the database.
	a.Close()
	restarted := newTestServerOn(t, a.dbURL)
	assertJSON(t, tab.gql(restarted, sessionQuery, nil),
		`{"data":{"session":{"user":{"name":"William Murray","email":"fill@murray.com","image":null}}}}`)

	// Any other writer: plain SQL.
	restarted.exec(t, `UPDATE users SET name = 'Plain SQL' WHERE email = 'fill@murray.com'`)
	assertJSON(t, tab.gql(restarted, sessionQuery, nil),
		`{"data":{"session":{"user":{"name":"Plain SQL","email":"fill@murray.com","image":null}}}}`)
}

// jsonID returns the id of the user with email as a JSON string.
func jsonID(t testing.TB, s *testServer, email string) string {
	t.Helper()
	var id string
	if err := s.pool.QueryRow(context.Background(), `SELECT id::text FROM users WHERE email = $1`, email).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return `"` + id + `"`
}

func TestSignOutKillsEveryCopyOfTheCookie(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	tab := newBrowser(t)
	signUpAs(t, tab, s, "out@example.com", "Out")
	stolen := tab.cookie(s).Value

	got, resp := tab.gqlResp(s, `mutation { signOut }`, nil)
	assertJSON(t, got, `{"data":{"signOut":true}}`)
	expired := false
	for _, c := range resp.Cookies() {
		expired = expired || (c.Name == session.CookieName && c.MaxAge < 0)
	}
	if !expired {
		t.Errorf("signOut did not expire the cookie: %q", resp.Header.Values("Set-Cookie"))
	}
	assertJSON(t, tab.gql(s, sessionQuery, nil), `{"data":{"session":null}}`)

	// The old cookie, replayed: the row is gone, so it is nobody.
	assertJSON(t, withCookie(t, s, stolen, sessionQuery), `{"data":{"session":null}}`)
	assertJSON(t, withCookie(t, s, stolen, `mutation { signOut }`), `{"data":{"signOut":false}}`)
	var rows int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM sessions`).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("%d session rows after sign-out (%v), want 0", rows, err)
	}
}

func TestBadCookiesAreAnonymous(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	tab := newBrowser(t)
	id := signUpAs(t, tab, s, "c@example.com", "Cookie")
	good := tab.cookie(s).Value

	otherKey := newTestServerOn(t, s.dbURL, func(c *config) {
		c.Session.Secrets = []string{"another-secret-entirely-0123456789abcdef"}
	})
	usersByPk := fmt.Sprintf(`{ users_by_pk(id: %q) { id } }`, id)
	for name, value := range map[string]string{
		"forged":    "MTcwMDAwMDAwMHxBQUFBfGZvcmdlZA==",
		"truncated": good[:len(good)/2],
		"garbage":   "not a cookie at all",
		"empty":     "",
	} {
		t.Run(name, func(t *testing.T) {
			assertJSON(t, withCookie(t, s, value, sessionQuery), `{"data":{"session":null}}`)
			assertJSON(t, withCookie(t, s, value, usersByPk),
				`{"errors":[{"message":"field 'users_by_pk' not found in type: 'query_root'","extensions":{"code":"validation-failed","path":"$.selectionSet.users_by_pk"}}]}`)
		})
	}
	t.Run("wrong key", func(t *testing.T) {
		assertJSON(t, withCookie(t, otherKey, good, sessionQuery), `{"data":{"session":null}}`)
	})
	t.Run("expired", func(t *testing.T) {
		s.exec(t, `UPDATE sessions SET expires = now() - interval '1 second'`)
		assertJSON(t, withCookie(t, s, good, sessionQuery), `{"data":{"session":null}}`)
		assertJSON(t, withCookie(t, s, good, usersByPk), `{"data":{"users_by_pk":null}}`)
		assertJSON(t, withCookie(t, s, good, `mutation { updateUserProfile(name: "x") { name } }`),
			`{"errors":[{"message":"not signed in","extensions":{"code":"access-denied","path":"$.selectionSet.updateUserProfile"}}]}`)
	})
	if strings.Contains(s.log.String(), good) {
		t.Errorf("the log holds a session cookie")
	}
}

func TestSecretRotationKeepsSessions(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	tab := newBrowser(t)
	signUpAs(t, tab, s, "rot@example.com", "Rotated")
	rotated := newTestServerOn(t, s.dbURL, func(c *config) {
		c.Session.Secrets = []string{"the-new-secret-0123456789abcdefghijklmn", testSessionSecret}
	})
	assertJSON(t, tab.gql(rotated, `{ session { user { name } } }`, nil), `{"data":{"session":{"user":{"name":"Rotated"}}}}`)
}

func TestUserSeesOnlyTheirOwnRow(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	alice, bob := newBrowser(t), newBrowser(t)
	aliceID := signUpAs(t, alice, s, "alice@example.com", "Alice")
	bobID := signUpAs(t, bob, s, "bob@example.com", "Bob")
	q := `query GetUser($userId: uuid!) { users_by_pk(id: $userId) { id name } }`
	assertJSON(t, alice.gql(s, q, map[string]any{"userId": aliceID}), `{"data":{"users_by_pk":{"id":"`+aliceID+`","name":"Alice"}}}`)
	assertJSON(t, alice.gql(s, q, map[string]any{"userId": bobID}), `{"data":{"users_by_pk":null}}`)
}

func TestUpdateUserProfileArguments(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	tab := newBrowser(t)
	signUpAs(t, tab, s, "p@example.com", "Pat")
	update := `mutation U($name: String, $image: String) { updateUserProfile(name: $name, image: $image) { name image } }`

	assertJSON(t, tab.gql(s, update, map[string]any{"image": "https://example.com/pat.png"}),
		`{"data":{"updateUserProfile":{"name":"Pat","image":"https://example.com/pat.png"}}}`)
	// Absent leaves a column alone; an explicit null clears it.
	assertJSON(t, tab.gql(s, `mutation { updateUserProfile(name: "  Patricia  ") { name image } }`, nil),
		`{"data":{"updateUserProfile":{"name":"Patricia","image":"https://example.com/pat.png"}}}`)
	assertJSON(t, tab.gql(s, update, map[string]any{"image": nil}),
		`{"data":{"updateUserProfile":{"name":"Patricia","image":null}}}`)
	assertJSON(t, tab.gql(s, `mutation { updateUserProfile { name } }`, nil),
		`{"data":{"updateUserProfile":{"name":"Patricia"}}}`)

	bad := func(arg, message string) string {
		return `{"errors":[{"message":"` + message + `","extensions":{"code":"validation-failed","path":"$.selectionSet.updateUserProfile.args.` + arg + `"}}]}`
	}
	nameRule := "name must be 1 to 100 characters"
	imageRule := "image must be an absolute http or https URL of at most 2048 characters"
	for _, tt := range []struct {
		vars map[string]any
		want string
	}{
		{map[string]any{"name": "   "}, bad("name", nameRule)},
		{map[string]any{"name": strings.Repeat("é", 101)}, bad("name", nameRule)},
		{map[string]any{"name": "tab\there"}, bad("name", "name must not contain control characters")},
		{map[string]any{"name": "Ok", "image": "javascript:alert(1)"}, bad("image", imageRule)},
		{map[string]any{"image": "/relative.png"}, bad("image", imageRule)},
		{map[string]any{"image": "https://example.com/" + strings.Repeat("a", 2048)}, bad("image", imageRule)},
		{map[string]any{"image": "https://user:pw@example.com/x.png"}, bad("image", imageRule)},
	} {
		assertJSON(t, tab.gql(s, update, tt.vars), tt.want)
	}
	// None of the bad calls wrote anything, not even the valid name beside a bad image.
	assertJSON(t, tab.gql(s, sessionQuery, nil),
		`{"data":{"session":{"user":{"name":"Patricia","email":"p@example.com","image":null}}}}`)
	// 100 characters is fine.
	long := strings.Repeat("é", 100)
	assertJSON(t, tab.gql(s, update, map[string]any{"name": long}), `{"data":{"updateUserProfile":{"name":"`+long+`","image":null}}}`)

	anonymous := newBrowser(t)
	assertJSON(t, anonymous.gql(s, update, map[string]any{"name": "Mallory"}),
		`{"errors":[{"message":"not signed in","extensions":{"code":"access-denied","path":"$.selectionSet.updateUserProfile"}}]}`)
}

func TestConcurrentProfileUpdatesAreEachWholeWrites(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	tab := newBrowser(t)
	signUpAs(t, tab, s, "race@example.com", "Racer")
	const writers = 50
	var wg sync.WaitGroup
	results := make([][]byte, writers)
	for i := range writers {
		wg.Go(func() {
			results[i] = tab.gql(s, `mutation U($name: String, $image: String) { updateUserProfile(name: $name, image: $image) { name image } }`,
				map[string]any{"name": fmt.Sprintf("Writer %d", i), "image": fmt.Sprintf("https://example.com/%d.png", i)})
		})
	}
	wg.Wait()
	for i, got := range results {
		assertJSON(t, got, fmt.Sprintf(`{"data":{"updateUserProfile":{"name":"Writer %d","image":"https://example.com/%d.png"}}}`, i, i))
	}
	var name, image string
	if err := s.pool.QueryRow(context.Background(), `SELECT name, image FROM users`).Scan(&name, &image); err != nil {
		t.Fatal(err)
	}
	var n int
	if _, err := fmt.Sscanf(name, "Writer %d", &n); err != nil || image != fmt.Sprintf("https://example.com/%d.png", n) {
		t.Errorf("final row %q %q is not one whole write", name, image)
	}
}

func TestSignUpChecksItsInput(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	tab := newBrowser(t)
	signUpAs(t, tab, s, "taken@example.com", "First")
	bad := func(arg, message string) string {
		return `{"errors":[{"message":"` + message + `","extensions":{"code":"validation-failed","path":"$.selectionSet.signUp.args.` + arg + `"}}]}`
	}
	for _, tt := range []struct {
		email, password string
		name            any
		want            string
	}{
		{" TAKEN@Example.com", "correct horse battery", nil, `{"errors":[{"message":"an account with this email already exists","extensions":{"code":"constraint-violation","path":"$.selectionSet.signUp.args.email"}}]}`},
		{"not-an-email", "correct horse battery", nil, bad("email", "email must be an email address such as name@example.com")},
		{"Someone <a@example.com>", "correct horse battery", nil, bad("email", "email must be an email address such as name@example.com")},
		{"new@example.com", "short", nil, bad("password", "password must be 8 to 128 characters")},
		{"new@example.com", strings.Repeat("p", 129), nil, bad("password", "password must be 8 to 128 characters")},
		{"new@example.com", "correct horse battery", "", bad("name", "name must be 1 to 100 characters")},
	} {
		other := newBrowser(t)
		got, resp := other.gqlResp(s, signUp, map[string]any{"email": tt.email, "password": tt.password, "name": tt.name})
		assertJSON(t, got, tt.want)
		if len(resp.Cookies()) != 0 {
			t.Errorf("a failed signUp set cookies: %q", resp.Header.Values("Set-Cookie"))
		}
	}
	var users, passwords int
	if err := s.pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM user_passwords)`).Scan(&users, &passwords); err != nil {
		t.Fatal(err)
	}
	if users != 1 || passwords != 1 {
		t.Errorf("%d users and %d passwords after failed sign-ups, want 1 and 1", users, passwords)
	}
	// A user without a name is fine, and the hash is argon2id, never the password.
	signUpAs(t, newBrowser(t), s, "noname@example.com", "")
	var hash string
	if err := s.pool.QueryRow(context.Background(), `SELECT hash FROM user_passwords p JOIN users u ON u.id = p."userId" WHERE email = 'noname@example.com'`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$") || strings.Contains(hash, "correct horse") {
		t.Errorf("stored hash %q", hash)
	}
}

func TestSignInFailuresLookAlikeAndAreLimited(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	signUpAs(t, newBrowser(t), s, "victim@example.com", "Victim")
	denied := `{"errors":[{"message":"invalid email or password","extensions":{"code":"access-denied","path":"$.selectionSet.signIn"}}]}`
	tab := newBrowser(t)
	assertJSON(t, tab.gql(s, signIn, map[string]any{"email": "nobody@example.com", "password": "correct horse battery"}), denied)
	for range accountsEmailBurst - 1 {
		assertJSON(t, tab.gql(s, signIn, map[string]any{"email": "victim@example.com", "password": "wrong password!"}), denied)
	}
	// The right password still works within the burst…
	assertJSON(t, tab.gql(s, signIn, map[string]any{"email": "victim@example.com", "password": "correct horse battery"}),
		`{"data":{"signIn":{"user":{"id":`+jsonID(t, s, "victim@example.com")+`,"name":"Victim"}}}}`)
	// …and then this email is limited, whatever the password.
	got := tab.gql(s, signIn, map[string]any{"email": "victim@example.com", "password": "correct horse battery"})
	// The wait counts down from a minute while the test runs.
	wait := regexp.MustCompile(`try again in (\d+ seconds?)`).FindStringSubmatch(string(got))
	if wait == nil {
		t.Fatalf("not limited: %s", got)
	}
	assertJSON(t, got, `{"errors":[{"message":"too many attempts; try again in `+wait[1]+`","extensions":{"code":"rate-limited","path":"$.selectionSet.signIn"}}]}`)
	if n, _ := strconv.Atoi(strings.Fields(wait[1])[0]); n < 1 || n > 60 || (n == 1) != strings.HasSuffix(wait[1], "second") {
		t.Errorf("wait %d seconds, want 1 to 60", n)
	}
	// Other emails from this address are not, until the address's own limit.
	limited := false
	for i := range accountsAddressBurst {
		got := tab.gql(s, signIn, map[string]any{"email": fmt.Sprintf("guess%d@example.com", i), "password": "wrong password!"})
		if strings.Contains(string(got), `"rate-limited"`) {
			limited = true
			break
		}
	}
	if !limited {
		t.Errorf("one address made %d more sign-in attempts without being limited", accountsAddressBurst)
	}
}

func TestEverySignInGetsANewToken(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	tab := newBrowser(t)
	signUpAs(t, tab, s, "n@example.com", "New")
	first := tab.cookie(s).Value
	tab.gql(s, signIn, map[string]any{"email": "n@example.com", "password": "correct horse battery"})
	if second := tab.cookie(s).Value; second == first {
		t.Error("signIn kept the old cookie")
	}
	var tokens int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(DISTINCT "sessionToken") FROM sessions`).Scan(&tokens); err != nil || tokens != 2 {
		t.Errorf("%d distinct session tokens (%v), want 2", tokens, err)
	}
}

func TestSessionExpirySlidesOncePerUpdateAge(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	tab := newBrowser(t)
	signUpAs(t, tab, s, "slide@example.com", "Slider")

	// A session set just now is not written again.
	s.sql.take()
	_, resp := tab.gqlResp(s, `{ session { expires } }`, nil)
	if n := len(s.sql.take()); n != 1 || len(resp.Cookies()) != 0 {
		t.Errorf("fresh session: %d statements and cookies %q, want 1 and none", n, resp.Header.Values("Set-Cookie"))
	}

	// Two days later (expiry 28 days out), the next call pushes it to 30 days.
	s.exec(t, `UPDATE sessions SET expires = now() + interval '28 days'`)
	s.sql.take()
	got, resp := tab.gqlResp(s, `{ session { expires } }`, nil)
	if n := len(s.sql.take()); n != 2 {
		t.Errorf("sliding session: %d statements, want 2", n)
	}
	checkSessionCookie(t, resp)
	var out struct {
		Data struct{ Session struct{ Expires time.Time } }
	}
	if err := json.Unmarshal(got, &out); err != nil {
		t.Fatal(err)
	}
	var stored time.Time
	if err := s.pool.QueryRow(context.Background(), `SELECT expires FROM sessions`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !out.Data.Session.Expires.Equal(stored) || time.Until(stored) < 30*24*time.Hour-time.Minute {
		t.Errorf("after sliding: answered %v, stored %v; want both 30 days out", out.Data.Session.Expires, stored)
	}
}

// verifyPassword answers the user of a right email and password and starts
// nothing: no cookie, no session row; a wrong one is signIn's error, after
// the same work, under the same limits. An app server asks it with the
// admin secret, naming its user's address.
func TestVerifyPasswordStartsNothing(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	signUpAs(t, newBrowser(t), s, "cred@example.com", "Cred")
	const verify = `mutation ($email: String!, $password: String!) { verifyPassword(email: $email, password: $password) { id name email } }`
	app := map[string]string{"X-Hasura-Admin-Secret": testAdminSecret, "X-Forwarded-For": "198.51.100.9"}
	body := func(email, password string) string {
		b, _ := json.Marshal(map[string]any{"query": verify, "variables": map[string]any{"email": email, "password": password}})
		return string(b)
	}
	got, resp := s.postWith(t, s.Client(), body("CRED@example.com ", "correct horse battery"), app)
	assertJSON(t, got, `{"data":{"verifyPassword":{"id":`+jsonID(t, s, "cred@example.com")+`,"name":"Cred","email":"cred@example.com"}}}`)
	if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
		t.Errorf("verifyPassword set cookies: %q", c)
	}
	var sessions int
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM sessions`).Scan(&sessions); err != nil || sessions != 1 {
		t.Errorf("%d sessions (the sign-up's one), %v", sessions, err)
	}
	denied := `{"errors":[{"message":"invalid email or password","extensions":{"code":"access-denied","path":"$.selectionSet.verifyPassword"}}]}`
	assertJSON(t, s.post(t, body("cred@example.com", "wrong password!"), app), denied)
	assertJSON(t, s.post(t, body("nobody@example.com", "correct horse battery"), app), denied)
	// The email's limit is signIn's: spent by verifyPassword, it holds for
	// signIn too.
	for range accountsEmailBurst - 2 {
		assertJSON(t, s.post(t, body("cred@example.com", "wrong password!"), app), denied)
	}
	limited := s.post(t, body("cred@example.com", "correct horse battery"), app)
	if !strings.Contains(string(limited), `"rate-limited"`) {
		t.Errorf("not limited: %s", limited)
	}
	b, _ := json.Marshal(map[string]any{"query": signIn, "variables": map[string]any{"email": "cred@example.com", "password": "correct horse battery"}})
	if got := s.post(t, string(b), nil); !strings.Contains(string(got), `"rate-limited"`) {
		t.Errorf("signIn after the email's limit was spent by verifyPassword: %s", got)
	}
}
