package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Hasura's generated API for the Auth.js tables, as a Hasura client sees it.

const (
	aliceID = "11111111-1111-4111-8111-111111111111"
	bobID   = "22222222-2222-4222-8222-222222222222"
	carolID = "33333333-3333-4333-8333-333333333333"
)

// seedHasura fills the tables with a small, known data set.
func seedHasura(t *testing.T, s *testServer) {
	t.Helper()
	s.exec(t, `INSERT INTO users (id, name, email, "emailVerified", image) VALUES
		($1, 'Alice', 'alice@example.com', '2024-01-15 10:20:30.123456+00', NULL),
		($2, 'Bob', 'bob@example.com', NULL, 'https://example.com/bob.png'),
		($3, NULL, 'carol@example.org', '2023-06-01 00:00:00+00', NULL)`, aliceID, bobID, carolID)
	s.exec(t, `INSERT INTO accounts (type, provider, "providerAccountId", "userId", expires_at) VALUES
		('oauth', 'github', 'a-gh', $1, 100), ('oauth', 'google', 'a-go', $1, 300), ('email', 'email', 'b-em', $2, NULL)`,
		aliceID, bobID)
	s.exec(t, `INSERT INTO sessions ("sessionToken", "userId", expires) VALUES
		('tok-a1', $1, '2030-01-01 00:00:00+00'), ('tok-a2', $1, '2031-01-01 00:00:00+00'), ('tok-b', $2, '2029-01-01 00:00:00+00')`,
		aliceID, bobID)
}

func (s *testServer) admin(t *testing.T, query string, vars map[string]any) []byte {
	t.Helper()
	return s.gql(t, query, vars, adminHeaders)
}

func TestHasuraWhereOperators(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	seedHasura(t, s)
	names := func(where string) []byte {
		return s.admin(t, `{ users(where: `+where+`, order_by: {email: asc}) { email } }`, nil)
	}
	for _, tt := range []struct{ where, want string }{
		{`{}`, `alice bob carol`},
		{`{name: {_eq: "Alice"}}`, `alice`},
		{`{name: {_neq: "Alice"}}`, `bob`}, // NULL names match neither = nor <>
		{`{email: {_gt: "b"}}`, `bob carol`},
		{`{email: {_gte: "bob@example.com"}}`, `bob carol`},
		{`{email: {_lt: "bob@example.com"}}`, `alice`},
		{`{email: {_lte: "bob@example.com"}}`, `alice bob`},
		{`{email: {_in: ["alice@example.com", "carol@example.org"]}}`, `alice carol`},
		{`{email: {_nin: ["alice@example.com"]}}`, `bob carol`},
		{`{email: {_like: "%example.com"}}`, `alice bob`},
		{`{email: {_nlike: "%example.com"}}`, `carol`},
		{`{email: {_ilike: "ALICE%"}}`, `alice`},
		{`{email: {_nilike: "ALICE%"}}`, `bob carol`},
		{`{email: {_similar: "(alice|bob)%"}}`, `alice bob`},
		{`{email: {_nsimilar: "(alice|bob)%"}}`, `carol`},
		{`{email: {_regex: "^b"}}`, `bob`},
		{`{email: {_iregex: "^B"}}`, `bob`},
		{`{email: {_nregex: "^b"}}`, `alice carol`},
		{`{email: {_niregex: "^B"}}`, `alice carol`},
		{`{name: {_is_null: true}}`, `carol`},
		{`{name: {_is_null: false}}`, `alice bob`},
		{`{id: {_eq: "` + strings.ToUpper(bobID) + `"}}`, `bob`},
		{`{emailVerified: {_gte: "2024-01-15T10:20:30.123456Z"}}`, `alice`},
		{`{emailVerified: {_lt: "2024-01-15T15:50:30.123456+05:30"}}`, `carol`},
		{`{_and: [{email: {_like: "%example.com"}}, {name: {_eq: "Bob"}}]}`, `bob`},
		{`{_or: [{name: {_eq: "Alice"}}, {name: {_is_null: true}}]}`, `alice carol`},
		{`{_or: {name: {_eq: "Alice"}}}`, `alice`}, // an object for a list is a list of one
		{`{_not: {name: {_eq: "Alice"}}}`, `bob`},  // SQL NOT: a NULL name is neither
		{`{_and: []}`, `alice bob carol`},
		{`{_or: []}`, ``},
		{`{email: {_like: "%example.com"}, name: {_eq: "Alice"}}`, `alice`}, // keys are ANDed
		{`{accounts: {}}`, `alice bob`},                                     // has at least one
		{`{accounts: {provider: {_eq: "google"}}}`, `alice`},
		{`{_not: {accounts: {}}}`, `carol`},
		{`{accounts_aggregate: {count: {predicate: {_gt: 1}}}}`, `alice`},
		{`{accounts_aggregate: {count: {predicate: {_eq: 0}}}}`, `carol`},
		{`{accounts_aggregate: {count: {predicate: {_eq: 1}, filter: {provider: {_eq: "github"}}}}}`, `alice`},
		{`{sessions: {expires: {_gt: "2030-06-01T00:00:00Z"}}}`, `alice`},
	} {
		var out struct {
			Data struct{ Users []struct{ Email string } }
		}
		got := names(tt.where)
		if err := json.Unmarshal(got, &out); err != nil || out.Data.Users == nil {
			t.Errorf("where %s: %s", tt.where, got)
			continue
		}
		var emails []string
		for _, u := range out.Data.Users {
			emails = append(emails, strings.Split(u.Email, "@")[0])
		}
		if strings.Join(emails, " ") != tt.want {
			t.Errorf("where %s: got %q, want %q", tt.where, strings.Join(emails, " "), tt.want)
		}
	}
	// Variables work the same, and a list in a variable is one parameter.
	assertJSON(t, s.admin(t, `query($w: users_bool_exp!) { users(where: $w) { name } }`,
		map[string]any{"w": map[string]any{"email": map[string]any{"_in": []string{"bob@example.com"}}}}),
		`{"data":{"users":[{"name":"Bob"}]}}`)
	// Accounts filter on the enum and on an Int column.
	assertJSON(t, s.admin(t, `{ accounts(where: {type: {_eq: email}}) { provider } a: accounts(where: {expires_at: {_gte: 200}}) { provider } }`, nil),
		`{"data":{"accounts":[{"provider":"email"}],"a":[{"provider":"google"}]}}`)
}

func TestHasuraNullOperandIsAnError(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	assertJSON(t, s.admin(t, `{ users(where: {name: {_eq: null}}) { id } }`, nil),
		`{"errors":[{"message":"unexpected null value for type 'String'","extensions":{"code":"validation-failed","path":"$.selectionSet.users.args.where.name._eq"}}]}`)
	assertJSON(t, s.admin(t, `query($id: uuid) { users(where: {id: {_eq: $id}}) { id } }`, map[string]any{"id": nil}),
		`{"errors":[{"message":"unexpected null value for type 'uuid'","extensions":{"code":"validation-failed","path":"$.selectionSet.users.args.where.id._eq"}}]}`)
}

func TestHasuraOrderLimitOffsetDistinct(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	seedHasura(t, s)
	for _, tt := range []struct{ args, want string }{
		{`order_by: {name: asc}`, `["Alice","Bob",null]`},
		{`order_by: {name: asc_nulls_first}`, `[null,"Alice","Bob"]`},
		{`order_by: {name: asc_nulls_last}`, `["Alice","Bob",null]`},
		{`order_by: {name: desc}`, `[null,"Bob","Alice"]`},
		{`order_by: {name: desc_nulls_first}`, `[null,"Bob","Alice"]`},
		{`order_by: {name: desc_nulls_last}`, `["Bob","Alice",null]`},
		{`order_by: [{image: asc}, {email: desc}]`, `["Bob",null,"Alice"]`},
		{`order_by: {email: asc}, limit: 1, offset: 1`, `["Bob"]`},
		{`order_by: {accounts_aggregate: {count: desc}}, limit: 1`, `["Alice"]`},
		{`order_by: [{accounts_aggregate: {max: {provider: asc}}}, {email: asc}]`, `["Bob","Alice",null]`},
	} {
		got := s.admin(t, `{ users(`+tt.args+`) { name } }`, nil)
		var out struct {
			Data struct{ Users []struct{ Name *string } }
		}
		if err := json.Unmarshal(got, &out); err != nil {
			t.Fatalf("%s: %s", tt.args, got)
		}
		var names []*string
		for _, u := range out.Data.Users {
			names = append(names, u.Name)
		}
		b, _ := json.Marshal(names)
		if string(b) != tt.want {
			t.Errorf("%s: got %s, want %s (%s)", tt.args, b, tt.want, got)
		}
	}
	// Through an object relationship.
	assertJSON(t, s.admin(t, `{ sessions(order_by: [{user: {email: desc}}, {expires: asc}]) { sessionToken } }`, nil),
		`{"data":{"sessions":[{"sessionToken":"tok-b"},{"sessionToken":"tok-a1"},{"sessionToken":"tok-a2"}]}}`)
	// distinct_on keeps the first row of each group, in order_by's order.
	assertJSON(t, s.admin(t, `{ sessions(distinct_on: userId, order_by: [{userId: asc}, {expires: desc}]) { sessionToken } }`, nil),
		`{"data":{"sessions":[{"sessionToken":"tok-a2"},{"sessionToken":"tok-b"}]}}`)
	assertJSON(t, s.admin(t, `{ sessions(distinct_on: userId, order_by: {expires: desc}) { sessionToken } }`, nil),
		`{"errors":[{"message":"\"distinct_on\" columns must match initial \"order_by\" columns","extensions":{"code":"validation-failed","path":"$.selectionSet.sessions.args"}}]}`)
}

func TestHasuraRelationshipsAndAggregatesInOneStatement(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	seedHasura(t, s)
	s.sql.take()
	got := s.admin(t, `{
		users(order_by: {email: asc}) {
			name
			accounts(order_by: {provider: desc}) { provider user { email } }
			first: sessions(limit: 1, order_by: {expires: asc}) { sessionToken expires }
			sessions_aggregate { aggregate { count max { expires } } }
		}
	}`, nil)
	assertJSON(t, got, `{"data":{"users":[
		{"name":"Alice","accounts":[{"provider":"google","user":{"email":"alice@example.com"}},{"provider":"github","user":{"email":"alice@example.com"}}],
		 "first":[{"sessionToken":"tok-a1","expires":"2030-01-01T00:00:00+00:00"}],
		 "sessions_aggregate":{"aggregate":{"count":2,"max":{"expires":"2031-01-01T00:00:00+00:00"}}}},
		{"name":"Bob","accounts":[{"provider":"email","user":{"email":"bob@example.com"}}],
		 "first":[{"sessionToken":"tok-b","expires":"2029-01-01T00:00:00+00:00"}],
		 "sessions_aggregate":{"aggregate":{"count":1,"max":{"expires":"2029-01-01T00:00:00+00:00"}}}},
		{"name":null,"accounts":[],"first":[],"sessions_aggregate":{"aggregate":{"count":0,"max":{"expires":null}}}}]}}`)
	if sqls := s.sql.take(); len(sqls) != 1 {
		t.Errorf("%d statements for one root field with nested relationships, want 1", len(sqls))
	}

	assertJSON(t, s.admin(t, `{ users_aggregate(where: {email: {_like: "%example.com"}}) {
			aggregate { count c: count(columns: name, distinct: true) max { email id } min { emailVerified } }
			nodes { email }
			__typename
		} }`, nil),
		`{"data":{"users_aggregate":{"aggregate":{"count":2,"c":2,
			"max":{"email":"bob@example.com","id":"`+bobID+`"},"min":{"emailVerified":"2024-01-15T10:20:30.123456+00:00"}},
			"nodes":[{"email":"alice@example.com"},{"email":"bob@example.com"}],"__typename":"users_aggregate"}}}`)
	assertJSON(t, s.admin(t, `{ accounts_by_pk(id: "00000000-0000-0000-0000-000000000000") { id } provider_type(order_by: {value: asc}) { value } }`, nil),
		`{"data":{"accounts_by_pk":null,"provider_type":[{"value":"credentials"},{"value":"email"},{"value":"oauth"},{"value":"oidc"}]}}`)
}

func TestHasuraFragmentsAliasesAndTypename(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	seedHasura(t, s)
	assertJSON(t, s.admin(t, `query GetUser($id: uuid!, $skip: Boolean!) {
			u: users_by_pk(id: $id) { ...User __typename secret: email nick: name @skip(if: $skip) ... on users { image } }
		}
		fragment User on users { id emailVerified }`, map[string]any{"id": aliceID, "skip": true}),
		`{"data":{"u":{"id":"`+aliceID+`","emailVerified":"2024-01-15T10:20:30.123456+00:00","__typename":"users","secret":"alice@example.com","image":null}}}`)
}

func TestHasuraMutations(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	// insert_one returns the row; timestamptz in any ISO 8601 form, kept to the microsecond.
	assertJSON(t, s.admin(t, `mutation($d: users_insert_input!) { insert_users_one(object: $d) { id name email emailVerified image } }`,
		map[string]any{"d": map[string]any{"id": strings.ToUpper(aliceID), "email": "alice@example.com", "name": "Alice",
			"emailVerified": "2024-01-15T15:50:30.1234567+05:30"}}),
		`{"data":{"insert_users_one":{"id":"`+aliceID+`","name":"Alice","email":"alice@example.com","emailVerified":"2024-01-15T10:20:30.123457+00:00","image":null}}}`)
	// insert with several rows and a default for what a row leaves out.
	assertJSON(t, s.admin(t, `mutation { insert_users(objects: [{email: "b@x.io", name: "B"}, {email: "c@x.io"}]) { affected_rows returning { email name } } }`, nil),
		`{"data":{"insert_users":{"affected_rows":2,"returning":[{"email":"b@x.io","name":"B"},{"email":"c@x.io","name":null}]}}}`)
	// on_conflict: update the listed columns, or with update_columns: [] do nothing.
	assertJSON(t, s.admin(t, `mutation { insert_users_one(object: {email: "b@x.io", name: "B2"}, on_conflict: {constraint: users_email_key, update_columns: [name]}) { email name } }`, nil),
		`{"data":{"insert_users_one":{"email":"b@x.io","name":"B2"}}}`)
	assertJSON(t, s.admin(t, `mutation { insert_users_one(object: {email: "b@x.io", name: "B3"}, on_conflict: {constraint: users_email_key, update_columns: []}) { name } }`, nil),
		`{"data":{"insert_users_one":null}}`)
	assertJSON(t, s.admin(t, `mutation { insert_users(objects: [{email: "b@x.io", name: "B4"}], on_conflict: {constraint: users_email_key, update_columns: [name], where: {name: {_eq: "nope"}}}) { affected_rows } }`, nil),
		`{"data":{"insert_users":{"affected_rows":0}}}`)

	// _set: an absent key leaves a column alone, an explicit null clears it.
	s.exec(t, `UPDATE users SET image = 'https://example.com/a.png' WHERE id = $1`, aliceID)
	assertJSON(t, s.admin(t, `mutation($id: uuid!, $data: users_set_input!) { update_users_by_pk(pk_columns: {id: $id}, _set: $data) { name image } }`,
		map[string]any{"id": aliceID, "data": map[string]any{"name": "Updated Name"}}),
		`{"data":{"update_users_by_pk":{"name":"Updated Name","image":"https://example.com/a.png"}}}`)
	assertJSON(t, s.admin(t, `mutation($id: uuid!, $data: users_set_input!) { update_users_by_pk(pk_columns: {id: $id}, _set: $data) { name image } }`,
		map[string]any{"id": aliceID, "data": map[string]any{"image": nil}}),
		`{"data":{"update_users_by_pk":{"name":"Updated Name","image":null}}}`)
	assertJSON(t, s.admin(t, `mutation { update_users_by_pk(pk_columns: {id: "00000000-0000-0000-0000-000000000000"}, _set: {name: "x"}) { name } }`, nil),
		`{"data":{"update_users_by_pk":null}}`)

	// _inc, update_many and delete.
	s.exec(t, `INSERT INTO accounts (type, provider, "providerAccountId", "userId", expires_at) VALUES ('oauth', 'github', 'gh', $1, 10)`, aliceID)
	assertJSON(t, s.admin(t, `mutation { update_accounts(where: {provider: {_eq: "github"}}, _inc: {expires_at: 5}, _set: {scope: "read"}) { affected_rows returning { expires_at scope } } }`, nil),
		`{"data":{"update_accounts":{"affected_rows":1,"returning":[{"expires_at":15,"scope":"read"}]}}}`)
	assertJSON(t, s.admin(t, `mutation { update_users_many(updates: [
			{where: {email: {_eq: "b@x.io"}}, _set: {name: "first"}},
			{where: {name: {_eq: "first"}}, _set: {name: "second"}}
		]) { affected_rows returning { name } } }`, nil),
		`{"data":{"update_users_many":[{"affected_rows":1,"returning":[{"name":"first"}]},{"affected_rows":1,"returning":[{"name":"second"}]}]}}`)
	assertJSON(t, s.admin(t, `mutation { delete_users(where: {email: {_like: "%@x.io"}}) { affected_rows } delete_users_by_pk(id: "`+aliceID+`") { email accounts { provider } } }`, nil),
		`{"data":{"delete_users":{"affected_rows":2},"delete_users_by_pk":{"email":"alice@example.com","accounts":[{"provider":"github"}]}}}`)
	// Cascades come from the foreign keys.
	assertJSON(t, s.admin(t, `{ accounts_aggregate { aggregate { count } } users_aggregate { aggregate { count } } }`, nil),
		`{"data":{"accounts_aggregate":{"aggregate":{"count":0}},"users_aggregate":{"aggregate":{"count":0}}}}`)
	// No operator at all is an update of nothing, as in late Hasura v2
	// (Backends/Postgres/Instances/Execute.hs updateVariantIsEmpty).
	assertJSON(t, s.admin(t, `mutation { update_users(where: {}) { affected_rows returning { id } } }`, nil),
		`{"data":{"update_users":{"affected_rows":0,"returning":[]}}}`)
}

func TestHasuraMutationFieldsShareOneTransaction(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	got := s.admin(t, `mutation {
		a: insert_users_one(object: {email: "one@x.io"}) { email }
		b: insert_users_one(object: {email: "one@x.io"}) { email }
	}`, nil)
	assertJSON(t, got, `{"errors":[{"message":"Uniqueness violation. duplicate key value violates unique constraint \"users_email_key\"","extensions":{"code":"constraint-violation","path":"$.selectionSet.insert_users_one.args.object"}}]}`)
	var n int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM users`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d users after the failed mutation (%v): the first field was not rolled back", n, err)
	}
}

func TestHasuraConstraintErrors(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	seedHasura(t, s)
	assertJSON(t, s.admin(t, `mutation { insert_users(objects: [{email: "alice@example.com"}]) { affected_rows } }`, nil),
		`{"errors":[{"message":"Uniqueness violation. duplicate key value violates unique constraint \"users_email_key\"","extensions":{"code":"constraint-violation","path":"$.selectionSet.insert_users.args.objects"}}]}`)
	assertJSON(t, s.admin(t, `mutation { insert_sessions_one(object: {sessionToken: "t", userId: "00000000-0000-0000-0000-000000000000", expires: "2030-01-01T00:00:00Z"}) { id } }`, nil),
		`{"errors":[{"message":"Foreign key violation. insert or update on table \"sessions\" violates foreign key constraint \"sessions_userId_fkey\"","extensions":{"code":"constraint-violation","path":"$.selectionSet.insert_sessions_one.args.object"}}]}`)
	assertJSON(t, s.admin(t, `mutation { insert_users_one(object: {name: "no email"}) { id } }`, nil),
		`{"errors":[{"message":"Not-NULL violation. null value in column \"email\" of relation \"users\" violates not-null constraint","extensions":{"code":"constraint-violation","path":"$.selectionSet.insert_users_one.args.object"}}]}`)
	assertJSON(t, s.admin(t, `mutation { insert_sessions_one(object: {sessionToken: "t", userId: "`+aliceID+`", expires: "soon"}) { id } }`, nil),
		`{"errors":[{"message":"invalid input syntax for type timestamp with time zone: \"soon\"","extensions":{"code":"data-exception","path":"$"}}]}`)
	assertJSON(t, s.admin(t, `{ users(where: {id: {_eq: "nope"}}) { id } }`, nil),
		`{"errors":[{"message":"invalid input syntax for type uuid: \"nope\"","extensions":{"code":"data-exception","path":"$"}}]}`)
}

// signJWT makes an HS256 token with Hasura's claims.
func signJWT(t *testing.T, key string, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	unsigned := enc(map[string]string{"alg": "HS256", "typ": "JWT"}) + "." + enc(claims)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(unsigned))
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func TestHasuraRolesAndJWT(t *testing.T) {
	t.Parallel()
	const jwtKey = "a-shared-jwt-secret-of-at-least-32-characters"
	s := newTestServer(t, func(c *config) {
		cfg, err := loadConfig(func(k string) string {
			return map[string]string{"DATABASE_URL": "x", "SESSION_SECRET": testSessionSecret,
				"HASURA_GRAPHQL_JWT_SECRET": `{"type":"HS256","key":"` + jwtKey + `"}`}[k]
		})
		if err != nil {
			t.Fatal(err)
		}
		c.JWT = cfg.JWT
	})
	seedHasura(t, s)
	exp := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	userToken := signJWT(t, jwtKey, map[string]any{"sub": aliceID, "exp": exp.Unix(),
		"https://hasura.io/jwt/claims": map[string]any{"x-hasura-allowed-roles": []string{"user"}, "x-hasura-default-role": "user", "x-hasura-user-id": aliceID}})
	asAlice := map[string]string{"Authorization": "Bearer " + userToken}

	// A JWT caller's session is the user its token names, read fresh, with the token's expiry.
	assertJSON(t, s.gql(t, `{ session { user { id name } expires } }`, nil, asAlice),
		`{"data":{"session":{"user":{"id":"`+aliceID+`","name":"Alice"},"expires":"2030-05-06T07:08:09+00:00"}}}`)
	s.exec(t, `UPDATE users SET name = 'Alice Renamed' WHERE id = $1`, aliceID)
	assertJSON(t, s.gql(t, `{ session { user { name } } }`, nil, asAlice), `{"data":{"session":{"user":{"name":"Alice Renamed"}}}}`)

	// Role user: its own users row, and no other table, root field or relationship.
	q := `query($id: uuid!) { users_by_pk(id: $id) { name } }`
	assertJSON(t, s.gql(t, q, map[string]any{"id": aliceID}, asAlice), `{"data":{"users_by_pk":{"name":"Alice Renamed"}}}`)
	assertJSON(t, s.gql(t, q, map[string]any{"id": bobID}, asAlice), `{"data":{"users_by_pk":null}}`)
	assertJSON(t, s.gql(t, `{ users { email } }`, nil, asAlice), `{"data":{"users":[{"email":"alice@example.com"}]}}`)
	for _, tt := range []struct{ query, want string }{
		{`{ accounts { id } }`, `{"errors":[{"message":"field 'accounts' not found in type: 'query_root'","extensions":{"code":"validation-failed","path":"$.selectionSet.accounts"}}]}`},
		{`{ users_aggregate { aggregate { count } } }`, `{"errors":[{"message":"field 'users_aggregate' not found in type: 'query_root'","extensions":{"code":"validation-failed","path":"$.selectionSet.users_aggregate"}}]}`},
		{`mutation { delete_users(where: {}) { affected_rows } }`, `{"errors":[{"message":"field 'delete_users' not found in type: 'mutation_root'","extensions":{"code":"validation-failed","path":"$.selectionSet.delete_users"}}]}`},
		{`{ users { accounts { id } } }`, `{"errors":[{"message":"field 'accounts' not found in type: 'users'","extensions":{"code":"validation-failed","path":"$.selectionSet.users.selectionSet.accounts"}}]}`},
		{`{ users(where: {sessions: {}}) { id } }`, `{"errors":[{"message":"field 'sessions' not found in type: 'users_bool_exp'","extensions":{"code":"validation-failed","path":"$.selectionSet.users.args.where.sessions"}}]}`},
		{`mutation { update_users(where: {}, _set: {email: "x@y.z"}) { affected_rows } }`, `{"errors":[{"message":"field 'email' not found in type: 'users_set_input'","extensions":{"code":"validation-failed","path":"$.selectionSet.update_users.args._set.email"}}]}`},
	} {
		assertJSON(t, s.gql(t, tt.query, nil, asAlice), tt.want)
	}
	// It may update its own name and image, and nobody else's.
	assertJSON(t, s.gql(t, `mutation { update_users(where: {}, _set: {name: "Me"}) { affected_rows returning { email } } }`, nil, asAlice),
		`{"data":{"update_users":{"affected_rows":1,"returning":[{"email":"alice@example.com"}]}}}`)
	assertJSON(t, s.gql(t, `mutation($id: uuid!) { update_users_by_pk(pk_columns: {id: $id}, _set: {name: "Hacked"}) { name } }`,
		map[string]any{"id": bobID}, asAlice), `{"data":{"update_users_by_pk":null}}`)

	// The admin may pose as a user with headers.
	posing := map[string]string{"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": "user", "X-Hasura-User-Id": bobID}
	assertJSON(t, s.gql(t, `{ users { name } }`, nil, posing), `{"data":{"users":[{"name":"Bob"}]}}`)
	assertJSON(t, s.gql(t, `{ users { name } }`, nil, map[string]string{"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": "user"}),
		`{"errors":[{"message":"missing session variable: \"x-hasura-user-id\"","extensions":{"code":"not-found","path":"$"}}]}`)

	// Bad tokens.
	expired := signJWT(t, jwtKey, map[string]any{"exp": time.Now().Add(-time.Hour).Unix(),
		"https://hasura.io/jwt/claims": map[string]any{"x-hasura-allowed-roles": []string{"user"}, "x-hasura-default-role": "user", "x-hasura-user-id": aliceID}})
	forged := signJWT(t, "another-key-another-key-another-key-0123", map[string]any{
		"https://hasura.io/jwt/claims": map[string]any{"x-hasura-allowed-roles": []string{"admin"}, "x-hasura-default-role": "admin"}})
	parts := strings.Split(userToken, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	for _, tt := range []struct{ header, role, want string }{
		{"Bearer " + expired, "", `{"errors":[{"message":"Could not verify JWT: JWTExpired","extensions":{"code":"invalid-jwt","path":"$"}}]}`},
		{"Bearer " + forged, "", `{"errors":[{"message":"Could not verify JWT: JWSError JWSInvalidSignature","extensions":{"code":"invalid-jwt","path":"$"}}]}`},
		{"Bearer " + none, "", `{"errors":[{"message":"Could not verify JWT: JWSError JWSNoSignatures","extensions":{"code":"invalid-jwt","path":"$"}}]}`},
		{"Basic abc", "", `{"errors":[{"message":"Malformed Authorization header","extensions":{"code":"invalid-headers","path":"$"}}]}`},
		{"Bearer " + userToken, "admin", `{"errors":[{"message":"Your requested role is not in allowed roles","extensions":{"code":"access-denied","path":"$"}}]}`},
	} {
		headers := map[string]string{"Authorization": tt.header}
		if tt.role != "" {
			headers["X-Hasura-Role"] = tt.role
		}
		assertJSON(t, s.gql(t, `{ session { expires } }`, nil, headers), tt.want)
	}
	// Anonymous callers have only the session API.
	assertJSON(t, s.gql(t, `{ users { id } }`, nil, nil),
		`{"errors":[{"message":"field 'users' not found in type: 'query_root'","extensions":{"code":"validation-failed","path":"$.selectionSet.users"}}]}`)
	assertJSON(t, s.gql(t, `{ session { expires } }`, nil, nil), `{"data":{"session":null}}`)
}

func TestAdminHasEveryRootField(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	got := s.admin(t, `{ __schema { queryType { fields { name } } mutationType { fields { name } } } }`, nil)
	var out struct {
		Data struct {
			Schema struct {
				QueryType, MutationType struct{ Fields []struct{ Name string } }
			} `json:"__schema"`
		}
	}
	if err := json.Unmarshal(got, &out); err != nil {
		t.Fatal(err)
	}
	n := 0
	for range append(out.Data.Schema.QueryType.Fields, out.Data.Schema.MutationType.Fields...) {
		n++
	}
	if n != 5*10+12 {
		t.Errorf("%d root fields, want %d (ten per table and twelve of the session API)", n, 5*10+12)
	}
}

func TestIntrospectionShowsEachRoleItsOwnSchema(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	const q = `{ __schema { queryType { fields { name } } mutationType { fields { name } } }
		users: __type(name: "users") { fields { name } } }`
	names := func(headers map[string]string) (query, mutation, users string) {
		var out struct {
			Data struct {
				Schema struct {
					QueryType, MutationType struct{ Fields []struct{ Name string } }
				} `json:"__schema"`
				Users struct{ Fields []struct{ Name string } }
			}
		}
		if err := json.Unmarshal(s.gql(t, q, nil, headers), &out); err != nil {
			t.Fatal(err)
		}
		join := func(fs []struct{ Name string }) string {
			var n []string
			for _, f := range fs {
				n = append(n, f.Name)
			}
			return strings.Join(n, " ")
		}
		return join(out.Data.Schema.QueryType.Fields), join(out.Data.Schema.MutationType.Fields), join(out.Data.Users.Fields)
	}
	query, mutation, users := names(nil)
	if query != "session activeSessions" || mutation != "signUp signIn verifyPassword signOut revokeSession signOutEverywhere changePassword requestPasswordReset resetPassword updateUserProfile" || users != "email emailVerified id image name" {
		t.Errorf("anonymous sees query_root %q, mutation_root %q, users %q", query, mutation, users)
	}
	query, _, users = names(adminHeaders)
	if !strings.Contains(query, "users_by_pk") || !strings.Contains(query, "verification_tokens_aggregate") || !strings.Contains(users, "accounts_aggregate") {
		t.Errorf("admin sees query_root %q, users %q", query, users)
	}
	posing := map[string]string{"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": "user", "X-Hasura-User-Id": aliceID}
	query, mutation, _ = names(posing)
	if query != "session activeSessions users users_by_pk" || mutation != "signUp signIn verifyPassword signOut revokeSession signOutEverywhere changePassword requestPasswordReset resetPassword updateUserProfile update_users update_users_by_pk update_users_many" {
		t.Errorf("role user sees query_root %q, mutation_root %q", query, mutation)
	}
}

func TestHasuraNestedInserts(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	// A user with its accounts and sessions (array relationships): one
	// statement writes them all, one more reads the answer, in a transaction
	// so that an answer refused (say, over the response size limit) writes
	// nothing.
	s.sql.take()
	got := s.admin(t, `mutation { insert_users_one(object: {
			email: "nested@example.com", name: "Nested",
			accounts: {data: [{type: oauth, provider: "github", providerAccountId: "n-gh"}, {type: email, provider: "email", providerAccountId: "n-em"}]},
			sessions: {data: [{sessionToken: "n-tok", expires: "2030-01-01T00:00:00Z"}]}
		}) { email } }`, nil)
	assertJSON(t, got, `{"data":{"insert_users_one":{"email":"nested@example.com"}}}`)
	if n := len(s.sql.take()); n != 4 {
		t.Errorf("a nested insert took %d statements, want 4 (begin, write, read, commit)", n)
	}
	assertJSON(t, s.admin(t, `{ users(where: {email: {_eq: "nested@example.com"}}) {
			accounts(order_by: {provider: asc}) { provider } sessions { sessionToken } } }`, nil),
		`{"data":{"users":[{"accounts":[{"provider":"email"},{"provider":"github"}],"sessions":[{"sessionToken":"n-tok"}]}]}}`)

	// A relationship given null inserts no related row (Hasura's optional,
	// nullable relationship field), at the top and deeper.
	assertJSON(t, s.admin(t, `mutation { insert_users_one(object: {email: "null-rel@example.com", accounts: null,
			sessions: {data: [{sessionToken: "null-tok", expires: "2030-01-01T00:00:00Z", user: null}]}}) { email accounts { id } sessions { sessionToken } } }`, nil),
		`{"data":{"insert_users_one":{"email":"null-rel@example.com","accounts":[],"sessions":[{"sessionToken":"null-tok"}]}}}`)

	// A session with its user (object relationship), and affected_rows counting both.
	assertJSON(t, s.admin(t, `mutation { insert_sessions(objects: [
			{sessionToken: "o-tok", expires: "2030-01-01T00:00:00Z", user: {data: {email: "owner@example.com", name: "Owner"}}}
		]) { affected_rows returning { sessionToken user { name } } } }`, nil),
		`{"data":{"insert_sessions":{"affected_rows":2,"returning":[{"sessionToken":"o-tok","user":{"name":"Owner"}}]}}}`)
	assertJSON(t, s.admin(t, `{ sessions_by_pk(sessionToken: "o-tok") { user { name } } }`, nil),
		`{"data":{"sessions_by_pk":{"user":{"name":"Owner"}}}}`)

	// An object relationship's row that already exists, through on_conflict.
	assertJSON(t, s.admin(t, `mutation { insert_accounts_one(object: {type: oauth, provider: "gitlab", providerAccountId: "o-gl",
			user: {data: {email: "owner@example.com", name: "Owner Again"}, on_conflict: {constraint: users_email_key, update_columns: [name]}}}) { provider } }`, nil),
		`{"data":{"insert_accounts_one":{"provider":"gitlab"}}}`)
	assertJSON(t, s.admin(t, `{ users(where: {email: {_eq: "owner@example.com"}}) { name accounts { provider } } }`, nil),
		`{"data":{"users":[{"name":"Owner Again","accounts":[{"provider":"gitlab"}]}]}}`)

	// A failure anywhere in the chain writes nothing; its path is that of the
	// rows of the table it names, as Hasura inserts each level under its path.
	assertJSON(t, s.admin(t, `mutation { insert_users_one(object: {email: "half@example.com",
			sessions: {data: [{sessionToken: "n-tok", expires: "2030-01-01T00:00:00Z"}]}}) { id } }`, nil),
		`{"errors":[{"message":"Uniqueness violation. duplicate key value violates unique constraint \"sessions_pkey\"","extensions":{"code":"constraint-violation","path":"$.selectionSet.insert_users_one.args.object.sessions.data"}}]}`)
	assertJSON(t, s.admin(t, `{ users(where: {email: {_eq: "half@example.com"}}) { id } }`, nil), `{"data":{"users":[]}}`)
}

// Nested inserts below the first level: sessions with a new user each
// (object), whose accounts and sessions (arrays) come along, all in one
// statement, counted in affected_rows and read back fresh; and three levels
// of rows (account -> user -> sessions), the deepest path the Auth.js tables
// have, where a failure at the bottom writes nothing.
func TestHasuraNestedInsertsAtAnyDepth(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.sql.take()
	assertJSON(t, s.admin(t, `mutation { insert_sessions(objects: [
			{sessionToken: "deep-1", expires: "2030-01-01T00:00:00Z", user: {data: {email: "deep@example.com", name: "Deep",
				accounts: {data: [{type: oauth, provider: "github", providerAccountId: "d-gh"}, {type: email, provider: "email", providerAccountId: "d-em"}]},
				sessions: {data: [{sessionToken: "deep-2", expires: "2031-01-01T00:00:00Z"}]}}}},
			{sessionToken: "deep-3", expires: "2032-01-01T00:00:00Z", user: {data: {email: "deeper@example.com",
				sessions: {data: [{sessionToken: "deep-4", expires: "2033-01-01T00:00:00Z"}, {sessionToken: "deep-5", expires: "2034-01-01T00:00:00Z"}]}}}}
		]) { affected_rows returning { sessionToken user { email accounts(order_by: {provider: asc}) { provider } sessions(order_by: {sessionToken: asc}) { sessionToken } } } } }`, nil),
		`{"data":{"insert_sessions":{"affected_rows":9,"returning":[
			{"sessionToken":"deep-1","user":{"email":"deep@example.com","accounts":[{"provider":"email"},{"provider":"github"}],
				"sessions":[{"sessionToken":"deep-1"},{"sessionToken":"deep-2"}]}},
			{"sessionToken":"deep-3","user":{"email":"deeper@example.com","accounts":[],
				"sessions":[{"sessionToken":"deep-3"},{"sessionToken":"deep-4"},{"sessionToken":"deep-5"}]}}]}}}`)
	if stmts := s.sql.take(); len(stmts) != 4 {
		t.Errorf("a nested insert took %d statements, want 4 (begin, write, read, commit): %q", len(stmts), stmts)
	}
	assertJSON(t, s.admin(t, `mutation { insert_accounts_one(object: {type: oauth, provider: "gitlab", providerAccountId: "d3",
			user: {data: {email: "three@example.com", sessions: {data: [{sessionToken: "deep-1", expires: "2030-01-01T00:00:00Z"}]}}}}) { id } }`, nil),
		`{"errors":[{"message":"Uniqueness violation. duplicate key value violates unique constraint \"sessions_pkey\"","extensions":{"code":"constraint-violation","path":"$.selectionSet.insert_accounts_one.args.object.user.data.sessions.data"}}]}`)
	assertJSON(t, s.admin(t, `{ users(where: {email: {_eq: "three@example.com"}}) { id } accounts(where: {providerAccountId: {_eq: "d3"}}) { id } }`, nil),
		`{"data":{"users":[],"accounts":[]}}`)
	assertJSON(t, s.admin(t, `mutation { insert_accounts_one(object: {type: oauth, provider: "gitlab", providerAccountId: "d3",
			user: {data: {email: "three@example.com", sessions: {data: [{sessionToken: "deep-6", expires: "2030-01-01T00:00:00Z"}]}}}}) {
			provider user { email sessions { sessionToken user { email } } } } }`, nil),
		`{"data":{"insert_accounts_one":{"provider":"gitlab","user":{"email":"three@example.com","sessions":[{"sessionToken":"deep-6","user":{"email":"three@example.com"}}]}}}}`)
}

// Numeric aggregates over accounts.expires_at (100, 300 and NULL): sum keeps
// the column's type, the statistics are PostgreSQL's numeric results; they
// order related rows too.
func TestHasuraNumericAggregates(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	seedHasura(t, s)
	assertJSON(t, s.admin(t, `{ accounts_aggregate { aggregate {
			avg { expires_at } sum { expires_at } stddev { expires_at } stddev_pop { expires_at } stddev_samp { expires_at }
			var_pop { expires_at } var_samp { expires_at } variance { expires_at } max { expires_at } } } }`, nil),
		// The text PostgreSQL writes is passed through: numeric keeps its scale.
		`{"data":{"accounts_aggregate":{"aggregate":{"avg":{"expires_at":200.0000000000000000},"sum":{"expires_at":400},
			"stddev":{"expires_at":141.421356237310},"stddev_pop":{"expires_at":100.0000000000000000},"stddev_samp":{"expires_at":141.421356237310},
			"var_pop":{"expires_at":10000.0000000000000000},"var_samp":{"expires_at":20000.000000000000},"variance":{"expires_at":20000.000000000000},"max":{"expires_at":300}}}}}`)
	assertJSON(t, s.admin(t, `{ users(order_by: [{accounts_aggregate: {sum: {expires_at: desc_nulls_last}}}, {email: asc}]) { name } }`, nil),
		`{"data":{"users":[{"name":"Alice"},{"name":"Bob"},{"name":null}]}}`)
	assertJSON(t, s.admin(t, `{ users { accounts_aggregate { aggregate { avg { expires_at } } } } }`, nil),
		`{"data":{"users":[{"accounts_aggregate":{"aggregate":{"avg":{"expires_at":200.0000000000000000}}}},{"accounts_aggregate":{"aggregate":{"avg":{"expires_at":null}}}},{"accounts_aggregate":{"aggregate":{"avg":{"expires_at":null}}}}]}}`)
	// Only numeric columns have them.
	assertJSON(t, s.admin(t, `{ accounts_aggregate { aggregate { sum { provider } } } }`, nil),
		`{"errors":[{"message":"field 'provider' not found in type: 'accounts_sum_fields'","extensions":{"code":"validation-failed","path":"$.selectionSet.accounts_aggregate.selectionSet.aggregate.selectionSet.sum.selectionSet.provider"}}]}`)
}

// Each role's input types and enums are its own, and the types it cannot
// reach from its root fields are not in its schema at all, as in Hasura.
func TestIntrospectionShowsEachRoleItsOwnInputTypes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	const q = `{ __schema { types { name } }
		bool: __type(name: "users_bool_exp") { inputFields { name } }
		set: __type(name: "users_set_input") { inputFields { name } }
		columns: __type(name: "users_update_column") { enumValues { name } }
		accounts: __type(name: "accounts") { name } }`
	type names []struct{ Name string }
	view := func(headers map[string]string) (types map[string]bool, boolExp, set, columns string, accounts bool) {
		var out struct {
			Data struct {
				Schema   struct{ Types names } `json:"__schema"`
				Bool     *struct{ InputFields names }
				Set      *struct{ InputFields names }
				Columns  *struct{ EnumValues names }
				Accounts *struct{ Name string }
			}
		}
		if err := json.Unmarshal(s.gql(t, q, nil, headers), &out); err != nil {
			t.Fatal(err)
		}
		join := func(ns names) string {
			var n []string
			for _, f := range ns {
				n = append(n, f.Name)
			}
			return strings.Join(n, " ")
		}
		types = map[string]bool{}
		for _, ty := range out.Data.Schema.Types {
			types[ty.Name] = true
		}
		d := out.Data
		if d.Bool != nil {
			boolExp = join(d.Bool.InputFields)
		}
		if d.Set != nil {
			set = join(d.Set.InputFields)
		}
		if d.Columns != nil {
			columns = join(d.Columns.EnumValues)
		}
		return types, boolExp, set, columns, d.Accounts != nil
	}
	posing := map[string]string{"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": "user", "X-Hasura-User-Id": aliceID}
	types, boolExp, set, columns, accounts := view(posing)
	// users_update_column is on_conflict's, and role user may not insert.
	if boolExp != "_and _not _or email emailVerified id image name" || set != "image name" || columns != "" || accounts {
		t.Errorf("role user: users_bool_exp %q, users_set_input %q, users_update_column %q, accounts visible %v", boolExp, set, columns, accounts)
	}
	for name, want := range map[string]bool{"users": true, "users_bool_exp": true, "Session": true, "String": true, "__Schema": true,
		"accounts": false, "sessions": false, "accounts_bool_exp": false, "provider_type_enum": false, "users_insert_input": false,
		"users_update_column": false, "users_select_column": true} {
		if types[name] != want {
			t.Errorf("role user: type %s in the schema: %v, want %v", name, types[name], want)
		}
	}
	types, boolExp, _, _, _ = view(nil)
	if !types["users"] || !types["timestamptz"] || types["users_bool_exp"] || types["order_by"] || boolExp != "" {
		t.Errorf("anonymous: users %v timestamptz %v users_bool_exp %v order_by %v (fields %q)", types["users"], types["timestamptz"], types["users_bool_exp"], types["order_by"], boolExp)
	}
	types, boolExp, set, columns, accounts = view(adminHeaders)
	if !types["accounts"] || !types["provider_type_enum"] || !accounts || !strings.Contains(boolExp, "accounts_aggregate") ||
		set != "email emailVerified id image name" || columns != "email emailVerified id image name" {
		t.Errorf("admin: accounts %v, provider_type_enum %v, users_bool_exp %q, users_set_input %q", types["accounts"], types["provider_type_enum"], boolExp, set)
	}
}
