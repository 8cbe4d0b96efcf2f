// Keyboard shortcuts for the common actions, and the "?" overlay that lists them. Single keys act
// only when focus is not in a text field, so typing a reply never triggers one.
import {h} from "../dom.js";

export const SHORTCUTS = [
  ["?", "Show this list", (app) => app.showHelp()],
  ["j", "Next conversation in the list", (app) => app.step(1)],
  ["k", "Previous conversation in the list", (app) => app.step(-1)],
  ["r", "Write a reply", (app) => app.compose("reply")],
  ["n", "Write an internal note", (app) => app.compose("note")],
  ["1", "Insert the first AI draft (2, 3 for the others)", (app) => app.insertDraft(1)],
  ["2", null, (app) => app.insertDraft(2)],
  ["3", null, (app) => app.insertDraft(3)],
  ["c", "Assign the conversation to me", (app) => app.act("claim")],
  ["t", "Transfer", (app) => app.act("transfer")],
  ["b", "Hand back to the bot", (app) => app.act("handback")],
  ["e", "Resolve", (app) => app.act("resolve")],
  ["o", "Reopen a resolved conversation", (app) => app.act("reopen")],
  ["q", "Show the queue", (app) => app.inbox.select("queued")],
  ["m", "Show my conversations", (app) => app.inbox.select("mine")],
  ["a", "Show all conversations", (app) => app.inbox.select("all")],
];

function typingInField(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

export function bindShortcuts(app) {
  const keys = new Map(SHORTCUTS.map(([key, , run]) => [key, run]));
  document.getElementById("help-keys").replaceChildren(...SHORTCUTS.filter(([, text]) => text).map(([key, text]) =>
    h("tr", {}, h("th", {scope: "row"}, h("kbd", {text: key})), h("td", {text}))));
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typingInField(event.target)) return;
    if (document.querySelector("dialog[open]")) return;
    const run = keys.get(event.key);
    if (!run) return;
    event.preventDefault();
    run(app);
  });
}
