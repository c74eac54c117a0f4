// In-app questions instead of the browser's prompt() and confirm(): they look like the app, work
// the same on phones, and cannot be switched off by "prevent this page from creating dialogs".

const $ = (id) => document.getElementById(id);

// Resolves to the text typed (when `value` is given, as the field's start), to true (a plain
// confirmation), or to null when cancelled (Cancel, Esc).
export function ask({ title, message = "", value = null, confirmLabel = "OK", danger = false, maxLength = 200 }) {
  const dialog = $("ask-dialog");
  const input = $("ask-input");
  const confirm = $("ask-confirm");
  $("ask-title").textContent = title;
  $("ask-message").textContent = message;
  $("ask-message").hidden = !message;
  input.hidden = value === null;
  input.maxLength = maxLength;
  input.value = value ?? "";
  confirm.textContent = confirmLabel;
  confirm.classList.toggle("destructive", danger);
  dialog.returnValue = "";
  dialog.showModal();
  if (value === null) confirm.focus();
  else input.select();
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        if (dialog.returnValue !== "confirm") resolve(null);
        else resolve(value === null ? true : input.value);
      },
      { once: true },
    );
  });
}
