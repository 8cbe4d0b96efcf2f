// The supervisor view: the live queue and operators (over the operator WebSocket), today's metrics
// and handoff reasons over the last week (from /api/metrics), in small SVG charts. Its controls save
// on change; one changed and not saved (a capacity being typed, a change the engine refused) survives
// the live redraws (unsaved.js), and leaving the page with one asks first.
import {actionsKpi, renderActionAudit} from "./actions-audit.js";
import {Api, LiveSocket, showConnection} from "./api.js";
import {DEMO_HINT, clearSession, loadSession, signIn} from "./auth.js";
import {bars, legend, stacked} from "./charts.js";
import {duration, fill, h, reasonLabel, since} from "./dom.js";
import {StaffingPanel} from "./staffing.js";
import {guardLeaving, mayLeave, pending, redraw, settle} from "./unsaved.js";

const DAY_MS = 86400000;
/** Charts are drawn at their box's width, so that text keeps its size on every screen. */
const widthOf = (id) => Math.max(260, document.getElementById(id).clientWidth);
const expected = (seconds) => {
  if (seconds === null || seconds === undefined) return "unknown";
  return seconds < 60 ? "< 1 min" : duration(seconds);
};
const pct = (rate) => (rate === null || rate === undefined ? "–" : `${Math.round(rate * 100)}%`);
/** Which record a live table's row shows (``data-key``), for ``redraw``; null for a placeholder row. */
const keyOf = (row) => row.dataset.key ?? null;

class Supervisor {
  constructor(session) {
    this.session = session;
    this.api = new Api("", session.token, () => this.signOut());
    this.queued = [];
    this.timer = null;
    this.liveFetches = 0;  // live fetches sent, and the number of the one whose tables are shown
    this.liveShown = 0;
  }

  async start() {
    document.getElementById("main").hidden = false;
    document.getElementById("me").hidden = false;
    guardLeaving();
    document.getElementById("logout").addEventListener("click", () => {
      if (mayLeave("Sign out")) this.signOut();
    });
    document.getElementById("today-date").textContent = new Date().toLocaleDateString([], {weekday: "long", day: "numeric", month: "long"});
    this.staffing = new StaffingPanel(this.api, document.getElementById("staffing"));
    await Promise.all([this.refreshLive(), this.refreshMetrics(), this.staffing.refresh()]);
    new LiveSocket(() => this.api.socketUrl(`/ws/operator?token=${encodeURIComponent(this.session.token)}`), {
      onOpen: () => this.refreshLive(),
      onEvent: (event) => this.onEvent(event),
      onStatus: showConnection(),
      onUnauthorised: () => this.signOut(),
    }).start();
    setInterval(() => this.tick(), 1000);
    setInterval(() => this.refreshMetrics(), 60000);
  }

  onEvent(event) {
    if (["queue.updated", "presence.updated", "roster.updated"].includes(event.type) || event.type.startsWith("conversation.")) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.refreshLive(), 200);
    }
    if (event.type === "conversation.resolved" || event.type === "conversation.queued") {
      clearTimeout(this.metricsTimer);
      this.metricsTimer = setTimeout(() => this.refreshMetrics(), 3000);
    }
  }

  /** The live tables, fetched again on every event; a fetch that a later one overtook (fetches
   * overlap in a burst of events) is dropped, so the tables never go back to an older state. */
  async refreshLive() {
    const number = ++this.liveFetches;
    const [queue, queued, roster, assigned] = await Promise.all([this.api.get("/api/queue"),
      this.api.get("/api/operator/conversations?state=queued"), this.api.get("/api/operators"),
      this.api.get("/api/operator/conversations?state=assigned")]);
    if (number < this.liveShown) return;
    this.liveShown = number;
    const estimates = new Map(queue.entries.map((e) => [e.conversation_id, e]));
    this.queued = queued.map((row) => ({row, estimate: estimates.get(row.conversation.id)}))
      .sort((a, b) => (a.estimate?.position ?? 1e9) - (b.estimate?.position ?? 1e9));
    document.getElementById("queue-count").textContent = String(queue.queued);
    // Every queue, presence or roster event redraws these tables: through ``redraw``, so a capacity
    // being typed, or any control changed and not yet saved, stays as it is (unsaved.js).
    redraw(document.getElementById("queue-rows"), this.queued.length ? this.queued.map(({row, estimate}) => {
      const c = row.contact;
      const waited = since(row.conversation.queued_at);
      return h("tr", {dataset: {key: String(row.conversation.id), queuedAt: row.conversation.queued_at || ""}},
        h("td", {text: estimate?.position ?? "–"}),
        h("td", {text: c.name || c.email || `Visitor #${c.id}`}),
        h("td", {}, row.reasons.map((r) => h("span", {class: "badge reason", text: reasonLabel(r)}))),
        h("td", {class: "waited", text: waited === null ? "" : duration(waited)}),
        h("td", {text: expected(estimate?.wait_seconds)}),
        h("td", {}, this.priorityControl(row.conversation, c)),
        h("td", {}, this.vipControl(c)),
        h("td", {}, this.reassignControl(row.conversation, c, roster.operators)));
    }) : [h("tr", {}, h("td", {colspan: 8, class: "muted", text: "Nobody is waiting."}))], keyOf);
    redraw(document.getElementById("operator-rows"), roster.operators.map((o) => h("tr", {dataset: {key: String(o.id)}},
      h("td", {text: o.name}),
      h("td", {}, h("span", {class: `badge presence-${o.status}`, text: o.status})),
      h("td", {}, h("span", {class: "load"}, h("meter", {min: 0, max: Math.max(1, o.capacity), value: o.open,
        "aria-label": `${o.name}: ${o.open} of ${o.capacity} open`}), ` ${o.open} / ${o.capacity}`)),
      h("td", {}, this.teamControl(o, roster.teams)),
      h("td", {}, this.capacityControl(o)))), keyOf);
    const names = new Map(roster.operators.map((o) => [o.id, o.name]));
    redraw(document.getElementById("assigned-rows"), assigned.length ? assigned.map((row) => h("tr",
      {dataset: {key: String(row.conversation.id)}},
      h("td", {text: this.who(row.contact)}),
      h("td", {text: names.get(row.conversation.assignee_id) || `#${row.conversation.assignee_id}`}),
      h("td", {}, this.reassignControl(row.conversation, row.contact, roster.operators))))
      : [h("tr", {}, h("td", {colspan: 3, class: "muted", text: "No conversation is with an operator."}))], keyOf);
    redraw(document.getElementById("team-rows"), roster.teams.map((t) => h("tr", {dataset: {key: String(t.id)}},
      h("td", {text: t.name}), h("td", {}, this.overflowControl(t, roster.teams)))), keyOf);
    this.tick();
  }

  who(contact) { return contact.name || contact.email || `Visitor #${contact.id}`; }

  /** Runtime staffing (audited, live): an operator's team and capacity, a team's overflow, a reassignment. */
  teamControl(operator, teams) {
    const select = h("select", {name: "team", "aria-label": `Team of ${operator.name}`, onchange: () => this.control(
      `/api/supervisor/operators/${operator.id}`, select.value ? {team_id: Number(select.value), reason: "supervisor view"}
        : {clear_team: true, reason: "supervisor view"}, {method: "PATCH", from: select})},
    h("option", {value: "", text: "no team", selected: operator.team_id === null}),
    teams.map((t) => h("option", {value: String(t.id), text: t.name, selected: t.id === operator.team_id})));
    return select;
  }

  capacityControl(operator) {
    const input = h("input", {name: "capacity", type: "number", min: 0, max: 100, step: 1, value: String(operator.capacity), class: "narrow",
      "aria-label": `Capacity of ${operator.name}`, onchange: () => this.control(`/api/supervisor/operators/${operator.id}`,
        {capacity: Number(input.value), reason: "supervisor view"}, {method: "PATCH", from: input})});
    return input;
  }

  overflowControl(team, teams) {
    const select = h("select", {name: "overflow", "aria-label": `Overflow of ${team.name}`, onchange: () => this.control(
      `/api/supervisor/teams/${team.id}/overflow`, select.value ? {backup_team_id: Number(select.value), reason: "supervisor view"}
        : {close: true, reason: "supervisor view"}, {method: "PATCH", from: select})},
    h("option", {value: "", text: "closed", selected: team.backup_team_id === null}),
    teams.filter((t) => t.id !== team.id).map((t) => h("option", {value: String(t.id), text: `to ${t.name}`,
      selected: t.id === team.backup_team_id})));
    return select;
  }

  /** Every operator is listed (the engine refuses one who is not available, and says so). */
  reassignControl(conversation, contact, operators) {
    const select = h("select", {name: "reassign", "aria-label": `Reassign ${this.who(contact)}`, onchange: () => {
      if (select.value) {
        this.control(`/api/supervisor/conversations/${conversation.id}/reassign`, {operator_id: Number(select.value),
          reason: "supervisor view"}, {from: select});
      }
    }},
    h("option", {value: "", text: "reassign to…"}),
    operators.filter((o) => o.id !== conversation.assignee_id).map((o) => h("option", {value: String(o.id),
      text: `${o.name}${o.available ? "" : ` (${o.status})`}`})));
    return select;
  }

  /** Supervisor controls (audited by the engine, pushed to every page): priority and VIP. */
  priorityControl(conversation, contact) {
    const who = contact.name || contact.email || `Visitor #${contact.id}`;
    const select = h("select", {name: "priority", "aria-label": `Priority of ${who}`, onchange: () => this.control(
      `/api/supervisor/conversations/${conversation.id}/priority`, {priority: Number(select.value), reason: "supervisor view"},
      {from: select})},
    [0, 1, 2, 3, 4, 5].map((p) => h("option", {value: String(p), text: p ? `+${p}` : "normal", selected: p === conversation.priority})));
    return select;
  }

  vipControl(contact) {
    const who = contact.name || contact.email || `Visitor #${contact.id}`;
    return h("button", {type: "button", class: contact.vip ? "secondary vip-on" : "quiet", "aria-pressed": String(Boolean(contact.vip)),
      "aria-label": `${who} is a VIP`, text: contact.vip ? "VIP" : "Mark VIP",
      onclick: () => this.control(`/api/supervisor/contacts/${contact.id}/vip`, {vip: !contact.vip, reason: "supervisor view"})});
  }

  /** Send one control's change (``from``: the control, if it is a field: once stored it is no longer
   * an unsaved change, so the redraw shows the stored value and leaving the page does not ask; one
   * refused stays as the supervisor set it, changed, with the engine's reason shown). */
  async control(path, body, {method = "POST", from = null} = {}) {
    const error = document.getElementById("control-error");
    error.textContent = "";
    const sent = from ? pending(from) : new Map();
    try {
      await this.api.request(method, path, body);
      settle(sent);
      await this.refreshLive();
    } catch (failure) {
      error.textContent = failure.status === 403 ? "This needs a supervisor or admin account." : failure.message;
    }
  }

  tick() {
    let longest = null;
    for (const tr of document.querySelectorAll("#queue-rows tr[data-queued-at]")) {
      const waited = since(tr.dataset.queuedAt);
      if (waited === null) continue;
      longest = Math.max(longest ?? 0, waited);
      tr.querySelector(".waited").textContent = duration(waited);
    }
    document.getElementById("queue-longest").textContent = longest === null ? "–" : duration(longest);
  }

  async refreshMetrics() {
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    const days = Array.from({length: 7}, (_, i) => new Date(midnight.getTime() - (6 - i) * DAY_MS));
    const window = (start) => `start=${encodeURIComponent(start.toISOString())}&end=${encodeURIComponent(new Date(start.getTime() + DAY_MS).toISOString())}`;
    const week = await Promise.all(days.map((day) => this.api.get(`/api/metrics?${window(day)}`)));
    const today = week[week.length - 1];
    this.renderKpis(today);
    renderActionAudit(this.api, document.getElementById("actions-audit"));
    const reasons = Object.entries(today.handoff_by_reason);
    fill(document.getElementById("reasons-today"), bars(reasons.map(([name, rate]) => [reasonLabel(name), rate.count,
      `${rate.count} (${pct(rate.rate)})`]), {label: "Handoffs by reason today", width: widthOf("reasons-today")}));
    const series = [...new Set(week.flatMap((m) => Object.keys(m.handoff_by_reason)))].sort();
    const columns = week.map((m, i) => ({label: days[i].toLocaleDateString([], {weekday: "short"}),
      parts: Object.fromEntries(Object.entries(m.handoff_by_reason).map(([k, r]) => [k, r.count]))}));
    fill(document.getElementById("reasons-week"), stacked(columns, series, {label: "Handoffs per day by reason", width: widthOf("reasons-week"), height: 200}),
      series.length ? legend(series, reasonLabel) : h("p", {class: "muted", text: "No handoffs this week."}));
    fill(document.getElementById("per-operator"), bars(today.per_operator.map((o) => [o.name || `#${o.operator_id}`,
      o.conversations, String(o.conversations)]), {label: "Conversations per operator today", width: widthOf("per-operator")}));
  }

  renderKpis(m) {
    const kpi = (label, value, detail) => h("li", {class: "kpi card"}, h("span", {class: "kpi-label", text: label}),
      h("strong", {class: "kpi-value", text: value}), detail ? h("span", {class: "muted kpi-detail", text: detail}) : null);
    const time = (t) => (t.count ? duration(t.median) : "–");
    fill(document.getElementById("kpis"),
      kpi("Conversations", String(m.conversations)),
      kpi("Handoff rate", pct(m.handoff.rate), `${m.handoff.count} of ${m.handoff.total}`),
      kpi("Bot containment", pct(m.bot_containment.rate), `${m.bot_containment.count} resolved by the bot alone`),
      kpi("First response", time(m.first_response), m.first_response.count ? `median · p90 ${duration(m.first_response.p90)}` : "no replies yet"),
      kpi("Resolution time", time(m.resolution), m.resolution.count ? `median · p90 ${duration(m.resolution.p90)}` : "none resolved yet"),
      kpi("CSAT", m.csat.mean === null ? "–" : `${m.csat.mean.toFixed(1)} / 5`, m.csat.count ? `${pct(m.csat.satisfied_share)} satisfied · ${m.csat.count} rating${m.csat.count === 1 ? "" : "s"}` : "no ratings yet"),
      kpi("Draft acceptance", pct(m.drafts.acceptance), `${m.drafts.used} of ${m.drafts.created} drafts sent close to as drafted (${m.drafts.started} started from)`),
      m.actions ? kpi(...Object.values(actionsKpi(m.actions))) : null);
  }

  signOut() {
    clearSession();
    location.reload();
  }
}

async function main() {
  const session = loadSession() || await signIn(document.getElementById("login"), {title: "Supervisor view", hint: DEMO_HINT});
  await new Supervisor(session).start();
}

main();
