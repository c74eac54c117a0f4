// Allin's browser client: log in, list chats, stream answers over the chat WebSocket.
// Plain ES modules, no build step; the vendored libraries live in ./vendor.
import { foldIfLong, showLastActions } from "/static/actions.js";
import { setupAttach } from "/static/attach.js";
import { setComposer, showComposerError, tooLong } from "/static/composer.js";
import { ask } from "/static/dialogs.js";
import { linkCitations, setupDocuments } from "/static/documents.js";
import { showFeedback } from "/static/feedback.js";
import { closeDrawer, setupDrawer } from "/static/drawer.js";
import { copyButton, renderMarkdown } from "/static/markdown.js";
import { showMemoryNotice } from "/static/memory-notice.js";
import { forgetQueued, queued, saveQueued } from "/static/outbox.js";
import { setupCodeView } from "/static/codeview.js";
import { setupOnboarding } from "/static/onboarding.js";
import { setupRepositories } from "/static/repositories.js";
import { showSetupBanner } from "/static/setup-banner.js";
import { setupGaps, showAdminTools } from "/static/gaps.js";
import { chatHref, renderChatList, setupChatSearch } from "/static/sidebar.js";
import { setupTokens } from "/static/tokens.js";
import { setupVoice } from "/static/voice.js";

const $ = (id) => document.getElementById(id);
const SESSION_KEY = "allin.session";
const RECONNECT_BASE_MS = 250;
const MAX_RECONNECT_DELAY_MS = 10_000;
// A connection that stayed open this long was a success: the next drop starts the backoff again.
const STABLE_CONNECTION_MS = 2_000;
const RATE_LIMIT_RETRY_MS = 10_000;
const CHATS_RETRY_MS = 5_000;
const HISTORY_PAGE = 50;
// Errors that say a message will never be stored as it is: it goes back to the composer.
const REFUSALS = new Set(["too_large", "bad_request"]);

const state = {
  config: null,
  session: null, // {token, userId, email}
  chats: [],
  chatId: null,
  socket: null,
  reconnectTimer: null,
  retries: 0,
  nextBefore: null,
  outbox: new Map(), // client message id -> content, until the server acknowledges it
  sent: new Set(), // client message ids sent on the current socket
  lastSeq: 0, // the highest chat frame seq applied in this chat: a reconnect resumes after it
  awaiting: new Set(), // this client's questions (turn ids) whose answer has not come yet
  cancelling: false,
  answering: false, // an answer is being written or awaited in this chat (as last shown)
  rateLimitTimer: null,
  chatsRetry: null, // loads the chat list again after it failed
  bubbles: new Map(), // client message id -> the user's message element
  streams: new Map(), // assistant turn id -> {element, text}
};

let chatSearch = null;

// Recordings go out, and spoken answers come in, on the chat's socket; voice.js does the audio.
const voice = setupVoice({
  api,
  session: () => state.session,
  chatId: () => state.chatId,
  socket: () => state.socket,
  cancel: () => stop(),
  activity: () => showStop(),
});

class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

// ---------------------------------------------------------------- HTTP

async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (state.session) headers.Authorization = `Bearer ${state.session.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && state.session) {
    endSession("Your session has ended. Please log in again.");
  }
  if (!response.ok) {
    const error = await response.json().catch(() => ({}));
    throw new ApiError(response.status, error.error, error.detail);
  }
  return response.status === 204 ? null : response.json();
}

// ---------------------------------------------------------------- accounts

let authMode = "login";

function showAuth(message = "") {
  closeSocket();
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
  closeSocket(); // the previous chat's frames must not reach this one while its history loads
  state.retries = 0;
  state.chatId = chatId;
  state.nextBefore = null;
  state.streams.clear();
  state.bubbles.clear();
  state.outbox.clear();
  state.lastSeq = 0;
  state.awaiting.clear();
  state.cancelling = false;
  voice.reset();
  showStop();
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
  restoreQueued();
  connect();
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
  if (!before) state.lastSeq = resumePoint(page.turns);
  const container = $("messages");
  const anchor = before ? container.querySelector(".msg") : null;
  const previousHeight = container.scrollHeight;
  for (const turn of page.turns) {
    const element = renderTurn(turn);
    if (anchor) container.insertBefore(element, anchor);
    else container.append(element);
    if (turn.role === "user") foldIfLong(element);
  }
  if (!before) refreshActions();
  state.nextBefore = page.next_before;
  $("load-earlier").hidden = !page.next_before;
  $("empty").hidden = container.querySelector(".msg") !== null;
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

// ---------------------------------------------------------------- messages

function messageElement(role) {
  const element = document.createElement("article");
  element.className = `msg ${role}`;
  element.dataset.testid = `message-${role}`;
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  const meta = document.createElement("div");
  meta.className = "meta";
  element.append(bubble, meta);
  if (role === "assistant") {
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text, with its line breaks, is what is copied
    const copy = copyButton(() => bubble.innerText, "Copy");
    copy.dataset.testid = "copy-answer";
    copy.setAttribute("aria-label", "Copy the answer");
    meta.after(copy);
  }
  return element;
}

function renderTurn(turn) {
  const element = messageElement(turn.role);
  element.dataset.turnId = String(turn.id);
  if (turn.role === "user") {
    element.dataset.content = turn.content;
    if (turn.client_msg_id) element.dataset.clientId = turn.client_msg_id;
  } else {
    element.dataset.replyTo = String(turn.reply_to);
  }
  fill(element, turn.role, turn.content);
  element.querySelector(".meta").textContent = timeOf(turn.created_at);
  linkCitations(element, turn.metadata?.citations);
  showStatus(element, turn);
  if (turn.role === "assistant") rateable(element, turn, turn.feedback);
  showMemoryNotice(element, turn.metadata?.memory_updated?.memories, openMemories);
  return element;
}

function rateable(element, turn, feedback) {
  // Thumbs up/down beside Copy, on an answer that has text.
  if (!turn.content) return;
  const path = (turnId) =>
    `/api/v1/chat/feedback/${state.session.userId}/${encodeURIComponent(state.chatId)}/${turnId}`;
  showFeedback(element, feedback ?? null, { api, path });
}

function turnElement(role, turnId) {
  return $("messages").querySelector(`.msg.${role}[data-turn-id="${turnId}"]`);
}

function showStatus(element, turn) {
  // An answer stopped by the user, or cut short when its server went down: say so, and offer to
  // ask the question again.
  const status = turn.metadata?.status;
  element.querySelector(".answer-status")?.remove();
  if (status !== "cancelled" && status !== "interrupted") return;
  element.classList.add(status);
  if (!turn.content) element.querySelector(".bubble").textContent = "No answer was written.";
  const note = document.createElement("p");
  note.className = "answer-status";
  note.dataset.testid = "answer-status";
  note.textContent = status === "cancelled" ? "Stopped" : "Interrupted";
  const question = turnElement("user", turn.reply_to);
  if (question?.dataset.content) {
    const content = question.dataset.content;
    note.append(
      " ",
      button("Retry", "retry-answer", () => send(content)),
    );
  }
  element.append(note);
}

function fill(element, role, text) {
  const bubble = element.querySelector(".bubble");
  if (role === "user") {
    bubble.textContent = text;
    return;
  }
  renderMarkdown(bubble, text);
}

function timeOf(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function appendMessage(element) {
  $("empty").hidden = true;
  $("messages").append(element);
  if (element.classList.contains("user")) foldIfLong(element);
  scrollToEnd(true);
}

function scrollToEnd(force = false) {
  const container = $("messages");
  const nearBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 120;
  if (force || nearBottom) container.scrollTop = container.scrollHeight;
}

function showError(message, replyTo, retryable) {
  const owner = replyTo ? state.bubbles.get(replyTo) : null;
  const note = document.createElement("p");
  note.className = "error-text";
  note.dataset.testid = "message-error";
  note.setAttribute("role", "alert");
  note.textContent = message;
  if (owner) {
    owner.querySelector(".error-text")?.remove();
    owner.append(note);
    if (retryable) {
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "ghost small";
      retry.textContent = "Retry";
      retry.addEventListener("click", () => {
        note.remove();
        state.outbox.set(replyTo, owner.dataset.content);
        state.sent.delete(replyTo);
        flushOutbox();
      });
      note.append(" ", retry);
    }
  } else {
    const element = messageElement("assistant");
    element.querySelector(".bubble").replaceChildren(note);
    appendMessage(element);
  }
}

function send(content) {
  const id = crypto.randomUUID();
  pendingBubble(id, content);
  state.outbox.set(id, content);
  saveQueued(state.session.userId, state.chatId, id, content);
  refreshActions(); // the exchange being redone is no longer the last one
  flushOutbox();
}

function pendingBubble(id, content) {
  const element = messageElement("user");
  element.dataset.content = content;
  element.dataset.clientId = id;
  element.classList.add("pending");
  fill(element, "user", content);
  element.querySelector(".meta").textContent = "sending…";
  appendMessage(element);
  state.bubbles.set(id, element);
  return element;
}

function restoreQueued() {
  // Typed in this chat while the server could not be reached, before a chat switch or reload.
  for (const { id, content } of queued(state.session.userId, state.chatId)) {
    if ($("messages").querySelector(`.msg.user[data-client-id="${CSS.escape(id)}"]`)) {
      forgetQueued(state.session.userId, state.chatId, id); // stored: its ack was lost
      continue;
    }
    pendingBubble(id, content);
    state.outbox.set(id, content);
  }
}

function acknowledged(clientId) {
  state.outbox.delete(clientId);
  forgetQueued(state.session.userId, state.chatId, clientId);
}

function refuse(clientId, message) {
  // The server will not store this message (too long, empty): hand it back to the user to edit,
  // rather than leaving it "sending…" under an error.
  const owner = state.bubbles.get(clientId);
  state.bubbles.delete(clientId);
  owner?.remove();
  $("empty").hidden = $("messages").querySelector(".msg") !== null;
  refreshActions();
  const input = $("composer-input");
  if (owner?.dataset.content && !input.value.trim()) setComposer(owner.dataset.content);
  showComposerError(message);
}

function flushOutbox() {
  const socket = state.socket;
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  // Ids make resending safe: the server stores and answers each message once.
  for (const [id, content] of state.outbox) {
    if (state.sent.has(id)) continue;
    state.sent.add(id);
    socket.send(JSON.stringify({ type: "message", id, content }));
  }
}

function stop() {
  const socket = state.socket;
  if (socket && socket.readyState === WebSocket.OPEN) {
    // Set until the server says that nothing was being written or spoken (`not_found`).
    state.cancelling = true;
    $("stop").disabled = true;
    socket.send(JSON.stringify({ type: "cancel" }));
  }
  voice.stopPlayback(); // the answer's audio stops at once, here
}

function showStop() {
  // Visible while an answer is being written in this chat (or awaited after this client's
  // question), or spoken.
  const answering = state.streams.size > 0 || state.awaiting.size > 0 || voice.playing;
  $("stop").hidden = !answering;
  if (!answering) $("stop").disabled = false;
  if (answering !== state.answering) {
    state.answering = answering;
    refreshActions();
  }
}

function refreshActions() {
  showLastActions($("messages"), {
    busy: () => state.answering || state.outbox.size > 0,
    edit: (content) => setComposer(content),
    regenerate: (content) => send(content),
  });
}

function streamFor(frame) {
  let stream = state.streams.get(frame.turn_id);
  if (!stream) {
    const element = messageElement("assistant");
    element.classList.add("streaming");
    element.dataset.turnId = String(frame.turn_id);
    element.dataset.replyTo = String(frame.reply_to);
    appendMessage(element);
    stream = { element, text: "", scheduled: false };
    state.streams.set(frame.turn_id, stream);
    clearBusy(frame.reply_to);
  }
  return stream;
}

// The server is answering as many questions as it can: this one waits its turn (`busy` frame).
function showBusy(frame) {
  const question = turnElement("user", frame.turn_id);
  if (!question) return;
  let note = question.querySelector(".busy-note");
  if (!note) {
    note = document.createElement("p");
    note.className = "busy-note muted small";
    note.dataset.testid = "busy-note";
    note.setAttribute("role", "status");
    question.append(note);
  }
  const ahead = frame.ahead === 1 ? "1 question" : `${frame.ahead} questions`;
  note.textContent = frame.ahead > 0 ? `${frame.message} (${ahead} ahead)` : frame.message;
}

function clearBusy(questionId) {
  turnElement("user", questionId)?.querySelector(".busy-note")?.remove();
}

function isFinal(turnId) {
  const element = turnElement("assistant", turnId);
  return element !== null && !element.classList.contains("streaming");
}

function receive(frame) {
  if (typeof frame.seq === "number") {
    if (frame.seq <= state.lastSeq) {
      // Seen already, or a stored ack/done sent again for a retried message (they keep their old
      // seq): those are applied once by turn id, anything else is dropped.
      if (frame.type === "ack" || frame.type === "done") handleFrame(frame);
      return;
    }
    state.lastSeq = frame.seq;
  }
  handleFrame(frame);
}

function endAwaiting(clientId) {
  // A question failed: its answer will not come.
  const owner = state.bubbles.get(clientId) || $("messages").querySelector(`.msg.user[data-client-id="${clientId}"]`);
  const questionId = Number(owner?.dataset.turnId);
  state.awaiting.delete(questionId);
  owner?.querySelector(".busy-note")?.remove();
  for (const [turnId, stream] of state.streams) {
    if (Number(stream.element.dataset.replyTo) !== questionId) continue;
    stream.element.classList.remove("streaming");
    state.streams.delete(turnId);
  }
}

function handleFrame(frame) {
  switch (frame.type) {
    case "ack": {
      const turn = frame.turn;
      const mine = state.bubbles.get(turn.client_msg_id);
      const element = mine || turnElement("user", turn.id);
      const spoken = !element && voice.claims(turn); // heard in this page's recording
      acknowledged(turn.client_msg_id);
      if (element) {
        element.dataset.turnId = String(turn.id);
        element.classList.remove("pending");
        element.querySelector(".meta").textContent = timeOf(turn.created_at);
      } else {
        appendMessage(renderTurn(turn)); // sent from another tab, or before this page loaded
      }
      if (
        (mine || spoken) &&
        !$("messages").querySelector(`.msg.assistant[data-reply-to="${turn.id}"]:not(.streaming)`)
      ) {
        state.awaiting.add(turn.id);
      }
      showStop();
      if (!currentChat()) refreshChats().catch(() => {}); // a new chat: list it now, not after the answer
      break;
    }
    case "token": {
      if (isFinal(frame.turn_id)) break; // the stored answer is shown already
      const stream = streamFor(frame);
      showStop();
      // `offset` is where the text starts in the answer: text this client has is kept, and a
      // catch-up with the whole partial answer (offset 0) replaces it instead of repeating it.
      if (frame.offset + frame.text.length <= stream.text.length) break;
      stream.text = stream.text.slice(0, frame.offset) + frame.text;
      if (!stream.scheduled) {
        stream.scheduled = true;
        requestAnimationFrame(() => {
          stream.scheduled = false;
          // After `done`, the stored answer is shown; a late frame must not overwrite it.
          if (state.streams.get(frame.turn_id) !== stream) return;
          fill(stream.element, "assistant", stream.text);
          scrollToEnd();
        });
      }
      break;
    }
    case "busy":
      showBusy(frame);
      break;
    case "memory_updated":
      showMemoryNotice(turnElement("assistant", frame.turn_id), frame.memories, openMemories, { announce: true });
      break;
    case "done": {
      const turn = frame.turn;
      state.awaiting.delete(turn.reply_to);
      clearBusy(turn.reply_to);
      if (isFinal(turn.id)) {
        showStop();
        break; // a stored answer never changes: this one is shown already
      }
      const existing =
        state.streams.get(turn.id)?.element || $("messages").querySelector(`.msg.assistant[data-turn-id="${turn.id}"]`);
      const element = existing || messageElement("assistant");
      element.classList.remove("streaming");
      element.dataset.turnId = String(turn.id);
      element.dataset.replyTo = String(turn.reply_to);
      // The stored answer is authoritative: it replaces whatever was streamed.
      fill(element, "assistant", turn.content);
      element.querySelector(".meta").textContent = timeOf(turn.created_at);
      linkCitations(element, frame.citations);
      showStatus(element, turn);
      rateable(element, turn, null);
      showMemoryNotice(element, turn.metadata?.memory_updated?.memories, openMemories);
      if (!existing) appendMessage(element);
      // Screen readers hear the finished answer once, not every token of it.
      $("announcer").textContent = element.querySelector(".bubble").textContent;
      state.streams.delete(turn.id);
      $("stop").disabled = false;
      showStop();
      scrollToEnd();
      voice.answerDone(turn);
      refreshChats().catch(() => {});
      break;
    }
    case "error":
      if (state.cancelling && frame.code === "not_found" && !frame.reply_to) {
        // Nothing was being written or spoken any more: the answer had just ended.
        state.cancelling = false;
        state.awaiting.clear();
        showStop();
        break;
      }
      if (!frame.reply_to && voice.error(frame)) break; // about a recording: shown by voice.js
      if (frame.reply_to) {
        acknowledged(frame.reply_to);
        endAwaiting(frame.reply_to);
        showStop();
        if (REFUSALS.has(frame.code) && state.bubbles.has(frame.reply_to)) {
          refuse(frame.reply_to, frame.message);
          break;
        }
      }
      if (frame.code === "rate_limited" && !state.rateLimitTimer) {
        // The refusal does not say which message it was: send the unacknowledged ones again later.
        state.rateLimitTimer = setTimeout(() => {
          state.rateLimitTimer = null;
          state.sent.clear();
          flushOutbox();
        }, RATE_LIMIT_RETRY_MS);
      }
      showError(frame.message, frame.reply_to, frame.code === "unavailable");
      break;
    case "transcript":
    case "audio_start":
    case "audio_end":
      voice.frame(frame);
      break;
    default:
      break;
  }
}

// ---------------------------------------------------------------- memories

function memoriesPath(memoryId = null) {
  const base = `/api/v1/memories/${state.session.userId}`;
  return memoryId ? `${base}/${memoryId}` : base;
}

async function openMemories() {
  $("memory-error").textContent = "";
  $("memories").showModal();
  await refreshMemories();
}

async function refreshMemories() {
  try {
    const { memories } = await api(memoriesPath());
    $("memory-list").replaceChildren(...memories.map(memoryItem));
    $("memory-empty").hidden = memories.length > 0;
    $("forget-all").hidden = memories.length === 0;
  } catch (error) {
    $("memory-error").textContent = error.message;
  }
}

function memoryItem(memory) {
  const item = document.createElement("li");
  item.dataset.testid = "memory-item";
  item.dataset.memoryId = memory.id;
  const text = document.createElement("span");
  text.className = "memory-text";
  text.dataset.testid = "memory-text";
  text.textContent = memory.text;
  text.title = `Learned ${new Date(memory.created_at).toLocaleString()}`;
  const edit = button("Edit", "memory-edit", () => editMemory(item, memory));
  const forget = button("Forget", "memory-delete", () => forgetMemory(memory));
  forget.classList.add("danger");
  item.append(text, edit, forget);
  return item;
}

function button(label, testid, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = "ghost small";
  element.textContent = label;
  element.dataset.testid = testid;
  element.addEventListener("click", onClick);
  return element;
}

function editMemory(item, memory) {
  const input = document.createElement("input");
  input.value = memory.text;
  input.maxLength = 1000;
  input.dataset.testid = "memory-input";
  input.setAttribute("aria-label", "Memory");
  const save = async () => {
    const text = input.value.trim();
    if (!text) return;
    try {
      await api(memoriesPath(memory.id), { method: "PATCH", body: { text } });
      await refreshMemories();
    } catch (error) {
      $("memory-error").textContent = error.message;
    }
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") save();
    if (event.key === "Escape") {
      event.preventDefault(); // keep the dialog open; only the edit is cancelled
      item.replaceWith(memoryItem(memory));
    }
  });
  item.replaceChildren(
    input,
    button("Save", "memory-save", save),
    button("Cancel", "memory-cancel", () => item.replaceWith(memoryItem(memory))),
  );
  input.focus();
}

async function forgetMemory(memory) {
  try {
    await api(memoriesPath(memory.id), { method: "DELETE" });
  } catch (error) {
    $("memory-error").textContent = error.message;
  }
  await refreshMemories();
}

async function forgetAll() {
  const sure = await ask({
    title: "Forget everything?",
    message: "Allin forgets everything it remembers about you. This cannot be undone.",
    confirmLabel: "Forget everything",
    danger: true,
  });
  if (!sure) return;
  try {
    await api(memoriesPath(), { method: "DELETE" });
  } catch (error) {
    $("memory-error").textContent = error.message;
  }
  await refreshMemories();
}

// ---------------------------------------------------------------- connection

function setConnection(status) {
  const element = $("conn-state");
  element.dataset.state = status;
  element.textContent = status === "reconnecting" ? "reconnecting…" : status;
}

function closeSocket() {
  clearTimeout(state.reconnectTimer);
  const socket = state.socket;
  state.socket = null;
  if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000);
}

function connect() {
  closeSocket();
  if (!state.session || !state.chatId) return;
  state.sent.clear();
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}/ws/${state.session.userId}/${encodeURIComponent(state.chatId)}`;
  // Browsers cannot set headers on a WebSocket: the token travels as the second subprotocol.
  const socket = new WebSocket(url, ["bearer", state.session.token]);
  socket.binaryType = "arraybuffer"; // binary frames are the answer's audio (pcm16)
  state.socket = socket;
  state.cancelling = false; // a cancel sent on the previous socket is answered there or not at all
  setConnection(state.retries ? "reconnecting" : "connecting");
  let openedAt = null;
  socket.addEventListener("open", () => {
    openedAt = Date.now();
    setConnection("connected");
    if (!$("history-error").hidden) {
      // The resume below replays the chat from its start.
      $("history-error").hidden = true;
      $("empty").hidden = $("messages").querySelector(".msg") !== null;
    }
    if (!$("chat-list-error").hidden) refreshChats().catch(() => {});
    // The first frame says what this client has: the server sends exactly the frames after it.
    socket.send(JSON.stringify({ type: "resume", last_seq: state.lastSeq }));
    flushOutbox();
  });
  socket.addEventListener("message", (event) => {
    if (socket !== state.socket) return;
    if (typeof event.data === "string") receive(JSON.parse(event.data));
    else voice.audio(event.data);
  });
  socket.addEventListener("close", (event) => {
    if (socket !== state.socket) return; // replaced on purpose
    voice.disconnected();
    // Reset the backoff only after a connection that lasted: one closed as soon as it opened
    // (a server failing on every connection) must not be retried in a tight loop.
    if (openedAt !== null && Date.now() - openedAt >= STABLE_CONNECTION_MS) state.retries = 0;
    if (event.code === 4401 || event.code === 4403) {
      endSession("Your session has ended. Please log in again.");
      return;
    }
    if (event.code === 4400) {
      setConnection("offline");
      return;
    }
    scheduleReconnect();
  });
}

function scheduleReconnect() {
  setConnection("reconnecting");
  // Exponential backoff with full jitter, so that many clients dropped at once do not all come back
  // at once (the server closes a client that reads too slowly with 1013: it comes back too).
  const delay = Math.random() * Math.min(MAX_RECONNECT_DELAY_MS, RECONNECT_BASE_MS * 2 ** state.retries);
  state.retries += 1;
  clearTimeout(state.reconnectTimer);
  state.reconnectTimer = setTimeout(connect, delay);
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
  setupOnboarding({ api, session: () => state.session, chatId: () => state.chatId, send });
  $("auth-form").addEventListener("submit", submitAuth);
  for (const tab of document.querySelectorAll(".tabs button")) {
    tab.addEventListener("click", () => setAuthMode(tab.dataset.mode));
  }
  $("logout").addEventListener("click", logout);
  $("new-chat").addEventListener("click", () => (location.hash = `#/c/${newChatId()}`));
  $("rename-chat").addEventListener("click", () => renameChat().catch((error) => showError(error.message)));
  $("delete-chat").addEventListener("click", () => deleteChat().catch((error) => showError(error.message)));
  $("load-earlier").addEventListener("click", () => loadHistory(state.nextBefore));
  for (const starter of document.querySelectorAll(".starter")) {
    starter.addEventListener("click", () => send(starter.textContent));
  }
  $("stop").addEventListener("click", stop);
  $("open-memories").addEventListener("click", openMemories);
  // The keyboard hint does not fit a phone's composer.
  if (matchMedia("(max-width: 760px)").matches) $("composer-input").placeholder = "Message Allin…";
  $("close-memories").addEventListener("click", () => $("memories").close());
  $("forget-all").addEventListener("click", forgetAll);
  setupDrawer();
  window.addEventListener("hashchange", route);
  window.addEventListener("online", () => {
    if (state.session && state.socket?.readyState !== WebSocket.OPEN) connect();
  });

  const input = $("composer-input");
  const submit = () => {
    const content = input.value.trim();
    if (!content) return;
    const refusal = tooLong(content, state.config.max_message_bytes);
    showComposerError(refusal);
    if (refusal) return;
    input.value = "";
    input.style.height = "";
    send(content);
  };
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  input.addEventListener("input", () => {
    input.style.height = "auto";
    input.style.height = `${input.scrollHeight}px`;
  });
}

async function boot() {
  wire();
  state.config = await (await fetch("/api/v1/config")).json();
  // A server with voice off would refuse every recording.
  for (const id of ["mic", "hands-free"]) $(id).hidden = !state.config.voice;
  showSetupBanner(state.config);
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
