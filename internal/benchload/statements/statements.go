// Package statements holds the queries of make bench-load's scenarios and
// the SQL freshgraph runs for each, which the benchmark's bare handler runs
// too: the issue
// compares freshgraph with a bare handler running the same statement, so
// that the figures show the server's cost and not the SQL's.
// TestLoadBenchmarkStatements (in the repository's root) fails when
// freshgraph's statements change and these do not.
package statements

// Budget is the response size budget freshgraph binds into a planned
// statement by default: RESPONSE_SIZE_LIMIT, 16 MiB.
const Budget int64 = 16 << 20

// A Statement is one scenario's GraphQL query, as the load sends it, the
// SQL freshgraph runs for it, and where the SQL's parameters go: ValueAt is
// the position ($n, from 1) of the value the requests vary, BudgetAt that
// of Budget (0: none).
type Statement struct {
	GraphQL  string
	SQL      string
	ValueAt  int
	BudgetAt int
}

// Args are the statement's arguments for value.
func (s Statement) Args(value string) []any {
	args := make([]any, max(s.ValueAt, s.BudgetAt))
	args[s.ValueAt-1] = value
	if s.BudgetAt > 0 {
		args[s.BudgetAt-1] = Budget
	}
	return args
}

// The scenarios' statements.
var (
	// Session is the cookie session's read, by session token: the user's
	// id, JSON and the session's expiry.
	Session = Statement{ValueAt: 1,
		GraphQL: `{ session { user { id name email image emailVerified } expires } }`,
		SQL:     `SELECT u.id::text, json_build_object('id'::text, u."id", 'name'::text, u."name", 'email'::text, u."email", 'image'::text, u."image", 'emailVerified'::text, u."emailVerified"), s.expires FROM sessions s JOIN users u ON u.id = s."userId" WHERE s."sessionToken" = $1 AND s.expires > now()`}

	// UsersByPK is GetUser, users_by_pk(id: $userId), as admin.
	UsersByPK = Statement{ValueAt: 2, BudgetAt: 1,
		GraphQL: `query GetUser($userId: uuid!) { users_by_pk(id: $userId) { id name email image emailVerified } }`,
		SQL:     `SELECT CASE WHEN octet_length(q.j::text) <= q.max THEN q.j ELSE freshgraph_response_too_large(octet_length(q.j::text), q.max) END FROM (SELECT json_build_object('id'::text, t1."id", 'name'::text, t1."name", 'email'::text, t1."email", 'image'::text, t1."image", 'emailVerified'::text, t1."emailVerified") AS j, $1::bigint AS max FROM "public"."users" t1 WHERE t1."id" = $2::uuid OFFSET 0) q`}

	// UsersByEmail is the Auth.js adapter's getUserByEmail,
	// users(where: {email: {_eq: …}}), as admin.
	UsersByEmail = Statement{ValueAt: 1, BudgetAt: 2,
		GraphQL: `query GetUsers($where: users_bool_exp!) { users(where: $where) { id name email image emailVerified } }`,
		SQL:     `SELECT CASE WHEN octet_length(q.j::text) <= q.max THEN q.j ELSE freshgraph_response_too_large(octet_length(q.j::text), q.max) END FROM (SELECT (SELECT coalesce(json_agg(json_build_object('id'::text, t1."id", 'name'::text, t1."name", 'email'::text, t1."email", 'image'::text, t1."image", 'emailVerified'::text, t1."emailVerified")), '[]'::json) FROM (SELECT t1.* FROM "public"."users" t1 WHERE true AND (t1."email" = $1::text)) t1) AS j, $2::bigint AS max OFFSET 0) q`}

	// SessionsWithUser is the adapter's getSessionAndUser,
	// sessions(where: {sessionToken: {_eq: …}}) { … user { … } }, as admin.
	SessionsWithUser = Statement{ValueAt: 1, BudgetAt: 2,
		GraphQL: `query GetSessionAndUser($sessionToken: String!) { sessions(where: {sessionToken: {_eq: $sessionToken}}) {
				id userId expires sessionToken user { id name email image emailVerified } } }`,
		SQL: `SELECT CASE WHEN octet_length(q.j::text) <= q.max THEN q.j ELSE freshgraph_response_too_large(octet_length(q.j::text), q.max) END FROM (SELECT (SELECT coalesce(json_agg(json_build_object('id'::text, t1."id", 'userId'::text, t1."userId", 'expires'::text, t1."expires", 'sessionToken'::text, t1."sessionToken", 'user'::text, (SELECT json_build_object('id'::text, t2."id", 'name'::text, t2."name", 'email'::text, t2."email", 'image'::text, t2."image", 'emailVerified'::text, t2."emailVerified") FROM "public"."users" t2 WHERE t2."id" = t1."userId"))), '[]'::json) FROM (SELECT t1.* FROM "public"."sessions" t1 WHERE true AND (t1."sessionToken" = $1::text)) t1) AS j, $2::bigint AS max OFFSET 0) q`}
)
