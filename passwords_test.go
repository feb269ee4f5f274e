package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// resetMailer keeps the links it is handed.
type resetMailer struct {
	mu    sync.Mutex
	links map[string]string // by email
}

func (m *resetMailer) PasswordReset(_ context.Context, email, link string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.links[email] = link
	return nil
}

// linkFor waits for the link mailed to email.
func (m *resetMailer) linkFor(t *testing.T, email string) string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		m.mu.Lock()
		link, ok := m.links[email]
		m.mu.Unlock()
		if ok {
			return link
		}
	}
	t.Fatalf("no reset link mailed to %s", email)
	return ""
}

const changePassword = `mutation($current: String!, $new: String!) { changePassword(current: $current, new: $new) }`

// changePassword checks the current password, refuses a common new one,
// and ends every other session of the user; the old password stops
// working and the new one works.
func TestChangePasswordEndsTheOtherSessions(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	laptop, phone := newBrowser(t), newBrowser(t)
	signUpAs(t, laptop, s, "change@example.com", "Change")
	signInFrom(t, phone, s, "change@example.com", "Phone/1.0")
	phoneSub := liveOn(t, s, phone, s)

	got := string(laptop.gql(s, changePassword, map[string]any{"current": "not my password", "new": "a brand new secret"}))
	if !strings.Contains(got, `"message":"the current password is wrong"`) || !strings.Contains(got, `"path":"$.selectionSet.changePassword.args.current"`) {
		t.Errorf("a wrong current password: %s", got)
	}
	got = string(laptop.gql(s, changePassword, map[string]any{"current": "correct horse battery", "new": "iloveyou1"}))
	if !strings.Contains(got, `"message":"password is one of the most common passwords; choose another"`) || !strings.Contains(got, `"code":"validation-failed"`) ||
		!strings.Contains(got, `"path":"$.selectionSet.changePassword.args.new"`) {
		t.Errorf("a common new password: %s", got)
	}
	assertJSON(t, laptop.gql(s, changePassword, map[string]any{"current": "correct horse battery", "new": "a brand new secret"}),
		`{"data":{"changePassword":1}}`)
	if got := phoneSub.data(); got != `{"session":null}` {
		t.Errorf("the phone's subscription: %s", got)
	}
	assertJSON(t, phone.gql(s, sessionQuery, nil), `{"data":{"session":null}}`)
	assertJSON(t, laptop.gql(s, sessionQuery, nil), `{"data":{"session":{"user":{"name":"Change","email":"change@example.com","image":null}}}}`)
	if got := string(newBrowser(t).gql(s, signIn, map[string]any{"email": "change@example.com", "password": "correct horse battery"})); !strings.Contains(got, "invalid email or password") {
		t.Errorf("the old password still signs in: %s", got)
	}
	signInWith(t, newBrowser(t), s, "change@example.com", "a brand new secret", "")
	// Signed out: nothing to change.
	if got := string(phone.gql(s, changePassword, map[string]any{"current": "a brand new secret", "new": "another new secret"})); !strings.Contains(got, `"not signed in"`) {
		t.Errorf("signed out: %s", got)
	}
}

// The reset flow: the same answer whether or not the email has an account,
// a link mailed only for one that does, a single-use token that expires,
// every session ended, and a new one started.
func TestPasswordResetFlow(t *testing.T) {
	t.Parallel()
	mailer := &resetMailer{links: map[string]string{}}
	s := newTestServer(t, func(c *config) {
		c.Mailer = mailer
		c.PasswordResetURL = "https://app.example.com/reset-password?token={token}"
	})
	laptop := newBrowser(t)
	signUpAs(t, laptop, s, "reset@example.com", "Reset")
	const request = `mutation($email: String!) { requestPasswordReset(email: $email) }`
	const reset = `mutation($token: String!, $password: String!) { resetPassword(token: $token, password: $password) { user { name } } }`

	known := string(newBrowser(t).gql(s, request, map[string]any{"email": "Reset@Example.com"}))
	unknown := string(newBrowser(t).gql(s, request, map[string]any{"email": "nobody@example.com"}))
	if known != `{"data":{"requestPasswordReset":true}}` || unknown != known {
		t.Errorf("answers differ: %s and %s", known, unknown)
	}
	link := mailer.linkFor(t, "reset@example.com")
	token, ok := strings.CutPrefix(link, "https://app.example.com/reset-password?token=")
	if !ok || len(token) < 40 {
		t.Fatalf("the link %q", link)
	}
	time.Sleep(50 * time.Millisecond)
	mailer.mu.Lock()
	if _, sent := mailer.links["nobody@example.com"]; sent {
		t.Error("a link was mailed for an email without an account")
	}
	mailer.mu.Unlock()
	if stored := queryStrings(t, s, `SELECT token FROM verification_tokens`); len(stored) != 1 || strings.Contains(stored[0], token) {
		t.Errorf("stored tokens %q: want the token's hash alone", stored)
	}

	other := newBrowser(t)
	if got := string(other.gql(s, reset, map[string]any{"token": token, "password": "password1"})); !strings.Contains(got, "most common passwords") {
		t.Errorf("a common password: %s", got)
	}
	got, resp := other.gqlResp(s, reset, map[string]any{"token": token, "password": "a fresh strong secret"})
	assertJSON(t, got, `{"data":{"resetPassword":{"user":{"name":"Reset"}}}}`)
	checkSessionCookie(t, resp)
	assertJSON(t, laptop.gql(s, sessionQuery, nil), `{"data":{"session":null}}`)
	assertJSON(t, other.gql(s, sessionQuery, nil), `{"data":{"session":{"user":{"name":"Reset","email":"reset@example.com","image":null}}}}`)
	signInWith(t, newBrowser(t), s, "reset@example.com", "a fresh strong secret", "")

	// Once only.
	if got := string(newBrowser(t).gql(s, reset, map[string]any{"token": token, "password": "yet another secret"})); !strings.Contains(got, `"message":"invalid or expired password reset token"`) ||
		!strings.Contains(got, `"path":"$.selectionSet.resetPassword.args.token"`) {
		t.Errorf("the token used twice: %s", got)
	}
	// An hour at most.
	mailer.mu.Lock()
	delete(mailer.links, "reset@example.com")
	mailer.mu.Unlock()
	newBrowser(t).gql(s, request, map[string]any{"email": "reset@example.com"})
	token, _ = strings.CutPrefix(mailer.linkFor(t, "reset@example.com"), "https://app.example.com/reset-password?token=")
	s.exec(t, `UPDATE verification_tokens SET expires = now() - interval '1 second'`)
	if got := string(newBrowser(t).gql(s, reset, map[string]any{"token": token, "password": "yet another secret"})); !strings.Contains(got, "invalid or expired password reset token") {
		t.Errorf("an expired token: %s", got)
	}
	// Limited like sign-in, per email.
	var last string
	for range 6 {
		last = string(newBrowser(t).gql(s, request, map[string]any{"email": "limited@example.com"}))
	}
	if !strings.Contains(last, `"code":"rate-limited"`) {
		t.Errorf("the sixth request for one email: %s", last)
	}
}
