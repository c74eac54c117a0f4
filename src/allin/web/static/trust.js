// What the trust layer adds to a citation: a warning when the cited documentation page names code
// that changed after the page was last edited ("may be out of date: src/flask/sessions.py changed
// in 14 commits since…"), with the newest of those commits.

import { ago } from "/static/time.js";

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
