package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// attemptFrom tries a wrong password for a new email, from the client
// that headers name, and reports whether the attempt was rate-limited.
func attemptFrom(t *testing.T, s *testServer, headers map[string]string, n int) bool {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": signIn, "variables": map[string]any{"email": fmt.Sprintf("guess%d@example.com", n), "password": "wrong password!"}})
	return strings.Contains(string(s.post(t, string(body), headers)), `"rate-limited"`)
}

// limitedAfterBurst reports whether the client headers names is limited after
// the burst of sign-ins, and not before: after as many more as the bucket
// refilled while they ran (one per AddressEvery), on a slow machine.
func limitedAfterBurst(t *testing.T, s *testServer, headers map[string]string, from int) {
	t.Helper()
	start := time.Now()
	for i := range 2 * accountsAddressBurst {
		if attemptFrom(t, s, headers, from+i) {
			if refilled := int(time.Since(start) / accountsAddressEvery); i < accountsAddressBurst || i > accountsAddressBurst+refilled {
				t.Fatalf("limited after %d sign-ins, want %d (and %d refilled)", i, accountsAddressBurst, refilled)
			}
			return
		}
	}
	t.Fatalf("not limited after %d sign-ins", 2*accountsAddressBurst)
}

// sharesTheLimit reports whether the client headers names is one whose
// burst was just spent: one of three sign-ins is limited (a token or two
// may have come back meanwhile; a client of its own has twenty).
func sharesTheLimit(t *testing.T, s *testServer, headers map[string]string, from int) bool {
	t.Helper()
	for i := range 3 {
		if attemptFrom(t, s, headers, from+i) {
			return true
		}
	}
	return false
}

// X-Forwarded-For names the client only from a trusted proxy (the tests'
// client is 127.0.0.1), or in a request with the admin secret, which may
// name the end user it speaks for: the sign-in limits, the device list and
// the access log take that client; from anyone else it is ignored.
func TestForwardedClients(t *testing.T) {
	t.Parallel()
	xff := func(addr string, more ...string) map[string]string {
		h := map[string]string{"X-Forwarded-For": addr}
		for i := 0; i < len(more); i += 2 {
			h[more[i]] = more[i+1]
		}
		return h
	}

	untrusted := newTestServer(t)
	limitedAfterBurst(t, untrusted, xff("198.51.100.1"), 0)
	// Another forwarded address changes nothing: it is the same client.
	if !sharesTheLimit(t, untrusted, xff("198.51.100.2"), 100) {
		t.Error("a client sending another X-Forwarded-For escaped the limit")
	}
	// An app server with the admin secret signs its users in: each is
	// limited on its own.
	if attemptFrom(t, untrusted, xff("198.51.100.3", "X-Hasura-Admin-Secret", testAdminSecret), 200) {
		t.Error("the admin secret's end user shared the app server's limit")
	}

	trusted := newTestServer(t, func(c *config) { *c = testConfig(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1/32, ::1"}) })
	limitedAfterBurst(t, trusted, xff("198.51.100.1"), 0)
	if attemptFrom(t, trusted, xff("198.51.100.2"), 100) {
		t.Error("a second client behind the trusted proxy shared the first one's limit")
	}
	// What a client sends left of what the proxy appends is passed over.
	if !sharesTheLimit(t, trusted, xff("203.0.113.66, 198.51.100.1"), 200) {
		t.Error("a client naming another address before its own escaped the limit")
	}

	// The device list and the access log show the client the proxy names.
	tab := newBrowser(t)
	body, _ := json.Marshal(map[string]any{"query": signUp, "variables": map[string]any{"email": "far@example.com", "password": "correct horse battery", "name": "Far"}})
	if _, resp := trusted.postWith(t, tab.client, string(body), xff("192.0.2.44")); resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	if got := string(tab.gql(trusted, activeSessions, nil)); !strings.Contains(got, `"address":"192.0.2.44"`) {
		t.Errorf("the device list: %s", got)
	}
	if !strings.Contains(trusted.log.String(), " client=192.0.2.44 ") || !strings.Contains(untrusted.log.String(), " client=127.0.0.1 ") ||
		strings.Contains(untrusted.log.String(), "client=198.51.100") {
		t.Errorf("the access log:\n%s", trusted.log)
	}
}
