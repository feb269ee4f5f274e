package main

import (
	"context"
	"net/http"
	"reflect"
	"testing"

	"github.com/freshgraph/freshgraph/internal/benchload/statements"
)

// make bench-load's bare handler runs freshgraph's own statements, kept in
// internal/benchload/statements: each scenario's request, sent to
// freshgraph, runs exactly that SQL with those arguments.
func TestLoadBenchmarkStatements(t *testing.T) {
	s := newTestServer(t)
	tab := newBrowser(t)
	const email = "load@example.com"
	userID := signUpAs(t, tab, s, email, "Load User")
	var token string
	if err := s.pool.QueryRow(context.Background(), `SELECT "sessionToken" FROM sessions`).Scan(&token); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		st    statements.Statement
		req   func() *http.Request
		value string
	}{
		{"session", statements.Session, graphqlRequest(s.URL, statements.Session.GraphQL, nil, tab.cookie(s)), token},
		{"users_by_pk", statements.UsersByPK, adminRequest(s.URL, statements.UsersByPK.GraphQL, map[string]any{"userId": userID}), userID},
		{"users(where: email)", statements.UsersByEmail, adminRequest(s.URL, statements.UsersByEmail.GraphQL,
			map[string]any{"where": map[string]any{"email": map[string]any{"_eq": email}}}), email},
		{"sessions(where: token) { user }", statements.SessionsWithUser, adminRequest(s.URL, statements.SessionsWithUser.GraphQL,
			map[string]any{"sessionToken": token}), token},
	} {
		sql, args := statementOf(t, s, tt.req)
		if sql != tt.st.SQL {
			t.Errorf("%s: freshgraph runs\n%s\nand internal/benchload/statements has\n%s", tt.name, sql, tt.st.SQL)
		}
		if want := tt.st.Args(tt.value); !reflect.DeepEqual(args, want) {
			t.Errorf("%s: freshgraph's arguments %#v, the bare handler's %#v", tt.name, args, want)
		}
	}
}
