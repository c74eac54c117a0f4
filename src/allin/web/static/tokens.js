// Personal access tokens in the browser, for the agent in an editor: create one (its value is
// shown once, with a copy button), see the MCP configuration for Claude Code, Cursor and VS Code
// filled in with this server's URL and the token, list and revoke tokens. See README "Allin in
// your editor (MCP)"; the configurations here are the same.

import { ask } from "/static/dialogs.js";
import { copyButton } from "/static/markdown.js";
import { ago } from "/static/time.js";

const $ = (id) => document.getElementById(id);
// What the configurations show until a token is created: the token is never fetched again.
const PLACEHOLDER = "allin_pat_…";

let api = null;
const panel = {
  editor: "claude",
  token: null, // the token created while the panel is open; forgotten when it closes
};

export function setupTokens(apiCall) {
  api = apiCall;
  $("open-tokens").addEventListener("click", () => openPanel().catch(showError));
  $("tokens-close").addEventListener("click", () => $("tokens-dialog").close());
  // A token on screen is a secret on screen: once the panel is closed, it is gone for good.
  $("tokens-dialog").addEventListener("close", forgetCreated);
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    createToken().catch(showError);
  });
  for (const tab of document.querySelectorAll(".mcp-tabs [role=tab]")) {
    tab.addEventListener("click", () => chooseEditor(tab.dataset.editor));
    tab.addEventListener("keydown", moveBetweenTabs);
  }
  $("token-copy-slot").replaceWith(
    tagged(
      copyButton(() => panel.token || "", "Copy token"),
      "token-copy",
    ),
  );
  $("mcp-copy-slot").replaceWith(
    tagged(
      copyButton(() => $("mcp-snippet").textContent, "Copy"),
      "mcp-copy",
    ),
  );
}

function tagged(element, testid) {
  element.dataset.testid = testid;
  return element;
}

async function openPanel() {
  showError(null);
  document.querySelector(".sidebar")?.classList.remove("open"); // on a phone it covers the chat
  forgetCreated();
  $("tokens-dialog").showModal();
  $("token-name").focus();
  await refresh();
}

function forgetCreated() {
  panel.token = null;
  $("token-value").textContent = "";
  $("token-created").hidden = true;
  showConfig();
}

function showError(error) {
  const message = error ? error.message || String(error) : "";
  $("token-error").textContent = message;
  $("token-error").hidden = !message;
}

// ---------------------------------------------------------------- creating

async function createToken() {
  showError(null);
  const name = $("token-name").value.trim();
  if (!name) {
    showError(new Error("Name the token after where it goes, e.g. “laptop: Claude Code”."));
    $("token-name").focus();
    return;
  }
  const scopes = [...document.querySelectorAll(".token-scopes input:checked")].map((box) => box.value);
  $("token-submit").disabled = true;
  try {
    const created = await api("/api/v1/tokens", {
      method: "POST",
      body: { name, scopes, expires_in_days: Number($("token-expiry").value) },
    });
    panel.token = created.token;
    $("token-value").textContent = created.token;
    $("token-created").hidden = false;
    $("token-form").reset();
    showConfig();
    await refresh();
  } finally {
    $("token-submit").disabled = false;
  }
}

// ---------------------------------------------------------------- editor configurations

function chooseEditor(editor) {
  panel.editor = editor;
  for (const tab of document.querySelectorAll(".mcp-tabs [role=tab]")) {
    const chosen = tab.dataset.editor === editor;
    tab.setAttribute("aria-selected", String(chosen));
    tab.tabIndex = chosen ? 0 : -1;
  }
  showConfig();
}

function moveBetweenTabs(event) {
  const tabs = [...document.querySelectorAll(".mcp-tabs [role=tab]")];
  const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
  if (!step) return;
  const next = tabs[(tabs.indexOf(event.currentTarget) + step + tabs.length) % tabs.length];
  chooseEditor(next.dataset.editor);
  next.focus();
}

// The same configurations as the README's, for this server and the token just created.
export function editorConfig(editor, serverUrl, token) {
  const url = `${serverUrl}/mcp`;
  if (editor === "cursor") {
    return {
      where: "In .cursor/mcp.json (this project) or ~/.cursor/mcp.json (every project):",
      text: JSON.stringify({ mcpServers: { allin: { url, headers: { Authorization: `Bearer ${token}` } } } }, null, 2),
    };
  }
  if (editor === "vscode") {
    return {
      where: "In .vscode/mcp.json. VS Code asks for the token once (paste it) and keeps it itself, not in the file:",
      text: JSON.stringify(
        {
          inputs: [{ type: "promptString", id: "allin-token", description: "Allin token", password: true }],
          servers: {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: VS Code's own ${input:…} syntax, as is
            allin: { type: "http", url, headers: { Authorization: "Bearer ${input:allin-token}" } },
          },
        },
        null,
        2,
      ),
    };
  }
  return {
    where: "In a terminal:",
    text: `claude mcp add --transport http allin ${url} \\\n  --header "Authorization: Bearer ${token}"`,
  };
}

function showConfig() {
  const { where, text } = editorConfig(panel.editor, location.origin, panel.token || PLACEHOLDER);
  $("mcp-where").textContent = where;
  $("mcp-snippet").textContent = text;
}

// ---------------------------------------------------------------- the list

async function refresh() {
  const { tokens } = await api("/api/v1/tokens");
  const list = $("token-list");
  list.replaceChildren(...tokens.map(tokenItem));
  $("tokens-empty").hidden = tokens.length > 0;
}

function statusOf(token) {
  if (token.revoked_at) return "revoked";
  if (new Date(token.expires_at) <= new Date()) return "expired";
  return "active";
}

function tokenItem(token) {
  const item = document.createElement("li");
  item.className = "token-item";
  item.dataset.testid = "token-item";
  item.dataset.status = statusOf(token);

  const top = document.createElement("div");
  top.className = "token-top";
  const name = document.createElement("strong");
  name.className = "token-item-name";
  name.dataset.testid = "token-item-name";
  name.textContent = token.name;
  const status = document.createElement("span");
  status.className = "token-status";
  status.dataset.testid = "token-status";
  status.textContent = item.dataset.status;
  top.append(name, status);

  const facts = document.createElement("p");
  facts.className = "token-facts muted small";
  const hint = document.createElement("code");
  hint.textContent = token.hint;
  const used = token.last_used_at ? `used ${ago(token.last_used_at)}` : "never used";
  const ends =
    item.dataset.status === "revoked"
      ? `revoked ${ago(token.revoked_at)}`
      : `expires ${new Date(token.expires_at).toLocaleDateString()}`;
  facts.append(hint, ` · ${token.scopes.join(", ")} · created ${ago(token.created_at)} · ${used} · ${ends}`);

  item.append(top, facts);
  if (item.dataset.status === "active") {
    const revoke = document.createElement("button");
    revoke.type = "button";
    revoke.className = "ghost small danger";
    revoke.dataset.testid = "token-revoke";
    revoke.textContent = "Revoke";
    revoke.addEventListener("click", () => revokeToken(token, revoke).catch(showError));
    item.append(revoke);
  }
  return item;
}

async function revokeToken(token, button) {
  const sure = await ask({
    title: `Revoke “${token.name}”?`,
    message: "Editors using it lose access at once. This cannot be undone.",
    confirmLabel: "Revoke",
    danger: true,
  });
  if (!sure) return;
  button.disabled = true;
  try {
    await api(`/api/v1/tokens/${encodeURIComponent(token.id)}`, { method: "DELETE" });
  } finally {
    button.disabled = false;
  }
  await refresh();
}
