// "What Allin remembers": the user's memories, to correct or forget one by one, or all at once.
import { ask } from "/static/dialogs.js";
import { smallButton } from "/static/messages.js";

const $ = (id) => document.getElementById(id);

// session() is the account's session.
export function setupMemories({ api, session }) {
  function path(memoryId = null) {
    const base = `/api/v1/memories/${session().userId}`;
    return memoryId ? `${base}/${memoryId}` : base;
  }

  async function refresh() {
    try {
      const { memories } = await api(path());
      $("memory-list").replaceChildren(...memories.map(item));
      $("memory-empty").hidden = memories.length > 0;
      $("forget-all").hidden = memories.length === 0;
    } catch (error) {
      $("memory-error").textContent = error.message;
    }
  }

  // Runs `request`, says why when it fails, and shows the list as it is now.
  async function change(request) {
    try {
      await request();
    } catch (error) {
      $("memory-error").textContent = error.message;
    }
    await refresh();
  }

  function item(memory) {
    const element = document.createElement("li");
    element.dataset.testid = "memory-item";
    element.dataset.memoryId = memory.id;
    const text = document.createElement("span");
    text.className = "memory-text";
    text.dataset.testid = "memory-text";
    text.textContent = memory.text;
    text.title = `Learned ${new Date(memory.created_at).toLocaleString()}`;
    const edit = smallButton("Edit", "memory-edit", () => startEditing(element, memory));
    const forget = smallButton("Forget", "memory-delete", () =>
      change(() => api(path(memory.id), { method: "DELETE" })),
    );
    forget.classList.add("danger");
    element.append(text, edit, forget);
    return element;
  }

  function startEditing(element, memory) {
    const input = document.createElement("input");
    input.value = memory.text;
    input.maxLength = 1000;
    input.dataset.testid = "memory-input";
    input.setAttribute("aria-label", "Memory");
    const save = async () => {
      const text = input.value.trim();
      if (!text) return;
      try {
        await api(path(memory.id), { method: "PATCH", body: { text } });
        await refresh();
      } catch (error) {
        $("memory-error").textContent = error.message;
      }
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") save();
      if (event.key === "Escape") {
        event.preventDefault(); // keep the dialog open; only the edit is cancelled
        element.replaceWith(item(memory));
      }
    });
    element.replaceChildren(
      input,
      smallButton("Save", "memory-save", save),
      smallButton("Cancel", "memory-cancel", () => element.replaceWith(item(memory))),
    );
    input.focus();
  }

  async function forgetAll() {
    const sure = await ask({
      title: "Forget everything?",
      message: "Allin forgets everything it remembers about you. This cannot be undone.",
      confirmLabel: "Forget everything",
      danger: true,
    });
    if (sure) await change(() => api(path(), { method: "DELETE" }));
  }

  async function open() {
    $("memory-error").textContent = "";
    $("memories").showModal();
    await refresh();
  }

  $("open-memories").addEventListener("click", open);
  $("close-memories").addEventListener("click", () => $("memories").close());
  $("forget-all").addEventListener("click", forgetAll);
  return { open };
}
