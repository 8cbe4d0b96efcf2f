// The conversation lists (queue, mine, all) with live waits, handoff reasons, unread counts and the
// last message; a search over messages and contacts, sort and filters (state, channel, team, tag),
// all done by the engine (GET /api/operator/conversations) and kept per tab in sessionStorage.
//
// The lists follow the operator socket's events rather than asking again on a timer: a state change
// (conversation.* on the operators stream) fetches the lists again, since it moves a conversation
// between them; a message or a read changes the row it belongs to in place. The socket sends the
// messages of the conversations it follows (the operator's own and those opened), so the console
// follows the rest of what it lists too (``subscribe`` from the seq the row was fetched at, the rows
// of the queue and of the tab shown, up to FOLLOWS, and ``unsubscribe`` from those that left the
// lists). What no event announces is looked for by a slow
// fallback fetch: a conversation starting with the bot reaches the operators stream only once it is
// offered or queued, and a search matches messages anywhere; so while the All tab, a search or a
// filter is shown (or a row is not followed), the lists are fetched again every FALLBACK_MS.
// A fetch may be answered after the socket brought newer messages or reads (and fetches overlap):
// what the socket brought while a fetch was out is applied again to its lists, and a fetch that a
// later one overtook is dropped, so a row never goes back to an older preview or unread count.
import {clock, duration, fill, h, reasonLabel, since} from "../dom.js";
import {summary} from "../files.js";

const TAB_KEY = "baton.console.tab";
const FIND_KEY = "baton.console.find";
const FILTERS = ["sort", "state", "channel", "team_id", "tag"];
const WHO_WROTE = {visitor: "", bot: "Bot: ", system: ""};
const OPENS = new Intl.DateTimeFormat(undefined, {weekday: "short", hour: "numeric", minute: "2-digit"});
const FOLLOWS = 200;  // conversations one socket follows (each is two streams; the engine resumes up to 200)
const FALLBACK_MS = 60000;
const activity = (row) => Date.parse(row.last_activity_at || row.conversation.created_at) || 0;

export class Inbox {
  constructor(console_) {
    this.app = console_;
    this.list = document.getElementById("list");
    this.tabs = [...document.querySelectorAll(".tab")];
    this.tab = sessionStorage.getItem(TAB_KEY) || "mine";
    this.rows = {queued: [], mine: [], all: []};
    this.positions = {};
    this.timer = null;
    this.followed = null;  // ids the socket follows, from its hello on; null while it is not connected
    this.forPreview = new Set();  // ids followed only to keep their rows current (no new-message toast)
    this.unfollowed = false;  // a listed row the socket does not follow (over FOLLOWS)
    this.hearing = new Set();  // per fetch out: the socket's messages and reads since it was sent
    this.fetches = 0;  // fetches sent, and the number of the one whose lists are shown
    this.shownFetch = 0;
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
    const number = ++this.fetches;
    const heard = [];
    this.hearing.add(heard);
    const wanted = new Set(["queued", "mine", this.tab]);
    const fetched = {};
    const results = await Promise.allSettled([...wanted].map(async (which) => {
      fetched[which] = await this.app.api.get(this.query(which));
    }));
    this.hearing.delete(heard);
    if (number < this.shownFetch) return;  // a later fetch was answered first: these lists are older
    this.shownFetch = number;
    const complete = results.every((r) => r.status === "fulfilled");
    if (!complete) this.app.connectionProblem();
    Object.assign(this.rows, fetched);
    let moved = false;  // what the lists may predate (applying what they had already changes nothing)
    let unknown = false;  // a read of rows these lists counted differently: ask the engine again
    for (const event of heard) {
      if (event.type === "read") unknown = this.absorbRead(event) || unknown;
      else moved = this.absorb(event.message) || moved;
    }
    if (moved) this.sort();
    if (unknown) this.soon();
    this.counts = {queued: this.rows.queued.length, mine: this.rows.mine.length};
    const filtered = this.tab !== "all" && this.searching();
    if (!filtered) this.counts[this.tab] = this.rows[this.tab].length;
    document.getElementById("count-queued").textContent = String(this.counts.queued);
    document.getElementById("count-mine").textContent = String(this.counts.mine);
    this.render();
    if (complete) this.release();
    this.follow();
  }

  searching() {
    return Boolean(this.find.q || FILTERS.some((name) => name !== "sort" && this.find[name]));
  }

  /** Whether the lists shown can change with no event to say so (see the top of this file). */
  needsFallback() {
    return this.tab === "all" || this.searching() || this.unfollowed || this.followed === null;
  }

  /** The fallback fetch, every FALLBACK_MS while the tab is visible and the lists need it. */
  startFallback() {
    setInterval(() => { if (!document.hidden && this.needsFallback()) this.refresh(); }, FALLBACK_MS);
  }

  // --- following the listed conversations on the socket ---------------------------------------------

  /** The socket (re)connected: its hello names what it follows; follow the rest of the lists. */
  connected(watching) {
    this.followed = new Set(watching);
    this.forPreview = new Set([...this.forPreview].filter((id) => !this.followed.has(id)));
    this.follow();
  }

  disconnected() {
    this.followed = null;
  }

  /** A conversation the socket follows already (one just opened). */
  following(id) {
    this.followed?.add(id);
    this.forPreview.delete(id);
  }

  /** Whether a message of ``id`` deserves a toast: the socket follows it for its row only. */
  quiet(id) {
    return this.forPreview.has(id) && !this.rows.mine.some((row) => row.conversation.id === id);
  }

  /** Ask the socket to follow every open conversation of the queue and of the tab shown, from the
   * seq each row was fetched at: what came after is sent at once, then live. */
  follow() {
    const socket = this.app.socket;
    if (this.followed === null || !socket?.isOpen) return;
    this.unfollowed = false;
    for (const row of [...this.rows.queued, ...this.rows[this.tab]]) {
      const id = row.conversation.id;
      if (row.conversation.state === "resolved" || this.followed.has(id)) continue;
      if (this.followed.size >= FOLLOWS) {
        this.unfollowed = true;
        return;
      }
      if (!socket.send({type: "subscribe", conversation_id: id, after: this.lastSeq(id)})) return;
      this.followed.add(id);
      this.forPreview.add(id);
    }
  }

  /** Stop following what left the lists (resolved, taken by a colleague, out of the tab shown), so
   * the socket's FOLLOWS slots go to the rows shown; the open conversation and the operator's own
   * stay followed (the engine refuses to drop those). Called only with every list fetched. */
  release() {
    const socket = this.app.socket;
    if (this.followed === null || !socket?.isOpen) return;
    const shown = new Set([...this.rows.queued, ...this.rows.mine, ...this.rows[this.tab]]
      .filter((row) => row.conversation.state !== "resolved").map((row) => row.conversation.id));
    for (const id of [...this.followed]) {
      if (shown.has(id) || id === this.app.currentId) continue;
      if (!socket.send({type: "unsubscribe", conversation_id: id})) return;
      this.followed.delete(id);
      this.forPreview.delete(id);
    }
  }

  /** The highest seq any list has of conversation ``id``. */
  lastSeq(id) {
    return Math.max(0, ...Object.values(this.rows).flat().filter((row) => row.conversation.id === id)
      .map((row) => row.conversation.last_seq));
  }

  // --- rows changed in place by the socket's events -------------------------------------------------

  /** A message was stored: its conversation's rows get the preview, the time and the unread count. */
  onMessage(message) {
    for (const heard of this.hearing) heard.push({type: "message", message});
    if (this.absorb(message)) this.rerender();
  }

  /** Whether ``message`` changed a row (not when the lists had it already). */
  absorb(message) {
    const q = this.find.q?.toLowerCase();
    let changed = false;
    for (const row of this.rowsOf(message.conversation_id)) {
      if (message.seq <= row.conversation.last_seq) continue;  // the list had it already
      const unread = this.unreadOf(row);
      row.conversation.last_seq = message.seq;
      row.last_activity_at = message.created_at;
      if (message.role !== "system") row.last_message = message;
      if (q && (message.text || "").toLowerCase().includes(q)) row.match = message;
      if (message.role === "visitor" && !message.read_at) unread.seqs.add(message.seq);
      row.unread = unread.base + unread.seqs.size;
      changed = true;
    }
    return changed;
  }

  /** Someone read a conversation up to ``seq``: an operator's reading clears its unread count. */
  onRead(event) {
    if (event.role !== "operator") return;
    for (const heard of this.hearing) heard.push(event);
    if (this.absorbRead(event)) this.soon();
    else this.rerender();
  }

  /** Apply an operator's read to the rows; whether the engine must be asked which were read. */
  absorbRead(event) {
    let unknown = false;
    for (const row of this.rowsOf(event.conversation_id)) {
      const unread = this.unreadOf(row);
      if (event.seq >= unread.fetchedAt) unread.base = 0;
      else if (unread.base) unknown = true;  // which of the fetched ones were read: ask the engine
      for (const seq of unread.seqs) if (seq <= event.seq) unread.seqs.delete(seq);
      row.unread = unread.base + unread.seqs.size;
    }
    return unknown;
  }

  rowsOf(id) {
    return Object.values(this.rows).flat().filter((row) => row.conversation.id === id);
  }

  /** A row's unread visitor messages: ``base`` as fetched (all at or below ``fetchedAt``), and the
   * seqs of those the socket brought since. */
  unreadOf(row) {
    row.unreadSince ??= {base: row.unread, fetchedAt: row.conversation.last_seq, seqs: new Set()};
    return row.unreadSince;
  }

  rerender() {
    this.sort();
    this.render();
  }

  /** Lists sorted by newest activity (Mine and All unless another sort is chosen) keep that order. */
  sort() {
    for (const [which, rows] of Object.entries(this.rows)) {
      const sort = (which === this.tab && this.find.sort) || (which === "queued" ? "waiting" : "newest");
      if (sort === "newest") {
        rows.sort((a, b) => activity(b) - activity(a) || b.conversation.id - a.conversation.id);
      }
    }
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
    const unreadMine = this.rows.mine.reduce((sum, row) => sum + row.unread, 0);
    document.title = unreadMine ? `(${unreadMine}) Baton: operator console` : "Baton: operator console";
    const rows = this.rows[this.tab];
    if (!rows.length) {
      const empty = {queued: "Nobody is waiting.", mine: "You have no open conversations.", all: "No conversations yet."};
      fill(this.list, h("li", {class: "empty muted", text: this.searching() ? "Nothing matches the search and filters." : empty[this.tab]}));
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
