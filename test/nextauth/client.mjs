// Drives Auth.js's own client — next-auth/react (v4) or next-auth@5's
// (v5) — against freshgraph, as the browser runs it: getSession(), a
// SessionProvider rendered with useSession(), and its update() after the
// profile is renamed through GraphQL. For nextauth_test.go.
//
// env: BASE, the server's URL; FLAVOR, 4 or 5; COOKIES, a JSON object of
// the session cookies the browser holds; NAME, the name to rename to.
// stdout: a JSON object of what each step saw; every request the client
// made, and whatever it logged as an error.
import { createRequire } from "node:module"

const base = process.env.BASE
const flavor = Number(process.env.FLAVOR)

// The browser, as far as Auth.js's client reads it: window and document
// for its listeners, and fetch with a cookie jar (relative URLs on the
// page's origin, Set-Cookie kept, Max-Age=0 deleting).
const jar = new Map()
const requests = []
const realFetch = globalThis.fetch
globalThis.window = Object.assign(new EventTarget(), { location: { href: base + "/profile" } })
globalThis.document = Object.assign(new EventTarget(), { visibilityState: "visible" })
if (typeof globalThis.navigator === "undefined") globalThis.navigator = { onLine: true }
globalThis.fetch = async (input, init = {}) => {
  const url = new URL(input, base)
  const headers = new Headers(init.headers)
  if (url.origin === new URL(base).origin && jar.size > 0) {
    headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "))
  }
  const res = await realFetch(url, { ...init, headers })
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(";")
    const i = pair.indexOf("=")
    const name = pair.slice(0, i).trim()
    const gone = attrs.some((a) => /^\s*max-age=(0|-\d+)\s*$/i.test(a))
    if (gone) jar.delete(name)
    else jar.set(name, pair.slice(i + 1).trim())
  }
  requests.push(`${init.method ?? "GET"} ${url.pathname} ${res.status}`)
  return res
}
const errors = []
const consoleError = console.error
console.error = (...args) => {
  errors.push(args.map((a) => (typeof a === "string" ? a : a?.message ?? JSON.stringify(a))).join(" "))
}

// The client reads where its API is once, when it is loaded.
process.env.NEXTAUTH_URL = base + "/api/auth"
const require = createRequire(import.meta.url)
const React = require("react")
const { create, act } = require("react-test-renderer")
globalThis.IS_REACT_ACT_ENVIRONMENT = true
const client = flavor === 4 ? require("next-auth/react") : await import("next-auth-v5/react")
const { SessionProvider, useSession, getSession } = client

const out = {}
const name = (s) => s?.user?.name ?? null

out.signedOut = await getSession()

for (const [k, v] of Object.entries(JSON.parse(process.env.COOKIES))) jar.set(k, v)
out.getSession = await getSession()

// The app's header: useSession under a SessionProvider, which reads the
// session once it is mounted.
let current
function Header() {
  current = useSession()
  return React.createElement("span", null, name(current.data))
}
let tree
await act(async () => {
  tree = create(React.createElement(SessionProvider, null, React.createElement(Header)))
})
for (let i = 0; current.status === "loading" && i < 100; i++) await act(() => new Promise((r) => setTimeout(r, 20)))
out.mounted = { status: current.status, header: tree.toJSON().children?.[0] ?? null }

// The profile form: the rename through GraphQL, as the signed-in user
// (the session cookie is the only credential).
const renamed = await fetch("/v1/graphql", {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ query: "mutation($name: String!) { updateUserProfile(name: $name) { name } }", variables: { name: process.env.NAME } }),
})
out.rename = await renamed.json()
out.beforeUpdate = tree.toJSON().children?.[0] ?? null

// Then update(), as the form does: GET /csrf, POST /session.
let updated
await act(async () => {
  updated = await current.update({ name: process.env.NAME })
})
out.update = updated ?? null
out.afterUpdate = tree.toJSON().children?.[0] ?? null

// A POST whose csrfToken is not its cookie's: refused, as Auth.js does.
const forged = await fetch("/api/auth/session", {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ csrfToken: "0".repeat(64), data: { name: "Mallory" } }),
})
out.forged = { status: forged.status, body: await forged.text() }

await act(async () => tree.unmount())
out.requests = requests
out.errors = errors
console.error = consoleError
// v5's client keeps a BroadcastChannel open, which would keep Node running.
process.stdout.write(JSON.stringify(out), () => process.exit(0))
