// The admin page's business hours: per team, a time zone, the opening and closing times of each
// weekday (as many intervals a day as the desk works: 9:00-12:00 and 13:00-17:00 for a lunch
// break; a day with none is closed), and the public-holiday calendar
// (country and subdivision of the `holidays` package). Saved with PUT /api/admin/teams/{id}/hours,
// which refuses an unknown zone, a bad time or calendar with a message naming it; audited. A time
// input cannot hold 24:00 (open until midnight): 23:59 stands for it, both ways. Each team's form is
// redrawn when anything changes; a day, zone or calendar being edited and not saved stays as it is
// (unsaved.js), and saving reads the form as it stands.
import {fill, h} from "./dom.js";
import {field, pending, redraw, settle} from "./unsaved.js";

const DAYS = [["mon", "Mon"], ["tue", "Tue"], ["wed", "Wed"], ["thu", "Thu"], ["fri", "Fri"], ["sat", "Sat"],
  ["sun", "Sun"]];

/** "Open until 17:00" / "Closed for Christmas Day: opens Monday 9:00" in the team's own zone. */
function describe(now) {
  const at = (iso) => new Intl.DateTimeFormat(undefined, {weekday: "long", hour: "numeric", minute: "2-digit",
    timeZone: now.timezone || undefined}).format(new Date(iso));
  if (now.open) return now.timezone ? `Open now, until ${at(now.closes_at)}` : "Always open (no hours set)";
  const why = now.holiday ? `Closed for ${now.holiday}` : "Closed now";
  return now.opens_at ? `${why}: opens ${at(now.opens_at)}` : `${why}: no opening scheduled`;
}

/** One weekday's intervals, a field named for the day: a row of opening and closing time per
 * interval, "Add hours" for another (the first row's labels are "Berlin opens on Mon", the next
 * "Berlin opens on Mon (2)"), "Remove" on each. */
function weekday(team, label, day, saved) {
  const rows = h("div", {class: "hours-rows"});
  const fieldset = h("fieldset", {name: day}, h("legend", {text: label}), rows);
  const relabel = () => [...rows.children].forEach((row, i) => {
    const n = i ? ` (${i + 1})` : "";
    row.querySelector(".opens").setAttribute("aria-label", `${team} opens on ${label}${n}`);
    row.querySelector(".closes").setAttribute("aria-label", `${team} closes on ${label}${n}`);
    row.querySelector("button").setAttribute("aria-label", `Remove ${team}'s hours on ${label}${n}`);
  });
  const add = (interval) => {
    const row = h("div", {class: "hours-interval"},
      h("input", {type: "time", class: "opens", value: interval?.opens || ""}),
      h("input", {type: "time", class: "closes", value: interval?.closes === "24:00" ? "23:59" : (interval?.closes || "")}),
      h("button", {type: "button", class: "quiet", text: "Remove", onclick: () => {
        row.remove();
        if (!rows.children.length) add();  // an empty row: the day is closed
        relabel();
      }}));
    rows.append(row);
    relabel();
    return row;
  };
  (saved.length ? saved : [undefined]).forEach(add);
  fieldset.append(h("button", {type: "button", class: "quiet", text: "Add hours",
    "aria-label": `Add hours to ${team} on ${label}`, onclick: () => add().querySelector(".opens").focus()}));
  return fieldset;
}

/** What a day's field has filled in, as the API takes it. */
const intervals = (fieldset) => [...fieldset.querySelectorAll(".hours-interval")].map((row) =>
  [row.querySelector(".opens").value, row.querySelector(".closes").value]).filter(([opens, closes]) => opens || closes)
  .map(([opens, closes]) => ({day: fieldset.name, opens, closes: closes === "23:59" ? "24:00" : closes}));

export async function renderHours(api, teams, onSaved) {
  const container = document.getElementById("hours-teams");
  if (!teams.length) {
    fill(container, h("p", {class: "muted", text: "Add a team first: hours belong to a team."}));
    return;
  }
  const views = await Promise.all(teams.map((t) => api.get(`/api/admin/teams/${t.id}/hours`)));
  redraw(container, views.map(({team, now, holidays}) => {
    const zone = h("input", {name: "timezone", value: team.timezone || "", placeholder: "Europe/Berlin",
      "aria-label": `Time zone of ${team.name}`});
    const days = DAYS.map(([day, label]) => weekday(team.name, label, day, team.hours.filter((o) => o.day === day)));
    const country = h("input", {name: "country", value: team.holiday_country || "", maxlength: 8, placeholder: "DE",
      "aria-label": `Holiday country of ${team.name}`});
    const subdivision = h("input", {name: "subdivision", value: team.holiday_subdivision || "", maxlength: 16,
      placeholder: "BE", "aria-label": `Holiday subdivision of ${team.name}`});
    const error = h("p", {class: "error", role: "alert"});
    const form = h("form", {class: "hours-form", dataset: {teamId: String(team.id)}},
      h("h3", {text: team.name}), h("p", {class: "hours-now", role: "status", text: describe(now)}),
      h("label", {}, "Time zone ", zone),
      h("div", {class: "hours-week"}, days),
      h("label", {}, "Holidays of (country) ", country), h("label", {}, "subdivision ", subdivision),
      h("button", {type: "submit", text: "Save hours"}), error,
      holidays.length ? h("p", {class: "muted", text: `Closed on: ${holidays.map(([day, name]) => `${day} ${name}`).join(", ")}`}) : null);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      const text = (name) => field(form, name).value.trim() || null;
      const sent = pending(form);
      try {
        await api.request("PUT", `/api/admin/teams/${team.id}/hours`, {timezone: text("timezone"),
          weekly: DAYS.flatMap(([day]) => intervals(field(form, day))), holiday_country: text("country"),
          holiday_subdivision: text("subdivision"), reason: "admin page"});
      } catch (failure) {
        error.textContent = failure.message;
        return;
      }
      settle(sent);
      await onSaved();
    });
    return form;
  }), (form) => form.dataset.teamId);
}
