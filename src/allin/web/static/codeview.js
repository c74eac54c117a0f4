// The code view behind a code citation: the cited file at the cited commit, with line numbers,
// syntax colouring (the vendored highlight.js) and the cited lines marked and scrolled to, under
// the citation's freshness and stale warning. A long code passage also names the lines of it
// nearest the question (`focus_start_line`): those are marked more strongly and scrolled to.

import { showSourceTrust } from "/static/trust.js";

const $ = (id) => document.getElementById(id);
// Colouring a very large file would hold the page up: past this, it is shown plain.
const MAX_HIGHLIGHT_CHARS = 400_000;

let context = null; // {api}
let opened = 0; // the latest request: an older, slower one must not replace what it shows

export function setupCodeView(api) {
  context = { api };
  $("code-close").addEventListener("click", () => $("code-dialog").close());
}

export function isCodeCitation(citation) {
  return Boolean(citation?.repository_id && citation.path);
}

// `location` is "repo › path:L10–L42 @ abc1234": the label a code citation is listed with.
export function codeLabel(citation) {
  return citation.location || `${citation.repository} › ${citation.path}`;
}

export async function openCodeView(citation) {
  const request = ++opened;
  const dialog = $("code-dialog");
  const start = Number(citation.start_line) || null;
  const end = Number(citation.end_line) || start;
  const focusStart = start ? Number(citation.focus_start_line) || null : null;
  const focusEnd = Number(citation.focus_end_line) || focusStart;
  showHeader(citation.repository, citation.path, citation.commit);
  const closest = focusStart ? `; closest to the question: ${lineRange(focusStart, focusEnd, "line")}` : "";
  $("code-lines").textContent = start ? lineRange(start, end) + closest : "";
  showSourceTrust($("code-trust"), citation);
  $("code-web").hidden = true;
  $("code-error").textContent = "";
  const view = $("code-view");
  view.replaceChildren();
  view.setAttribute("aria-busy", "true");
  view.dataset.state = "loading";
  if (!dialog.open) dialog.showModal();
  const query = new URLSearchParams({ path: citation.path });
  if (citation.commit) query.set("commit", citation.commit);
  let file;
  try {
    file = await context.api(`/api/v1/repositories/${encodeURIComponent(citation.repository_id)}/file?${query}`);
  } catch (error) {
    if (request !== opened) return;
    if (error.status === 401) {
      dialog.close(); // the session ended: the login form is behind this dialog
      return;
    }
    view.removeAttribute("aria-busy");
    view.dataset.state = "error";
    $("code-error").textContent =
      error.status === 404
        ? "This file is no longer in the index: the repository may have been removed or synced past it."
        : error.message;
    // The cited passage is still worth showing.
    const fallback = document.createElement("pre");
    fallback.className = "passage";
    fallback.textContent = citation.snippet || "";
    view.replaceChildren(fallback);
    return;
  }
  if (request !== opened) return;
  showHeader(file.repository, file.path, file.commit);
  if (file.web_url) {
    const link = $("code-web");
    link.href = start ? `${file.web_url}#L${start}-L${end}` : file.web_url;
    link.textContent = `View on ${hostName(file.web_url)}`;
    link.hidden = false;
  }
  renderFile(view, file, start, end, focusStart, focusEnd);
  view.removeAttribute("aria-busy");
  view.dataset.state = "ready";
  const first = view.querySelector(".code-line.focus") || view.querySelector(".code-line.hit");
  if (first) {
    // Centre the cited lines in the scrolling box (not the page).
    const top = first.offsetTop - view.clientHeight / 3;
    view.scrollTop = Math.max(0, top);
  }
}

function showHeader(repository, path, commit) {
  const sha = commit ? ` @ ${commit.slice(0, 7)}` : "";
  const title = $("code-title");
  title.textContent = `${repository || "repository"} › ${path}${sha}`;
  title.title = commit ? `${path} at commit ${commit}` : path;
}

function lineRange(start, end, word = "Line") {
  return end && end !== start ? `${word}s ${start}–${end}` : `${word} ${start}`;
}

function hostName(url) {
  const host = new URL(url).hostname;
  if (host === "github.com" || host.endsWith(".github.com")) return "GitHub";
  if (host.includes("gitlab")) return "GitLab";
  return host;
}

function languageOf(file) {
  const hljs = window.hljs;
  if (!hljs) return null;
  const names = [file.language, file.language === "tsx" ? "typescript" : null, file.path.split(".").pop()];
  for (const name of names) {
    if (name && hljs.getLanguage(name)) return name;
  }
  return null;
}

// The file as one element per line: colouring spans that cross a line end are closed and opened
// again, so that every line stands alone (and can be marked).
function renderFile(view, file, start, end, focusStart, focusEnd) {
  const text = file.content.replace(/\r\n?/g, "\n").replace(/\n$/, "");
  const language = text.length <= MAX_HIGHLIGHT_CHARS ? languageOf(file) : null;
  let lines;
  if (language) {
    const html = window.hljs.highlight(text, { language, ignoreIllegals: true }).value;
    lines = splitHighlighted(html);
  } else {
    lines = text.split("\n").map(escapeHtml);
  }
  const code = document.createElement("code");
  code.className = `code-lines hljs${language ? ` language-${language}` : ""}`;
  code.dataset.testid = "code-lines";
  const fragment = document.createDocumentFragment();
  lines.forEach((html, index) => {
    const number = index + 1;
    const line = document.createElement("span");
    line.className = "code-line";
    line.dataset.line = String(number);
    if (start && number >= start && number <= end) {
      line.classList.add("hit");
      line.dataset.testid = "code-hit";
      if (number === start) line.classList.add("hit-first");
      if (number === end) line.classList.add("hit-last");
      if (focusStart && number >= focusStart && number <= focusEnd) line.classList.add("focus");
    }
    // highlight.js escapes the file's text; its markup is spans with class names only.
    line.innerHTML = html || "\u200b";
    fragment.append(line);
  });
  code.append(fragment);
  const pre = document.createElement("pre");
  pre.className = "code-pre";
  pre.append(code);
  view.replaceChildren(pre);
}

function splitHighlighted(html) {
  const lines = [];
  const open = []; // the opening tags in force
  let current = "";
  for (const token of html.split(/(<span[^>]*>|<\/span>|\n)/)) {
    if (!token) continue;
    if (token === "\n") {
      lines.push(current + "</span>".repeat(open.length));
      current = open.join("");
    } else if (token.startsWith("<span")) {
      open.push(token);
      current += token;
    } else if (token === "</span>") {
      open.pop();
      current += token;
    } else {
      current += token;
    }
  }
  lines.push(current + "</span>".repeat(open.length));
  return lines;
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
