// Small DOM helpers shared by the onboarding modules.

// `testid` doubles as the id of the panel's parts that are looked up by id.
const WITH_ID = new Set(["onboarding-error", "onboarding-empty", "onboarding-paths", "ob-team"]);

export function element(tag, className, testid) {
  const node = document.createElement(tag);
  if (WITH_ID.has(testid)) node.id = testid;
  if (className) node.className = className;
  if (testid) node.dataset.testid = testid;
  return node;
}

// A button whose action's failure is said in the panel's error line.
export function button(text, className, testid, onClick) {
  const node = element("button", className, testid);
  node.type = "button";
  node.textContent = text;
  node.addEventListener("click", () => {
    Promise.resolve(onClick()).catch((error) => {
      const line = document.getElementById("onboarding-error");
      if (line) line.textContent = error.message;
    });
  });
  return node;
}
