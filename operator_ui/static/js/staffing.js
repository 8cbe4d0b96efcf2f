// The staffing forecast on the supervisor view: operators needed per hour of the week for a service
// level (from GET /api/staffing, Erlang C over concurrent chats), as a heat map and as a table.
import {heatmap} from "./charts.js";
import {duration, fill, h} from "./dom.js";

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const HOURS = Array.from({length: 24}, (_, i) => String(i).padStart(2, "0"));
const WEEK_MS = 7 * 86400000;

export class StaffingPanel {
  /** ``root``: the section holding #staffing-form, #staffing-summary, #staffing-map, #staffing-table. */
  constructor(api, root) {
    this.api = api;
    this.root = root;
    this.form = root.querySelector("#staffing-form");
    this.form.elements.tz.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.refresh();
    });
  }

  query() {
    const f = this.form.elements;
    const end = new Date();
    end.setUTCMinutes(0, 0, 0); // whole hours only: a partial hour would skew its hour of the week
    const start = new Date(end.getTime() - Number(f.weeks.value) * WEEK_MS);
    const params = new URLSearchParams({start: start.toISOString(), end: end.toISOString(),
      service_level: String(Number(f.level.value) / 100), answer_seconds: f.answer.value, tz: f.tz.value.trim()});
    if (f.concurrency.value) params.set("concurrency", f.concurrency.value);
    return params;
  }

  async refresh() {
    const error = this.root.querySelector("#staffing-error");
    error.textContent = "";
    let forecast;
    try {
      forecast = await this.api.get(`/api/staffing?${this.query()}`);
    } catch (err) {
      error.textContent = err.status === 403 ? "The staffing forecast needs a supervisor or admin account."
        : `Cannot forecast: ${err.message}`;
      return;
    }
    this.render(forecast);
  }

  render(f) {
    const grid = DAYS.map((_, d) => HOURS.map((_, hour) => f.cells[d * 24 + hour].operators));
    const peak = Math.max(0, ...grid.flat());
    const hours = grid.flat().reduce((a, b) => a + b, 0);
    fill(this.root.querySelector("#staffing-summary"),
      h("strong", {text: `Peak ${peak} operator${peak === 1 ? "" : "s"}`}),
      ` · ${hours} operator-hours a week · ${f.arrivals} conversations for people · mean handle ${duration(f.handle_seconds)}`,
      ` · ${f.concurrency} chats each · ${Math.round(f.target.share * 100)}% answered within ${f.target.answer_seconds} s (${f.timezone})`);
    fill(this.root.querySelector("#staffing-map"), heatmap(DAYS, HOURS, grid,
      {label: "Operators needed per hour of the week", unit: " operators"}));
    const table = h("table", {class: "table staffing-table"},
      h("caption", {class: "visually-hidden", text: "Operators needed, hours down, weekdays across; arrivals per hour in each cell's title"}),
      h("thead", {}, h("tr", {}, h("th", {scope: "col", text: "Hour"}), DAYS.map((d) => h("th", {scope: "col", text: d})))),
      h("tbody", {}, HOURS.map((hour, i) => h("tr", {}, h("th", {scope: "row", text: `${hour}:00`}),
        DAYS.map((day, d) => {
          const cell = f.cells[d * 24 + i];
          return h("td", {text: String(cell.operators),
            title: `${day} ${hour}:00: ${cell.arrivals_per_hour.toFixed(1)} arrivals an hour` +
              (cell.service_level === null ? "" : `, ${Math.round(cell.service_level * 100)}% answered in time`)});
        })))));
    const people = f.operators.length ? h("table", {class: "table"},
      h("caption", {class: "visually-hidden", text: "Handle time and concurrency per operator"}),
      h("thead", {}, h("tr", {}, ["Operator", "Handled", "Mean handle", "Concurrency", "Capacity"].map((t) => h("th", {scope: "col", text: t})))),
      h("tbody", {}, f.operators.map((o) => h("tr", {}, h("td", {text: o.name || `#${o.operator_id}`}),
        h("td", {text: String(o.handled)}), h("td", {text: duration(o.mean_handle_seconds)}),
        h("td", {text: o.concurrency.toFixed(2)}), h("td", {text: o.capacity ?? "–"})))))
      : h("p", {class: "muted", text: "No conversation was handled in this window."});
    fill(this.root.querySelector("#staffing-table"), h("details", {},
      h("summary", {text: "The forecast as a table"}), table), h("h3", {text: "Handle time and concurrency per operator"}), people);
  }
}
