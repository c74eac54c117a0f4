// On a phone the chat list is a drawer over the chat: a tap outside it, or Esc, closes it.

const $ = (id) => document.getElementById(id);

export function openDrawer() {
  document.querySelector(".sidebar").classList.add("open");
  $("scrim").hidden = false;
  $("toggle-sidebar").setAttribute("aria-expanded", "true");
  $("new-chat").focus();
}

export function closeDrawer() {
  document.querySelector(".sidebar").classList.remove("open");
  $("scrim").hidden = true;
  $("toggle-sidebar").setAttribute("aria-expanded", "false");
}

export function setupDrawer() {
  $("toggle-sidebar").addEventListener("click", openDrawer);
  $("scrim").addEventListener("click", closeDrawer);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("scrim").hidden) closeDrawer();
  });
  // A panel opened from the drawer replaces it.
  for (const id of ["open-docs", "open-memories"]) $(id).addEventListener("click", closeDrawer);
}
