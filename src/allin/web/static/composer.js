// The message box's own state: text put back into it, the error shown above it, and the size
// limit checked before a message is sent (the server refuses longer ones; see /protocol).

const $ = (id) => document.getElementById(id);

export function setComposer(text) {
  const input = $("composer-input");
  input.value = text;
  input.style.height = "auto";
  input.style.height = `${input.scrollHeight}px`;
  input.focus();
}

export function showComposerError(message) {
  $("composer-error").textContent = message;
  $("composer-error").hidden = !message;
}

// Why `content` cannot be sent under the server's `limit` (UTF-8 bytes), or "" when it can.
export function tooLong(content, limit) {
  const size = new TextEncoder().encode(content).length;
  if (!limit || size <= limit) return "";
  return `Your message is too long to send: ${size.toLocaleString()} bytes, and the limit is ${limit.toLocaleString()} (about ${Math.floor(limit / 1000)}k characters of plain English). Shorten it, or upload it as a document.`;
}
