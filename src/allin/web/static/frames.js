// The chat socket's frames (see /protocol), one small handler per frame type. A frame is applied
// to what the page shows; connection.js has already dropped the ones seen before.
import { showMemoryNotice } from "/static/memory-notice.js";
import {
  appendMessage,
  clearBusy,
  fill,
  finishAnswer,
  isFinal,
  messageElement,
  renderTurn,
  scrollToEnd,
  showBusy,
  timeOf,
  turnElement,
} from "/static/messages.js";

const $ = (id) => document.getElementById(id);
// Errors that say a message will never be stored as it is: it goes back to the composer.
const REFUSALS = new Set(["too_large", "bad_request"]);

// `answer` = {api, feedbackPath(turnId), retry(content)}: what a rendered answer's buttons do.
export function createFrameHandler({ outgoing, answers, voice, chats, answer }) {
  function ack({ turn }) {
    const mine = outgoing.bubble(turn.client_msg_id);
    const element = mine || turnElement("user", turn.id);
    const spoken = !element && voice.claims(turn); // heard in this page's recording
    outgoing.acknowledged(turn.client_msg_id);
    if (element) {
      element.dataset.turnId = String(turn.id);
      element.classList.remove("pending");
      element.querySelector(".meta").textContent = timeOf(turn.created_at);
    } else {
      appendMessage(renderTurn(turn, answer)); // sent from another tab, or before this page loaded
    }
    if (
      (mine || spoken) &&
      !$("messages").querySelector(`.msg.assistant[data-reply-to="${turn.id}"]:not(.streaming)`)
    ) {
      answers.expectAnswer(turn.id);
    }
    answers.showStop();
    if (!chats.current()) chats.refresh().catch(() => {}); // a new chat: list it now, not after the answer
  }

  function token(frame) {
    if (isFinal(frame.turn_id)) return; // the stored answer is shown already
    const stream = answers.stream(frame);
    answers.showStop();
    // `offset` is where the text starts in the answer: text this client has is kept, and a
    // catch-up with the whole partial answer (offset 0) replaces it instead of repeating it.
    if (frame.offset + frame.text.length <= stream.text.length) return;
    stream.text = stream.text.slice(0, frame.offset) + frame.text;
    if (stream.scheduled) return;
    stream.scheduled = true;
    requestAnimationFrame(() => {
      stream.scheduled = false;
      // After `done`, the stored answer is shown; a late frame must not overwrite it.
      if (!answers.isCurrent(frame.turn_id, stream)) return;
      fill(stream.element, "assistant", stream.text);
      scrollToEnd();
    });
  }

  function done({ turn, citations }) {
    answers.answered(turn.reply_to);
    clearBusy(turn.reply_to);
    if (isFinal(turn.id)) {
      answers.showStop();
      return; // a stored answer never changes: this one is shown already
    }
    const existing = answers.done(turn) || turnElement("assistant", turn.id);
    const element = existing || messageElement("assistant");
    // The stored answer is authoritative: it replaces whatever was streamed.
    finishAnswer(element, turn, citations, answer);
    if (!existing) appendMessage(element);
    // Screen readers hear the finished answer once, not every token of it.
    $("announcer").textContent = element.querySelector(".bubble").textContent;
    $("stop").disabled = false;
    answers.showStop();
    scrollToEnd();
    voice.answerDone(turn);
    chats.refresh().catch(() => {});
  }

  function error(frame) {
    if (frame.code === "not_found" && !frame.reply_to && answers.cancelAnswered()) {
      // Nothing was being written or spoken any more: the answer had just ended.
      answers.showStop();
      return;
    }
    if (!frame.reply_to && voice.error(frame)) return; // about a recording: shown by voice.js
    if (frame.reply_to) {
      const bubble = outgoing.bubble(frame.reply_to);
      outgoing.acknowledged(frame.reply_to);
      answers.failed(frame.reply_to, bubble);
      answers.showStop();
      if (REFUSALS.has(frame.code) && bubble) {
        outgoing.refuse(frame.reply_to, frame.message);
        return;
      }
    }
    if (frame.code === "rate_limited") outgoing.rateLimited();
    outgoing.showError(frame.message, frame.reply_to, frame.code === "unavailable");
  }

  const handlers = new Map([
    ["ack", ack],
    ["token", token],
    ["busy", showBusy],
    ["done", done],
    [
      "memory_updated",
      (frame) =>
        showMemoryNotice(turnElement("assistant", frame.turn_id), frame.memories, answer.openMemories, {
          announce: true,
        }),
    ],
    ["error", error],
    ["transcript", voice.frame],
    ["audio_start", voice.frame],
    ["audio_end", voice.frame],
  ]);

  return (frame) => handlers.get(frame.type)?.(frame); // a frame type this page does not know is ignored
}
