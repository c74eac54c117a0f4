// Markdown from answers and documents as safe HTML: parsed by marked, sanitized by DOMPurify,
// code highlighted by highlight.js, links that leave the app opened in a new tab.
import { marked } from "/static/vendor/marked.esm.js";
import DOMPurify from "/static/vendor/purify.es.mjs";

marked.setOptions({ gfm: true, breaks: false });

// A link in an answer must not take the user out of the app (and its chat) in the same tab.
DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName !== "A" || !node.hasAttribute("href")) return;
  let url;
  try {
    url = new URL(node.getAttribute("href"), location.href);
  } catch {
    return; // not a URL a browser could follow
  }
  if (url.origin === location.origin) return;
  node.setAttribute("target", "_blank");
  node.setAttribute("rel", "noopener noreferrer");
});

// Fills `element` with `text` rendered; each code block gets its language label and a Copy button.
export function renderMarkdown(element, text) {
  element.innerHTML = DOMPurify.sanitize(marked.parse(text), { ADD_ATTR: ["target"] });
  for (const code of element.querySelectorAll("pre code")) {
    window.hljs?.highlightElement(code);
    const language = /language-([\w+#-]+)/.exec(code.className)?.[1];
    const bar = document.createElement("div");
    bar.className = "code-bar";
    if (language) {
      const label = document.createElement("span");
      label.className = "code-language";
      label.dataset.testid = "code-language";
      label.textContent = language;
      bar.append(label);
    }
    bar.append(copyButton(() => code.textContent, "Copy"));
    code.parentElement.prepend(bar);
  }
}

// A button that copies what `text()` returns, and says so for a moment.
export function copyButton(text, label) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "copy ghost small";
  button.textContent = label;
  button.addEventListener("click", async () => {
    await navigator.clipboard?.writeText(text());
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = label), 1500);
  });
  return button;
}
