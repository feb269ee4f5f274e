// Makes and reads Auth.js session cookies with Auth.js's own code, for
// nextauth_test.go: next-auth v4's encode/decode (next-auth/jwt) and
// Auth.js v5's (@auth/core/jwt), chunked by each one's own SessionStore.
//
// stdin: a JSON array of operations; stdout: a JSON array of their results.
//   {"op":"encode","v":4|5,"name":<cookie name>,"secret":<string or array>,"token":{…},"maxAge":<s>}
//     → {"cookies":{<name>:<value>,…}}: the Set-Cookie names and values Auth.js writes
//   {"op":"decode","v":4|5,"name":<cookie name>,"secret":…,"cookies":{<name>:<value>,…}}
//     → {"payload":{…}} or {"error":"…"}: what Auth.js reads from those cookies
import { createRequire } from "node:module"
import { encode as encode5, decode as decode5 } from "@auth/core/jwt"
// Neither package exports its SessionStore; each is read from its file.
import { SessionStore as SessionStore5 } from "./node_modules/@auth/core/lib/utils/cookie.js"

const require = createRequire(import.meta.url)
const { encode: encode4, decode: decode4 } = require("next-auth/jwt")
const { SessionStore: SessionStore4 } = require("./node_modules/next-auth/core/lib/cookie.js")

const quiet = { error() {}, warn() {}, debug() {} }

function store(v, name, cookies) {
  const option = { name, options: { httpOnly: true, sameSite: "lax", path: "/", secure: name.startsWith("__Secure-") } }
  return v === 4 ? new SessionStore4(option, { cookies }, quiet) : new SessionStore5(option, cookies, quiet)
}

async function run(op) {
  if (op.op === "encode") {
    const params = { token: op.token, secret: op.secret, maxAge: op.maxAge }
    const token = op.v === 4 ? await encode4(params) : await encode5({ ...params, salt: op.name })
    const cookies = {}
    for (const c of store(op.v, op.name, {}).chunk(token, {})) cookies[c.name] = c.value
    return { cookies }
  }
  if (op.op === "decode") {
    const token = store(op.v, op.name, op.cookies).value
    try {
      const params = { token, secret: op.secret }
      const payload = op.v === 4 ? await decode4(params) : await decode5({ ...params, salt: op.name })
      return { payload }
    } catch (e) {
      return { error: String(e?.code ?? e?.message ?? e) }
    }
  }
  throw new Error("unknown op " + op.op)
}

let input = ""
for await (const chunk of process.stdin) input += chunk
const out = []
for (const op of JSON.parse(input)) out.push(await run(op))
process.stdout.write(JSON.stringify(out))
