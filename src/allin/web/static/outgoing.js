// The user's messages on their way: shown at once ("sending…"), kept until the server
// acknowledges them (in memory and, for a reload, in outbox.js), sent again with the same id after
// a reconnect or a rate limit, or handed back to the composer when the server refuses them.
import { setComposer, showComposerError } from "/static/composer.js";
import { messageElement, fill, appendMessage, sentElement, showEmptyIfNoMessages } from "/static/messages.js";
import { forgetQueued, queued, saveQueued } from "/static/outbox.js";

const RATE_LIMIT_RETRY_MS = 10_000;

// hooks: {session(), chatId(), changed(): the chat's last exchange changed}
export function createOutgoing({ connection, hooks }) {
  const outbox = new Map(); // client message id -> content, until the server acknowledges it
  const sent = new Set(); // client message ids sent on the current socket
  const bubbles = new Map(); // client message id -> the user's message element
  let rateLimitTimer = null;

  function flush() {
    if (!connection.open) return;
    // Ids make resending safe: the server stores and answers each message once.
    for (const [id, content] of outbox) {
      if (sent.has(id)) continue;
      sent.add(id);
      connection.send({ type: "message", id, content });
    }
  }

  function pendingBubble(id, content) {
    const element = messageElement("user");
    element.dataset.content = content;
    element.dataset.clientId = id;
    element.classList.add("pending");
    fill(element, "user", content);
    element.querySelector(".meta").textContent = "sending…";
    appendMessage(element);
    bubbles.set(id, element);
  }

  return {
    flush,

    send(content) {
      const id = crypto.randomUUID();
      pendingBubble(id, content);
      outbox.set(id, content);
      saveQueued(hooks.session().userId, hooks.chatId(), id, content);
      hooks.changed(); // the exchange being redone is no longer the last one
      flush();
    },

    restoreQueued() {
      // Typed in this chat while the server could not be reached, before a chat switch or reload.
      const userId = hooks.session().userId;
      const chatId = hooks.chatId();
      for (const { id, content } of queued(userId, chatId)) {
        if (sentElement(id)) {
          forgetQueued(userId, chatId, id); // stored: its ack was lost
          continue;
        }
        pendingBubble(id, content);
        outbox.set(id, content);
      }
    },

    get pending() {
      return outbox.size > 0;
    },

    // The element of a message sent from this page (while the chat is open).
    bubble: (clientId) => bubbles.get(clientId),

    acknowledged(clientId) {
      outbox.delete(clientId);
      forgetQueued(hooks.session().userId, hooks.chatId(), clientId);
    },

    refuse(clientId, message) {
      // The server will not store this message (too long, empty): hand it back to the user to edit,
      // rather than leaving it "sending…" under an error.
      const owner = bubbles.get(clientId);
      bubbles.delete(clientId);
      owner?.remove();
      showEmptyIfNoMessages();
      hooks.changed();
      const input = document.getElementById("composer-input");
      if (owner?.dataset.content && !input.value.trim()) setComposer(owner.dataset.content);
      showComposerError(message);
    },

    // An error under the message it is about (with Retry when sending it again may work), or as
    // an answer of its own.
    showError(message, replyTo, retryable) {
      const owner = replyTo ? bubbles.get(replyTo) : null;
      const note = document.createElement("p");
      note.className = "error-text";
      note.dataset.testid = "message-error";
      note.setAttribute("role", "alert");
      note.textContent = message;
      if (!owner) {
        const element = messageElement("assistant");
        element.querySelector(".bubble").replaceChildren(note);
        appendMessage(element);
        return;
      }
      owner.querySelector(".error-text")?.remove();
      owner.append(note);
      if (!retryable) return;
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "ghost small";
      retry.textContent = "Retry";
      retry.addEventListener("click", () => {
        note.remove();
        outbox.set(replyTo, owner.dataset.content);
        sent.delete(replyTo);
        flush();
      });
      note.append(" ", retry);
    },

    rateLimited() {
      // The refusal does not say which message it was: send the unacknowledged ones again later.
      if (rateLimitTimer) return;
      rateLimitTimer = setTimeout(() => {
        rateLimitTimer = null;
        sent.clear();
        flush();
      }, RATE_LIMIT_RETRY_MS);
    },

    // A new socket: nothing has been sent on it yet.
    connecting() {
      sent.clear();
    },

    // Another chat: its messages are its own.
    reset() {
      outbox.clear();
      bubbles.clear();
    },
  };
}
