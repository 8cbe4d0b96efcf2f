// The transfer dialog: to a colleague (with their status and load) or to a team, with a note.
import {fill, h} from "../dom.js";

export async function askTransfer(app) {
  const dialog = document.getElementById("transfer");
  let roster;
  try {
    roster = await app.api.get("/api/operators");
  } catch (failure) {
    app.announce(`Could not load colleagues: ${failure.message}`);
    return null;
  }
  const me = app.me.id;
  const options = [
    ...roster.operators.filter((o) => o.id !== me).map((o) => h("option", {value: `operator:${o.id}`,
      text: `${o.name} (${o.status}, ${o.open}/${o.capacity} open)`})),
    ...roster.teams.map((t) => h("option", {value: `team:${t.id}`, text: `Team: ${t.name} (back to its queue)`})),
  ];
  const select = h("select", {id: "transfer-to", required: true}, options.length ? options
    : h("option", {value: "", text: "Nobody else to transfer to"}));
  const note = h("textarea", {id: "transfer-note", rows: 3, placeholder: "What should they know? (an internal note)"});
  return new Promise((resolve) => {
    const form = h("form", {method: "dialog", class: "dialog-form"},
      h("h2", {id: "transfer-title", text: "Transfer conversation"}),
      h("label", {for: "transfer-to", text: "To"}), select,
      h("label", {for: "transfer-note", text: "Note for them"}), note,
      h("div", {class: "dialog-actions"},
        h("button", {type: "submit", value: "cancel", class: "secondary", text: "Cancel"}),
        h("button", {type: "submit", value: "ok", class: "primary", text: "Transfer", disabled: !options.length})));
    fill(dialog, form);
    dialog.addEventListener("close", () => {
      if (dialog.returnValue !== "ok" || !select.value) return resolve(null);
      const [kind, id] = select.value.split(":");
      const body = kind === "team" ? {team_id: Number(id)} : {operator_id: Number(id)};
      if (note.value.trim()) body.note = note.value.trim();
      resolve(body);
    }, {once: true});
    dialog.returnValue = "";
    dialog.showModal();
    select.focus();
  });
}
