// Thumbs up or down on a finished answer, beside its Copy button. The pressed one is the user's
// rating (aria-pressed); pressing it again withdraws it. A thumbs down asks what was wrong or
// missing (optional, in the app's own dialog). Ratings are stored on the server with the turn and
// come back with the chat's history.
import { ask } from "/static/dialogs.js";

export const COMMENT_MAX_CHARS = 2000;

// Drawn, not emoji: a browser without an emoji font would show empty boxes. (Material Icons'
// thumb_up and thumb_down, Apache-2.0.)
const SVG = "http://www.w3.org/2000/svg";
const CHOICES = [
  {
    rating: "up",
    label: "Helpful",
    icon: "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z",
  },
  {
    rating: "down",
    label: "Not helpful",
    icon: "M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 4.57-.03.32c0 .41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 0v12h4V3h-4z",
  },
];

// Adds the buttons to an answer's element (once) and shows `feedback` ({rating, comment} or null)
// on them. `path(turnId)` is the REST path of the answer's feedback; `api` is app.js's fetcher.
export function showFeedback(element, feedback, { api, path }) {
  let group = element.querySelector(":scope > .feedback");
  if (!group) {
    group = document.createElement("span");
    group.className = "feedback";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Rate this answer");
    for (const choice of CHOICES) group.append(choiceButton(element, group, choice, { api, path }));
    const status = document.createElement("span");
    status.className = "feedback-status";
    status.dataset.testid = "feedback-status";
    status.setAttribute("role", "status");
    group.append(status);
    const copy = element.querySelector(":scope > .copy");
    if (copy) copy.after(group);
    else element.append(group);
  }
  setRating(group, feedback);
}

function choiceButton(element, group, { rating, label, icon }, { api, path }) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "ghost small feedback-choice";
  button.dataset.rating = rating;
  button.dataset.testid = `feedback-${rating}`;
  button.setAttribute("aria-label", label);
  button.title = label;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const shape = document.createElementNS(SVG, "path");
  shape.setAttribute("d", icon);
  svg.append(shape);
  button.append(svg);
  button.addEventListener("click", () => choose(element, group, rating, { api, path }));
  return button;
}

function setRating(group, feedback) {
  for (const button of group.querySelectorAll(".feedback-choice")) {
    button.setAttribute("aria-pressed", String(feedback?.rating === button.dataset.rating));
  }
  group.querySelector(".feedback-status").textContent = "";
}

async function choose(element, group, rating, { api, path }) {
  const turnId = element.dataset.turnId;
  if (!turnId) return;
  const url = path(turnId);
  if (group.querySelector(`[data-rating="${rating}"]`).getAttribute("aria-pressed") === "true") {
    // Pressing the chosen one again withdraws the rating.
    await save(group, () => api(url, { method: "DELETE" }), null);
    return;
  }
  const body = { rating };
  if (rating === "down") {
    const comment = await ask({
      title: "What was wrong or missing?",
      message: "Optional. It helps the team fill the gaps in what Allin knows.",
      value: "",
      confirmLabel: "Send",
      maxLength: COMMENT_MAX_CHARS,
    });
    if (comment === null) return; // cancelled: the rating stays as it was
    if (comment.trim()) body.comment = comment.trim();
  }
  await save(group, () => api(url, { method: "PUT", body }), body);
}

async function save(group, request, feedback) {
  const buttons = group.querySelectorAll(".feedback-choice");
  for (const button of buttons) button.disabled = true;
  try {
    await request();
    setRating(group, feedback);
    group.querySelector(".feedback-status").textContent = feedback ? "Thanks!" : "";
  } catch (error) {
    group.querySelector(".feedback-status").textContent = `Not saved: ${error.message}`;
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}
