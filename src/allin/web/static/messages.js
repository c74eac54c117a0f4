// The chat's messages as the page shows them: a turn's element (bubble, time, Copy, rating,
// citations, "Stopped"/"Interrupted" with Retry), the busy note of a question waiting its turn,
// and the scroll that follows new messages. What is in the chat is the page itself (the
// elements' data-turn-id, data-reply-to, data-client-id): these functions keep no state.
import { foldIfLong } from "/static/actions.js";
import { linkCitations } from "/static/documents.js";
import { showFeedback } from "/static/feedback.js";
import { copyButton, renderMarkdown } from "/static/markdown.js";
import { showMemoryNotice } from "/static/memory-notice.js";

const $ = (id) => document.getElementById(id);

export function messageElement(role) {
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

// A stored turn. `answer` = {api, feedbackPath(turnId), retry(content), openMemories()}: what its
// buttons do.
export function renderTurn(turn, answer) {
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
  showStatus(element, turn, answer);
  if (turn.role === "assistant") rateable(element, turn, turn.feedback, answer);
  showMemoryNotice(element, turn.metadata?.memory_updated?.memories, answer.openMemories);
  return element;
}

// The stored answer (its `done` frame) replaces whatever was streamed into `element`.
export function finishAnswer(element, turn, citations, answer) {
  element.classList.remove("streaming");
  element.dataset.turnId = String(turn.id);
  element.dataset.replyTo = String(turn.reply_to);
  fill(element, "assistant", turn.content);
  element.querySelector(".meta").textContent = timeOf(turn.created_at);
  linkCitations(element, citations);
  showStatus(element, turn, answer);
  rateable(element, turn, null, answer);
  showMemoryNotice(element, turn.metadata?.memory_updated?.memories, answer.openMemories);
}

function rateable(element, turn, feedback, { api, feedbackPath }) {
  // Thumbs up/down beside Copy, on an answer that has text.
  if (!turn.content) return;
  showFeedback(element, feedback ?? null, { api, path: feedbackPath });
}

function showStatus(element, turn, { retry }) {
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
      smallButton("Retry", "retry-answer", () => retry(content)),
    );
  }
  element.append(note);
}

export function smallButton(label, testid, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = "ghost small";
  element.textContent = label;
  element.dataset.testid = testid;
  element.addEventListener("click", onClick);
  return element;
}

export function fill(element, role, text) {
  const bubble = element.querySelector(".bubble");
  if (role === "user") {
    bubble.textContent = text;
    return;
  }
  renderMarkdown(bubble, text);
}

export function timeOf(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function turnElement(role, turnId) {
  return $("messages").querySelector(`.msg.${role}[data-turn-id="${turnId}"]`);
}

// A user message sent from this page, by its client message id.
export function sentElement(clientId) {
  return $("messages").querySelector(`.msg.user[data-client-id="${CSS.escape(clientId)}"]`);
}

// Whether the answer shown for `turnId` is the stored one (not being streamed).
export function isFinal(turnId) {
  const element = turnElement("assistant", turnId);
  return element !== null && !element.classList.contains("streaming");
}

export function appendMessage(element) {
  $("empty").hidden = true;
  $("messages").append(element);
  if (element.classList.contains("user")) foldIfLong(element);
  scrollToEnd(true);
}

export function showEmptyIfNoMessages() {
  $("empty").hidden = $("messages").querySelector(".msg") !== null;
}

export function scrollToEnd(force = false) {
  const container = $("messages");
  const nearBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 120;
  if (force || nearBottom) container.scrollTop = container.scrollHeight;
}

// The server is answering as many questions as it can: this one waits its turn (`busy` frame).
export function showBusy(frame) {
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

export function clearBusy(questionId) {
  turnElement("user", questionId)?.querySelector(".busy-note")?.remove();
}
