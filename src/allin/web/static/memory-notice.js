// "Memory updated · View" under an answer whose turn taught Allin something about the user: from
// the `memory_updated` frame as it comes, or from the answer's stored metadata when the chat is
// loaded again. View opens the memory panel.

export function showMemoryNotice(answer, memories, openMemories, { announce = false } = {}) {
  if (!answer || !memories?.length || answer.querySelector(".memory-notice")) return;
  const notice = document.createElement("p");
  notice.className = "memory-notice";
  notice.dataset.testid = "memory-notice";
  notice.title = memories.join("\n");
  const view = document.createElement("button");
  view.type = "button";
  view.className = "ghost small";
  view.textContent = "View";
  view.setAttribute("aria-label", "View what Allin remembers");
  view.dataset.testid = "memory-notice-view";
  view.addEventListener("click", openMemories);
  notice.append("Memory updated · ", view);
  // Above the actions on the last exchange, which are put back at the end whenever they change.
  answer.insertBefore(notice, answer.querySelector(".turn-actions"));
  if (announce) document.getElementById("announcer").textContent = `Memory updated: ${memories.join("; ")}`;
}
