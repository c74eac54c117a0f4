// What a user can do with the latest exchange of a chat — edit their last message and send it
// again, or have the last answer written again — and long messages folded behind "Show more".

// A user message taller than this many pixels is folded (about a dozen lines).
const FOLD_PX = 280;

// The actions sit on the chat's last question and last answer only: earlier turns are history,
// and asking again there would put the new answer out of order. Called whenever the messages
// change; `busy()` says an answer is still being written (nothing to redo yet).
export function showLastActions(messages, { busy, edit, regenerate }) {
  for (const old of messages.querySelectorAll(".turn-actions")) old.remove();
  if (busy()) return;
  const lastUser = [...messages.querySelectorAll(".msg.user:not(.pending)")].at(-1);
  const lastAnswer = [...messages.querySelectorAll(".msg.assistant[data-reply-to]")].at(-1);
  if (lastUser?.dataset.content) {
    const content = lastUser.dataset.content;
    lastUser.append(actionBar("Edit", "edit-message", "Edit this message and send it again", () => edit(content)));
  }
  if (lastAnswer && lastUser && lastAnswer.dataset.replyTo === lastUser.dataset.turnId) {
    const content = lastUser.dataset.content;
    lastAnswer.append(
      actionBar("Regenerate", "regenerate", "Ask the same question again for a new answer", () => regenerate(content)),
    );
  }
}

function actionBar(label, testid, description, onClick) {
  const bar = document.createElement("div");
  bar.className = "turn-actions";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "ghost small";
  button.textContent = label;
  button.title = description;
  button.dataset.testid = testid;
  button.addEventListener("click", onClick);
  bar.append(button);
  return bar;
}

// Folds a long user message behind "Show more" (and back); short ones are left alone. Measured
// once the message is in the page, since only then does it have a height.
export function foldIfLong(element) {
  const bubble = element.querySelector(".bubble");
  if (!bubble || element.querySelector(".fold-toggle") || bubble.scrollHeight <= FOLD_PX) return;
  bubble.classList.add("folded");
  const toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "ghost small fold-toggle";
  toggle.dataset.testid = "show-more";
  toggle.setAttribute("aria-expanded", "false");
  toggle.textContent = "Show more";
  toggle.addEventListener("click", () => {
    const folded = bubble.classList.toggle("folded");
    toggle.setAttribute("aria-expanded", String(!folded));
    toggle.textContent = folded ? "Show more" : "Show less";
  });
  bubble.after(toggle);
}
