// The team's repositories in the browser: each one's sync state, a live progress bar while it
// syncs, what its last sync did; admins add, sync and remove repositories here.

import { ago } from "/static/time.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 1000;
const SETTLED = new Set(["ready", "failed"]);
const QUEUED_JOB = new Set(["todo", "doing"]);
const SKIP_REASONS = {
  too_large: "too large",
  unsupported: "unsupported",
  binary: "binary",
  generated: "generated",
  vendored: "vendored",
  minified: "minified",
  empty: "empty",
};

let context = null; // {api}
const panel = {
  admin: false,
  timer: null,
  cards: new Map(), // repository id -> its card element
};

export function setupRepositories(api) {
  context = { api };
  $("open-repos").addEventListener("click", () => openPanel().catch((error) => note(error.message, true)));
  $("repos-close").addEventListener("click", () => $("repos-dialog").close());
  // Closed by the button, Escape or a new session: stop asking the server.
  $("repos-dialog").addEventListener("close", stopPolling);
  $("repo-form").addEventListener("submit", (event) => {
    event.preventDefault();
    addRepository().catch((error) => note(error.message, true));
  });
}

async function openPanel() {
  note("");
  document.querySelector(".sidebar")?.classList.remove("open"); // on a phone it covers the chat
  $("repos-dialog").showModal();
  const me = await context.api("/api/v1/auth/me");
  panel.admin = Boolean(me.is_admin);
  $("repo-form").hidden = !panel.admin;
  $("repos-dialog").classList.toggle("admin", panel.admin);
  await refresh();
}

function stopPolling() {
  clearTimeout(panel.timer);
  panel.timer = null;
}

async function refresh() {
  stopPolling();
  if (!$("repos-dialog").open) return;
  let repositories;
  try {
    ({ repositories } = await context.api("/api/v1/repositories"));
  } catch (error) {
    if (error.status === 401) {
      $("repos-dialog").close(); // the session ended: the login form is behind this dialog
      return;
    }
    note(error.message, true);
    schedule();
    return;
  }
  if (!$("repos-dialog").open) return;
  render(repositories);
  if (repositories.some(isBusy)) schedule();
}

function schedule() {
  stopPolling();
  panel.timer = setTimeout(() => refresh(), POLL_MS);
}

// ---------------------------------------------------------------- cards

// A sync is under way, or queued: a repository stays "ready" (its index whole) until a worker
// takes its sync job.
function isBusy(repository) {
  return !SETTLED.has(repository.status) || QUEUED_JOB.has(repository.job_status);
}

// Cards are made once per repository and updated in place: a poll every second must not take a
// button away from under the pointer, or close a removal being confirmed.
function render(repositories) {
  const list = $("repo-list");
  const seen = new Set();
  const ordered = repositories.map((repository) => {
    seen.add(repository.id);
    let card = panel.cards.get(repository.id);
    if (!card) {
      card = makeCard(repository.id);
      panel.cards.set(repository.id, card);
    }
    updateCard(card, repository);
    return card;
  });
  for (const [id, card] of panel.cards) {
    if (!seen.has(id)) {
      card.remove();
      panel.cards.delete(id);
    }
  }
  ordered.forEach((card, index) => {
    if (list.children[index] !== card) list.insertBefore(card, list.children[index] || null);
  });
  $("repos-empty").hidden = repositories.length > 0;
}

function element(tag, className, testid) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (testid) made.dataset.testid = testid;
  return made;
}

function actionButton(label, testid, onClick, extra = "") {
  const made = element("button", `ghost small ${extra}`.trim(), testid);
  made.type = "button";
  made.textContent = label;
  made.addEventListener("click", () => {
    made.disabled = true;
    onClick()
      .catch((error) => note(error.message, true))
      .finally(() => (made.disabled = false));
  });
  return made;
}

function makeCard(id) {
  const card = element("li", "repo-card", "repo-card");
  card.dataset.repositoryId = id;

  const top = element("div", "repo-top");
  const name = element("strong", "repo-name", "repo-name");
  const status = element("span", "repo-status", "repo-status");
  top.append(name, status);

  const url = element("div", "repo-url muted small", "repo-url");
  const facts = element("dl", "repo-facts small");
  const fact = (label, testid) => {
    const wrapper = element("div", "repo-fact");
    const term = element("dt");
    term.textContent = label;
    const value = element("dd", "", testid);
    wrapper.append(term, value);
    facts.append(wrapper);
    return value;
  };
  const fields = {
    name,
    status,
    url,
    branch: fact("Branch", "repo-branch"),
    commit: fact("Commit", "repo-commit"),
    files: fact("Files", "repo-files"),
    chunks: fact("Chunks", "repo-chunks"),
    synced: fact("Synced", "repo-synced"),
  };

  const progressRow = element("div", "repo-progress", "repo-progress");
  const bar = element("progress");
  bar.max = 1;
  bar.setAttribute("aria-label", "Sync progress");
  const progressLabel = element("span", "small muted", "repo-progress-label");
  progressRow.append(bar, progressLabel);

  const report = element("p", "repo-report small", "repo-report");
  const error = element("p", "repo-error small", "repo-error");
  error.setAttribute("role", "alert");

  const actions = element("div", "repo-actions", "repo-actions");
  const sync = actionButton("Sync", "repo-sync", () => syncRepository(id));
  const cancel = actionButton("Cancel sync", "repo-cancel", () => cancelSync(id));
  const remove = actionButton("Remove", "repo-remove", async () => confirmRemoval(card, true), "danger");
  actions.append(sync, cancel, remove);

  const confirmBox = element("div", "repo-confirm", "repo-confirm");
  confirmBox.setAttribute("role", "group");
  const question = element("span", "small", "repo-confirm-text");
  const yes = actionButton("Remove", "repo-confirm-remove", () => removeRepository(id), "danger-solid");
  const no = actionButton("Keep", "repo-confirm-keep", async () => confirmRemoval(card, false));
  confirmBox.append(question, yes, no);
  confirmBox.hidden = true;

  card.append(top, url, facts, progressRow, report, error, actions, confirmBox);
  card.fields = {
    ...fields,
    progressRow,
    bar,
    progressLabel,
    report,
    error,
    actions,
    sync,
    cancel,
    remove,
    confirmBox,
    question,
  };
  return card;
}

function updateCard(card, repository) {
  const f = card.fields;
  const busy = isBusy(repository);
  card.dataset.status = repository.status;
  f.name.textContent = repository.name;
  f.status.textContent = repository.status;
  f.status.dataset.status = repository.status;
  f.url.textContent = repository.url;
  f.url.title = repository.url;
  f.branch.textContent = repository.branch;
  f.commit.textContent = repository.head_commit ? repository.head_commit.slice(0, 12) : "—";
  f.commit.title = repository.head_commit || "";
  f.files.textContent = String(repository.file_count);
  f.chunks.textContent = String(repository.chunk_count);
  f.synced.textContent = repository.synced_at ? ago(repository.synced_at) : "never";
  f.synced.title = repository.synced_at ? new Date(repository.synced_at).toLocaleString() : "";

  f.progressRow.hidden = !busy;
  if (busy) showProgress(f, repository);

  const summary = summarize(repository.report);
  f.report.textContent = summary.text;
  f.report.title = summary.examples;
  f.report.hidden = !summary.text;
  f.error.textContent = repository.status === "failed" && repository.error ? `Sync failed: ${repository.error}` : "";
  f.error.hidden = !f.error.textContent;

  f.actions.hidden = !panel.admin;
  f.sync.hidden = busy;
  f.cancel.hidden = !busy;
  f.question.textContent = `Remove “${repository.name}” and everything indexed from it?`;
  if (!panel.admin) f.confirmBox.hidden = true;
}

function showProgress(f, repository) {
  const progress = repository.progress;
  if (repository.status !== "syncing" || !progress || !progress.phase) {
    f.bar.removeAttribute("value"); // indeterminate
    f.progressLabel.textContent = repository.status === "syncing" ? "Starting…" : "Queued…";
    return;
  }
  const total = Number(progress.total) || 0;
  const done = Number(progress.done) || 0;
  // Nothing done yet (the first batch is being embedded): moving, rather than stuck at zero.
  if (total > 0 && done > 0) f.bar.value = Math.min(1, done / total);
  else f.bar.removeAttribute("value");
  const phase = progress.phase ? progress.phase[0].toUpperCase() + progress.phase.slice(1) : "Syncing";
  f.progressLabel.textContent = total > 1 ? `${phase} ${done} / ${total}` : `${phase}…`;
}

function confirmRemoval(card, asking) {
  card.fields.confirmBox.hidden = !asking;
  card.fields.actions.classList.toggle("asking", asking);
  if (asking) card.fields.confirmBox.querySelector("[data-testid=repo-confirm-keep]").focus();
}

// "incremental: 2 indexed, 1 moved, 0 removed · skipped: 3 unsupported · 1.2 s"
export function summarize(report) {
  if (!report?.mode) return { text: "", examples: "" };
  if (report.mode === "unchanged")
    return { text: `Last sync: unchanged (${report.reason || "already at the head"})`, examples: "" };
  const parts = [
    `${report.mode}: ${report.indexed ?? 0} indexed, ${report.moved ?? 0} moved, ${report.removed ?? 0} removed`,
  ];
  const skipped = Object.entries(report.skipped || {}).filter(([, count]) => count > 0);
  if (skipped.length) {
    parts.push(
      `skipped: ${skipped.map(([reason, count]) => `${count} ${SKIP_REASONS[reason] || reason.replaceAll("_", " ")}`).join(", ")}`,
    );
  }
  if (typeof report.seconds === "number") parts.push(`${report.seconds.toFixed(1)} s`);
  const examples = Object.entries(report.skipped_examples || {})
    .map(([reason, paths]) => `${SKIP_REASONS[reason] || reason}: ${paths.join(", ")}`)
    .join("\n");
  return { text: `Last sync — ${parts.join(" · ")}`, examples };
}

// ---------------------------------------------------------------- actions

async function addRepository() {
  const location = $("repo-location").value.trim();
  if (!location) {
    note("Enter the repository's location: an https:// URL or a path on the server.", true);
    $("repo-location").focus();
    return;
  }
  const body = { location };
  const name = $("repo-name").value.trim();
  const branch = $("repo-branch").value.trim();
  if (name) body.name = name;
  if (branch) body.branch = branch;
  const submit = $("repo-submit");
  submit.disabled = true;
  try {
    const { repository } = await context.api("/api/v1/repositories", { method: "POST", body });
    $("repo-form").reset();
    note(`Added ${repository.name}: its first sync is queued.`);
  } finally {
    submit.disabled = false;
  }
  await refresh();
}

async function syncRepository(id) {
  await context.api(`/api/v1/repositories/${id}/sync`, { method: "POST" });
  note("");
  await refresh();
}

async function cancelSync(id) {
  await context.api(`/api/v1/repositories/${id}/cancel`, { method: "POST" });
  await refresh();
}

async function removeRepository(id) {
  const card = panel.cards.get(id);
  await context.api(`/api/v1/repositories/${id}`, { method: "DELETE" });
  if (card) note(`Removed ${card.fields.name.textContent}.`);
  await refresh();
}

function note(text, isError = false) {
  const element = $("repo-note");
  element.textContent = text;
  element.classList.toggle("error-text", isError);
}
