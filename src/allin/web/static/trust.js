// What the trust layer adds to a cited source (a citation, or the passage and code views behind
// it): how fresh it is ("updated 3 months ago by Ada") and a warning when the documentation page
// names code that changed after the page was last edited ("may be out of date:
// src/flask/sessions.py changed in 14 commits since…"), with the newest of those commits.

import { ago } from "/static/time.js";

// "updated 3 months ago by Ada": how old the cited source is and who last changed it, so a
// newcomer can tell a current answer from one resting on a stale page. `source` has
// `updated_at` and `updated_by`, as citations and passages do.
export function freshness(source, word = "updated") {
  if (!source.updated_at) return null;
  const span = document.createElement("span");
  span.className = "freshness muted small";
  span.dataset.testid = "freshness";
  const by = source.updated_by ? ` by ${source.updated_by}` : "";
  span.textContent = `${word} ${ago(source.updated_at)}${by}`;
  span.title = new Date(source.updated_at).toLocaleString();
  return span;
}

// The freshness line and the stale warning at the top of the passage or code view; the box is
// hidden when there is neither.
export function showSourceTrust(box, source) {
  const shown = [freshness(source, "Updated"), staleWarning(source)].filter(Boolean);
  box.replaceChildren(...shown);
  box.hidden = !shown.length;
}

export function staleWarning(citation) {
  const warnings = citation.stale;
  if (!Array.isArray(warnings) || !warnings.length) return null;
  const [first, ...others] = warnings;
  const note = document.createElement("div");
  note.className = "stale-warning";
  note.dataset.testid = "stale-warning";
  note.setAttribute("role", "note");
  const commits = `${first.commits_since} commit${first.commits_since === 1 ? "" : "s"}`;
  const code = document.createElement("code");
  code.textContent = first.code_path;
  const newest = document.createElement("span");
  newest.className = "stale-newest";
  newest.dataset.testid = "stale-newest";
  newest.textContent = `${first.newest_commit.slice(0, 7)} by ${first.newest_author}, ${ago(first.newest_committed_at)}`;
  newest.title = new Date(first.newest_committed_at).toLocaleString();
  note.append(
    "⚠ May be out of date: ",
    code,
    ` changed in ${commits} since this page was last edited (newest `,
    newest,
    ")",
  );
  if (others.length) {
    note.append(`; also ${others.map((w) => w.code_path).join(", ")}`);
  }
  note.title = warnings.map((w) => w.summary).join("\n");
  return note;
}

// The repositories an upload can say it describes (its citations then warn when code of that
// repository it names changes): the choice is offered only when there are some.
export async function offerRepositories(api, select) {
  let repositories;
  try {
    ({ repositories } = await api("/api/v1/repositories"));
  } catch {
    repositories = []; // uploading works without the choice
  }
  const chosen = select.value;
  const none = select.options[0];
  const choices = repositories.map((repository) => new Option(repository.name, repository.id));
  select.replaceChildren(none, ...choices);
  select.value = repositories.some((repository) => repository.id === chosen) ? chosen : "";
  select.closest("label").hidden = !repositories.length;
}
