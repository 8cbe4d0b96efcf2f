// Reports for a support lead (GET /api/reports): first response by tag and topic, arrivals by hour,
// operators' CSAT and times, containment and first-contact resolution over a date range. Every
// chart drills down to its conversations (GET /api/reports/conversations), exported as CSV.
import {Api} from "./api.js";
import {clearSession, loadSession, signIn} from "./auth.js";
import {bars, heatmap} from "./charts.js";
import {dateTime, duration, fill, h} from "./dom.js";

const DAY_MS = 86400000;
const HOURS = Array.from({length: 24}, (_, i) => String(i).padStart(2, "0"));
const pct = (rate) => (rate === null || rate === undefined ? "–" : `${Math.round(rate * 100)}%`);
const time = (stats) => (stats.count ? duration(stats.median) : "–");
const day = (date) => date.toISOString().slice(0, 10);

class Reports {
  constructor(session) {
    this.session = session;
    this.api = new Api("", session.token, () => this.signOut());
    this.form = document.getElementById("window");
    this.filter = null;
  }

  async start() {
    document.getElementById("main").hidden = false;
    document.getElementById("me").hidden = false;
    document.getElementById("logout").addEventListener("click", () => this.signOut());
    const f = this.form.elements;
    const today = new Date();
    f.end.value = day(new Date(today.getTime() + DAY_MS));
    f.start.value = day(new Date(today.getTime() - 6 * DAY_MS));
    f.tz.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.refresh();
    });
    document.getElementById("csv").addEventListener("click", () => this.download());
    await this.refresh();
  }

  window() {
    const f = this.form.elements;
    return {start: f.start.value, end: f.end.value, tz: f.tz.value.trim()};
  }

  async refresh() {
    const error = document.getElementById("report-error");
    error.textContent = "";
    let report;
    try {
      report = await this.api.get(`/api/reports?${new URLSearchParams(this.window())}`);
    } catch (failure) {
      error.textContent = failure.status === 403 ? "Reports need a supervisor or admin account." : failure.message;
      return;
    }
    this.render(report);
    if (this.filter) await this.drill(this.filter.label, this.filter.params);
  }

  render(r) {
    const kpi = (label, value, detail) => h("li", {class: "kpi card"}, h("span", {class: "kpi-label", text: label}),
      h("strong", {class: "kpi-value", text: value}), detail ? h("span", {class: "muted kpi-detail", text: detail}) : null);
    fill(document.getElementById("report-kpis"),
      kpi("Conversations", String(r.conversations)),
      kpi("Bot containment", pct(r.bot_containment.rate), `${r.bot_containment.count} of ${r.bot_containment.total}`),
      kpi("First-contact resolution", pct(r.first_contact_resolution.rate),
        `${r.first_contact_resolution.count} of ${r.first_contact_resolution.total} resolved`));
    const handed = r.handoffs_by_hour;
    fill(document.getElementById("hours"), heatmap(["All", "To a person"], HOURS, [r.arrivals_by_hour, handed],
      {label: `Arrivals by hour of day (${r.timezone})`, unit: " conversations", cell: 30,
        onPick: (row, hour) => this.drill(`started ${HOURS[hour]}:00–${HOURS[hour]}:59${row ? ", handed to a person" : ""}`,
          {hour, ...(row ? {handed_off: true} : {})})}));
    this.breakdown("by-tag", r.by_tag, "tag", "First response by tag");
    this.breakdown("by-topic", r.by_topic, "topic", "First response by topic");
    fill(document.getElementById("per-operator-table"), r.per_operator.length ? h("table", {class: "table"},
      h("caption", {class: "visually-hidden", text: "Per operator: conversations, CSAT, first response, resolution"}),
      h("thead", {}, h("tr", {}, ["Operator", "Conversations", "CSAT", "First response (median)", "Resolution (median)"]
        .map((t) => h("th", {scope: "col", text: t})))),
      h("tbody", {}, r.per_operator.map((o) => h("tr", {},
        h("td", {}, h("button", {type: "button", class: "quiet", text: o.key || `#${o.operator_id}`,
          onclick: () => this.drill(`owned by ${o.key}`, {operator_id: o.operator_id})})),
        h("td", {text: String(o.conversations)}),
        h("td", {text: o.csat.count ? `${o.csat.mean.toFixed(1)} / 5 (${o.csat.count})` : "–"}),
        h("td", {text: time(o.first_response)}), h("td", {text: time(o.resolution)})))))
      : h("p", {class: "muted", text: "No operator owned a conversation in this window."}));
  }

  /** Bars of the median first response per key; a bar (or its label) lists its conversations. */
  breakdown(id, rows, field, label) {
    const shown = rows.filter((b) => b.first_response.count);
    const chart = bars(shown.map((b) => [b.key, b.first_response.median, `${duration(b.first_response.median)} · ${b.conversations}`]),
      {label, width: Math.max(280, document.getElementById(id).clientWidth)});
    chart.querySelectorAll("rect").forEach((rect, i) => {
      const key = shown[i].key;
      rect.setAttribute("tabindex", "0");
      rect.setAttribute("role", "button");
      rect.setAttribute("aria-label", `${field} ${key}: list its conversations`);
      rect.classList.add("pick");
      const pick = () => this.drill(`${field} ${key}`, {[field]: key});
      rect.addEventListener("click", pick);
      rect.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") pick();
      });
    });
    fill(document.getElementById(id), chart);
  }

  async drill(label, params) {
    this.filter = {label, params};
    const section = document.getElementById("drill");
    section.hidden = false;
    document.getElementById("drill-title").textContent = `Conversations: ${label}`;
    const rows = await this.api.get(`/api/reports/conversations?${new URLSearchParams({...this.window(), ...params})}`);
    fill(document.getElementById("drill-rows"), rows.length ? h("table", {class: "table drill-table"},
      h("thead", {}, h("tr", {}, ["#", "Started", "Channel", "State", "Tags", "Topics", "Operator", "First response", "Resolution", "CSAT"]
        .map((t) => h("th", {scope: "col", text: t})))),
      h("tbody", {}, rows.map((c) => h("tr", {dataset: {conversationId: String(c.id)}},
        h("td", {text: String(c.id)}), h("td", {text: dateTime(c.created_at)}), h("td", {text: c.channel}),
        h("td", {text: c.state}), h("td", {text: c.tags.join(", ")}), h("td", {text: c.topics.join(", ")}),
        h("td", {text: c.operator || "–"}),
        h("td", {text: c.first_response_seconds === null ? "–" : duration(c.first_response_seconds)}),
        h("td", {text: c.resolution_seconds === null ? "–" : duration(c.resolution_seconds)}),
        h("td", {text: c.csat_score ?? "–"})))))
      : h("p", {class: "muted", text: "No conversation."}));
    section.scrollIntoView({block: "nearest"});
  }

  async download() {
    const query = new URLSearchParams({...this.window(), ...(this.filter?.params || {})});
    const response = await fetch(`/api/reports/conversations.csv?${query}`, {headers: {Authorization: `Bearer ${this.session.token}`}});
    const link = h("a", {href: URL.createObjectURL(await response.blob()), download: "baton-conversations.csv"});
    document.body.append(link);
    link.click();
    link.remove();
  }

  signOut() {
    clearSession();
    location.reload();
  }
}

async function main() {
  const session = loadSession() || await signIn(document.getElementById("login"), {title: "Reports"});
  await new Reports(session).start();
}

main();
