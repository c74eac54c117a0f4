// Allin's browser client: log in, list chats, stream answers over the chat WebSocket.
// Plain ES modules, no build step; the vendored libraries live in ./vendor.
import { foldIfLong } from "/static/actions.js";
import { createAnswers } from "/static/answers.js";
import { setupAttach } from "/static/attach.js";
import { setComposer, setupComposer, showComposerError } from "/static/composer.js";
import { createConnection } from "/static/connection.js";
import { ask } from "/static/dialogs.js";
import { setupDocuments } from "/static/documents.js";
import { closeDrawer, setupDrawer } from "/static/drawer.js";
import { createFrameHandler } from "/static/frames.js";
import { ApiError, createApi } from "/static/http.js";
import { setupMemories } from "/static/memories.js";
import { renderTurn, scrollToEnd, showEmptyIfNoMessages } from "/static/messages.js";
import { createOutgoing } from "/static/outgoing.js";
import { setupCodeView } from "/static/codeview.js";
import { setupOnboarding } from "/static/onboarding.js";
import { setupRepositories } from "/static/repositories.js";
import { setupGaps, showAdminTools } from "/static/gaps.js";
import { chatHref, renderChatList, setupChatSearch } from "/static/sidebar.js";
import { setupTokens } from "/static/tokens.js";
import { setupVoice } from "/static/voice.js";

const $ = (id) => document.getElementById(id);
const SESSION_KEY = "allin.session";
const SESSION_ENDED = "Your session has ended. Please log in again.";
const CHATS_RETRY_MS = 5_000;
const HISTORY_PAGE = 50;

const state = {
  config: null,
  session: null, // {token, userId, email}
  chats: [],
  chatId: null,
  nextBefore: null,
  chatsRetry: null, // loads the chat list again after it failed
};
const session = () => state.session;
const chatId = () => state.chatId;
const send = (content) => outgoing.send(content);

let chatSearch = null;

const api = createApi({
  token: () => state.session?.token,
  expired: () => endSession(SESSION_ENDED),
});
// What a rendered answer's buttons do: rate it, ask its question again.
const answer = {
  api,
  feedbackPath: (turnId) =>
    `/api/v1/chat/feedback/${state.session.userId}/${encodeURIComponent(state.chatId)}/${turnId}`,
  retry: send,
};
const connection = createConnection({
  endpoint: () =>
    state.session && state.chatId
      ? { path: `/ws/${state.session.userId}/${encodeURIComponent(state.chatId)}`, token: state.session.token }
      : null,
  connecting: () => {
    outgoing.connecting();
    answers.connecting();
  },
  opened: () => {
    if (!$("history-error").hidden) {
      // The resume replays the chat from its start.
      $("history-error").hidden = true;
      showEmptyIfNoMessages();
    }
    if (!$("chat-list-error").hidden) refreshChats().catch(() => {});
    outgoing.flush();
  },
  frame: (frame) => handleFrame(frame),
  audio: (data) => voice.audio(data),
  closed: () => voice.disconnected(),
  refused: () => endSession(SESSION_ENDED),
});
const outgoing = createOutgoing({ connection, hooks: { session, chatId, changed: () => answers.refreshActions() } });
const answers = createAnswers({
  connection,
  hooks: {
    playing: () => voice.playing,
    pending: () => outgoing.pending,
    edit: setComposer,
    send,
    stopSpeaking: () => voice.stopPlayback(),
  },
});

// Recordings go out, and spoken answers come in, on the chat's socket; voice.js does the audio.
const voice = setupVoice({
  api,
  session,
  chatId,
  socket: () => connection.socket,
  cancel: () => answers.stop(),
  activity: () => answers.showStop(),
});
const handleFrame = createFrameHandler({
  outgoing,
  answers,
  voice,
  chats: { current: () => currentChat(), refresh: () => refreshChats() },
  answer,
});

// ---------------------------------------------------------------- accounts

let authMode = "login";

function showAuth(message = "") {
  connection.close();
  $("app").hidden = true;
  $("auth").hidden = false;
  $("auth-error").textContent = message;
  $("auth-email").focus();
}

function setAuthMode(mode) {
  authMode = mode;
  for (const tab of document.querySelectorAll(".tabs button")) {
    tab.setAttribute("aria-selected", String(tab.dataset.mode === mode));
  }
  $("auth-submit").textContent = mode === "login" ? "Log in" : "Create account";
  $("auth-password").autocomplete = mode === "login" ? "current-password" : "new-password";
  // Sign-up by invitation (ALLIN_SIGNUP=invite): the code, filled in from an `?invite=` link.
  $("auth-invite-field").hidden = !(mode === "signup" && state.config?.signup === "invite");
  $("auth-error").textContent = "";
}

async function supabaseAuth(mode, email, password) {
  // Supabase mode: the browser logs in with Supabase Auth directly (anon key), as supabase-js does.
  const { supabase_url: url, supabase_anon_key: key } = state.config;
  const endpoint = mode === "login" ? "/auth/v1/token?grant_type=password" : "/auth/v1/signup";
  const response = await fetch(`${url}${endpoint}`, {
    method: "POST",
    headers: { apikey: key, "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body.error, body.msg || body.error_description);
  if (!body.access_token) throw new ApiError(200, "confirm", "Check your email to confirm your account, then log in.");
  return { token: body.access_token, userId: body.user.id, email: body.user.email };
}

async function submitAuth(event) {
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
    if (state.config.auth_mode === "supabase") {
      session = await supabaseAuth(authMode, email, password);
    } else {
      const invite = authMode === "signup" ? $("auth-invite").value.trim() : "";
      const credentials = invite ? { email, password, invite } : { email, password };
      const body = await api(`/api/v1/auth/${authMode}`, { method: "POST", body: credentials });
      session = { token: body.access_token, userId: body.user_id, email };
    }
    localStorage.setItem(SESSION_KEY, JSON.stringify(session));
    $("auth-password").value = "";
    await startSession(session);
  } catch (error) {
    $("auth-error").textContent = error.message;
  } finally {
    $("auth-submit").disabled = false;
  }
}

async function startSession(session) {
  state.session = session;
  let me = null;
  try {
    me = await api("/api/v1/auth/me");
  } catch (error) {
    // Only a refused token ends the session; a server that cannot answer now (down, database
    // lost) shows the app in its error states, and the connection retries.
    if (error.status === 401 || error.status === 403) throw error;
  }
  if (!state.session) return; // refused: api() has shown the login form
  state.session.email = me?.email || session.email;
  showAdminTools(Boolean(me?.is_admin));
  $("account-email").textContent = state.session.email || me?.user_id || "";
  $("auth").hidden = true;
  $("app").hidden = false;
  await refreshChats().catch(() => {}); // it shows its own error
  route();
}

function endSession(message) {
  voice.reset();
  chatSearch.clear(); // the next user must not see this one's search
  localStorage.removeItem(SESSION_KEY);
  state.session = null;
  state.chatId = null;
  setAuthMode("login");
  showAuth(message);
}

async function logout() {
  if (state.config.auth_mode === "local") {
    await api("/api/v1/auth/logout", { method: "POST" }).catch(() => {});
  }
  endSession("");
}

// ---------------------------------------------------------------- chats

async function refreshChats() {
  let chats;
  try {
    ({ chats } = await api(`/api/v1/chat/chats/${state.session.userId}`));
  } catch (error) {
    // Not "no chats": the list could not be loaded. It is loaded again once connected, or soon.
    if (!state.chats.length) $("chat-list-error").hidden = false;
    if (!state.chatsRetry && state.session) {
      state.chatsRetry = setTimeout(() => {
        state.chatsRetry = null;
        if (state.session) refreshChats().catch(() => {});
      }, CHATS_RETRY_MS);
    }
    throw error;
  }
  $("chat-list-error").hidden = true;
  state.chats = chats;
  renderChatList($("chat-list"), chats);
  markCurrentChat();
  showTitle();
}

function markCurrentChat() {
  const target = chatHref(state.chatId);
  for (const link of document.querySelectorAll(".chat-list a")) {
    if (link.getAttribute("href") === target) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function currentChat() {
  return state.chats.find((chat) => chat.chat_id === state.chatId);
}

function showTitle() {
  const chat = currentChat();
  $("chat-title").textContent = chat?.title || "New chat";
  $("rename-chat").hidden = !chat;
  $("delete-chat").hidden = !chat;
}

function newChatId() {
  return crypto.randomUUID().replaceAll("-", "");
}

function route() {
  const match = location.hash.match(/^#\/c\/([A-Za-z0-9._@-]{1,128})$/);
  if (!match) {
    location.replace(`#/c/${newChatId()}`);
    return; // the hashchange event opens it
  }
  openChat(decodeURIComponent(match[1]));
}

async function openChat(chatId) {
  if (!state.session) return;
  connection.reset(); // the previous chat's frames must not reach this one while its history loads
  state.chatId = chatId;
  state.nextBefore = null;
  outgoing.reset();
  answers.reset();
  voice.reset();
  answers.showStop();
  markCurrentChat();
  showTitle();
  for (const element of $("messages").querySelectorAll(".msg")) element.remove();
  $("empty").hidden = false;
  $("history-error").hidden = true;
  $("load-earlier").hidden = true;
  showComposerError("");
  closeDrawer();
  try {
    await loadHistory();
  } catch {
    // Offline: connect anyway; the resume replays the chat's turns from the start. Until then,
    // say that the chat could not be loaded: an empty chat would be a lie.
    if (chatId === state.chatId) {
      $("empty").hidden = true;
      $("history-error").hidden = false;
    }
  }
  if (chatId !== state.chatId) return;
  outgoing.restoreQueued();
  connection.connect();
  $("composer-input").focus();
}

async function loadHistory(before = null) {
  const chatId = state.chatId;
  const query = new URLSearchParams({ limit: String(HISTORY_PAGE) });
  if (before) query.set("before", String(before));
  let page;
  try {
    page = await api(`/api/v1/chat/history/${state.session.userId}/${encodeURIComponent(chatId)}?${query}`);
  } catch (error) {
    if (error.status === 404) return; // a new chat: it is created with its first message
    throw error;
  }
  if (chatId !== state.chatId) return;
  if (!before) connection.resumeAfter(resumePoint(page.turns));
  const container = $("messages");
  const anchor = before ? container.querySelector(".msg") : null;
  const previousHeight = container.scrollHeight;
  for (const turn of page.turns) {
    const element = renderTurn(turn, answer);
    if (anchor) container.insertBefore(element, anchor);
    else container.append(element);
    if (turn.role === "user") foldIfLong(element);
  }
  if (!before) answers.refreshActions();
  state.nextBefore = page.next_before;
  $("load-earlier").hidden = !page.next_before;
  showEmptyIfNoMessages();
  if (before) container.scrollTop += container.scrollHeight - previousHeight;
  else scrollToEnd(true);
  voice.historyLoaded(!before);
}

function resumePoint(turns) {
  // The newest seq the history covers; but an answer still being written is not in it, and its
  // tokens may come before a later question's ack (another tab): resume from its question then.
  // Only questions after the newest answer can still be answered (a chat answers in order).
  const newestAnswer = turns.findLastIndex((turn) => turn.role === "assistant");
  const unanswered = turns.slice(newestAnswer + 1).filter((turn) => turn.role === "user" && turn.seq);
  if (unanswered.length > 0) return Math.min(...unanswered.map((turn) => turn.seq));
  return Math.max(0, ...turns.map((turn) => turn.seq || 0));
}

async function renameChat() {
  const chat = currentChat();
  const title = await ask({ title: "Rename this chat", value: chat?.title || "", confirmLabel: "Rename" });
  if (!title?.trim()) return;
  await api(`/api/v1/chat/chats/${state.session.userId}/${encodeURIComponent(state.chatId)}`, {
    method: "PATCH",
    body: { title: title.trim().slice(0, 200) },
  });
  await refreshChats();
}

async function deleteChat() {
  const sure = await ask({
    title: "Delete this chat?",
    message: "Its messages are deleted too. This cannot be undone.",
    confirmLabel: "Delete",
    danger: true,
  });
  if (!sure) return;
  await api(`/api/v1/chat/chats/${state.session.userId}/${encodeURIComponent(state.chatId)}`, { method: "DELETE" });
  await refreshChats();
  location.hash = `#/c/${newChatId()}`;
}

// ---------------------------------------------------------------- wiring

function wire() {
  setupDocuments(api, () => state.session?.token);
  setupRepositories(api);
  setupGaps(api);
  setupTokens(api);
  setupCodeView(api);
  setupAttach({ token: () => state.session?.token, focusComposer: () => $("composer-input").focus() });
  chatSearch = setupChatSearch({
    api,
    userId: () => state.session.userId,
    onOpen: () => setTimeout(() => chatSearch.clear()), // once the link has been followed
  });
  setupOnboarding({ api, session, chatId, send });
  $("auth-form").addEventListener("submit", submitAuth);
  for (const tab of document.querySelectorAll(".tabs button")) {
    tab.addEventListener("click", () => setAuthMode(tab.dataset.mode));
  }
  $("logout").addEventListener("click", logout);
  $("new-chat").addEventListener("click", () => (location.hash = `#/c/${newChatId()}`));
  $("rename-chat").addEventListener("click", () => renameChat().catch((error) => outgoing.showError(error.message)));
  $("delete-chat").addEventListener("click", () => deleteChat().catch((error) => outgoing.showError(error.message)));
  $("load-earlier").addEventListener("click", () => loadHistory(state.nextBefore));
  for (const starter of document.querySelectorAll(".starter")) {
    starter.addEventListener("click", () => send(starter.textContent));
  }
  $("stop").addEventListener("click", () => answers.stop());
  setupMemories({ api, session });
  setupDrawer();
  window.addEventListener("hashchange", route);
  window.addEventListener("online", () => {
    if (state.session && !connection.open) connection.connect();
  });

  setupComposer({ limit: () => state.config.max_message_bytes, send });
}

async function boot() {
  wire();
  state.config = await (await fetch("/api/v1/config")).json();
  // A server with voice off would refuse every recording.
  for (const id of ["mic", "hands-free"]) $(id).hidden = !state.config.voice;
  const invite = new URLSearchParams(location.search).get("invite");
  if (invite) $("auth-invite").value = invite;
  const saved = JSON.parse(localStorage.getItem(SESSION_KEY) || "null");
  if (!saved) {
    if (invite) setAuthMode("signup");
    showAuth();
    return;
  }
  try {
    await startSession(saved);
  } catch {
    if (state.session) endSession("Please log in again.");
  }
}

boot();
