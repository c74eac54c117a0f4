// Logging in, signing up (open, or by invitation) and out. The session ({token, userId, email})
// is kept in localStorage, so that a reload stays logged in; in Supabase mode the browser logs in
// with Supabase Auth itself.
import { ApiError } from "/static/http.js";
import { showAdminTools } from "/static/gaps.js";

const $ = (id) => document.getElementById(id);
const SESSION_KEY = "allin.session";

// hooks: {started(): shows the app once logged in, ended(): drops what the user had open}
export function setupAccount({ api, hooks }) {
  const account = {
    config: null, // GET /api/v1/config
    session: null,
    boot,
    end,
  };
  let mode = "login";

  function showAuth(message = "") {
    $("app").hidden = true;
    $("auth").hidden = false;
    $("auth-error").textContent = message;
    $("auth-email").focus();
  }

  function setMode(wanted) {
    mode = wanted;
    for (const tab of document.querySelectorAll(".tabs button")) {
      tab.setAttribute("aria-selected", String(tab.dataset.mode === wanted));
    }
    $("auth-submit").textContent = wanted === "login" ? "Log in" : "Create account";
    $("auth-password").autocomplete = wanted === "login" ? "current-password" : "new-password";
    // Sign-up by invitation (ALLIN_SIGNUP=invite): the code, filled in from an `?invite=` link.
    $("auth-invite-field").hidden = !(wanted === "signup" && account.config?.signup === "invite");
    $("auth-error").textContent = "";
  }

  async function supabaseAuth(email, password) {
    // Supabase mode: the browser logs in with Supabase Auth directly (anon key), as supabase-js does.
    const { supabase_url: url, supabase_anon_key: key } = account.config;
    const endpoint = mode === "login" ? "/auth/v1/token?grant_type=password" : "/auth/v1/signup";
    const response = await fetch(`${url}${endpoint}`, {
      method: "POST",
      headers: { apikey: key, "Content-Type": "application/json" },
      body: JSON.stringify({ email, password }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new ApiError(response.status, body.error, body.msg || body.error_description);
    if (!body.access_token)
      throw new ApiError(200, "confirm", "Check your email to confirm your account, then log in.");
    return { token: body.access_token, userId: body.user.id, email: body.user.email };
  }

  async function submit(event) {
    event.preventDefault();
    const email = $("auth-email").value.trim();
    const password = $("auth-password").value;
    if (!email || !password) {
      $("auth-error").textContent = "Enter your email and password.";
      return;
    }
    $("auth-submit").disabled = true;
    try {
      let session;
      if (account.config.auth_mode === "supabase") {
        session = await supabaseAuth(email, password);
      } else {
        const invite = mode === "signup" ? $("auth-invite").value.trim() : "";
        const credentials = invite ? { email, password, invite } : { email, password };
        const body = await api(`/api/v1/auth/${mode}`, { method: "POST", body: credentials });
        session = { token: body.access_token, userId: body.user_id, email };
      }
      localStorage.setItem(SESSION_KEY, JSON.stringify(session));
      $("auth-password").value = "";
      await start(session);
    } catch (error) {
      $("auth-error").textContent = error.message;
    } finally {
      $("auth-submit").disabled = false;
    }
  }

  async function start(session) {
    account.session = session;
    let me = null;
    try {
      me = await api("/api/v1/auth/me");
    } catch (error) {
      // Only a refused token ends the session; a server that cannot answer now (down, database
      // lost) shows the app in its error states, and the connection retries.
      if (error.status === 401 || error.status === 403) throw error;
    }
    if (!account.session) return; // refused: api() has shown the login form
    account.session.email = me?.email || session.email;
    showAdminTools(Boolean(me?.is_admin));
    $("account-email").textContent = account.session.email || me?.user_id || "";
    $("auth").hidden = true;
    $("app").hidden = false;
    await hooks.started();
  }

  function end(message) {
    hooks.ended();
    localStorage.removeItem(SESSION_KEY);
    account.session = null;
    setMode("login");
    showAuth(message);
  }

  async function logout() {
    if (account.config.auth_mode === "local") {
      await api("/api/v1/auth/logout", { method: "POST" }).catch(() => {});
    }
    end("");
  }

  // With the server's config: the saved session, or the login form (sign-up from an invitation link).
  async function boot(config) {
    account.config = config;
    const invite = new URLSearchParams(location.search).get("invite");
    if (invite) $("auth-invite").value = invite;
    const saved = JSON.parse(localStorage.getItem(SESSION_KEY) || "null");
    if (!saved) {
      if (invite) setMode("signup");
      showAuth();
      return;
    }
    try {
      await start(saved);
    } catch {
      if (account.session) end("Please log in again.");
    }
  }

  $("auth-form").addEventListener("submit", submit);
  for (const tab of document.querySelectorAll(".tabs button")) {
    tab.addEventListener("click", () => setMode(tab.dataset.mode));
  }
  $("logout").addEventListener("click", logout);
  return account;
}
