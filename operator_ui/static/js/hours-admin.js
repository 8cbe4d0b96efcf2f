// The admin page's business hours: per team, a time zone, the opening and closing time of each
// weekday (one interval a day here; the API takes several), and the public-holiday calendar
// (country and subdivision of the `holidays` package). Saved with PUT /api/admin/teams/{id}/hours,
// which refuses an unknown zone, a bad time or calendar with a message naming it; audited. A time
// input cannot hold 24:00 (open until midnight): 23:59 stands for it, both ways.
import {fill, h} from "./dom.js";

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

export async function renderHours(api, teams, onSaved) {
  const container = document.getElementById("hours-teams");
  if (!teams.length) {
    fill(container, h("p", {class: "muted", text: "Add a team first: hours belong to a team."}));
    return;
  }
  const views = await Promise.all(teams.map((t) => api.get(`/api/admin/teams/${t.id}/hours`)));
  fill(container, views.map(({team, now, holidays}) => {
    const byDay = new Map(team.hours.map((o) => [o.day, o]));
    const zone = h("input", {name: "timezone", value: team.timezone || "", placeholder: "Europe/Berlin",
      "aria-label": `Time zone of ${team.name}`});
    const days = DAYS.map(([day, label]) => {
      const o = byDay.get(day);
      return {day, opens: h("input", {type: "time", value: o?.opens || "", "aria-label": `${team.name} opens on ${label}`}),
        closes: h("input", {type: "time", value: o?.closes === "24:00" ? "23:59" : (o?.closes || ""),
          "aria-label": `${team.name} closes on ${label}`}), label};
    });
    const country = h("input", {name: "country", value: team.holiday_country || "", maxlength: 8, placeholder: "DE",
      "aria-label": `Holiday country of ${team.name}`});
    const subdivision = h("input", {name: "subdivision", value: team.holiday_subdivision || "", maxlength: 16,
      placeholder: "BE", "aria-label": `Holiday subdivision of ${team.name}`});
    const error = h("p", {class: "error", role: "alert"});
    const form = h("form", {class: "hours-form", dataset: {teamId: String(team.id)}},
      h("h3", {text: team.name}), h("p", {class: "hours-now", role: "status", text: describe(now)}),
      h("label", {}, "Time zone ", zone),
      h("div", {class: "hours-week"}, days.map((d) => h("fieldset", {}, h("legend", {text: d.label}), d.opens, d.closes))),
      h("label", {}, "Holidays of (country) ", country), h("label", {}, "subdivision ", subdivision),
      h("button", {type: "submit", text: "Save hours"}), error,
      holidays.length ? h("p", {class: "muted", text: `Closed on: ${holidays.map(([day, name]) => `${day} ${name}`).join(", ")}`}) : null);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      const weekly = days.filter((d) => d.opens.value || d.closes.value).map((d) => ({day: d.day,
        opens: d.opens.value, closes: d.closes.value === "23:59" ? "24:00" : d.closes.value}));
      try {
        await api.request("PUT", `/api/admin/teams/${team.id}/hours`, {timezone: zone.value.trim() || null, weekly,
          holiday_country: country.value.trim() || null, holiday_subdivision: subdivision.value.trim() || null,
          reason: "admin page"});
      } catch (failure) {
        error.textContent = failure.message;
        return;
      }
      await onSaved();
    });
    return form;
  }));
}
