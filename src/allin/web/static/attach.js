// Documents added from the conversation: the composer's attach button, or files dropped on the
// chat. They go to the user's own documents (the knowledge base every answer searches), and the
// composer is ready for a question about them.
import { resultText, uploadFiles } from "/static/documents.js";

export function setupAttach({ token, focusComposer }) {
  const input = document.getElementById("attach-files");
  const note = document.getElementById("attach-note");
  const chat = document.querySelector("main.chat");
  let uploading = false;

  document.getElementById("attach").addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    const files = [...input.files];
    input.value = ""; // choosing the same file again is a new upload
    attach(files);
  });

  // A drop anywhere on the chat, not only on the small composer.
  let depth = 0; // dragenter/dragleave fire for every child crossed
  chat.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth += 1;
    chat.classList.add("dropping");
  });
  chat.addEventListener("dragover", (event) => {
    if (carriesFiles(event)) event.preventDefault(); // allows the drop
  });
  chat.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) chat.classList.remove("dropping");
  });
  chat.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth = 0;
    chat.classList.remove("dropping");
    attach([...event.dataTransfer.files]);
  });

  async function attach(files) {
    if (!files.length) return;
    if (uploading) {
      show("Wait for the current upload to finish.", "error");
      return;
    }
    uploading = true;
    const names = files.map((file) => file.name).join(", ");
    show(`Adding ${names} to your documents…`, "busy");
    try {
      const results = await uploadFiles(files, {
        token: token(),
        onProgress: (fraction) => {
          const percent = Math.round(fraction * 100);
          show(fraction < 1 ? `Uploading ${names}… ${percent}%` : `Indexing ${names}…`, "busy");
        },
        onIngest: (files) => show(files.map((file) => `${file.name}: ${resultText(file)}`).join("\n"), "busy"),
      });
      const failed = results.filter((file) => file.status === "failed");
      const added = results.filter((file) => file.status !== "failed");
      const lines = failed.map((file) => `✗ ${file.name}: ${file.detail}`);
      if (added.length) {
        const list = added.map((file) => file.name).join(", ");
        lines.unshift(
          `✓ ${list} ${added.length > 1 ? "are" : "is"} in your documents: ask about ${added.length > 1 ? "them" : "it"}.`,
        );
        focusComposer();
      }
      show(lines.join("\n"), failed.length ? "error" : "done");
    } catch (error) {
      show(error.message, "error");
    } finally {
      uploading = false;
    }
  }

  function show(text, kind) {
    note.textContent = text;
    note.dataset.state = kind;
    note.hidden = false;
    note.classList.toggle("error-text", kind === "error");
  }
}

function carriesFiles(event) {
  return [...(event.dataTransfer?.types || [])].includes("Files");
}
