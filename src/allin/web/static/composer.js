// The message box: Enter to send, the size limit checked before a message is sent (the server
// refuses longer ones; see /protocol), text put back into it, and the error shown above it.

const $ = (id) => document.getElementById(id);

export function setComposer(text) {
  const input = $("composer-input");
  input.value = text;
  fitToText(input);
  input.focus();
}

function fitToText(input) {
  input.style.height = "auto";
  input.style.height = `${input.scrollHeight}px`;
}

export function showComposerError(message) {
  $("composer-error").textContent = message;
  $("composer-error").hidden = !message;
}

// Why `content` cannot be sent under the server's `limit` (UTF-8 bytes), or "" when it can.
function tooLong(content, limit) {
  const size = new TextEncoder().encode(content).length;
  if (!limit || size <= limit) return "";
  return `Your message is too long to send: ${size.toLocaleString()} bytes, and the limit is ${limit.toLocaleString()} (about ${Math.floor(limit / 1000)}k characters of plain English). Shorten it, or upload it as a document.`;
}

// Enter sends (Shift+Enter is a new line), and the box grows with its text. `limit()` is the
// server's size limit; `send(content)` sends what passed it.
export function setupComposer({ limit, send }) {
  const input = $("composer-input");
  // The keyboard hint does not fit a phone's composer.
  if (matchMedia("(max-width: 760px)").matches) input.placeholder = "Message Allin…";
  const submit = () => {
    const content = input.value.trim();
    if (!content) return;
    const refusal = tooLong(content, limit());
    showComposerError(refusal);
    if (refusal) return;
    input.value = "";
    input.style.height = "";
    send(content);
  };
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  input.addEventListener("input", () => fitToText(input));
}
