// The knowledge base in the browser: upload documents (with progress, then their ingestion's,
// followed live), list, re-index, cancel and delete them, and turn an answer's [n] markers into
// links that open the cited passage and its file.

import { codeLabel, isCodeCitation, openCodeView } from "/static/codeview.js";
import { ask } from "/static/dialogs.js";
import { renderMarkdown } from "/static/markdown.js";
import { freshness, offerRepositories, showSourceTrust, staleWarning } from "/static/trust.js";

const $ = (id) => document.getElementById(id);
const COLUMNS = ["Name", "Whose", "Status", "Chunks", "Size"];

let context = null; // {api, token: () => string}
let me = null; // who is looking: which documents they may change

export function setupDocuments(api, token) {
  context = { api, token };
  $("open-docs").addEventListener("click", openLibrary);
  $("docs-close").addEventListener("click", () => $("docs-dialog").close());
  $("passage-close").addEventListener("click", () => $("passage-dialog").close());
  $("upload-form").addEventListener("submit", (event) => {
    event.preventDefault();
    upload().catch((error) => showUploadNote(error.message, true));
  });
}

// ---------------------------------------------------------------- library

async function openLibrary() {
  $("docs-dialog").showModal();
  try {
    me = await context.api("/api/v1/auth/me");
    $("share-option").hidden = !me.is_admin;
    await Promise.all([refreshList(), offerRepositories(context.api, $("upload-describes"))]);
  } catch (error) {
    // Not "no documents": the list could not be loaded.
    $("docs-table").tBodies[0].replaceChildren();
    $("docs-empty").hidden = true;
    $("docs-error").hidden = false;
    $("docs-error").textContent =
      error instanceof TypeError
        ? "Couldn't load the documents: the server can't be reached. Close and reopen this to try again."
        : `Couldn't load the documents: ${error.message}`;
  }
}

// The API decides; this only hides what it would refuse (see `DocumentLibrary` in rag/library.py).
function canChange(doc) {
  return doc.owner_id === me?.user_id || (doc.shared && me?.is_admin);
}

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// How often the list (and an upload's note) looks again while an ingestion is queued or running.
const FOLLOW_EVERY_MS = 700;
const PENDING = new Set(["queued", "ingesting"]);
let relisting = null; // the timer that lists again while some document is being ingested

// A document's state as the list shows it: what is searchable, and how its latest ingestion goes
// (a new version queued, running or failed leaves the indexed one searchable).
function statusText(doc) {
  const latest = ingestText(doc.ingest_status, doc.progress, doc.error);
  if (doc.status === "ready" && !["indexed", "unchanged"].includes(doc.ingest_status)) {
    return `ready · new version ${latest}`;
  }
  return doc.status === "ready" ? "ready" : latest;
}

function ingestText(status, progress, error) {
  if (status === "ingesting" && progress?.phase === "embedding") {
    return `indexing ${Math.round((100 * progress.done) / Math.max(1, progress.total))}% (${progress.done}/${progress.total} chunks)`;
  }
  if (status === "ingesting") return "indexing (reading the file)";
  if (status === "queued") return error ? `queued (retrying: ${error})` : "queued";
  if (status === "failed") return `failed: ${error}`;
  return status;
}

async function refreshList() {
  clearTimeout(relisting);
  const { documents } = await context.api("/api/v1/documents");
  const rows = documents.map((doc) => {
    const row = document.createElement("tr");
    row.dataset.testid = "document-row";
    row.dataset.documentId = doc.id;
    row.dataset.ingestStatus = doc.ingest_status;
    const cells = [
      doc.name,
      doc.shared ? "team" : "mine",
      statusText(doc),
      String(doc.chunk_count),
      size(doc.size_bytes),
    ];
    cells.forEach((text, index) => {
      const cell = document.createElement("td");
      cell.textContent = text;
      cell.dataset.label = COLUMNS[index]; // the label of each field when rows are cards (phones)
      row.append(cell);
    });
    const actions = document.createElement("td");
    actions.className = "actions";
    actions.append(button("Open", () => openFile(doc)));
    if (canChange(doc)) {
      const pending = PENDING.has(doc.ingest_status);
      actions.append(
        pending ? button("Cancel", () => cancel(doc.id)) : button("Re-index", () => reindex(doc.id)),
        button("Delete", () => remove(doc), "danger"),
      );
    }
    row.append(actions);
    return row;
  });
  $("docs-table").tBodies[0].replaceChildren(...rows);
  $("docs-error").hidden = true;
  $("docs-empty").hidden = documents.length > 0;
  if (documents.some((doc) => PENDING.has(doc.ingest_status))) {
    relisting = setTimeout(() => {
      if ($("docs-dialog").open) refreshList().catch(() => {}); // the next look may do better
    }, FOLLOW_EVERY_MS);
  }
}

function button(label, action, extra = "") {
  const element = document.createElement("button");
  element.type = "button";
  element.className = `ghost small ${extra}`.trim();
  element.textContent = label;
  element.dataset.testid = `doc-${label.toLowerCase()}`;
  element.addEventListener("click", () => action().catch((error) => showUploadNote(error.message, true)));
  return element;
}

async function reindex(documentId) {
  const result = await context.api(`/api/v1/documents/${documentId}/reindex?wait=0`, { method: "POST" });
  showUploadNote(`${result.name}: ${result.status}`);
  await refreshList();
}

async function cancel(documentId) {
  const doc = await context.api(`/api/v1/documents/${documentId}/cancel`, { method: "POST" });
  showUploadNote(`${doc.name}: ${doc.ingest_status === "cancelled" ? "cancelled" : "stopping…"}`);
  await refreshList();
}

async function remove(doc) {
  const sure = await ask({
    title: `Delete “${doc.name}”?`,
    message: "Allin stops answering from it. This cannot be undone.",
    confirmLabel: "Delete",
    danger: true,
  });
  if (!sure) return;
  await context.api(`/api/v1/documents/${doc.id}`, { method: "DELETE" });
  await refreshList();
}

// Markdown documents are read in the app, rendered; other formats open as files in a new tab.
const MARKDOWN = /\.(md|markdown)$/i;

async function openFile(doc) {
  // A new tab cannot send our token, so ask for a short-lived signed link first. The tab is opened
  // before that request: after it, the browser would take it for an unasked-for pop-up.
  const inApp = MARKDOWN.test(doc.name);
  const tab = inApp ? null : window.open("", "_blank");
  const { url } = await context.api(`/api/v1/documents/${doc.id}/link`);
  if (inApp) await showDocument(doc.name, url);
  else if (tab) tab.location = url;
  else window.location.assign(url);
}

async function showDocument(name, url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Couldn't open ${name} (HTTP ${response.status}).`);
  $("passage-title").textContent = name;
  renderMarkdown($("passage-body"), await response.text());
  $("passage-open").hidden = true; // this is the document
  if (!$("passage-dialog").open) $("passage-dialog").showModal();
}

function showUploadNote(text, isError = false) {
  const note = $("upload-note");
  note.textContent = text;
  note.classList.toggle("error-text", isError);
}

async function upload() {
  const files = $("upload-files").files;
  if (!files.length) throw new Error("Choose one or more files first.");
  const progress = $("upload-progress");
  progress.hidden = false;
  progress.value = 0;
  showUploadNote("Uploading…");
  let results;
  try {
    results = await uploadFiles(files, {
      shared: $("upload-shared").checked,
      describes: $("upload-describes").value,
      token: context.token(),
      onProgress: (fraction) => {
        progress.value = fraction;
        if (fraction === 1) showUploadNote("Indexing…");
      },
      onIngest: (files) => {
        showUploadNote(files.map((file) => `${file.name}: ${resultText(file)}`).join("\n"));
        refreshList().catch(() => {});
      },
    });
  } finally {
    progress.hidden = true;
  }
  const lines = results.map((file) =>
    file.status === "failed" ? `✗ ${file.name}: ${file.detail}` : `✓ ${file.name}: ${file.status}`,
  );
  showUploadNote(
    lines.join("\n"),
    results.some((file) => file.status === "failed"),
  );
  $("upload-files").value = "";
  await refreshList();
}

// A file's result while its ingestion goes on, as a note shows it.
export function resultText(file) {
  return ingestText(file.status, file.document?.progress, file.detail);
}

// Uploads `files` to the knowledge base and follows their ingestion jobs (`onIngest` is told of
// each step); resolves with each file's final result ({name, status, detail, document}),
// rejects with the reason when the whole upload is refused or cannot be sent.
export async function uploadFiles(
  files,
  { shared = false, describes = "", token, onProgress = () => {}, onIngest = () => {} },
) {
  let results = await send(files, { shared, describes }, token, onProgress);
  while (results.some((file) => PENDING.has(file.status))) {
    onIngest(results);
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_EVERY_MS));
    results = await Promise.all(results.map((file) => follow(file, token)));
  }
  return results;
}

// A queued file's result, looked at again (the document says how its ingestion goes).
async function follow(file, token) {
  if (!PENDING.has(file.status)) return file;
  const response = await fetch(`/api/v1/documents/${file.document.id}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (response.status === 404) return { ...file, status: "failed", detail: "deleted while it was being indexed" };
  if (!response.ok) return file; // the next look may do better
  const doc = await response.json();
  return { name: file.name, status: doc.ingest_status, detail: doc.error, document: doc };
}

// XMLHttpRequest rather than fetch: only it reports upload progress. `wait=0`: the server answers
// as soon as the files are stored and queued, and the progress of their ingestion is followed.
function send(files, { shared, describes }, token, onProgress) {
  const form = new FormData();
  for (const file of files) form.append("files", file);
  form.append("shared", shared ? "true" : "false");
  if (describes) form.append("describes_repository", describes);
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", "/api/v1/documents?wait=0");
    request.setRequestHeader("Authorization", `Bearer ${token}`);
    request.responseType = "json";
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onerror = () => reject(new Error("The upload failed: check your connection."));
    request.onload = () => {
      const body = request.response || {};
      if (request.status >= 400) reject(new Error(body.detail || `Upload refused (HTTP ${request.status}).`));
      else resolve(body.files);
    };
    request.send(form);
  });
}

// ---------------------------------------------------------------- citations

// Replaces "[n]" in an answer with links to its citations, and lists the sources below it.
export function linkCitations(element, citations) {
  element.querySelector(".sources")?.remove();
  if (!citations?.length) return;
  const byNumber = new Map(citations.map((citation) => [citation.n, citation]));
  const bubble = element.querySelector(".bubble");
  const walker = document.createTreeWalker(bubble, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) =>
      node.parentElement.closest("pre, code, a") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
  });
  const texts = [];
  while (walker.nextNode()) texts.push(walker.currentNode);
  for (const node of texts) {
    const parts = node.textContent.split(/(\[\d+\])/);
    if (parts.length === 1) continue;
    const pieces = parts.map((part) => {
      const match = /^\[(\d+)\]$/.exec(part);
      const citation = match && byNumber.get(Number(match[1]));
      return citation ? citationLink(citation, part) : document.createTextNode(part);
    });
    node.replaceWith(...pieces);
  }
  const list = document.createElement("ol");
  list.className = "sources";
  list.dataset.testid = "sources";
  for (const citation of citations) {
    const item = document.createElement("li");
    item.value = citation.n;
    const where = [citation.document, citation.heading].filter(Boolean).join(" › ");
    const label = citation.page ? `${where} (page ${citation.page})` : where;
    item.append(citationLink(citation, isCodeCitation(citation) ? codeLabel(citation) : label));
    const fresh = freshness(citation);
    if (fresh) item.append(" · ", fresh);
    const stale = staleWarning(citation);
    if (stale) item.append(stale);
    list.append(item);
  }
  element.querySelector(".meta").before(list);
}

function citationLink(citation, label) {
  const link = document.createElement("a");
  link.href = "#";
  link.className = "cite";
  link.dataset.testid = "citation";
  link.title = citation.snippet;
  link.textContent = label;
  link.addEventListener("click", (event) => {
    event.preventDefault();
    if (isCodeCitation(citation)) return void openCodeView(citation);
    openPassage(citation).catch((error) => {
      $("passage-body").textContent = error.message;
    });
  });
  return link;
}

async function openPassage(citation) {
  $("passage-title").textContent = [citation.document, citation.heading].filter(Boolean).join(" › ");
  renderMarkdown($("passage-body"), citation.snippet);
  // What the answer was given, until the passage says how it stands now.
  showSourceTrust($("passage-trust"), citation);
  $("passage-open").hidden = false;
  $("passage-open").onclick = () =>
    openFile({ id: citation.document_id, name: citation.document }).catch((error) => {
      $("passage-body").textContent = error.message;
    });
  $("passage-dialog").showModal();
  const passage = await context.api(`/api/v1/passages/${citation.chunk_id}`);
  renderMarkdown($("passage-body"), passage.content);
  showSourceTrust($("passage-trust"), passage);
}
