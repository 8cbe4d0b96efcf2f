// The conversation lists (queue, mine, all) with live waits, handoff reasons, unread counts and the
// last message; a search over messages and contacts, sort and filters (state, channel, team, tag),
// all done by the engine (GET /api/operator/conversations) and kept per tab in sessionStorage.
import {clock, duration, fill, h, reasonLabel, since} from "../dom.js";
import {summary} from "../files.js";

const TAB_KEY = "baton.console.tab";
const FIND_KEY = "baton.console.find";
const FILTERS = ["sort", "state", "channel", "team_id", "tag"];
const WHO_WROTE = {visitor: "", bot: "Bot: ", system: ""};
const OPENS = new Intl.DateTimeFormat(undefined, {weekday: "short", hour: "numeric", minute: "2-digit"});

export class Inbox {
  constructor(console_) {
    this.app = console_;
    this.list = document.getElementById("list");
    this.tabs = [...document.querySelectorAll(".tab")];
    this.tab = sessionStorage.getItem(TAB_KEY) || "mine";
    this.rows = {queued: [], mine: [], all: []};
    this.positions = {};
    this.timer = null;
    for (const tab of this.tabs) tab.addEventListener("click", () => this.select(tab.dataset.tab));
    this.markTabs();
    this.finder = document.getElementById("finder");
    this.find = JSON.parse(sessionStorage.getItem(FIND_KEY) || "{}");
    for (const [name, value] of Object.entries(this.find)) if (this.finder.elements[name]) this.finder.elements[name].value = value;
    this.finder.addEventListener("submit", (e) => { e.preventDefault(); this.changed(); });
    this.finder.addEventListener("change", (e) => this.changed(e.target));
    this.finder.elements.q.addEventListener("input", () => this.soon(250, () => this.changed()));
    this.markFilters();
  }

  /** The search or a filter changed: a state chosen looks in every conversation. */
  changed(field) {
    const form = this.finder.elements;
    this.find = {};
    for (const name of ["q", ...FILTERS]) if (form[name].value.trim()) this.find[name] = form[name].value.trim();
    sessionStorage.setItem(FIND_KEY, JSON.stringify(this.find));
    this.markFilters();
    if (field?.name === "state" && field.value && this.tab !== "all") this.select("all");
    else this.refresh();
  }

  markFilters() {
    const count = FILTERS.filter((name) => this.find[name]).length;
    const badge = document.getElementById("filter-count");
    badge.hidden = !count;
    badge.textContent = String(count);
  }

  /** The teams a conversation can be filtered by (from the roster the console loads). */
  setTeams(teams) {
    const select = this.finder.elements.team_id;
    fill(select, h("option", {value: "", text: "Any"}), teams.map((t) => h("option", {value: String(t.id), text: t.name})));
    select.value = this.find.team_id || "";
  }

  query(which) {
    const params = new URLSearchParams({state: which});
    const {q, sort, state, channel, team_id: team, tag} = this.find;
    if (which === this.tab) {  // the counts on the tabs stay the whole queue and all of mine
      if (which === "all" && state) params.set("state", state);
      for (const [name, value] of Object.entries({q, sort, channel, team_id: team, tag})) if (value) params.set(name, value);
    }
    return `/api/operator/conversations?${params}`;
  }

  select(tab) {
    this.tab = tab;
    sessionStorage.setItem(TAB_KEY, tab);
    this.markTabs();
    this.refresh();
  }

  markTabs() {
    for (const tab of this.tabs) tab.setAttribute("aria-pressed", String(tab.dataset.tab === this.tab));
  }

  /** Refresh soon, once: many events in a burst cost one request per list. */
  soon(delay = 150, then = () => this.refresh()) {
    clearTimeout(this.timer);
    this.timer = setTimeout(then, delay);
  }

  async refresh() {
    const wanted = new Set(["queued", "mine", this.tab]);
    const fetched = {};
    const results = await Promise.allSettled([...wanted].map(async (which) => {
      fetched[which] = await this.app.api.get(this.query(which));
    }));
    if (results.some((r) => r.status === "rejected")) this.app.connectionProblem();
    Object.assign(this.rows, fetched);
    this.counts = {queued: this.rows.queued.length, mine: this.rows.mine.length};
    const filtered = this.tab !== "all" && (this.find.q || FILTERS.some((name) => name !== "sort" && this.find[name]));
    if (!filtered) this.counts[this.tab] = this.rows[this.tab].length;
    document.getElementById("count-queued").textContent = String(this.counts.queued);
    document.getElementById("count-mine").textContent = String(this.counts.mine);
    const unreadMine = this.rows.mine.reduce((sum, row) => sum + row.unread, 0);
    document.title = unreadMine ? `(${unreadMine}) Baton: operator console` : "Baton: operator console";
    this.render();
  }

  /** The row of ``id`` in any list fetched (for the new-message toast). */
  rowOf(id) {
    for (const rows of Object.values(this.rows)) {
      const row = rows.find((r) => r.conversation.id === id);
      if (row) return row;
    }
    return null;
  }

  setPositions(positions) {
    this.positions = positions || {};
    this.tick();
  }

  /** The ids in the current list, in order (for j/k). */
  ids() {
    return this.rows[this.tab].map((row) => row.conversation.id);
  }

  render() {
    const rows = this.rows[this.tab];
    if (!rows.length) {
      const empty = {queued: "Nobody is waiting.", mine: "You have no open conversations.", all: "No conversations yet."};
      const searching = this.find.q || FILTERS.some((name) => name !== "sort" && this.find[name]);
      fill(this.list, h("li", {class: "empty muted", text: searching ? "Nothing matches the search and filters." : empty[this.tab]}));
      return;
    }
    fill(this.list, rows.map((row) => this.item(row)));
    this.tick();
  }

  item(row) {
    const {conversation, contact} = row;
    const current = this.app.currentId === conversation.id;
    const who = contact.name || contact.email || contact.phone || `Visitor #${contact.id}`;
    const shown = row.match || row.last_message;
    const preview = shown ? `${this.author(shown)}${summary(shown)}` : (row.summary || conversation.subject || "");
    const unread = current ? 0 : row.unread;
    return h("li", {},
      h("button", {type: "button", class: `row${unread ? " unread" : ""}`, dataset: {id: conversation.id,
        queuedAt: conversation.queued_at || "", heldUntil: conversation.held_until || ""}, "aria-current": current ? "true" : null,
      onclick: () => this.app.open(conversation.id)},
      h("span", {class: "row-top"},
        h("strong", {class: "who", text: who}),
        unread ? h("span", {class: "badge unread-count", "aria-label": `${unread} unread`, text: String(unread)}) : null,
        contact.vip ? h("span", {class: "badge vip", text: "VIP"}) : null,
        h("span", {class: "badge channel", text: conversation.channel}),
        h("span", {class: `badge state-${conversation.state}`, text: conversation.state})),
      row.reasons?.length ? h("span", {class: "reasons"}, row.reasons.map((r) => h("span", {class: "badge reason", text: reasonLabel(r)}))) : null,
      h("span", {class: `preview${row.match ? " match" : ""}`, dir: "auto", text: preview}),
      h("span", {class: "row-foot"},
        h("span", {class: "wait"}),
        row.last_activity_at ? h("time", {class: "muted when", datetime: row.last_activity_at, text: clock(row.last_activity_at)}) : null)));
  }

  /** "You: ", "Kim: ", "Note: ", "Bot: " before a preview; nothing for the visitor. */
  author(message) {
    if (message.visibility === "internal") return "Note: ";
    if (message.role === "operator") return message.author_id === this.app.me.id ? "You: " : `${this.app.nameOf(message.author_id)}: `;
    return WHO_WROTE[message.role] ?? "";
  }

  /** Waits grow every second without asking the engine again. */
  tick() {
    for (const button of this.list.querySelectorAll(".row")) {
      const wait = button.querySelector(".wait");
      const waited = button.dataset.queuedAt ? since(button.dataset.queuedAt) : null;
      const info = this.positions[button.dataset.id];
      const parts = [];
      if (waited !== null && this.rowState(button) === "queued") parts.push(`waiting ${duration(waited)}`);
      if (info?.position) parts.push(`#${info.position} in line`);
      if (info?.wait_seconds !== null && info?.wait_seconds !== undefined) parts.push(`~${duration(info.wait_seconds)} to go`);
      const held = info?.opens_at || button.dataset.heldUntil;  // queued after hours: routed when its team opens
      if (held && this.rowState(button) === "queued") parts.push(`after hours: for ${OPENS.format(new Date(held))}`);
      wait.textContent = parts.join(" · ");
    }
  }

  rowState(button) {
    return button.querySelector("[class*='state-']")?.textContent;
  }

  markCurrent(id) {
    for (const button of this.list.querySelectorAll(".row")) {
      if (Number(button.dataset.id) === id) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  }
}
