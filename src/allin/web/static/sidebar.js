// The sidebar's chat list, grouped by when each chat was last active, and the search over the
// user's chats (what was said in them, and their titles; the server's full-text search).

const SEARCH_DELAY_MS = 250;
const DAY_MS = 24 * 60 * 60 * 1000;

// Chats grouped as messaging apps do: Today, Yesterday, Previous 7 days, Previous 30 days, then
// by month. `chats` come newest activity first, so groups come out in order.
export function groupByDate(chats, now = new Date()) {
  const startOfToday = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  const groups = [];
  for (const chat of chats) {
    const label = dateGroup(new Date(chat.updated_at), startOfToday);
    const last = groups.at(-1);
    if (last?.label === label) last.chats.push(chat);
    else groups.push({ label, chats: [chat] });
  }
  return groups;
}

function dateGroup(when, startOfToday) {
  const time = when.getTime();
  if (time >= startOfToday) return "Today";
  if (time >= startOfToday - DAY_MS) return "Yesterday";
  if (time >= startOfToday - 7 * DAY_MS) return "Previous 7 days";
  if (time >= startOfToday - 30 * DAY_MS) return "Previous 30 days";
  return when.toLocaleDateString(undefined, { month: "long", year: "numeric" });
}

export function renderChatList(list, chats) {
  const items = [];
  for (const group of groupByDate(chats)) {
    const label = document.createElement("li");
    label.className = "chat-group";
    label.dataset.testid = "chat-group";
    label.textContent = group.label;
    items.push(label, ...group.chats.map(chatItem));
  }
  list.replaceChildren(...items);
}

function chatItem(chat) {
  const item = document.createElement("li");
  const link = document.createElement("a");
  link.href = chatHref(chat.chat_id);
  link.textContent = chat.title || "New chat";
  link.title = chat.title || "New chat";
  link.dataset.testid = "chat-item";
  item.append(link);
  return item;
}

export function chatHref(chatId) {
  return `#/c/${encodeURIComponent(chatId)}`;
}

// The search box: while it holds words, the matching chats replace the list; Esc or clearing it
// brings the list back. Only the newest search's answer is shown.
export function setupChatSearch({ api, userId, onOpen }) {
  const input = document.getElementById("chat-search");
  const results = document.getElementById("chat-search-results");
  const list = document.getElementById("chat-list");
  const status = document.getElementById("chat-search-status");
  let timer = null;
  let latest = 0;

  function showList() {
    results.hidden = true;
    status.hidden = true;
    list.hidden = false;
  }

  async function search(query) {
    const asked = ++latest;
    let matches;
    try {
      const params = new URLSearchParams({ q: query, limit: "20" });
      ({ matches } = await api(`/api/v1/chat/search/${userId()}?${params}`));
    } catch (error) {
      if (asked !== latest) return;
      results.replaceChildren();
      showStatus(
        error.status ? `Search failed: ${error.message}` : "Search is unavailable: the server can't be reached.",
      );
      return;
    }
    if (asked !== latest) return;
    results.replaceChildren(...matches.map(matchItem));
    if (matches.length) status.hidden = true;
    else showStatus(`No chats match “${query}”.`);
  }

  function showStatus(text) {
    status.textContent = text;
    status.hidden = false;
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const query = input.value.trim();
    if (!query) {
      latest += 1; // an answer still on its way is not shown
      showList();
      return;
    }
    list.hidden = true;
    results.hidden = false;
    timer = setTimeout(() => search(query), SEARCH_DELAY_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !input.value) return;
    event.preventDefault();
    input.value = "";
    input.dispatchEvent(new Event("input"));
  });
  results.addEventListener("click", (event) => {
    if (event.target.closest("a")) onOpen();
  });
  return {
    clear() {
      if (!input.value) return;
      input.value = "";
      input.dispatchEvent(new Event("input"));
    },
  };
}

function matchItem(match) {
  const item = document.createElement("li");
  const link = document.createElement("a");
  link.href = chatHref(match.chat_id);
  link.dataset.testid = "chat-search-result";
  const title = document.createElement("span");
  title.className = "match-title";
  title.textContent = match.title || "New chat";
  link.append(title);
  if (match.excerpt) {
    const excerpt = document.createElement("span");
    excerpt.className = "match-excerpt";
    excerpt.dataset.testid = "chat-search-excerpt";
    excerpt.append(...highlighted(match.excerpt, match.highlights));
    link.append(excerpt);
  }
  link.title = match.title || "New chat";
  item.append(link);
  return item;
}

// The excerpt as text nodes, each matched range in a <mark>: built from ranges, never from markup,
// since an excerpt is whatever someone typed.
function highlighted(text, ranges) {
  const nodes = [];
  let position = 0;
  for (const [start, end] of ranges) {
    if (start < position) continue;
    if (start > position) nodes.push(document.createTextNode(text.slice(position, start)));
    const mark = document.createElement("mark");
    mark.textContent = text.slice(start, end);
    nodes.push(mark);
    position = end;
  }
  if (position < text.length) nodes.push(document.createTextNode(text.slice(position)));
  return nodes;
}
