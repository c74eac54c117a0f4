// The knowledge-gap report, for admins: the questions Allin could not answer and the answers
// people rated down, grouped by topic, each group with how often it came up, the nearest
// documents or files, and who is likely to own the answer.

import { ago } from "/static/time.js";

const $ = (id) => document.getElementById(id);
const REASONS = { unanswered: "not found", thumbs_down: "thumbs down" };

let context = null; // {api}

export function setupGaps(api) {
  context = { api };
  $("open-gaps").addEventListener("click", () => openReport());
  $("gaps-close").addEventListener("click", () => $("gaps-dialog").close());
  $("gaps-since").addEventListener("change", () => load());
}

// The report is shown to admins only (the server refuses it to anyone else).
export function showAdminTools(isAdmin) {
  $("open-gaps").hidden = !isAdmin;
  if (!isAdmin && $("gaps-dialog").open) $("gaps-dialog").close();
}

async function openReport() {
  document.querySelector(".sidebar")?.classList.remove("open"); // on a phone it covers the chat
  $("gaps-dialog").showModal();
  await load();
}

async function load() {
  const list = $("gaps-list");
  const status = $("gaps-status");
  list.replaceChildren();
  $("gaps-dialog").dataset.state = "loading";
  status.textContent = "Grouping the questions…";
  status.classList.remove("error-text");
  let report;
  try {
    report = await context.api(`/api/v1/gaps?since=${encodeURIComponent($("gaps-since").value)}`);
  } catch (error) {
    if (error.status === 401) return void $("gaps-dialog").close();
    status.textContent = error.message;
    status.classList.add("error-text");
    $("gaps-dialog").dataset.state = "failed";
    return;
  }
  status.textContent = report.groups.length
    ? `${report.questions} question${report.questions === 1 ? "" : "s"} in ${report.groups.length} topic${report.groups.length === 1 ? "" : "s"}, most asked first.`
    : "No unanswered questions or thumbs-down answers in this period.";
  list.append(...report.groups.map(renderGroup));
  $("gaps-dialog").dataset.state = "ready";
}

function renderGroup(group) {
  const item = document.createElement("li");
  item.className = "gap";
  item.dataset.testid = "gap-group";
  const title = document.createElement("h3");
  title.dataset.testid = "gap-topic";
  title.textContent = group.topic;
  const counts = document.createElement("p");
  counts.className = "muted small";
  counts.dataset.testid = "gap-counts";
  counts.textContent = [
    `asked ${group.asked}×`,
    group.unanswered ? `${group.unanswered} not found` : null,
    group.thumbs_down ? `${group.thumbs_down} thumbs down` : null,
    `last ${ago(group.last_at)}`,
  ]
    .filter(Boolean)
    .join(" · ");
  const questions = document.createElement("ul");
  questions.className = "gap-questions";
  for (const question of group.questions) {
    const line = document.createElement("li");
    line.dataset.testid = "gap-question";
    const badge = document.createElement("span");
    badge.className = `gap-reason ${question.reason}`;
    badge.textContent = REASONS[question.reason] || question.reason;
    const text = document.createElement("span");
    text.textContent = ` ${question.question}`;
    line.append(badge, text);
    if (question.comment) {
      const comment = document.createElement("q");
      comment.className = "muted";
      comment.textContent = question.comment;
      line.append(" — ", comment);
    }
    const who = document.createElement("span");
    who.className = "muted small";
    who.textContent = ` (${[question.asked_by, ago(question.at)].filter(Boolean).join(", ")})`;
    line.append(who);
    questions.append(line);
  }
  item.append(title, counts, questions);
  if (group.nearest.length)
    item.append(
      facts(
        "Nearest sources",
        group.nearest.map((s) => s.location),
        "gap-nearest",
      ),
    );
  const owners = group.suggested_owners.map((o) => `${o.name} — ${o.reasons.join("; ")}`);
  item.append(facts("Suggested owner", owners.length ? owners : ["nobody found"], "gap-owners"));
  return item;
}

function facts(label, values, testid) {
  const block = document.createElement("div");
  block.className = "gap-facts small";
  block.dataset.testid = testid;
  const name = document.createElement("span");
  name.className = "muted";
  name.textContent = `${label}: `;
  block.append(name, ...codeSpans(values.join(" · ")));
  return block;
}

// A reason names files as Markdown code (`src/app.py`), as answers show it: shown as code here
// too, not with its backticks.
function codeSpans(text) {
  return text.split("`").map((part, index) => {
    if (index % 2 === 0) return part;
    const code = document.createElement("code");
    code.textContent = part;
    return code;
  });
}
