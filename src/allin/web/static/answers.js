// Answers being written in the open chat: their streams, the questions of this page still waiting
// for theirs, the Stop button (shown while an answer is written, awaited or spoken) and the
// actions on the last exchange (offered only once nothing is being answered).
import { showLastActions } from "/static/actions.js";
import { appendMessage, clearBusy, messageElement, sentElement } from "/static/messages.js";

const $ = (id) => document.getElementById(id);

// hooks: {playing(): an answer is being spoken, pending(): messages not acknowledged yet,
//         edit(content), send(content), stopSpeaking()}
export function createAnswers({ connection, hooks }) {
  const streams = new Map(); // assistant turn id -> {element, text, scheduled}
  const awaiting = new Set(); // this client's questions (turn ids) whose answer has not come yet
  let cancelling = false; // a cancel was sent and has not been answered yet
  let answering = false; // an answer is being written or awaited in this chat (as last shown)

  function refreshActions() {
    showLastActions($("messages"), {
      busy: () => answering || hooks.pending(),
      edit: hooks.edit,
      regenerate: hooks.send,
    });
  }

  function showStop() {
    const now = streams.size > 0 || awaiting.size > 0 || hooks.playing();
    $("stop").hidden = !now;
    if (!now) $("stop").disabled = false;
    if (now !== answering) {
      answering = now;
      refreshActions();
    }
  }

  return {
    refreshActions,
    showStop,

    // The stream of the answer a `token` frame belongs to, its element added on the first one.
    stream(frame) {
      let stream = streams.get(frame.turn_id);
      if (!stream) {
        const element = messageElement("assistant");
        element.classList.add("streaming");
        element.dataset.turnId = String(frame.turn_id);
        element.dataset.replyTo = String(frame.reply_to);
        appendMessage(element);
        stream = { element, text: "", scheduled: false };
        streams.set(frame.turn_id, stream);
        clearBusy(frame.reply_to);
      }
      return stream;
    },

    // Whether `stream` is still the one being written for `turnId` (not done, not dropped).
    isCurrent: (turnId, stream) => streams.get(turnId) === stream,

    // The stored answer has come: its stream, if any, is over.
    done(turn) {
      const element = streams.get(turn.id)?.element;
      streams.delete(turn.id);
      return element;
    },

    expectAnswer(questionId) {
      awaiting.add(questionId);
    },

    answered(questionId) {
      awaiting.delete(questionId);
    },

    failed(clientId, bubble) {
      // A question failed: its answer will not come.
      const owner = bubble || sentElement(clientId);
      const questionId = Number(owner?.dataset.turnId);
      awaiting.delete(questionId);
      owner?.querySelector(".busy-note")?.remove();
      for (const [turnId, stream] of streams) {
        if (Number(stream.element.dataset.replyTo) !== questionId) continue;
        stream.element.classList.remove("streaming");
        streams.delete(turnId);
      }
    },

    stop() {
      if (connection.open) {
        // Set until the server says that nothing was being written or spoken (`not_found`).
        cancelling = true;
        $("stop").disabled = true;
        connection.send({ type: "cancel" });
      }
      hooks.stopSpeaking(); // the answer's audio stops at once, here
    },

    // The server's `not_found` for a cancel: the answer had just ended, nothing is awaited.
    cancelAnswered() {
      if (!cancelling) return false;
      cancelling = false;
      awaiting.clear();
      return true;
    },

    // A new socket: a cancel sent on the previous one is answered there or not at all.
    connecting() {
      cancelling = false;
    },

    // Another chat.
    reset() {
      streams.clear();
      awaiting.clear();
      cancelling = false;
    },
  };
}
