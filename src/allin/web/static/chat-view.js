// The open chat: chosen by the URL (#/c/<id>; a new id when there is none), its history loaded a
// page at a time ("Load earlier messages"), then its socket connected to follow it live.
import { foldIfLong } from "/static/actions.js";
import { showComposerError } from "/static/composer.js";
import { closeDrawer } from "/static/drawer.js";
import { renderTurn, scrollToEnd, showEmptyIfNoMessages } from "/static/messages.js";
import { newChatId } from "/static/chats.js";

const $ = (id) => document.getElementById(id);
const HISTORY_PAGE = 50;

// The open chat's id and its next history page are owned here. hooks: {opening(): the other
// modules drop what they held of the previous chat, loaded(): its newest page is shown};
// `answer` is what a rendered answer's buttons do (messages.js).
export function createChatView({ api, session, connection, outgoing, voice, answer, hooks }) {
  const chat = { id: null, nextBefore: null };

  function route() {
    const match = location.hash.match(/^#\/c\/([A-Za-z0-9._@-]{1,128})$/);
    if (!match) {
      location.replace(`#/c/${newChatId()}`);
      return; // the hashchange event opens it
    }
    open(decodeURIComponent(match[1]));
  }

  async function open(chatId) {
    if (!session()) return;
    connection.reset(); // the previous chat's frames must not reach this one while its history loads
    chat.id = chatId;
    chat.nextBefore = null;
    hooks.opening();
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
      if (chatId === chat.id) {
        $("empty").hidden = true;
        $("history-error").hidden = false;
      }
    }
    if (chatId !== chat.id) return;
    outgoing.restoreQueued();
    connection.connect();
    $("composer-input").focus();
  }

  async function loadHistory(before = null) {
    const chatId = chat.id;
    const query = new URLSearchParams({ limit: String(HISTORY_PAGE) });
    if (before) query.set("before", String(before));
    let page;
    try {
      page = await api(`/api/v1/chat/history/${session().userId}/${encodeURIComponent(chatId)}?${query}`);
    } catch (error) {
      if (error.status === 404) return; // a new chat: it is created with its first message
      throw error;
    }
    if (chatId !== chat.id) return;
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
    if (!before) hooks.loaded();
    chat.nextBefore = page.next_before;
    $("load-earlier").hidden = !page.next_before;
    showEmptyIfNoMessages();
    if (before) container.scrollTop += container.scrollHeight - previousHeight;
    else scrollToEnd(true);
    voice.historyLoaded(!before);
  }

  // Once connected: a history that could not be loaded is replayed by the resume.
  function connected() {
    if ($("history-error").hidden) return;
    $("history-error").hidden = true;
    showEmptyIfNoMessages();
  }

  $("load-earlier").addEventListener("click", () => loadHistory(chat.nextBefore));
  window.addEventListener("hashchange", route);
  return {
    get id() {
      return chat.id;
    },
    route,
    connected,
    close() {
      chat.id = null;
      connection.close();
    },
  };
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
