// Onboarding in the browser: the progress panel (stages, steps, ticks, suggestions to confirm,
// and the team overview for admins), the "Welcome back — next: …" card of a new chat with its
// starter prompts, the "Answered for: …" line under each answer, and the per-chat switch.
//
// The chat view belongs to app.js: this module follows it (the URL, the messages list) rather
// than being called from it, so app.js only hands over what it shares.

import { openCodeView } from "/static/codeview.js";
import { closeDrawer } from "/static/drawer.js";

const $ = (id) => document.getElementById(id);
const PANEL_POLL_MS = 1500;
// After an answer, a step it bears on is suggested in the background: look a few times.
const SUGGESTION_CHECKS_MS = [400, 1200, 3000, 6000];

let ctx = null; // {api, session, chatId, send}
const view = {
  chatId: null,
  progress: null, // GET /api/v1/onboarding/{user}
  pitch: null, // {pitched, answers} of the current chat
  pitchFetch: null,
  seenAnswers: new Set(), // answers whose "Answered for" line was looked up
  pollTimer: null,
  admin: false,
};

export function setupOnboarding(context) {
  ctx = context;
  document.body.append(buildDialog());
  $("empty").querySelector(".starters").before(buildWelcome());
  $("open-onboarding").addEventListener("click", () => openPanel().catch((error) => panelError(error.message)));
  $("pitch-toggle").addEventListener("click", () => togglePitch().catch(() => {}));
  const observer = new MutationObserver(() => follow());
  observer.observe($("app"), { attributes: true, attributeFilter: ["hidden"] });
  // app.js writes the chat's title whenever it opens a chat, after choosing it.
  observer.observe($("chat-title"), { childList: true, characterData: true, subtree: true });
  observer.observe($("messages"), { childList: true, subtree: true, attributes: true, attributeFilter: ["class", "data-turn-id"] });
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
    (element) => !element.classList.contains("streaming") && element.dataset.turnId,
  );
}

function showAnsweredFor() {
  if (!view.pitch) return;
  let missing = false;
  for (const element of answers()) {
    const pitch = view.pitch.answers[element.dataset.replyTo];
    const line = element.querySelector(".answered-for");
    if (pitch && !line) element.append(answeredFor(pitch));
    showSuggestions(element);
    if (!pitch && !view.seenAnswers.has(element.dataset.turnId)) {
      view.seenAnswers.add(element.dataset.turnId);
      missing = true;
      checkSuggestions(element.dataset.turnId);
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

function showSuggestions(element) {
  const slot = element.querySelector(".onboarding-suggestions");
  const found = suggestedFor(element.dataset.turnId);
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
  else element.append(box);
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
  for (const element of answers()) showSuggestions(element);
  if (changed && $("onboarding-dialog").open) renderPanel();
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
    ...step.prompts.slice(0, 3).map((prompt) => button(prompt, "starter", "onboarding-starter", () => ctx.send(prompt))),
  );
}

// ---------------------------------------------------------------- the panel

function buildDialog() {
  const dialog = document.createElement("dialog");
  dialog.id = "onboarding-dialog";
  dialog.className = "panel-dialog onboarding-dialog";
  dialog.dataset.testid = "onboarding-dialog";
  dialog.setAttribute("aria-labelledby", "onboarding-title");
  const header = document.createElement("header");
  const title = element("h2", "", "");
  title.id = "onboarding-title";
  title.textContent = "Onboarding";
  const close = button("✕", "ghost icon", "onboarding-close", () => dialog.close());
  close.setAttribute("aria-label", "Close");
  header.append(title, close);
  const intro = element("p", "muted small", "");
  intro.textContent = "Your team's path for newcomers, from its repositories. Tick steps as you go; Allin suggests steps it saw you do.";
  const error = element("p", "error-text", "onboarding-error");
  error.setAttribute("role", "alert");
  const empty = element("p", "muted", "onboarding-empty");
  empty.textContent = "No onboarding path yet. A team adds one as ONBOARDING.md (or docs/onboarding/*.md) in a synced repository.";
  empty.hidden = true;
  dialog.append(header, intro, error, element("div", "ob-paths", "onboarding-paths"), empty, element("section", "ob-team", "ob-team"));
  dialog.addEventListener("close", () => clearTimeout(view.pollTimer));
  return dialog;
}

async function openPanel() {
  panelError("");
  closeDrawer(); // on a phone the panel replaces the chat list
  $("onboarding-dialog").showModal();
  const me = await ctx.api("/api/v1/auth/me");
  view.admin = Boolean(me.is_admin);
  if (!view.admin) {
    // A member never sees the team's progress (another session may have shown it here).
    $("ob-team").replaceChildren();
    delete $("ob-team").dataset.key;
  }
  await refreshProgress();
  renderPanel(); // drawn on opening, even when nothing changed since the last look
  await poll();
}

async function poll() {
  clearTimeout(view.pollTimer);
  if (!$("onboarding-dialog").open) return;
  if (view.admin) await renderTeam().catch((error) => panelError(error.message));
  view.pollTimer = setTimeout(() => {
    refreshProgress()
      .then(poll)
      .catch((error) => panelError(error.message));
  }, PANEL_POLL_MS);
}

function panelError(message) {
  $("onboarding-error").textContent = message;
}

function renderPanel() {
  const paths = view.progress?.paths || [];
  $("onboarding-empty").hidden = paths.length > 0;
  $("onboarding-paths").replaceChildren(...paths.map(renderPath));
}

function renderPath(path) {
  const section = element("section", "ob-path", "ob-path");
  const title = element("h3", "", "ob-title");
  title.textContent = path.title;
  const summary = element("p", "muted small", "ob-summary");
  summary.textContent = `${path.repository} › ${path.file_path} · stage ${path.stage_number} of ${path.stage_count} · ${path.done} of ${path.total} steps`;
  const bar = document.createElement("div");
  bar.className = "ob-bar";
  const meter = document.createElement("progress");
  meter.max = path.total || 1;
  meter.value = path.done;
  meter.setAttribute("aria-label", "Steps done");
  const percent = element("span", "ob-percent", "ob-percent");
  percent.textContent = `${path.percent}%`;
  bar.append(meter, percent);
  section.append(title, summary, bar);
  if (path.problems.length) {
    const problems = element("p", "ob-problems small", "ob-problems");
    problems.textContent = `The path file was changed and has problems, so the last good version is shown: ${path.problems.join("; ")}`;
    section.append(problems);
  }
  const stages = element("ol", "ob-stages", "");
  for (const stage of path.stages) stages.append(renderStage(path, stage));
  section.append(stages);
  return section;
}

function renderStage(path, stage) {
  const item = element("li", "ob-stage", "ob-stage");
  item.dataset.current = String(stage.number === path.stage_number && Boolean(path.next));
  const heading = element("h4", "", "ob-stage-title");
  heading.textContent = `${stage.title} `;
  const count = element("span", "muted small", "");
  count.textContent = `${stage.done}/${stage.total}`;
  heading.append(count);
  const steps = element("ul", "ob-steps", "");
  for (const step of stage.steps) steps.append(renderStep(path, step));
  item.append(heading, steps);
  return item;
}

function renderStep(path, step) {
  const item = element("li", "ob-step", "ob-step");
  item.dataset.slug = step.slug;
  item.dataset.state = step.state;
  if (path.next?.step.slug === step.slug) item.dataset.next = "true";
  const label = document.createElement("label");
  const tick = document.createElement("input");
  tick.type = "checkbox";
  tick.checked = step.state === "done";
  tick.dataset.testid = "ob-tick";
  tick.addEventListener("change", () => setStep(path, step, tick.checked).catch((error) => panelError(error.message)));
  const title = element("span", "ob-step-title", "ob-step-title");
  title.textContent = step.title;
  label.append(tick, title);
  item.append(label);
  const facts = element("div", "ob-facts small muted", "");
  if (step.owner) facts.append(`owner: ${step.owner}`);
  for (const link of step.links) facts.append(linkTo(path, link));
  if (facts.childNodes.length) item.append(facts);
  if (step.state === "suggested") item.append(suggestion(path, step, "panel"));
  return item;
}

function linkTo(path, link) {
  if (link.kind === "url") {
    const anchor = document.createElement("a");
    anchor.href = link.target;
    anchor.target = "_blank";
    anchor.rel = "noopener";
    anchor.textContent = link.text;
    return anchor;
  }
  const lines = link.start_line ? `:L${link.start_line}${link.end_line && link.end_line !== link.start_line ? `–L${link.end_line}` : ""}` : "";
  const open = button(link.text, "linkish", "ob-link", () =>
    openCodeView({
      repository_id: path.repository_id,
      repository: path.repository,
      path: link.target,
      commit: path.commit_sha,
      start_line: link.start_line,
      end_line: link.end_line,
    }),
  );
  open.title = `${link.target}${lines}`;
  return open;
}

async function renderTeam() {
  const team = $("ob-team");
  const overview = await ctx.api("/api/v1/onboarding/overview");
  const key = JSON.stringify(overview);
  if (team.dataset.key === key) return;
  team.dataset.key = key;
  const heading = element("h3", "", "");
  heading.textContent = "Team overview";
  const parts = [heading];
  for (const path of overview.paths) {
    const title = element("h4", "", "");
    title.textContent = `${path.title || path.file_path} (${path.repository})`;
    parts.push(title);
    if (path.problems.length) {
      const problems = element("p", "ob-problems small", "ob-team-problems");
      problems.textContent = `${path.file_path}: ${path.problems.join("; ")}`;
      parts.push(problems);
    }
    parts.push(
      table("ob-members", ["Member", "Stage", "Done", "Next step"], path.members.map((m) => [
        m.email || m.user_id,
        m.stage ? `${m.stage_number} of ${m.stage_count}: ${m.stage}` : "finished",
        `${m.done}/${m.total}`,
        m.next_step || "—",
      ])),
      table("ob-steps-stats", ["Step", "Done", "Waiting", "Stuck", "Median time"], path.steps.map((s) => [
        s.title,
        String(s.done),
        String(s.waiting),
        String(s.stuck),
        s.median_seconds === null ? "—" : duration(s.median_seconds),
      ])),
    );
  }
  team.replaceChildren(...parts);
}

function table(testid, headings, rows) {
  const wrap = element("div", "ob-table-wrap", "");
  const grid = element("table", "docs-table ob-table", testid);
  const head = grid.createTHead().insertRow();
  for (const text of headings) head.append(Object.assign(document.createElement("th"), { textContent: text }));
  const body = grid.createTBody();
  for (const cells of rows) {
    const row = body.insertRow();
    row.dataset.testid = `${testid}-row`;
    cells.forEach((text, n) => {
      const cell = row.insertCell();
      cell.textContent = text;
      if (n) cell.dataset.label = headings[n]; // the label of a phone's card (app.css)
    });
  }
  wrap.append(grid);
  return wrap;
}

function duration(seconds) {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 129600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

// ---------------------------------------------------------------- helpers

// `testid` doubles as the id of the panel's parts this module looks up (`$`).
const WITH_ID = new Set(["onboarding-error", "onboarding-empty", "onboarding-paths", "ob-team"]);

function element(tag, className, testid) {
  const node = document.createElement(tag);
  if (WITH_ID.has(testid)) node.id = testid;
  if (className) node.className = className;
  if (testid) node.dataset.testid = testid;
  return node;
}

function button(text, className, testid, onClick) {
  const node = element("button", className, testid);
  node.type = "button";
  node.textContent = text;
  node.addEventListener("click", () => {
    Promise.resolve(onClick()).catch((error) => panelError(error.message));
  });
  return node;
}
