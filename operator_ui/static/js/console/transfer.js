// The transfer dialog: to a colleague who is available (online, with their load) or to a team's
// queue, with a note. Colleagues who are away or offline are listed but cannot be picked: a transfer
// to them would land on nobody (the engine would put it back in the queue anyway).
import {fill, h} from "../dom.js";

const STATUS_WORDS = {online: "online", away: "away", offline: "offline"};

function operatorLabel(o) {
  const state = o.available ? STATUS_WORDS.online : `${STATUS_WORDS[o.status] || o.status}, not available`;
  return `${o.name} (${state}, ${o.open}/${o.capacity} open)`;
}

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
  const others = roster.operators.filter((o) => o.id !== me)
    .sort((a, b) => Number(b.available) - Number(a.available) || a.open / a.capacity - b.open / b.capacity);
  const people = others.map((o) => h("option", {value: `operator:${o.id}`, disabled: !o.available, text: operatorLabel(o)}));
  const teams = roster.teams.map((t) => {
    const online = roster.operators.filter((o) => o.team_id === t.id && o.available).length;
    return h("option", {value: `team:${t.id}`, text: `Team: ${t.name} (to its queue; ${online} online)`});
  });
  const options = [
    people.length ? h("optgroup", {label: "Colleagues"}, people) : null,
    teams.length ? h("optgroup", {label: "Team queues"}, teams) : null,
  ].filter(Boolean);
  const choosable = [...people, ...teams].filter((o) => !o.disabled);
  const select = h("select", {id: "transfer-to", required: true}, choosable.length ? options
    : h("option", {value: "", text: "Nobody available and no team queue"}));
  if (choosable.length) select.value = choosable[0].value;
  const note = h("textarea", {id: "transfer-note", rows: 3, placeholder: "What should they know? (an internal note)"});
  return new Promise((resolve) => {
    const form = h("form", {method: "dialog", class: "dialog-form"},
      h("h2", {id: "transfer-title", text: "Transfer conversation"}),
      h("label", {for: "transfer-to", text: "To"}), select,
      h("label", {for: "transfer-note", text: "Note for them"}), note,
      h("div", {class: "dialog-actions"},
        h("button", {type: "submit", value: "cancel", class: "secondary", text: "Cancel"}),
        h("button", {type: "submit", value: "ok", class: "primary", text: "Transfer", disabled: !choosable.length})));
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
