// The user's chats: the sidebar's list (loaded again until it can be), the open chat's title, and
// renaming or deleting it.
import { ask } from "/static/dialogs.js";
import { chatHref, renderChatList } from "/static/sidebar.js";

const $ = (id) => document.getElementById(id);
const RETRY_MS = 5_000;

export function newChatId() {
  return crypto.randomUUID().replaceAll("-", "");
}

// session() is the account's session (null once logged out); chatId() the open chat's.
export function createChats({ api, session, chatId }) {
  let chats = [];
  let retry = null; // loads the list again after it failed

  async function refresh() {
    let loaded;
    try {
      ({ chats: loaded } = await api(`/api/v1/chat/chats/${session().userId}`));
    } catch (error) {
      // Not "no chats": the list could not be loaded. It is loaded again once connected, or soon.
      if (!chats.length) $("chat-list-error").hidden = false;
      if (!retry && session()) {
        retry = setTimeout(() => {
          retry = null;
          if (session()) refresh().catch(() => {});
        }, RETRY_MS);
      }
      throw error;
    }
    $("chat-list-error").hidden = true;
    chats = loaded;
    renderChatList($("chat-list"), chats);
    markCurrent();
    showTitle();
  }

  function markCurrent() {
    const target = chatHref(chatId());
    for (const link of document.querySelectorAll(".chat-list a")) {
      if (link.getAttribute("href") === target) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  function current() {
    return chats.find((chat) => chat.chat_id === chatId());
  }

  function showTitle() {
    const chat = current();
    $("chat-title").textContent = chat?.title || "New chat";
    $("rename-chat").hidden = !chat;
    $("delete-chat").hidden = !chat;
  }

  const chatPath = () => `/api/v1/chat/chats/${session().userId}/${encodeURIComponent(chatId())}`;

  async function rename() {
    const title = await ask({ title: "Rename this chat", value: current()?.title || "", confirmLabel: "Rename" });
    if (!title?.trim()) return;
    await api(chatPath(), { method: "PATCH", body: { title: title.trim().slice(0, 200) } });
    await refresh();
  }

  async function remove() {
    const sure = await ask({
      title: "Delete this chat?",
      message: "Its messages are deleted too. This cannot be undone.",
      confirmLabel: "Delete",
      danger: true,
    });
    if (!sure) return;
    await api(chatPath(), { method: "DELETE" });
    await refresh();
    location.hash = `#/c/${newChatId()}`;
  }

  return {
    refresh,
    // Once connected again, a list that failed to load is loaded now.
    refreshIfFailed() {
      if (!$("chat-list-error").hidden) refresh().catch(() => {});
    },
    markCurrent,
    current,
    showTitle,
    rename,
    remove,
  };
}
