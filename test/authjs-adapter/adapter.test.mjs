// Drives every method of the real, published @auth/hasura-adapter against a
// running freshgraph server, in the order of Auth.js's own `runBasicTests`
// (next-auth packages/utils/adapter.ts; see shared docs hasura-compat.md §3.6).
//
//   ENDPOINT=http://127.0.0.1:8080/v1/graphql ADMIN_SECRET=... node --test
//
// The steps share state (the user, session and account created early on are
// used later), so they run serially in one suite; once a step fails the rest
// are skipped so that the first failure is the one reported.

import { after, describe, test } from "node:test"
import assert from "node:assert/strict"
import { randomUUID } from "node:crypto"

import { HasuraAdapter, format } from "@auth/hasura-adapter"

const ENDPOINT = process.env.ENDPOINT
const ADMIN_SECRET = process.env.ADMIN_SECRET
if (!ENDPOINT || !ADMIN_SECRET) {
  throw new Error(
    "set ENDPOINT (e.g. http://127.0.0.1:8080/v1/graphql) and ADMIN_SECRET " +
      "to point this test at a running freshgraph server",
  )
}

// Constructed exactly as an Auth.js app does (adapter docs:
// HasuraAdapter({ endpoint: AUTH_HASURA_GRAPHQL, adminSecret: AUTH_HASURA_SECRET })).
// The adapter POSTs {query, variables} with x-hasura-admin-secret and throws
// on a non-empty `errors`.
const adapter = HasuraAdapter({ endpoint: ENDPOINT, adminSecret: ADMIN_SECRET })

// Auth.js's session endpoint, as freshgraph answers it.
const SESSION_ENDPOINT = ENDPOINT.replace(/\/v1\/graphql$/, "/api/auth/session")

// ---------------------------------------------------------------------------
// Our own reads and the table wipe, playing the `db` helpers that the adapter's
// upstream test (adapter-hasura/test/index.test.ts) builds from these very
// documents. They are copied verbatim from the adapter's generated
// lib/generated/graphql.js (DeleteAll, GetUser, GetSession, GetAccount,
// GetVerificationToken), which the adapter's public entry does not export.

const DELETE_ALL = `mutation DeleteAll {
  delete_accounts(where: {}) { affected_rows }
  delete_sessions(where: {}) { affected_rows }
  delete_users(where: {}) { affected_rows }
  delete_verification_tokens(where: {}) { affected_rows }
}`

const USER_FRAGMENT = `fragment User on users { id name email image emailVerified }`
const SESSION_FRAGMENT = `fragment Session on sessions { id userId expires sessionToken }`
const ACCOUNT_FRAGMENT = `fragment Account on accounts {
  id type scope userId id_token provider expires_at token_type
  access_token refresh_token session_state providerAccountId
}`
const VERIFICATION_TOKEN_FRAGMENT = `fragment VerificationToken on verification_tokens { token expires identifier }`

const GET_USER = `query GetUser($id: uuid!) { users_by_pk(id: $id) { ...User } }
${USER_FRAGMENT}`
const GET_SESSION = `query GetSession($sessionToken: String!) {
  sessions_by_pk(sessionToken: $sessionToken) { ...Session }
}
${SESSION_FRAGMENT}`
const GET_ACCOUNT = `query GetAccount($provider: String!, $providerAccountId: String!) {
  accounts(where: {provider: {_eq: $provider}, providerAccountId: {_eq: $providerAccountId}}) { ...Account }
}
${ACCOUNT_FRAGMENT}`
const GET_VERIFICATION_TOKEN = `query GetVerificationToken($identifier: String!, $token: String!) {
  verification_tokens(where: {token: {_eq: $token}, identifier: {_eq: $identifier}}) { ...VerificationToken }
}
${VERIFICATION_TOKEN_FRAGMENT}`

// POST a document the way the adapter does and return `data`, failing on
// `errors`. A refused connection becomes one readable message instead of
// undici's bare "fetch failed".
async function gql(query, variables = {}) {
  let response
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "x-hasura-admin-secret": ADMIN_SECRET,
      },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(10_000),
    })
  } catch (err) {
    const why = err.cause?.code ?? err.cause?.message ?? err.message
    throw new Error(`cannot reach ENDPOINT ${ENDPOINT}: ${why}`, { cause: err })
  }
  const text = await response.text()
  let body
  try {
    body = JSON.parse(text)
  } catch {
    throw new Error(
      `ENDPOINT ${ENDPOINT} answered HTTP ${response.status} with non-JSON: ${text.slice(0, 200)}`,
    )
  }
  assert.equal(body.errors, undefined, `GraphQL errors: ${JSON.stringify(body.errors)}`)
  assert.ok(body.data, `no data in response: ${text.slice(0, 200)}`)
  return body.data
}

// Hasura renders timestamptz with Postgres's JSON format, offset always
// spelled +HH:MM, e.g. "2024-01-15T10:20:30.123+00:00" (hasura-compat.md §1.5).
// The adapter only turns a string back into a Date when it carries a zone.
const HASURA_TIMESTAMPTZ = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d:\d\d$/

function assertTimestamptz(raw, label) {
  assert.equal(typeof raw, "string", `${label}: expected a timestamptz string, got ${raw}`)
  assert.match(raw, HASURA_TIMESTAMPTZ, `${label}: not Hasura's timestamptz JSON format`)
}

// The `db` side of the test: rows read with our own queries, converted to
// Dates the same way the upstream test does (the adapter's exported `format`).
const db = {
  async deleteAll() {
    return gql(DELETE_ALL)
  },
  async user(id) {
    const { users_by_pk } = await gql(GET_USER, { id })
    if (users_by_pk?.emailVerified != null) {
      assertTimestamptz(users_by_pk.emailVerified, "users.emailVerified")
    }
    return format.from(users_by_pk)
  },
  async session(sessionToken) {
    const { sessions_by_pk } = await gql(GET_SESSION, { sessionToken })
    if (sessions_by_pk) assertTimestamptz(sessions_by_pk.expires, "sessions.expires")
    return format.from(sessions_by_pk)
  },
  // Accounts carry no dates; the upstream helper returns the raw row.
  async accounts({ provider, providerAccountId }) {
    const { accounts } = await gql(GET_ACCOUNT, { provider, providerAccountId })
    return accounts
  },
  async verificationToken({ identifier, token }) {
    const { verification_tokens } = await gql(GET_VERIFICATION_TOKEN, { identifier, token })
    const row = verification_tokens[0]
    if (row) assertTimestamptz(row.expires, "verification_tokens.expires")
    return format.from(row)
  },
}

// ---------------------------------------------------------------------------
// Assertions on what the adapter hands back to Auth.js.

// A date must come back as a real Date (only happens when the server's JSON
// carries a zone offset) holding the same instant, to the millisecond.
function assertSameDate(actual, expected, label) {
  assert.ok(
    actual instanceof Date,
    `${label}: expected a Date, got ${typeof actual} ${JSON.stringify(actual)} ` +
      "(a timestamptz without a zone offset stays a string in the adapter)",
  )
  assert.ok(!Number.isNaN(actual.valueOf()), `${label}: Invalid Date`)
  assert.equal(actual.valueOf(), expected.valueOf(), `${label}: ${actual.toISOString()} != ${expected.toISOString()}`)
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

// Methods that may answer null must not, here; say so instead of a TypeError.
function present(value, label) {
  assert.ok(value != null, `${label} returned ${value}`)
  return value
}

function assertUUID(value, label) {
  assert.match(String(value), UUID, `${label}: expected a lowercase uuid, got ${value}`)
}

// Expiry instants as runBasicTests makes them: whole seconds.
function fromNow(ms) {
  const d = new Date(Date.now() + ms)
  d.setMilliseconds(0)
  return d
}
const ONE_WEEK_FROM_NOW = fromNow(7 * 24 * 60 * 60 * 1000)
const ONE_MONTH_FROM_NOW = fromNow(30 * 24 * 60 * 60 * 1000)
const FIFTEEN_MINUTES_FROM_NOW = fromNow(15 * 60 * 1000)

// ---------------------------------------------------------------------------

describe("@auth/hasura-adapter against freshgraph", { concurrency: 1 }, () => {
  // Shared state, filled in by the steps in order.
  let user = {
    id: randomUUID(),
    email: "fill@murray.com",
    image: "https://www.fillmurray.com/460/300",
    name: "Fill Murray",
    // Keeps its milliseconds: the server must store and return them.
    emailVerified: new Date(),
  }
  let session // as returned by createSession (includes the server's id)
  const account = {
    provider: "github",
    providerAccountId: randomUUID(),
    type: "oauth",
    access_token: randomUUID(),
    expires_at: 2592000, // ONE_MONTH / 1000 in runBasicTests
    id_token: randomUUID(),
    refresh_token: randomUUID(),
    token_type: "bearer",
    scope: "user",
    session_state: randomUUID(),
    userId: user.id,
  }
  let accountId // the server-generated accounts.id

  let failed = null // name of the first failing step
  let reachable = false

  // Run one step; after a failure, later steps are skipped (they depend on it).
  function step(name, fn) {
    test(name, { timeout: 20_000 }, async (t) => {
      if (failed) {
        t.skip(`earlier step failed: ${failed}`)
        return
      }
      try {
        await fn()
      } catch (err) {
        failed = name
        throw err
      }
    })
  }

  after(async () => {
    // Leave the tables empty like the upstream test's disconnect(); only
    // when the server was there at all.
    if (reachable) await db.deleteAll().catch(() => {})
  })

  step("DeleteAll clears the four tables", async () => {
    const data = await db.deleteAll()
    reachable = true
    for (const table of ["accounts", "sessions", "users", "verification_tokens"]) {
      const affected = data[`delete_${table}`]?.affected_rows
      assert.equal(typeof affected, "number", `delete_${table}.affected_rows: ${JSON.stringify(data)}`)
    }
  })

  step("every adapter method exists", () => {
    for (const method of [
      "createUser", "getUser", "getUserByEmail", "getUserByAccount", "updateUser", "deleteUser",
      "linkAccount", "unlinkAccount",
      "createSession", "getSessionAndUser", "updateSession", "deleteSession",
      "createVerificationToken", "useVerificationToken",
    ]) {
      assert.equal(typeof adapter[method], "function", method)
    }
  })

  step("createUser", async () => {
    const created = await adapter.createUser(user)
    assertSameDate(created.emailVerified, user.emailVerified, "createUser().emailVerified")
    assert.deepEqual(created, user)
    // The stored row, read with our own GetUser, is the same user.
    assert.deepEqual(await db.user(user.id), user)
  })

  step("getUser", async () => {
    assert.equal(await adapter.getUser(randomUUID()), null)
    const got = present(await adapter.getUser(user.id), "getUser(id)")
    assertSameDate(got.emailVerified, user.emailVerified, "getUser().emailVerified")
    assert.deepEqual(got, user)
  })

  step("getUserByEmail", async () => {
    assert.equal(await adapter.getUserByEmail("non-existent-email"), null)
    const got = present(await adapter.getUserByEmail("fill@murray.com"), "getUserByEmail()")
    assertSameDate(got.emailVerified, user.emailVerified, "getUserByEmail().emailVerified")
    assert.deepEqual(got, user)
  })

  step("createSession", async () => {
    const input = { sessionToken: randomUUID(), userId: user.id, expires: ONE_WEEK_FROM_NOW }
    const created = await adapter.createSession(input)
    // The Session fragment also selects the table's own `id` (default gen_random_uuid()).
    assertUUID(created.id, "createSession().id")
    assertSameDate(created.expires, ONE_WEEK_FROM_NOW, "createSession().expires")
    assert.deepEqual(created, { ...input, id: created.id })
    session = created
    assert.deepEqual(await db.session(session.sessionToken), session)
  })

  step("getSessionAndUser", async () => {
    assert.equal(await adapter.getSessionAndUser("invalid-token"), null)
    const got = present(await adapter.getSessionAndUser(session.sessionToken), "getSessionAndUser(token)")
    assertSameDate(got.session.expires, session.expires, "getSessionAndUser().session.expires")
    assertSameDate(got.user.emailVerified, user.emailVerified, "getSessionAndUser().user.emailVerified")
    assert.deepEqual(got, { session, user })
  })

  step("updateUser changes only the name", async () => {
    // The adapter sends `_set: {name}` only; every other column must survive.
    const updated = await adapter.updateUser({ id: user.id, name: "Updated Name" })
    user = { ...user, name: "Updated Name" }
    assertSameDate(updated.emailVerified, user.emailVerified, "updateUser().emailVerified")
    assert.deepEqual(updated, user)
    assert.deepEqual(await adapter.getUser(user.id), user)
  })

  step("updateSession", async () => {
    assert.notEqual(session.expires.valueOf(), ONE_MONTH_FROM_NOW.valueOf())
    const updated = present(
      await adapter.updateSession({ sessionToken: session.sessionToken, expires: ONE_MONTH_FROM_NOW }),
      "updateSession() (update_sessions.returning[0])",
    )
    assertSameDate(updated.expires, ONE_MONTH_FROM_NOW, "updateSession().expires")
    session = { ...session, expires: ONE_MONTH_FROM_NOW }
    assert.deepEqual(updated, session)
    const stored = present(await db.session(session.sessionToken), "GetSession")
    assertSameDate(stored.expires, ONE_MONTH_FROM_NOW, "stored sessions.expires")
  })

  step("the adapter's session, read through Auth.js's own cookie", async () => {
    // An Auth.js app on the database strategy sets authjs.session-token to
    // the row's sessionToken; its browser talks to freshgraph directly.
    for (const cookie of ["authjs.session-token", "__Secure-authjs.session-token", "next-auth.session-token"]) {
      const headers = { cookie: `${cookie}=${session.sessionToken}` }
      const res = await fetch(ENDPOINT, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ query: "{ session { user { id name email } expires } }" }),
      })
      assert.equal(res.headers.get("set-cookie"), null, `${cookie}: freshgraph set a cookie`)
      const { data } = await res.json()
      assert.deepEqual(data.session.user, { id: user.id, name: "Updated Name", email: user.email }, cookie)
      assertSameDate(new Date(data.session.expires), session.expires, `${cookie}: session.expires`)
      const endpoint = await fetch(SESSION_ENDPOINT, { headers })
      assert.equal(endpoint.headers.get("set-cookie"), null, `${cookie}: /api/auth/session set a cookie`)
      assert.deepEqual(await endpoint.json(), {
        user: { name: "Updated Name", email: user.email, image: user.image },
        expires: session.expires.toISOString(),
      }, `${cookie}: /api/auth/session`)
    }
    assert.deepEqual(await (await fetch(SESSION_ENDPOINT)).json(), {}, "signed out: /api/auth/session")
  })

  step("linkAccount", async () => {
    // linkAccount hands the account to insert_accounts_one as is and returns
    // the raw row (no date conversion; accounts has no timestamptz column).
    const linked = present(await adapter.linkAccount(account), "linkAccount()")
    assertUUID(linked.id, "linkAccount().id")
    accountId = linked.id
    assert.deepEqual(linked, { ...account, id: accountId })
    assert.deepEqual(await db.accounts(account), [{ ...account, id: accountId }])
  })

  step("getUserByAccount", async () => {
    // Filters users through the users.accounts array relationship.
    const got = present(
      await adapter.getUserByAccount({ provider: account.provider, providerAccountId: account.providerAccountId }),
      "getUserByAccount()",
    )
    assertSameDate(got.emailVerified, user.emailVerified, "getUserByAccount().emailVerified")
    assert.deepEqual(got, user)
    assert.equal(
      await adapter.getUserByAccount({
        provider: "invalid-provider",
        providerAccountId: "invalid-provider-account-id",
      }),
      null,
    )
    // Right provider, unknown id: the relationship filter must AND both keys.
    assert.equal(
      await adapter.getUserByAccount({ provider: account.provider, providerAccountId: randomUUID() }),
      null,
    )
  })

  step("deleteSession", async () => {
    const deleted = present(await adapter.deleteSession(session.sessionToken), "deleteSession() (delete_sessions.returning[0])")
    assertSameDate(deleted.expires, session.expires, "deleteSession().expires")
    assert.deepEqual(deleted, session)
    assert.equal(await adapter.getSessionAndUser(session.sessionToken), null)
    assert.equal(await db.session(session.sessionToken), null)
    const gone = await fetch(SESSION_ENDPOINT, { headers: { cookie: `authjs.session-token=${session.sessionToken}` } })
    // Signed out, answered as Auth.js v5 (whose cookie this is) answers it.
    assert.deepEqual(await gone.json(), null, "after deleteSession: /api/auth/session")
  })

  step("createVerificationToken / useVerificationToken", async () => {
    const verificationToken = {
      identifier: "info@example.com",
      token: randomUUID(),
      expires: FIFTEEN_MINUTES_FROM_NOW,
    }
    const created = present(await adapter.createVerificationToken(verificationToken), "createVerificationToken()")
    assertSameDate(created.expires, FIFTEEN_MINUTES_FROM_NOW, "createVerificationToken().expires")
    assert.deepEqual(created, verificationToken)
    assert.deepEqual(await db.verificationToken(verificationToken), verificationToken)

    // Wrong identifier, right token: nothing matches and nothing is deleted
    // (the where ANDs token and identifier).
    assert.equal(
      await adapter.useVerificationToken({ identifier: "other@example.com", token: verificationToken.token }),
      null,
    )
    assert.deepEqual(await db.verificationToken(verificationToken), verificationToken)

    const used = present(
      await adapter.useVerificationToken({ identifier: verificationToken.identifier, token: verificationToken.token }),
      "useVerificationToken() (delete_verification_tokens.returning[0])",
    )
    assertSameDate(used.expires, FIFTEEN_MINUTES_FROM_NOW, "useVerificationToken().expires")
    assert.deepEqual(used, verificationToken)

    // A token is single-use.
    assert.equal(
      await adapter.useVerificationToken({
        identifier: verificationToken.identifier,
        token: verificationToken.token,
      }),
      null,
    )
    assert.equal(await db.verificationToken(verificationToken), null)
  })

  step("unlinkAccount", async () => {
    const unlinked = present(
      await adapter.unlinkAccount({ provider: account.provider, providerAccountId: account.providerAccountId }),
      "unlinkAccount() (delete_accounts.returning[0])",
    )
    assert.deepEqual(unlinked, { ...account, id: accountId })
    assert.deepEqual(await db.accounts(account), [])
    assert.equal(
      await adapter.getUserByAccount({
        provider: account.provider,
        providerAccountId: account.providerAccountId,
      }),
      null,
    )
  })

  step("deleteUser cascades to sessions and accounts", async () => {
    assert.deepEqual(await db.user(user.id), user)

    // Re-populate: a fresh session and the account again.
    const newToken = randomUUID()
    await adapter.createSession({ sessionToken: newToken, userId: user.id, expires: ONE_WEEK_FROM_NOW })
    await adapter.linkAccount(account)
    assert.ok(await adapter.getSessionAndUser(newToken), "re-created session should exist")
    assert.equal((await db.accounts(account)).length, 1, "re-linked account should exist")

    const deleted = await adapter.deleteUser(user.id)
    assertSameDate(deleted.emailVerified, user.emailVerified, "deleteUser().emailVerified")
    assert.deepEqual(deleted, user)

    // Gone, and so is everything hanging off it (FKs ON DELETE CASCADE).
    assert.equal(await adapter.getUser(user.id), null)
    assert.equal(await adapter.getUserByEmail(user.email), null)
    assert.equal(await adapter.getSessionAndUser(newToken), null)
    assert.equal(await db.session(newToken), null)
    assert.deepEqual(await db.accounts(account), [])
  })
})
