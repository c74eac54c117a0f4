// Onboarding in the browser: the user's progress (shared with the panel, onboarding-panel.js),
// the "Welcome back — next: …" card of a new chat with its starter prompts, the "Answered for: …"
// line and the suggestions to confirm under each answer, and the per-chat switch.
//
// The chat view belongs to app.js: this module follows it (the URL, the messages list) rather
// than being called from it, so app.js only hands over what it shares.

import { button, element } from "/static/onboarding-dom.js";
import { isPanelOpen, renderPanel, setupPanel } from "/static/onboarding-panel.js";

const $ = (id) => document.getElementById(id);
// After an answer, a step it bears on is suggested in the background: look a few times.
const SUGGESTION_CHECKS_MS = [400, 1200, 3000, 6000];

let ctx = null; // {api, session, chatId, send}
const view = {
  chatId: null,
  progress: null, // GET /api/v1/onboarding/{user}
  pitch: null, // {pitched, answers} of the current chat
  pitchFetch: null,
  seenAnswers: new Set(), // answers whose "Answered for" line was looked up
};

export function setupOnboarding(context) {
  ctx = context;
  setupPanel({ api: ctx.api, progress: () => view.progress, refresh: refreshProgress, setStep, suggestion });
  $("empty").querySelector(".starters").before(buildWelcome());
  $("pitch-toggle").addEventListener("click", () => togglePitch().catch(() => {}));
  const observer = new MutationObserver(() => follow());
  observer.observe($("app"), { attributes: true, attributeFilter: ["hidden"] });
  // app.js writes the chat's title whenever it opens a chat, after choosing it.
  observer.observe($("chat-title"), { childList: true, characterData: true, subtree: true });
  observer.observe($("messages"), {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ["class", "data-turn-id"],
  });
}

function user() {
  return ctx.session()?.userId;
}

function base() {
  return `/api/v1/onboarding/${encodeURIComponent(user())}`;
}

// ---------------------------------------------------------------- following the chat

function follow() {
  if (!user() || $("app").hidden) return;
  const chatId = ctx.chatId();
  if (chatId && chatId !== view.chatId) {
    view.chatId = chatId;
    view.pitch = null;
    view.seenAnswers.clear();
    showToggle();
    loadChat(chatId).catch(() => {});
    refreshProgress().catch(() => {});
  }
  showAnsweredFor();
}

async function loadChat(chatId) {
  const request = ctx.api(`${base()}/chats/${encodeURIComponent(chatId)}`);
  view.pitchFetch = request;
  const pitch = await request;
  if (chatId !== view.chatId) return;
  view.pitch = pitch;
  showToggle();
  showAnsweredFor();
}

function showToggle() {
  const pitch = view.pitch;
  const toggle = $("pitch-toggle");
  // Shown where there is something to pitch with: a path, or answers already pitched.
  toggle.hidden = !pitch || !(view.progress?.paths.length || Object.keys(pitch.answers).length || !pitch.pitched);
  if (!pitch) return;
  toggle.setAttribute("aria-pressed", String(pitch.pitched));
  toggle.dataset.state = pitch.pitched ? "on" : "off";
  toggle.textContent = pitch.pitched ? "Answers for me: on" : "Answers for me: off";
}

async function togglePitch() {
  const chatId = view.chatId;
  if (!chatId || !view.pitch) return;
  view.pitch = await ctx.api(`${base()}/chats/${encodeURIComponent(chatId)}/pitch`, {
    method: "PUT",
    body: { pitched: !view.pitch.pitched },
  });
  await loadChat(chatId);
}

function answers() {
  return [...$("messages").querySelectorAll(".msg.assistant[data-reply-to]")].filter(
    (message) => !message.classList.contains("streaming") && message.dataset.turnId,
  );
}

function showAnsweredFor() {
  if (!view.pitch) return;
  let missing = false;
  for (const message of answers()) {
    const pitch = view.pitch.answers[message.dataset.replyTo];
    const line = message.querySelector(".answered-for");
    if (pitch && !line) message.append(answeredFor(pitch));
    showSuggestions(message);
    if (!pitch && !view.seenAnswers.has(message.dataset.turnId)) {
      view.seenAnswers.add(message.dataset.turnId);
      missing = true;
      checkSuggestions(message.dataset.turnId);
    }
  }
  // An answer just written: who it was pitched at is recorded by now.
  if (missing && view.pitch.pitched) loadChat(view.chatId).catch(() => {});
}

function answeredFor(pitch) {
  const line = document.createElement("p");
  line.className = "answered-for small";
  line.dataset.testid = "answered-for";
  line.textContent = pitch.shown;
  if (pitch.next_step) {
    const next = document.createElement("span");
    next.className = "muted";
    next.textContent = ` · next step: ${pitch.next_step}`;
    line.append(next);
  }
  return line;
}

function checkSuggestions(answerId) {
  // Bounded: the listener that suggests steps runs after the answer, off the chat's path.
  for (const delay of SUGGESTION_CHECKS_MS) {
    setTimeout(() => {
      if (!suggestedFor(answerId).length) refreshProgress().catch(() => {});
    }, delay);
  }
}

function suggestedFor(answerId) {
  const found = [];
  for (const path of view.progress?.paths || []) {
    for (const stage of path.stages) {
      for (const step of stage.steps) {
        if (step.state === "suggested" && String(step.evidence?.answer_id) === String(answerId)) {
          found.push({ path, step });
        }
      }
    }
  }
  return found;
}

function showSuggestions(message) {
  const slot = message.querySelector(".onboarding-suggestions");
  const found = suggestedFor(message.dataset.turnId);
  if (!found.length) {
    slot?.remove();
    return;
  }
  const key = found.map(({ step }) => step.slug).join(" ");
  if (slot?.dataset.key === key) return;
  const box = document.createElement("div");
  box.className = "onboarding-suggestions";
  box.dataset.key = key;
  for (const { path, step } of found) box.append(suggestion(path, step, "chat"));
  if (slot) slot.replaceWith(box);
  else message.append(box);
}

function suggestion(path, step, where) {
  const box = document.createElement("div");
  box.className = "ob-suggestion";
  box.dataset.testid = where === "chat" ? "onboarding-suggestion" : "ob-suggestion";
  const text = document.createElement("p");
  text.className = "small";
  const cited = step.evidence?.cited?.length ? `, citing ${step.evidence.cited.join(", ")}` : "";
  text.textContent =
    step.evidence?.kind === "said_done"
      ? `You said you did “${step.title}”. Mark it done?`
      : `This answer covers “${step.title}”${cited}. Mark the step done?`;
  const confirm = button("Yes, it's done", "primary small", "step-confirm", () => setStep(path, step, true));
  const dismiss = button("Not yet", "ghost small", "step-dismiss", () => setStep(path, step, false));
  const actions = document.createElement("div");
  actions.className = "ob-actions";
  actions.append(confirm, dismiss);
  box.append(text, actions);
  return box;
}

// ---------------------------------------------------------------- progress

async function refreshProgress() {
  if (!user()) return;
  const progress = await ctx.api(base());
  // Polled while the panel is open: redraw only on a change, so focus and scroll stay put.
  const changed = JSON.stringify(progress) !== JSON.stringify(view.progress);
  view.progress = progress;
  showToggle();
  showWelcome();
  showBadge();
  for (const message of answers()) showSuggestions(message);
  if (changed && isPanelOpen()) renderPanel();
}

async function setStep(path, step, done) {
  await ctx.api(`${base()}/paths/${encodeURIComponent(path.path_id)}/steps/${encodeURIComponent(step.slug)}/done`, {
    method: done ? "POST" : "DELETE",
  });
  await refreshProgress();
}

function showBadge() {
  const badge = $("onboarding-badge");
  const path = view.progress?.paths.find((p) => p.next) || view.progress?.paths[0];
  badge.hidden = !path;
  if (path) badge.textContent = `${path.percent}%`;
}

// ---------------------------------------------------------------- the welcome card

function buildWelcome() {
  const card = element("div", "onboarding-welcome", "onboarding-welcome");
  card.id = "onboarding-welcome";
  card.hidden = true;
  card.append(
    element("p", "welcome-next", "onboarding-next"),
    element("p", "muted small", "onboarding-stage"),
    element("div", "starters", "onboarding-starters"),
  );
  return card;
}

function showWelcome() {
  const card = $("onboarding-welcome");
  const progress = view.progress?.paths.find((p) => p.next);
  const next = view.progress?.next;
  const generic = $("empty").querySelector('[data-testid="starters"]');
  card.hidden = !next || !progress;
  if (generic) generic.hidden = !card.hidden;
  if (card.hidden) return;
  const step = next.step;
  const line = card.querySelector('[data-testid="onboarding-next"]');
  const title = document.createElement("strong");
  title.textContent = step.title;
  line.replaceChildren(
    progress.done ? "Welcome back — next: " : "Welcome — your first step: ",
    title,
    step.owner ? ` (owner: ${step.owner})` : "",
  );
  card.querySelector('[data-testid="onboarding-stage"]').textContent =
    `Stage ${next.stage_number} of ${next.stage_count}: ${next.stage} · ${progress.title} · ${progress.done} of ${progress.total} steps done`;
  const starters = card.querySelector('[data-testid="onboarding-starters"]');
  starters.replaceChildren(
    ...step.prompts
      .slice(0, 3)
      .map((prompt) => button(prompt, "starter", "onboarding-starter", () => ctx.send(prompt))),
  );
}
