// The staff pages' API client (/plan, /dashboard): a bearer token from the OAuth2 password
// flow (kept for this tab only), JSON in and out, ETags out of every read and into every
// edit's If-Match; and the sign-in dialog both pages use.
(function () {
  "use strict";
  const { ApiError } = window.gridgov;
  const KEY = "gridgov.plan.token";
  const base = "/api/v1";

  const token = () => sessionStorage.getItem(KEY);

  async function login(username, password) {
    const res = await fetch(`${base}/auth/token`, {
      method: "POST", body: new URLSearchParams({ username, password }) });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new ApiError(res.status, body.detail || res.statusText);
    sessionStorage.setItem(KEY, body.access_token);
  }

  function logout() { sessionStorage.removeItem(KEY); }

  // method, path under /api/v1, JSON body, If-Match tags (array of quoted ETags or "*").
  async function request(method, path, body, ifMatch) {
    const headers = {};
    if (token()) headers.Authorization = `Bearer ${token()}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (ifMatch && ifMatch.length) headers["If-Match"] = ifMatch.join(", ");
    const res = await fetch(base + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (res.status === 204) return null;
    const data = await res.json().catch(() => null);
    if (res.status === 401) logout();
    if (!res.ok) {
      const err = new ApiError(res.status, describe(data, res.statusText));
      err.body = data;
      throw err;
    }
    return data;
  }

  // FastAPI's 422 lists where each problem is; ours say it in `detail`.
  function describe(data, fallback) {
    if (!data || data.detail === undefined) return fallback;
    if (typeof data.detail === "string") return data.detail;
    if (Array.isArray(data.detail)) {
      return data.detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ");
    }
    return JSON.stringify(data.detail);
  }

  // The sign-in dialog (#login, made here): `ask()` opens it; a good sign-in closes it and
  // calls `onSignedIn`, a bad one says why in the dialog.
  function signInDialog(title, onSignedIn) {
    const dialog = document.createElement("dialog");
    dialog.id = "login";
    dialog.innerHTML = `<form method="dialog" id="login-form"><h2></h2>
      <label>用户名 <input id="username" name="username" autocomplete="username" required></label>
      <label>密码 <input id="password" name="password" type="password" autocomplete="current-password" required></label>
      <p id="login-error" role="alert"></p><button type="submit">登录</button></form>`;
    dialog.querySelector("h2").textContent = title;
    document.body.appendChild(dialog);
    const error = dialog.querySelector("#login-error");
    dialog.querySelector("form").addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await login(dialog.querySelector("#username").value, dialog.querySelector("#password").value);
        dialog.close();
        error.textContent = "";
        await onSignedIn();
      } catch (err) {
        error.textContent = err.message;
      }
    });
    return { ask: () => { if (!dialog.open) dialog.showModal(); } };
  }

  // A page's status line and its tasks: what it is doing, then what happened, with
  // body[data-busy] while a task runs. With ``controls`` (element ids) one task at a time,
  // those controls disabled meanwhile. A 401 calls ``onSignIn`` (ask to sign in again); a
  // task that returns nothing has set the status itself.
  function tasks(onSignIn, controls = []) {
    const $ = (id) => document.getElementById(id);
    const status = (text, bad) => { $("status").textContent = text; $("status").className = bad ? "bad" : ""; };
    async function run(doing, task) {
      if (controls.length && document.body.dataset.busy) return;
      status(`${doing}…`);
      document.body.dataset.busy = "1";
      const was = controls.map((id) => $(id).disabled);
      controls.forEach((id) => { $(id).disabled = true; });
      try {
        const done = await task();
        if (done) status(done);
      } catch (err) {
        if (err.status === 401 && onSignIn) { onSignIn(); status("请登录", true); return; }
        status(`${err.status ? `（${err.status}）` : ""}${err.message}`, true);
      } finally {
        controls.forEach((id, i) => { $(id).disabled = was[i]; });
        delete document.body.dataset.busy;
      }
    }
    return { run, status };
  }

  // Who is signed in (in #who) and the streets of their scope, listed in the select #street
  // (disabled when there are none); returns those streets.
  async function streetsInScope() {
    const $ = (id) => document.getElementById(id);
    const { esc } = window.gridgov;
    const me = await request("GET", "/auth/me");
    $("who").textContent = `${me.username}（${me.role}）`;
    const scope = me.scope || "";
    const streets = (await request("GET", "/areas?level=street"))
      .filter((s) => s.code.startsWith(scope) || scope.startsWith(s.code));
    $("street").innerHTML = streets.map((s) =>
      `<option value="${esc(s.code)}">${esc(s.name)}（${esc(s.code)}）</option>`).join("");
    $("street").disabled = !streets.length;
    return streets;
  }

  window.staffApi = {
    token, login, logout, signInDialog, tasks, streetsInScope,
    get: (path) => request("GET", path),
    post: (path, body, ifMatch) => request("POST", path, body, ifMatch),
    del: (path, ifMatch) => request("DELETE", path, undefined, ifMatch),
  };
})();
