// The conversation lists (queue, mine, all) with live waits and handoff reasons.
import {duration, fill, h, reasonLabel, since} from "../dom.js";

const TAB_KEY = "baton.console.tab";

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
  soon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), 150);
  }

  async refresh() {
    const wanted = new Set(["queued", "mine", this.tab]);
    const results = await Promise.allSettled([...wanted].map(async (which) => {
      this.rows[which] = await this.app.api.get(`/api/operator/conversations?state=${which}`);
    }));
    if (results.some((r) => r.status === "rejected")) this.app.connectionProblem();
    document.getElementById("count-queued").textContent = String(this.rows.queued.length);
    document.getElementById("count-mine").textContent = String(this.rows.mine.length);
    this.render();
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
      fill(this.list, h("li", {class: "empty muted", text: empty[this.tab]}));
      return;
    }
    fill(this.list, rows.map((row) => this.item(row)));
    this.tick();
  }

  item(row) {
    const {conversation, contact} = row;
    const current = this.app.currentId === conversation.id;
    const who = contact.name || contact.email || contact.phone || `Visitor #${contact.id}`;
    const preview = row.summary || row.last_message?.text || conversation.subject || "";
    return h("li", {},
      h("button", {type: "button", class: "row", dataset: {id: conversation.id, queuedAt: conversation.queued_at || ""},
        "aria-current": current ? "true" : null, onclick: () => this.app.open(conversation.id)},
      h("span", {class: "row-top"},
        h("strong", {class: "who", text: who}),
        contact.vip ? h("span", {class: "badge vip", text: "VIP"}) : null,
        h("span", {class: "badge channel", text: conversation.channel}),
        h("span", {class: `badge state-${conversation.state}`, text: conversation.state})),
      row.reasons?.length ? h("span", {class: "reasons"}, row.reasons.map((r) => h("span", {class: "badge reason", text: reasonLabel(r)}))) : null,
      h("span", {class: "preview", text: preview}),
      h("span", {class: "wait"})));
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
