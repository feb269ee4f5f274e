package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const (
	nameLength    = "name must be 1 to 100 characters"
	nameBidi      = "name must not contain bidirectional control characters"
	nameInvisible = "name must contain a visible character"
	emailTaken    = `{"errors":[{"message":"an account with this email already exists","extensions":{"code":"constraint-violation","path":"$.selectionSet.signUp.args.email"}}]}`
)

// badNames are names every name argument refuses, with the message.
var badNames = []struct{ name, message string }{
	{"\u3000\u00a0", nameLength},
	{strings.Repeat("e\u0301", 101), nameLength},
	{"Pat\u202aX", nameBidi},
	{"Pat\u202eX", nameBidi},
	{"Pat\u2066X", nameBidi},
	{"Pat\u2069X", nameBidi},
	{"Pat\u200e", nameBidi},
	{"\u200fPat", nameBidi},
	{"Pat\u061cX", nameBidi},
	{"\u200b\u200c\u200d\u2060\ufeff", nameInvisible},
	{"\u2800", nameInvisible},
	{"\u3164", nameInvisible},
	{"\u115f\u1160", nameInvisible},
	{" \u200b\u3000\u2800 ", nameInvisible},
}

func nameError(field, message string) string {
	return `{"errors":[{"message":"` + message + `","extensions":{"code":"validation-failed","path":"$.selectionSet.` + field + `.args.name"}}]}`
}

// storedName reads the name column of the user with id.
func storedName(t *testing.T, s *testServer, id string) *string {
	t.Helper()
	var name *string
	if err := s.pool.QueryRow(context.Background(), `SELECT name FROM users WHERE id = $1`, id).Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}

// countRows returns the number of users and of password rows.
func countRows(t *testing.T, s *testServer) (users, passwords int) {
	t.Helper()
	if err := s.pool.QueryRow(context.Background(),
		`SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM user_passwords)`).Scan(&users, &passwords); err != nil {
		t.Fatal(err)
	}
	return users, passwords
}

func TestUpdateUserProfileNameRules(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	tab := newBrowser(t)
	id := signUpAs(t, tab, s, "names@example.com", "Pat")
	for _, tt := range badNames {
		assertJSON(t, tab.gql(s, rename, map[string]any{"name": tt.name}), nameError("updateUserProfile", tt.message))
		if got := storedName(t, s, id); got == nil || *got != "Pat" {
			t.Fatalf("after refusing %+q the stored name is %v, want Pat", tt.name, got)
		}
	}
	// NFC before counting and storing: 200 code points, 100 characters.
	for _, tt := range []struct{ in, stored string }{
		{"Zoe\u0308 Ange\u0301lique", "Zoë Angélique"},
		{strings.Repeat("e\u0301", 100), strings.Repeat("\u00e9", 100)},
		{"\ufeff\u200b Pat \u200d", "Pat"},
		{"A\u3000B", "A\u3000B"},
	} {
		assertJSON(t, tab.gql(s, rename, map[string]any{"name": tt.in}),
			`{"data":{"updateUserProfile":{"id":"`+id+`","name":"`+tt.stored+`","image":null}}}`)
		if got := storedName(t, s, id); got == nil || *got != tt.stored {
			t.Errorf("%+q is stored as %+q, want %+q", tt.in, deref(got), tt.stored)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func TestSignUpNameRules(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	for _, tt := range badNames {
		got, resp := newBrowser(t).gqlResp(s, signUp, map[string]any{"email": "new@example.com", "password": "correct horse battery", "name": tt.name})
		assertJSON(t, got, nameError("signUp", tt.message))
		if len(resp.Cookies()) != 0 {
			t.Errorf("a refused signUp set cookies: %q", resp.Header.Values("Set-Cookie"))
		}
	}
	if users, passwords := countRows(t, s); users != 0 || passwords != 0 {
		t.Errorf("%d users and %d passwords after refused sign-ups, want none", users, passwords)
	}
	// A decomposed name is stored composed, and answered as stored.
	got := newBrowser(t).gql(s, signUp, map[string]any{"email": "zoe@example.com", "password": "correct horse battery", "name": "\u200bZoe\u0308\u3000"})
	var out struct {
		Data struct {
			SignUp struct{ User struct{ ID, Name string } }
		}
	}
	if err := json.Unmarshal(got, &out); err != nil || out.Data.SignUp.User.Name != "Zo\u00eb" {
		t.Errorf("signUp answered %s, want the name %+q", got, "Zo\u00eb")
	}
	id := out.Data.SignUp.User.ID
	if name := storedName(t, s, id); name == nil || *name != "Zo\u00eb" {
		t.Errorf("stored name %+q, want %+q", deref(name), "Zo\u00eb")
	}
	assertJSON(t, newBrowser(t).gql(s, signIn, map[string]any{"email": "zoe@example.com", "password": "correct horse battery"}),
		`{"data":{"signIn":{"user":{"id":"`+id+`","name":"Zo\u00eb"}}}}`)
}

func TestSignUpRefusesATakenEmailInAnyCase(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	// As @auth/hasura-adapter writes a user: the email in the case given.
	assertJSON(t, s.gql(t, `mutation { insert_users_one(object: {email: "Alice@Example.com", name: "Alice"}) { email } }`, nil, adminHeaders),
		`{"data":{"insert_users_one":{"email":"Alice@Example.com"}}}`)
	bob := newBrowser(t)
	signUpAs(t, bob, s, "bob@example.com", "Bob")
	users, passwords := countRows(t, s)
	if users != 2 || passwords != 1 {
		t.Fatalf("%d users and %d passwords, want 2 and 1", users, passwords)
	}
	for _, email := range []string{"alice@example.com", "ALICE@EXAMPLE.COM", " Alice@Example.com ", "bob@example.com", "Bob@Example.com"} {
		got, resp := newBrowser(t).gqlResp(s, signUp, map[string]any{"email": email, "password": "correct horse battery", "name": "Mallory"})
		assertJSON(t, got, emailTaken)
		if len(resp.Cookies()) != 0 {
			t.Errorf("a refused signUp of %q set cookies: %q", email, resp.Header.Values("Set-Cookie"))
		}
	}
	// A user inserted earlier in the same request counts too, and the
	// refusal undoes the whole request.
	assertJSON(t, s.gql(t, `mutation { insert_users_one(object: {email: "Dave@Example.com"}) { email }
		signUp(email: "dave@example.com", password: "correct horse battery") { user { id } } }`, nil, adminHeaders), emailTaken)
	if u, p := countRows(t, s); u != users || p != passwords {
		t.Errorf("%d users and %d passwords after refused sign-ups, want %d and %d", u, p, users, passwords)
	}
	var names string
	if err := s.pool.QueryRow(context.Background(), `SELECT string_agg(email || ':' || name, ' ' ORDER BY email) FROM users`).Scan(&names); err != nil {
		t.Fatal(err)
	}
	if names != "Alice@Example.com:Alice bob@example.com:Bob" {
		t.Errorf("users %q", names)
	}
}

// The lower(email) check cannot see a row not yet committed; then the unique
// constraint settles it, with the same answer.
func TestSignUpLosingARaceForTheEmailIsRefused(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	ctx := context.Background()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO users (email) VALUES ('late@example.com')`); err != nil {
		t.Fatal(err)
	}
	done := make(chan []byte, 1)
	go func() {
		done <- newBrowser(t).gql(s, signUp, map[string]any{"email": "late@example.com", "password": "correct horse battery"})
	}()
	// Commit once signUp's insert waits on the uncommitted row.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var waiting int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO users%'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("signUp never waited on the other insert")
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, <-done, emailTaken)
	if users, passwords := countRows(t, s); users != 1 || passwords != 0 {
		t.Errorf("%d users and %d passwords, want 1 and 0", users, passwords)
	}
}

func TestSignInIgnoresTheCaseOfTheStoredEmail(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	id := signUpAs(t, newBrowser(t), s, "carol@example.com", "Carol")
	// An admin (or the adapter) may store the email with capitals.
	s.exec(t, `UPDATE users SET email = 'Carol@Example.com' WHERE id = $1`, id)
	for _, email := range []string{"carol@example.com", "Carol@Example.com", "CAROL@EXAMPLE.COM"} {
		assertJSON(t, newBrowser(t).gql(s, signIn, map[string]any{"email": email, "password": "correct horse battery"}),
			`{"data":{"signIn":{"user":{"id":"`+id+`","name":"Carol"}}}}`)
	}
	// And signUp still refuses that email.
	assertJSON(t, newBrowser(t).gql(s, signUp, map[string]any{"email": "carol@example.com", "password": "correct horse battery"}), emailTaken)
}
