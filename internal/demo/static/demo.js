// The freshgraph demo: everything here goes through the public GraphQL API at
// /v1/graphql — the session query on load, the session API's mutations, and
// subscription { session } over a WebSocket for live updates.
"use strict";

const endpoint = "/v1/graphql";
const userFields = "id name email image";
const $ = (id) => document.getElementById(id);

// gql runs one operation with the browser's cookies and returns its data, or
// throws an Error whose message is the server's (Hasura-shaped) error.
async function gql(query, variables) {
  let response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new Error("Could not reach the server. Check your connection and try again.");
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new Error(`The server answered with HTTP ${response.status}, not GraphQL.`);
  }
  if (body.errors && body.errors.length) {
    throw new Error(body.errors.map((e) => e.message).join("\n"));
  }
  return body.data;
}

function showMessage(text, isError) {
  const el = $("message");
  el.textContent = text;
  el.classList.toggle("error", Boolean(isError));
  el.hidden = !text;
}

// render shows the page for a session (null: signed out).
function render(session) {
  const user = session && session.user;
  $("signed-out").hidden = Boolean(user);
  $("signed-in").hidden = !user;
  $("user").hidden = !user;
  if (!user) {
    closeMenu();
    return;
  }
  const name = user.name || user.email;
  $("user-name").textContent = name;
  $("menu-name").textContent = name;
  $("menu-email").textContent = user.email;
  const img = $("user-image");
  img.hidden = !user.image;
  if (user.image) img.src = user.image;
  // Keep what the user is typing; fill the form when it is not being edited.
  if (!$("profile-form").contains(document.activeElement)) {
    $("profile-name").value = user.name || "";
    $("profile-image").value = user.image || "";
  }
}

function closeMenu() {
  $("user-menu").hidden = true;
  $("user-button").setAttribute("aria-expanded", "false");
}

// The live session: graphql-transport-ws, reconnecting with growing delays.
let socket = null;
let retry = 0;
function connect() {
  if (socket) {
    socket.onclose = null;
    socket.close();
  }
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + endpoint;
  const ws = new WebSocket(url, "graphql-transport-ws");
  socket = ws;
  ws.onopen = () => ws.send(JSON.stringify({ type: "connection_init" }));
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    switch (msg.type) {
      case "connection_ack":
        retry = 0;
        $("connection").textContent = "live";
        $("connection").classList.add("live");
        ws.send(JSON.stringify({
          id: "session", type: "subscribe",
          payload: { query: `subscription { session { user { ${userFields} } expires } }` },
        }));
        break;
      case "ping":
        ws.send(JSON.stringify({ type: "pong" }));
        break;
      case "next":
        if (msg.payload.data) render(msg.payload.data.session);
        break;
      case "error":
        showMessage("Live updates failed: " + msg.payload.map((e) => e.message).join("; "), true);
        break;
    }
  };
  ws.onclose = () => {
    $("connection").textContent = "offline";
    $("connection").classList.remove("live");
    if (socket !== ws) return;
    retry = Math.min(retry + 1, 6);
    setTimeout(connect, 250 * 2 ** retry);
  };
}

// A form's submit: run action, show its error, keep the button from double
// submits.
function onSubmit(formId, action) {
  const form = $(formId);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    showMessage("");
    try {
      await action(new FormData(form));
    } catch (err) {
      showMessage(err.message, true);
    } finally {
      button.disabled = false;
    }
  });
}

// Signing in or out changes the cookie the WebSocket was opened with, so it
// is opened again.
function signedInOrOut(session) {
  render(session);
  connect();
}

onSubmit("signin-form", async (data) => {
  const { signIn } = await gql(
    `mutation SignIn($email: String!, $password: String!) { signIn(email: $email, password: $password) { user { ${userFields} } expires } }`,
    { email: data.get("email"), password: data.get("password") });
  signedInOrOut(signIn);
});

onSubmit("signup-form", async (data) => {
  const name = data.get("name").trim();
  const { signUp } = await gql(
    `mutation SignUp($email: String!, $password: String!, $name: String) { signUp(email: $email, password: $password, name: $name) { user { ${userFields} } expires } }`,
    { email: data.get("email"), password: data.get("password"), name: name || null });
  signedInOrOut(signUp);
});

onSubmit("profile-form", async (data) => {
  const image = data.get("image").trim();
  const { updateUserProfile } = await gql(
    `mutation Profile($name: String, $image: String) { updateUserProfile(name: $name, image: $image) { ${userFields} } }`,
    { name: data.get("name"), image: image || null });
  document.activeElement.blur();
  render({ user: updateUserProfile });
  showMessage("Saved.");
});

$("user-button").addEventListener("click", () => {
  const menu = $("user-menu");
  menu.hidden = !menu.hidden;
  $("user-button").setAttribute("aria-expanded", String(!menu.hidden));
});

$("sign-out").addEventListener("click", async () => {
  try {
    await gql("mutation { signOut }");
    signedInOrOut(null);
  } catch (err) {
    showMessage(err.message, true);
  }
});

(async () => {
  try {
    const { session } = await gql(`{ session { user { ${userFields} } expires } }`);
    render(session);
  } catch (err) {
    render(null);
    showMessage(err.message, true);
  }
  connect();
})();
