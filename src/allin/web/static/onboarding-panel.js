// The Onboarding panel: each path's stages and steps (tick, confirm a suggestion, open a linked
// file in the code view) and, for admins, the team overview. It polls while open.

import { openCodeView } from "/static/codeview.js";
import { closeDrawer } from "/static/drawer.js";
import { button, element } from "/static/onboarding-dom.js";

const $ = (id) => document.getElementById(id);
const PANEL_POLL_MS = 1500;

let deps = null; // {api, progress, refresh, setStep, suggestion} from onboarding.js
let pollTimer = null;
let admin = false;

export function setupPanel(dependencies) {
  deps = dependencies;
  document.body.append(buildDialog());
  $("open-onboarding").addEventListener("click", () => openPanel().catch((error) => panelError(error.message)));
}

export function isPanelOpen() {
  return $("onboarding-dialog").open;
}

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
  intro.textContent =
    "Your team's path for newcomers, from its repositories. Tick steps as you go; Allin suggests steps it saw you do.";
  const error = element("p", "error-text", "onboarding-error");
  error.setAttribute("role", "alert");
  const empty = element("p", "muted", "onboarding-empty");
  empty.textContent =
    "No onboarding path yet. A team adds one as ONBOARDING.md (or docs/onboarding/*.md) in a synced repository.";
  empty.hidden = true;
  dialog.append(
    header,
    intro,
    error,
    element("div", "ob-paths", "onboarding-paths"),
    empty,
    element("section", "ob-team", "ob-team"),
  );
  dialog.addEventListener("close", () => clearTimeout(pollTimer));
  return dialog;
}

async function openPanel() {
  panelError("");
  closeDrawer(); // on a phone the panel replaces the chat list
  $("onboarding-dialog").showModal();
  const me = await deps.api("/api/v1/auth/me");
  admin = Boolean(me.is_admin);
  if (!admin) {
    // A member never sees the team's progress (another session may have shown it here).
    $("ob-team").replaceChildren();
    delete $("ob-team").dataset.key;
  }
  await deps.refresh();
  renderPanel(); // drawn on opening, even when nothing changed since the last look
  await poll();
}

async function poll() {
  clearTimeout(pollTimer);
  if (!$("onboarding-dialog").open) return;
  if (admin) await renderTeam().catch((error) => panelError(error.message));
  pollTimer = setTimeout(() => {
    deps
      .refresh()
      .then(poll)
      .catch((error) => panelError(error.message));
  }, PANEL_POLL_MS);
}

export function panelError(message) {
  $("onboarding-error").textContent = message;
}

export function renderPanel() {
  const paths = deps.progress()?.paths || [];
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
  tick.addEventListener("change", () =>
    deps.setStep(path, step, tick.checked).catch((error) => panelError(error.message)),
  );
  const title = element("span", "ob-step-title", "ob-step-title");
  title.textContent = step.title;
  label.append(tick, title);
  item.append(label);
  const facts = element("div", "ob-facts small muted", "");
  if (step.owner) facts.append(`owner: ${step.owner}`);
  for (const link of step.links) facts.append(linkTo(path, link));
  if (facts.childNodes.length) item.append(facts);
  if (step.state === "suggested") item.append(deps.suggestion(path, step, "panel"));
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
  const lines = link.start_line
    ? `:L${link.start_line}${link.end_line && link.end_line !== link.start_line ? `–L${link.end_line}` : ""}`
    : "";
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
  const overview = await deps.api("/api/v1/onboarding/overview");
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
      table(
        "ob-members",
        ["Member", "Stage", "Done", "Next step"],
        path.members.map((m) => [
          m.email || m.user_id,
          m.stage ? `${m.stage_number} of ${m.stage_count}: ${m.stage}` : "finished",
          `${m.done}/${m.total}`,
          m.next_step || "—",
        ]),
      ),
      table(
        "ob-steps-stats",
        ["Step", "Done", "Waiting", "Stuck", "Median time"],
        path.steps.map((s) => [
          s.title,
          String(s.done),
          String(s.waiting),
          String(s.stuck),
          s.median_seconds === null ? "—" : duration(s.median_seconds),
        ]),
      ),
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
